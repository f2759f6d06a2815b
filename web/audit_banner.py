"""The cockpit's warning when the audit trail's last verification failed (engine/audit/operations.py).

A before-request hook on cockpit pages puts the result in ``g.audit_integrity``; the cockpit's tabs
(templates/cockpit/_nav.html) include templates/cockpit/_audit_warning.html, which shows it. One small
indexed read per cockpit page; nothing for other pages.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, g, request
from flask_login import current_user

from engine.audit.operations import audit_integrity
from engine.errors import Forbidden

from .security import services


def init_app(app: Flask) -> None:
    app.before_request(_load)


def _load() -> None:
    g.audit_integrity = None
    if request.blueprint != "cockpit" or not current_user.is_authenticated:
        return
    with suppress(Forbidden):  # not an overseer: no banner
        g.audit_integrity = audit_integrity(services(), current_user.principal)
