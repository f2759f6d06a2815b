"""Sign-in (argon2 passwords), sign-out and the language switch.

The password check, its audit events (sign-in, failure, sign-out) and the language kept in the profile
are engine use cases (engine.access.accounts), shared with the API's token request. What stays here is
HTTP: a fresh session on sign-in (no fixation) and the per-address limit on failed sign-ins
(Flask-Limiter, ``LOGIN_RATE_LIMIT``; only failures count).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.access import accounts

from .security import SessionUser, principal, safe_next, services

bp = Blueprint("auth", __name__)


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
        account = accounts.sign_in(services(), username, password, remote=request.remote_addr)
    except accounts.SignInRefused:
        error = _("用户名或密码错误。")
        return render_template("login.html", next=next_url, username=username, error=error), 401
    locale = session.get("locale")
    session.clear()  # a fresh session on sign-in: no fixation
    if locale:
        session["locale"] = locale
    login_user(SessionUser(account))
    session.permanent = True
    return redirect(next_url)


@bp.post("/logout")
@login_required
def logout():
    accounts.sign_out(services(), principal())
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
        if current_user.is_authenticated and chosen in accounts.LOCALES:
            accounts.set_locale(services(), principal(), chosen)
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
