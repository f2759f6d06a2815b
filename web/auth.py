"""Sign-in (argon2 passwords), sign-out and the language switch.

Failed sign-ins are rate-limited per client address (Flask-Limiter, ``LOGIN_RATE_LIMIT``); only
failures count. Every sign-in, failure and sign-out is an audit event.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from engine import audit
from engine.access.passwords import hash_password, verify_password
from engine.access.principal import load_principal
from engine.models import User

from .security import SessionUser, safe_next, services

bp = Blueprint("auth", __name__)

# Compared against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password("guantong-timing-equaliser")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"), url_for("tasks.inbox"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url)
        return render_template("login.html", next=next_url, username="", error=None)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    with services().db.session() as s:
        user = s.scalar(select(User).where(User.username == username)) if username else None
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        if not ok or not user.active:
            audit.record(
                s,
                "sign_in_failed",
                actor=None,
                username=username[:80] or None,
                reason="disabled" if (ok and user is not None and not user.active) else "bad_credentials",
                remote=request.remote_addr,
            )
            error = _("用户名或密码错误。")
            return render_template("login.html", next=next_url, username=username, error=error), 401
        principal = load_principal(s, user.username)
        session_user = SessionUser(user, principal)
        audit.record(s, "signed_in", actor=user.username, remote=request.remote_addr)
    locale = session.get("locale")
    session.clear()  # a fresh session on sign-in: no fixation
    if locale:
        session["locale"] = locale
    login_user(session_user)
    session.permanent = True
    return redirect(next_url)


@bp.post("/logout")
@login_required
def logout():
    with services().db.session() as s:
        audit.record(s, "signed_out", actor=current_user.username)
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale():
    """Switch the page language (中文 / English); remembered in the session and, when signed in, the profile."""
    chosen = request.form.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
        if current_user.is_authenticated:
            with services().db.session() as s:
                user = s.get(User, current_user.user_id)
                if user is not None:
                    user.locale = chosen
    return redirect(safe_next(request.form.get("next"), url_for("tasks.inbox")))


def apply_login_rate_limit(app) -> None:
    """Limit failed sign-ins per address on this app's own limiter (memory storage by default)."""
    limiter = app.extensions["guantong_limiter"]
    view = app.view_functions["auth.login"]
    app.view_functions["auth.login"] = limiter.limit(
        lambda: app.config["LOGIN_RATE_LIMIT"],
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
    )(view)
