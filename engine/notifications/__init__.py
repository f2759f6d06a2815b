"""Notices of new work, and notifications sent out of the system (e-mail through SMTP, SMS gateways).

The in-app notifications themselves (the bell, the list, read state) are engine/cockpit/notifications.py.
"""
