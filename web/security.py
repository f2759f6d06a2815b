"""Sign-in state, CSRF, language, rate limits, error pages and security headers for every blueprint.

Permission questions are answered by the engine from a ``Principal`` (engine/access); this module only
loads the signed-in person once per request (engine.access.accounts) and turns refusals into 403 pages
that leave an ``access_denied`` audit event behind (engine.access.denials, shared with the API).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_datetime, to_user_timezone
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from engine import clock
from engine.access import accounts
from engine.access.denials import record_denial
from engine.access.principal import Principal
from engine.access.sealing import Sealer, may_reveal, reveal_roles
from engine.errors import Conflict, EngineError, Forbidden, NotFound, NotVisible
from engine.organisation import names

from . import labels
from .context import services

csrf = CSRFProtect()
login_manager = LoginManager()


class SessionUser(UserMixin):
    """The signed-in person: their ``Principal`` plus what Flask-Login needs.

    Flask-Login's id is the server-side session's random id (engine.access.sessions): the cookie carries
    nothing else, and sign-out, a password change or reset, disabling the account, the idle timeout and
    the absolute lifetime all end it in the database, so a copied cookie stops working with them.
    """

    def __init__(self, account: accounts.Account, session_token: str):
        self.id = session_token
        self.session_token = session_token
        self.user_id = account.user_id
        self.must_change_password = account.must_change_password
        self.username = account.username
        self.display_name = account.display_name
        self.locale = account.locale
        self.principal = account.principal

    @property
    def admin_kind(self) -> str | None:
        """三员分立: "system", "security", "audit" or None (engine/access/sanyuan.py); the pages show each
        administrator his own links, the engine refuses everything else."""
        return self.principal.admin_kind

    @property
    def is_system_admin(self) -> bool:
        return self.principal.is_system_admin

    @property
    def is_security_admin(self) -> bool:
        return self.principal.is_security_admin

    @property
    def is_audit_admin(self) -> bool:
        return self.principal.is_audit_admin


@login_manager.user_loader
def _load_user(session_token: str):
    account = accounts.load_session(services(), session_token)
    return SessionUser(account, session_token) if account is not None else None


def principal() -> Principal:
    if not current_user.is_authenticated:
        abort(401)
    return current_user.principal


_SESSION = object()  # "the signed-in person of the web session": the API passes its token's user instead


def audit_denial(
    reason: str | Forbidden, *, actor: str | object | None = _SESSION, channel: str | None = None, **detail
) -> None:
    """Leave the ``access_denied`` event for this request (page or API): who, which path, why."""
    if actor is _SESSION:
        actor = current_user.username if current_user and current_user.is_authenticated else None
    record_denial(services(), reason, actor=actor, path=request.path, method=request.method, channel=channel, **detail)


def deny(reason: str, *, instance_id: int | None = None, task_id: int | None = None, status: int = 403, **detail):
    """Refuse with 403 (or, for what the person may not even know exists, 404) and keep an audit event
    of who tried to open what."""
    audit_denial(reason, instance_id=instance_id, task_id=task_id, **detail)
    abort(status)


def sealer() -> Sealer:
    return services().sealer


def allowed_reveal_roles() -> frozenset[str]:
    configured = current_app.config.get("REVEAL_ROLES")
    return frozenset(configured) if configured is not None else reveal_roles()


def can_reveal(p: Principal) -> bool:
    return may_reveal(p, allowed_reveal_roles())


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after sign-in or a language switch."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --------------------------------------------------------------------------- language
def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def unit_names() -> dict[str, str]:
    """Unit code → name in the current language, from the engine's name cache (no query per page)."""
    if "unit_names" not in g:
        english = select_locale().startswith("en")
        g.unit_names = {code: n.local(english) for code, n in names.unit_names(services()).items()}
    return g.unit_names


# The all-digit patterns the templates use, as strftime writes them: the same text in every locale.
_DIGITS_ONLY = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
    "yyyy-MM-dd": "%Y-%m-%d",
    "HH:mm": "%H:%M",
}


def _fmt_dt(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A moment in the reader's time zone. The all-digit patterns are written by ``strftime`` (12 µs)
    rather than Babel's pattern engine (35 µs): every row of the inbox, every event of a timeline has
    one, and the text is the same in every locale (tests/web/test_dates.py compares the two)."""
    if value is None:
        return ""
    digits = _DIGITS_ONLY.get(fmt)
    if digits is not None and isinstance(value, dt.datetime):
        return to_user_timezone(value).strftime(digits)
    return format_datetime(value, fmt)


def _formval(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- error pages
def _error_page(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(exc):
        return _error_page(400, _("请求无效"), _("请求的内容不完整或格式不正确。"))

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _error_page(400, _("表单已失效"), _("表单已过期或来源无法验证，请返回上一页刷新后重试。"))

    @app.errorhandler(403)
    def forbidden(exc):
        return _error_page(403, _("无权访问"), _("您无权查看或办理此内容。此次访问已记录。"))

    @app.errorhandler(404)
    def not_found(exc):
        return _error_page(404, _("未找到"), _("您要找的页面或记录不存在。"))

    @app.errorhandler(413)
    def too_large(exc):
        return _error_page(413, _("文件过大"), _("上传的内容超过了允许的大小。"))

    @app.errorhandler(429)
    def too_many(exc):
        return _error_page(429, _("尝试次数过多"), _("登录尝试过于频繁，请稍后再试。"))

    @app.errorhandler(NotVisible)
    def engine_not_visible(exc: NotVisible):
        # Outside the need to know: the same page as a missing record (the ids that exist stay unknown),
        # while the audit trail keeps the refusal and its rule.
        audit_denial(exc)
        return _error_page(404, _("未找到"), _("您要找的页面或记录不存在。"))

    @app.errorhandler(Forbidden)
    def engine_forbidden(exc: Forbidden):
        audit_denial(exc)
        return _error_page(403, _("无权办理"), labels.engine_message(exc))

    @app.errorhandler(NotFound)
    def engine_not_found(exc: NotFound):
        return _error_page(404, _("未找到"), _("您要找的页面或记录不存在。"))

    @app.errorhandler(Conflict)
    def engine_conflict(exc: Conflict):
        return _error_page(409, _("操作冲突"), labels.engine_message(exc))

    @app.errorhandler(EngineError)
    def engine_error(exc: EngineError):
        current_app.logger.warning("engine error on %s: %s", request.path, exc)
        return _error_page(
            exc.status if 400 <= exc.status < 500 else 500, _("无法完成操作"), labels.engine_message(exc)
        )


# --------------------------------------------------------------------------- wiring
# What a person who must first change an initial password may still reach.
_OPEN_WHILE_MUST_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "auth.set_locale", "static"}


def _without_the_global_check(app: Flask, limiter: Limiter) -> None:
    """Drop Flask-Limiter's before-request check when nothing but its decorated views is limited.

    Every limit of Guantong's is on a view (failed sign-ins, the API's token and password requests):
    each decorated view checks its own limits when it is called. The global hook exists for
    application-wide and default limits; with none configured it still resolved the endpoint's limits
    and found none, about 0.2 ms on every request of every page and API call (issue 19). Should a
    deployment configure ``RATELIMIT_APPLICATION``, ``RATELIMIT_DEFAULT`` or ``RATELIMIT_META``, the hook
    stays."""
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits or limiter._meta_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


def init_app(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        # Behind reverse proxies: the client's address (throttling, audit, /metrics' loopback rule), scheme
        # and host come from the X-Forwarded-* headers the last ``hops`` proxies set, and from no one else.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Shanghai")
    app.extensions["guantong_limiter"] = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", ""),
        default_limits=[],
        headers_enabled=False,
    )
    _without_the_global_check(app, app.extensions["guantong_limiter"])
    _register_errors(app)

    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        csp = app.config.get("CONTENT_SECURITY_POLICY")
        if csp:
            response.headers.setdefault("Content-Security-Policy", csp)
        # A signed-in page is never stored. The API's responses never are (web/api ``no_store``), so an
        # API call does not load the session's user only to ask.
        if not request.path.startswith("/api/") and current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("GUANTONG_HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", app.config["HSTS"])
        return response

    @app.before_request
    def initial_password_first():
        """Until an initial password is replaced, every page leads to the change page (the API refuses
        such an account its tokens: engine.access.accounts.PasswordChangeRequired)."""
        if request.path.startswith("/api/") or request.endpoint in _OPEN_WHILE_MUST_CHANGE:
            return None
        if current_user and current_user.is_authenticated and current_user.must_change_password:
            return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))
        return None

    @app.context_processor
    def globals_():
        return {
            "current_locale": select_locale(),
            "languages": app.config["LANGUAGES"],
            "labels": labels,
            "unit_name": lambda code: unit_names().get(code, code) if code else "",
            "now": clock.now,
            "password_min_length": services().config.password_min_length,
        }

    app.add_template_filter(_fmt_dt, "dt")
    app.add_template_filter(_formval, "formval")
