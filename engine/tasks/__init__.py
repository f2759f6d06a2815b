"""Human tasks: the inbox, task rows and their attachments."""
