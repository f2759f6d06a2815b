"""The web package's one way to reach the engine: the ``Services`` the app was built with.

Pages, the API, template helpers and probes all call :func:`services`; nothing under ``web/`` builds its
own or reads ``app.extensions`` directly, so a test app and a production app differ only in what
``create_app`` was given.
"""

from __future__ import annotations

from flask import current_app

from engine.services import Services

EXTENSION = "guantong"


def services() -> Services:
    """The engine of the current app (``create_app(services=...)`` or one built from the environment)."""
    found: Services = current_app.extensions[EXTENSION]
    return found
