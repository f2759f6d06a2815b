"""Accounts: signing in with a password, the signed-in person, API tokens and "who am I".

The web's sign-in page and the API's token request are two doors to one check (:func:`sign_in` and
:func:`issue_token` share ``_check_password``), so a disabled account, a wrong password and their audit
events are the same on both. Rate limiting per address stays at the door (it is about HTTP clients).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import tokens
from engine.access.passwords import hash_password, verify_password
from engine.access.principal import Principal, load_principal
from engine.errors import EngineError, ValidationError
from engine.models import Unit, User
from engine.services import Services

LOCALES = ("zh_CN", "en")

# Compared against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password("guantong-timing-equaliser")


class SignInRefused(EngineError):
    """Wrong username or password, or a disabled account: the caller is told no more than that."""

    status = 401
    code = "unauthorized"


@dataclass(frozen=True)
class Account:
    """The signed-in person as a session keeps them: their principal and what a page shows of them.

    ``stamp`` changes whenever the password does, so a session made before a password change (or an
    administrator's reset) stops loading; it is a digest, so no password material goes into a cookie.
    """

    user_id: int
    username: str
    display_name: str
    locale: str
    stamp: str
    principal: Principal


@dataclass(frozen=True)
class IssuedToken:
    token: str  # returned once, never stored
    expires_at: dt.datetime
    token_id: int


def _stamp(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


def _account(session: Session, user: User) -> Account:
    return Account(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        locale=user.locale,
        stamp=_stamp(user.password_hash),
        principal=load_principal(session, user.username),
    )


def _loggable(text: str) -> str:
    """What was typed, as the audit trail can keep it (no NUL, no lone surrogate)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _check_password(
    session: Session, username: str, password: str, *, remote: str | None, channel: str | None
) -> User | None:
    """The active user these credentials belong to, or None after recording a ``sign_in_failed`` event."""
    username = username.strip()
    # A name no account can have (control characters, lone surrogates) is not looked up: some databases
    # refuse such text outright, and the answer must stay "wrong username or password".
    known = bool(username) and username.isprintable() and len(username) <= 80
    user = session.scalar(select(User).where(User.username == username)) if known else None
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if ok and user is not None and user.active:
        return user
    audit.record(
        session,
        "sign_in_failed",
        actor=None,
        username=_loggable(username[:80]) or None,
        channel=channel,
        reason="disabled" if (ok and user is not None and not user.active) else "bad_credentials",
        remote=remote,
    )
    return None


def sign_in(services: Services, username: str, password: str, *, remote: str | None = None) -> Account:
    """Check a password for the web; audited either way. Raises SignInRefused (after the audit commits)."""
    with services.db.session() as s:
        user = _check_password(s, username, password, remote=remote, channel=None)
        if user is not None:
            account = _account(s, user)
            audit.record(s, "signed_in", actor=user.username, remote=remote)
    if user is None:
        raise SignInRefused("wrong username or password")
    return account


def sign_out(services: Services, principal: Principal) -> None:
    with services.db.session() as s:
        audit.record(s, "signed_out", actor=principal.username)


def load_account(services: Services, user_id: int, stamp: str) -> Account | None:
    """The session's person, if still active and their password unchanged since the session began."""
    with services.db.session() as s:
        user = s.get(User, user_id)
        if user is None or not user.active or _stamp(user.password_hash) != stamp:
            return None
        return _account(s, user)


def set_locale(services: Services, principal: Principal, locale: str) -> None:
    """Remember the person's page language in their profile."""
    if locale not in LOCALES:
        raise ValidationError("unknown language", fields={"locale": "unknown_locale"})
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == principal.username))
        if user is not None:
            user.locale = locale


# --------------------------------------------------------------------------- API tokens
def issue_token(
    services: Services,
    username: str,
    password: str,
    *,
    ttl: dt.timedelta = tokens.DEFAULT_TTL,
    name: str | None = None,
    remote: str | None = None,
) -> IssuedToken:
    """A bearer token for a username and password; refusals are audited like the web's (channel ``api``)."""
    with services.db.session() as s:
        user = _check_password(s, username, password, remote=remote, channel="api")
        if user is not None:
            raw, row = tokens.issue(s, user, ttl=ttl, name=name, remote=remote)
            issued = IssuedToken(token=raw, expires_at=row.expires_at, token_id=row.id)
    if user is None:
        raise SignInRefused("wrong username or password")
    return issued


def authenticate_token(services: Services, raw: str) -> tuple[Principal, int] | None:
    """The principal a live bearer token acts for and the token's id; None when unknown, expired or revoked."""
    with services.db.session() as s:
        return tokens.authenticate(s, raw)


def revoke_token(services: Services, principal: Principal, token_id: int) -> bool:
    """Revoke one token (the caller's own: the API passes the token the request presents)."""
    with services.db.session() as s:
        return tokens.revoke(s, token_id, actor=principal.username)


# --------------------------------------------------------------------------- who am I
def me(services: Services, principal: Principal) -> dict[str, Any]:
    """The caller, their roles and their units with the roles held there and whether they lead it."""
    codes = sorted(principal.units)
    with services.db.session() as s:
        locale = s.scalar(select(User.locale).where(User.username == principal.username)) or "zh_CN"
        names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    return {
        "username": principal.username,
        "display_name": principal.display_name,
        "admin_kind": principal.admin_kind,
        "locale": locale,
        "roles": sorted(principal.roles),
        "units": [
            {
                "code": code,
                "name": names.get(code, code),
                "roles": sorted(role for unit, role in principal.memberships if unit == code),
                "leader": code in principal.leader_of,
            }
            for code in codes
        ],
    }
