"""Accounts: signing in with a password, the signed-in person's session, changing one's password, API
tokens and "who am I".

The web's sign-in page and the API's token request are two doors to one check (:func:`sign_in` and
:func:`issue_token` share ``_check_password``), so a disabled account, a wrong password, a locked account
(engine.access.lockout, counted in the database for every worker) and their audit events are the same
on both. A web session is a row (engine.access.sessions): the cookie carries only its random id, never
password material. Rate limiting per address stays at the door (it is about HTTP clients).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import credentials, lockout, sessions, tokens
from engine.access.passwords import hash_password, verify_password
from engine.access.principal import Principal, load_principal, principal_of_rows
from engine.config import Config
from engine.errors import EngineError, NotFound, ValidationError
from engine.models import Unit, User
from engine.services import Services

LOCALES = ("zh_CN", "en")

# Compared against when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password("guantong-timing-equaliser")

WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason code, not a secret
MISMATCH = "mismatch"


class SignInRefused(EngineError):
    """Wrong username or password, or a disabled account: the caller is told no more than that."""

    status = 401
    code = "unauthorized"


class AccountLocked(SignInRefused):
    """Too many failed sign-ins for this name: refused until ``until`` whatever the password (and said
    for unknown names too, so it does not tell whether the account exists)."""

    status = 429
    code = "account_locked"

    def __init__(self, until: dt.datetime):
        minutes = max(1, int((until - clock.now()).total_seconds() + 59) // 60)
        super().__init__("too many failed sign-ins: try again later", retry_after_minutes=minutes)
        self.until = until
        self.minutes = minutes


class PasswordChangeRequired(EngineError):
    """An initial password (set by an administrator or a seed file) is replaced before anything else."""

    status = 403
    code = "password_change_required"


@dataclass(frozen=True)
class Account:
    """The signed-in person as a session keeps them: their principal and what a page shows of them."""

    user_id: int
    username: str
    display_name: str
    locale: str
    must_change_password: bool
    principal: Principal


@dataclass(frozen=True)
class SignedIn:
    """A new session: ``session_token`` goes into the cookie (and is stored only as a hash)."""

    account: Account
    session_token: str


@dataclass(frozen=True)
class IssuedToken:
    token: str  # returned once, never stored
    expires_at: dt.datetime
    token_id: int


def _account(session: Session, user: User) -> Account:
    return Account(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        locale=user.locale,
        must_change_password=bool(user.must_change_password),
        principal=load_principal(session, user.username),
    )


def _loggable(text: str) -> str:
    """What was typed, as the audit trail can keep it (no NUL, no lone surrogate)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


@dataclass(frozen=True)
class _Checked:
    user: User | None
    locked_until: dt.datetime | None = None


def _check_password(
    session: Session, config: Config, username: str, password: str, *, remote: str | None, channel: str | None
) -> _Checked:
    """The active user these credentials belong to, or a refusal after recording a ``sign_in_failed``
    event (and counting it towards the name's lock-out)."""
    username = username.strip()
    # A name no account can have (control characters, lone surrogates) is not looked up: some databases
    # refuse such text outright, and the answer must stay "wrong username or password".
    known = bool(username) and username.isprintable() and len(username) <= 80
    logged = _loggable(username[:80]) or None
    until = lockout.locked_until(session, username) if known else None
    if until is not None:
        audit.record(
            session, "sign_in_failed", actor=None, username=logged, channel=channel, reason="locked", remote=remote
        )
        return _Checked(None, until)
    user = session.scalar(select(User).where(User.username == username)) if known else None
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if ok and user is not None and user.active:
        lockout.clear(session, username)
        return _Checked(user)
    audit.record(
        session,
        "sign_in_failed",
        actor=None,
        username=logged,
        channel=channel,
        reason="disabled" if (ok and user is not None and not user.active) else "bad_credentials",
        remote=remote,
    )
    return _Checked(None, lockout.record_failure(session, username, config, remote=remote) if known else None)


def _refuse(checked: _Checked) -> NoReturn:
    if checked.locked_until is not None:
        raise AccountLocked(checked.locked_until)
    raise SignInRefused("wrong username or password")


def sign_in(
    services: Services, username: str, password: str, *, remote: str | None = None, user_agent: str | None = None
) -> SignedIn:
    """Check a password for the web and open a session; audited either way. Raises SignInRefused or
    AccountLocked (after the audit commits)."""
    with services.db.session() as s:
        checked = _check_password(s, services.config, username, password, remote=remote, channel=None)
        user = checked.user
        if user is not None:
            raw, row = sessions.open_session(s, user, services.config, remote=remote, user_agent=user_agent)
            signed_in = SignedIn(account=_account(s, user), session_token=raw)
            audit.record(s, "signed_in", actor=user.username, remote=remote, session_id=row.id)
    if user is None:
        _refuse(checked)
    return signed_in


def sign_out(services: Services, principal: Principal, session_token: str | None = None) -> None:
    """End the session (the cookie's id stops working everywhere, a copied cookie included)."""
    with services.db.session() as s:
        if session_token:
            sessions.revoke(s, session_token)
        audit.record(s, "signed_out", actor=principal.username)


def load_session(services: Services, session_token: str) -> Account | None:
    """The person of a live session (not signed out, not idle too long, not past its lifetime, account
    active); None otherwise.

    Every page asks it first, so a live session is one read on a plain connection (the session, its
    user and his memberships in one statement: ``sessions.read_live``), where a unit of work cost three
    statements and, on PostgreSQL, a BEGIN and a COMMIT (issue 19). A session that must be ended now
    (idle, expired) is ended in a unit of work, as before."""
    with services.db.autocommit() as conn:
        found = sessions.read_live(conn, session_token, services.config)
    if found.ended:
        with services.db.session() as s:
            ending = sessions.live_session(s, session_token, services.config)
            return _account(s, ending[1]) if ending is not None else None
    if not found.rows:
        return None
    first = found.rows[0]
    return Account(
        user_id=first.user_id,
        username=first.username,
        display_name=first.display_name,
        locale=first.locale,
        must_change_password=bool(first.must_change_password),
        principal=principal_of_rows(found.rows),
    )


def change_password(
    services: Services,
    principal: Principal,
    *,
    current: str,
    new: str,
    repeat: str,
    remote: str | None = None,
    user_agent: str | None = None,
) -> str:
    """The owner replaces their password: the current one, the new one twice, the policy. Every session
    and API token of theirs ends (a copied cookie too); a fresh session is opened for the person making
    the change and its id returned. A wrong current password counts towards the lock-out."""
    config = services.config
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == principal.username))
        if user is None or not user.active:
            raise NotFound(f"no user '{principal.username}'", user=principal.username)
        until = lockout.locked_until(s, user.username)
        if until is None and not verify_password(user.password_hash, current):
            audit.record(s, "password_change_failed", actor=user.username, reason=WRONG_PASSWORD, remote=remote)
            until = lockout.record_failure(s, user.username, config, remote=remote)
            wrong = True
        else:
            wrong = False
    if until is not None:
        raise AccountLocked(until)
    if wrong:
        raise ValidationError("the current password is wrong", fields={"current_password": WRONG_PASSWORD})
    raw = _replace(services, principal.username, new, repeat, remote=remote, user_agent=user_agent, channel=None)
    assert raw is not None  # a web change always opens the fresh session
    return raw


def change_password_with_credentials(
    services: Services, username: str, current: str, new: str, *, remote: str | None = None
) -> None:
    """The API's door to the same change, for a client holding no token yet (an initial password blocks
    token requests): the username and current password are checked like a token request (lock-out,
    ``sign_in_failed``), then the new one like :func:`change_password`."""
    with services.db.session() as s:
        checked = _check_password(s, services.config, username, current, remote=remote, channel="api")
        user = checked.user
    if user is None:
        _refuse(checked)
    _replace(services, user.username, new, new, remote=remote, user_agent=None, channel="api")


def _replace(
    services: Services,
    username: str,
    new: str,
    repeat: str,
    *,
    remote: str | None,
    user_agent: str | None,
    channel: str | None,
) -> str | None:
    """Check and store a new password for its owner; a web change (no ``channel``) gets a fresh session."""
    config = services.config
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise NotFound(f"no user '{username}'", user=username)
        problems: dict[str, str] = {}
        if new != repeat:
            problems["repeat_password"] = MISMATCH
        rule = credentials.problem(s, user, user.username, new, config)
        if rule is not None:
            problems["new_password"] = rule
        if problems:
            raise ValidationError("the new password was refused", fields=problems)
        credentials.store(s, user, new, config, initial=False, reason=sessions.PASSWORD_CHANGED)
        lockout.clear(s, user.username)
        raw: str | None = None
        session_id = None
        if channel is None:
            raw, row = sessions.open_session(s, user, config, remote=remote, user_agent=user_agent)
            session_id = row.id
        audit.record(s, "password_changed", actor=user.username, remote=remote, channel=channel, session_id=session_id)
    return raw


def list_sessions(services: Services, principal: Principal, session_token: str | None) -> list[sessions.SessionInfo]:
    """The caller's own live sessions (this one marked), for their profile page."""
    if principal.user_id is None:
        return []
    with services.db.session() as s:
        return sessions.listing(s, principal.user_id, services.config, session_token)


def end_session(services: Services, principal: Principal, session_id: int) -> None:
    """End one of the caller's own sessions (another browser left signed in); another person's is "not found"."""
    with services.db.session() as s:
        if principal.user_id is None or not sessions.revoke_one(s, principal.user_id, session_id):
            raise NotFound(f"session {session_id} not found", session=session_id)
        audit.record(
            s, "session_ended", actor=principal.username, session_id=session_id, reason=sessions.ENDED_BY_OWNER
        )


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
        checked = _check_password(s, services.config, username, password, remote=remote, channel="api")
        user = checked.user
        if user is not None and not user.must_change_password:
            raw, row = tokens.issue(s, user, ttl=ttl, name=name, remote=remote)
            issued = IssuedToken(token=raw, expires_at=row.expires_at, token_id=row.id)
    if user is None:
        _refuse(checked)
    elif user.must_change_password:
        raise PasswordChangeRequired(
            "this account's initial password must be changed first (sign in on the web, or POST /api/v1/auth/password)"
        )
    return issued


def authenticate_token(services: Services, raw: str) -> tuple[Principal, int] | None:
    """The principal a live bearer token acts for and the token's id; None when unknown, expired or revoked."""
    with services.db.autocommit() as conn:
        return tokens.authenticate(conn, raw)


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
