"""Guantong's web front end: an app factory and one blueprint per audience."""
from __future__ import annotations

from flask import Flask

from engine.config import Config
from engine.services import Services


def create_app(config: Config | None = None, services: Services | None = None, **flask_config) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    config = config or (services.config if services else Config.from_env())
    services = services or Services(config)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    app.config.update(flask_config)
    app.extensions["guantong"] = services

    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    return app
