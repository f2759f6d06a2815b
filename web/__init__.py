"""Guantong's web front end: an app factory and one blueprint per audience.

Blueprints: ``health`` (probes), ``auth`` (sign-in, sign-out, language), ``tasks`` (the officers'
workspace: inbox, task pages, attachments, instance context) and ``admin`` (organisation). The cockpit,
the process studio and the JSON API register themselves here too, in ``_register_blueprints``. Each
blueprint lives in its own module; views reach the engine only through ``web.context.services()``, and
call one engine use case per request (engine/<domain>/operations.py, engine/access/accounts.py).
"""

from __future__ import annotations

from flask import Flask

from engine.config import Config
from engine.services import Services

from .context import EXTENSION

DEFAULTS = dict(
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_NAME="guantong_session",
    REMEMBER_COOKIE_HTTPONLY=True,
    REMEMBER_COOKIE_SAMESITE="Lax",
    # The cookie is not renewed on each request; the session's real life (idle timeout, absolute lifetime)
    # is kept server-side (engine.access.sessions), the cookie's expiry only follows its absolute lifetime.
    SESSION_REFRESH_EACH_REQUEST=False,
    HSTS="max-age=31536000; includeSubDomains",  # sent when GUANTONG_HTTPS says the site is served over HTTPS
    MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    ATTACHMENT_MAX_BYTES=20 * 1024 * 1024,
    LOGIN_RATE_LIMIT="10 per 5 minutes",
    BABEL_DEFAULT_LOCALE="zh_CN",
    BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
    LANGUAGES={"zh_CN": "中文", "en": "English"},
    INBOX_PER_PAGE=20,
    DUE_SOON_WORKDAYS=2,
    # Who may open the cockpit; the studio's roles are engine Config.studio_roles.
    COCKPIT_ROLES=["commission_secretary", "leader_in_charge", "case_management_office", "conduct_supervision_office"],
    COCKPIT_PER_PAGE=20,
    DURATION_SAMPLE_LIMIT=20000,  # most recent completions the medians and p90s are computed over
    REVEAL_ROLES=None,  # None: GUANTONG_REVEAL_ROLES or engine.sealing.DEFAULT_REVEAL_ROLES
    CONTENT_SECURITY_POLICY=(
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; font-src 'self' data:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
)


def create_app(config: Config | None = None, services: Services | None = None, **flask_config) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    config = config or (services.config if services else Config.from_env())
    services = services or Services(config)
    app.config.update(DEFAULTS)
    app.config.update(
        SECRET_KEY=config.secret_key,
        PERMANENT_SESSION_LIFETIME=int(config.session_max_hours * 3600),
        GUANTONG_HTTPS=config.https,
        SESSION_COOKIE_SECURE=config.https,
        REMEMBER_COOKIE_SECURE=config.https,
        RATELIMIT_STORAGE_URI=config.ratelimit_storage_uri,
        # Several servers share one Redis (engine/shared.py); if it stops answering, each process counts
        # in memory until it is back rather than refuse every sign-in.
        RATELIMIT_KEY_PREFIX=config.redis_prefix,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        PROXY_HOPS=config.proxy_hops,
    )
    app.config.update(flask_config)
    if app.config.get("REVEAL_ROLES") is not None:
        # One reveal-role set: the roles that see reporters' identities are the roles whose grant needs
        # a second person's approval (engine/organisation/operations.py).
        services.config.reveal_roles = frozenset(app.config["REVEAL_ROLES"])
    app.extensions[EXTENSION] = services

    from . import audit_banner, observability, security

    observability.init_app(app)
    security.init_app(app)
    audit_banner.init_app(app)
    _register_blueprints(app)
    from .quickack import QuickAck

    app.wsgi_app = QuickAck(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _register_blueprints(app: Flask) -> None:
    from .actions import bp as actions_bp
    from .admin import bp as admin_bp
    from .approvals import bp as approvals_bp
    from .audit_trail import bp as audit_bp
    from .auth import bp as auth_bp
    from .calendar import bp as calendar_bp
    from .cockpit import bp as cockpit_bp
    from .countersign import bp as countersign_bp
    from .documents import bp as documents_bp
    from .health import bp as health_bp
    from .interference import bp as interference_bp
    from .studio import bp as studio_bp
    from .tasks import bp as tasks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(countersign_bp)
    app.register_blueprint(interference_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(calendar_bp, url_prefix="/admin/calendar")
    app.register_blueprint(approvals_bp, url_prefix="/admin/approvals")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(cockpit_bp, url_prefix="/cockpit")
    app.register_blueprint(studio_bp, url_prefix="/studio")

    from .auth import apply_login_rate_limit

    apply_login_rate_limit(app)

    from .api import init_api

    init_api(app)
