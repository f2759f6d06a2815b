"""Server-side sessions: the browser holds a random id, the database holds its hash and the session's life.

The cookie is only a pointer (256 random bits, stored as a SHA-256 like an API token), so nothing in it
is password material and a captured cookie is worth nothing once the row is revoked: on sign-out, on a
password change or reset (every session of that person), when the account is disabled, and when the
session has been idle longer than ``session_idle_minutes`` or lived longer than ``session_max_hours``.
``last_seen_at`` is written at most once a minute per session (``TOUCH_EVERY``), so reading pages does not
turn every request into a write; the idle limit is therefore exact to within that minute.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access.principal import person_by_token
from engine.access.tokens import hash_token
from engine.config import Config
from engine.db import affected
from engine.models import ApiToken, User, UserSession
from engine.prepared import Prepared

TOUCH_EVERY = dt.timedelta(minutes=1)

# Why a session ended (``user_session.revoked_reason``).
SIGNED_OUT = "signed_out"
IDLE = "idle_timeout"
EXPIRED = "max_lifetime"
PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason code, not a secret
DISABLED = "account_disabled"
ENDED_BY_OWNER = "ended_by_owner"


@dataclass(frozen=True)
class SessionInfo:
    """One of a person's live sessions as their profile page lists it (never its id)."""

    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    remote: str | None
    user_agent: str | None
    current: bool


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def open_session(
    session: Session, user: User, config: Config, *, remote: str | None, user_agent: str | None
) -> tuple[str, UserSession]:
    """A new session for ``user``; the raw id goes into the cookie and is never stored."""
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    row = UserSession(
        token_hash=hash_token(raw),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=config.session_max_hours),
        remote=(remote or None) and remote[:64],
        user_agent=(user_agent or None) and user_agent[:300],
    )
    session.add(row)
    session.flush()
    return raw, row


def live_session(session: Session, raw: str, config: Config) -> tuple[UserSession, User] | None:
    """The live session a cookie's id names and its (active) user; an idle or expired one is ended here."""
    if not raw or len(raw) > 100:
        return None
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(raw))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or not user.active:
        return None
    now = clock.now()
    last_seen = _aware(row.last_seen_at)
    if now >= _aware(row.expires_at):
        _end(session, row, user.username, EXPIRED, now)
        return None
    if now - last_seen >= dt.timedelta(minutes=config.session_idle_minutes):
        _end(session, row, user.username, IDLE, now)
        return None
    if now - last_seen >= TOUCH_EVERY:
        row.last_seen_at = now
    return row, user


_S = cast(Table, UserSession.__table__)
# The session, its user and the user's memberships in one read (engine/access/principal.py). Built once:
# every page of a signed-in person asks it.
_LOOKUP = Prepared(
    person_by_token(
        _S,
        _S.c.id,
        _S.c.revoked_at,
        _S.c.expires_at,
        _S.c.last_seen_at,
        cast(Table, User.__table__).c.locale,
        cast(Table, User.__table__).c.must_change_password,
    )
)
_TOUCH = _S.update().where(_S.c.id == bindparam("session_id")).values(last_seen_at=bindparam("now"))


@dataclass(frozen=True)
class Lookup:
    """What one read of a cookie's session found: the rows of its live session (its user, one row per
    membership), none, or ``ended``: it has outlived its idle time or lifetime and must be ended, with its
    audit event, in a unit of work (:func:`live_session`)."""

    rows: Sequence[Any] = ()
    ended: bool = False


def read_live(conn: Connection, raw: str, config: Config) -> Lookup:
    """The live session a cookie's id names, with its user and his memberships, in one statement on a
    plain connection (``Database.autocommit``: no transaction around it), as the API reads a bearer
    token (engine/access/tokens.py).

    The page's person is read on every request, so this is the one read in front of every page. It
    decides as :func:`live_session` does, on the same columns read now: a revoked session or a disabled
    account finds nothing, a removed membership is absent from the rows. ``last_seen_at`` is written at
    most once a ``TOUCH_EVERY``, one UPDATE of its own. Ending an idle or expired session writes two rows
    (the session, the audit event) that go together; that is left to :func:`live_session`, in a unit of
    work, by answering ``ended``."""
    if not raw or len(raw) > 100:
        return Lookup()
    rows = _LOOKUP(conn, {"token_hash": hash_token(raw)}).all()
    if not rows:
        return Lookup()
    first = rows[0]
    if first.revoked_at is not None or not first.active:
        return Lookup()
    now = clock.now()
    last_seen = _aware(first.last_seen_at)
    if now >= _aware(first.expires_at) or now - last_seen >= dt.timedelta(minutes=config.session_idle_minutes):
        return Lookup(ended=True)
    if now - last_seen >= TOUCH_EVERY:
        conn.execute(_TOUCH, {"session_id": first.id, "now": now})
    return Lookup(rows=rows)


def _end(session: Session, row: UserSession, username: str, reason: str, now: dt.datetime) -> None:
    row.revoked_at, row.revoked_reason = now, reason
    audit.record(session, "session_ended", actor=username, session_id=row.id, reason=reason)


def revoke(session: Session, raw: str, *, reason: str = SIGNED_OUT) -> bool:
    """End the session a cookie's id names; False when it was unknown or already ended."""
    done = session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(raw), UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return affected(done) == 1


def revoke_one(session: Session, user_id: int, session_id: int) -> bool:
    """End one of ``user_id``'s own sessions by its row id (the profile page's "end" button)."""
    done = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=ENDED_BY_OWNER)
        .execution_options(synchronize_session=False)
    )
    return affected(done) == 1


def revoke_all(session: Session, user_id: int, *, reason: str, tokens: bool = True) -> int:
    """End every live session of a person, and (``tokens``) revoke their API tokens: a password that may
    have been stolen must not leave a door open that it opened. Returns how many were ended."""
    now = clock.now()
    done = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    count = affected(done)
    if tokens:
        revoked = session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        count += affected(revoked)
    return count


def listing(session: Session, user_id: int, config: Config, current_raw: str | None) -> list[SessionInfo]:
    """A person's live sessions, newest first, the one making the request marked ``current``."""
    now = clock.now()
    idle_since = now - dt.timedelta(minutes=config.session_idle_minutes)
    current_hash = hash_token(current_raw) if current_raw else None
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .where(UserSession.last_seen_at > idle_since)
        .order_by(UserSession.created_at.desc(), UserSession.id.desc())
    ).all()
    return [
        SessionInfo(
            id=r.id,
            created_at=_aware(r.created_at),
            last_seen_at=_aware(r.last_seen_at),
            expires_at=_aware(r.expires_at),
            remote=r.remote,
            user_agent=r.user_agent,
            current=r.token_hash == current_hash,
        )
        for r in rows
    ]
