"""Guantong's workflow engine: SpiffWorkflow made durable, sandboxed and auditable.

Nothing in this package imports Flask: the web layer, the CLI, the worker and the benchmarks all
drive the same services defined here.
"""
