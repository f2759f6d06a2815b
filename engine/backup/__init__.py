"""Backup and restore of one commission's data (``guantong backup`` / ``guantong restore``)."""
