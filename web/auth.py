"""Sign-in, sign-out, the person's own account page (password change, sessions) and the language switch.

The password check, the lock-out, the server-side session and their audit events are engine use cases
(engine.access.accounts), shared with the API's token request. What stays here is HTTP: a fresh cookie on
sign-in (no fixation) carrying only the session's random id, and the per-address limit on failed sign-ins
(Flask-Limiter, ``LOGIN_RATE_LIMIT``, storage ``RATELIMIT_STORAGE_URI``; only failures count).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.access import accounts
from engine.errors import ValidationError

from . import labels
from .security import SessionUser, principal, safe_next, services

bp = Blueprint("auth", __name__)


def _start(signed_in: accounts.SignedIn) -> None:
    """A fresh cookie for a new server-side session (no fixation); the language choice survives."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(SessionUser(signed_in.account, signed_in.session_token))
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), url_for("tasks.inbox"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url)
        return render_template("login.html", next=next_url, username="", error=None)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    try:
        signed_in = accounts.sign_in(
            services(), username, password, remote=request.remote_addr, user_agent=request.user_agent.string
        )
    except accounts.AccountLocked as exc:
        error = _("该账号登录失败次数过多，已暂时锁定，请 %(n)s 分钟后再试。", n=exc.minutes)
        return render_template("login.html", next=next_url, username=username, error=error), 429
    except accounts.SignInRefused:
        error = _("用户名或密码错误。")
        return render_template("login.html", next=next_url, username=username, error=error), 401
    _start(signed_in)
    if signed_in.account.must_change_password:
        return redirect(url_for("auth.change_password", next=next_url))
    return redirect(next_url)


@bp.post("/logout")
@login_required
def logout():
    accounts.sign_out(services(), principal(), current_user.session_token)
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("auth.login"))


def _password_errors(exc: ValidationError) -> dict[str, str]:
    min_length = services().config.password_min_length
    sentences = {
        accounts.WRONG_PASSWORD: _("当前密码不正确。"),
        accounts.MISMATCH: _("两次输入的新密码不一致。"),
    }
    return {field: sentences.get(code) or labels.password_rule(code, min_length) for field, code in exc.fields.items()}


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (current once, new twice); an initial password leads here until replaced."""
    next_url = safe_next(request.values.get("next"), url_for("tasks.inbox"))
    forced = current_user.must_change_password
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            token = accounts.change_password(
                services(),
                principal(),
                current=request.form.get("current_password") or "",
                new=request.form.get("new_password") or "",
                repeat=request.form.get("repeat_password") or "",
                remote=request.remote_addr,
                user_agent=request.user_agent.string,
            )
        except accounts.AccountLocked as exc:
            errors = {"current_password": _("失败次数过多，已暂时锁定，请 %(n)s 分钟后再试。", n=exc.minutes)}
            status = 429
        except ValidationError as exc:
            errors, status = _password_errors(exc), 422
        else:
            account = accounts.load_session(services(), token)
            if account is not None:
                _start(accounts.SignedIn(account=account, session_token=token))
            flash(_("密码已修改，其他设备上的登录已全部退出。"), "success")
            return redirect(next_url)
    return (
        render_template(
            "account/password.html",
            next=next_url,
            forced=forced,
            errors=errors,
            min_length=services().config.password_min_length,
        ),
        status,
    )


@bp.get("/account")
@login_required
def account():
    """The person's own account: their live sessions (others can be ended) and the password change."""
    listed = accounts.list_sessions(services(), principal(), current_user.session_token)
    return render_template("account/index.html", sessions=listed)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    accounts.end_session(services(), principal(), session_id)
    flash(_("已结束该登录会话。"), "success")
    return redirect(url_for("auth.account"))


@bp.post("/locale")
def set_locale():
    """Switch the page language (中文 / English); remembered in the session and, when signed in, the profile."""
    chosen = request.form.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
        if current_user.is_authenticated and chosen in accounts.LOCALES:
            accounts.set_locale(services(), principal(), chosen)
    return redirect(safe_next(request.form.get("next"), url_for("tasks.inbox")))


def apply_login_rate_limit(app) -> None:
    """Limit failed sign-ins per address on this app's own limiter (``RATELIMIT_STORAGE_URI``)."""
    limiter = app.extensions["guantong_limiter"]
    view = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(
        lambda: app.config["LOGIN_RATE_LIMIT"],
        methods=["POST"],
        deduct_when=lambda response: response.status_code in (401, 429),
    )(view)
