"""Bearer tokens for the JSON API: issued for a password, stored only as a SHA-256, revocable.

A token is 256 random bits; its hash is enough to look it up and useless to anyone reading the table.
Tokens expire (``expires_at``) and can be revoked one by one; a disabled user's tokens stop working at
once because every use loads the user again. ``last_used_at`` is written at most once a minute, so a
busy script does not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import cast

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access.principal import Principal, person_by_token, principal_of_rows
from engine.db import affected
from engine.models import ApiToken, User
from engine.prepared import Prepared

PREFIX = "gt_"
DEFAULT_TTL = dt.timedelta(hours=8)
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(
    session: Session, user: User, *, ttl: dt.timedelta = DEFAULT_TTL, name: str | None = None, remote: str | None = None
) -> tuple[str, ApiToken]:
    """A new token for ``user``; the raw value is returned once and never stored."""
    raw = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=name, created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    audit.record(
        session,
        "api_token_issued",
        actor=user.username,
        token_id=row.id,
        name=name,
        expires_at=row.expires_at.isoformat(),
        remote=remote,
    )
    return raw, row


_T = cast(Table, ApiToken.__table__)
# The token, its user and the user's memberships in one read (engine/access/principal.py).
_LOOKUP = Prepared(person_by_token(_T, _T.c.id, _T.c.revoked_at, _T.c.expires_at, _T.c.last_used_at))
_TOUCH = _T.update().where(_T.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def authenticate(conn: Connection, raw: str) -> tuple[Principal, int] | None:
    """The principal a live token acts for, and the token's id; None for an unknown, expired or revoked one.

    Every API call passes here, so it is one prebuilt read (token, user and memberships joined) on a
    plain connection (``Database.autocommit``: no ORM session, no transaction around it); the user and
    the token are read each time, so disabling someone or revoking the token stops it at once.
    """
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    rows = _LOOKUP(conn, {"token_hash": hash_token(raw)}).all()
    now = clock.now()
    if not rows:
        return None
    token = rows[0]
    if token.revoked_at is not None or not token.active or _aware(token.expires_at) <= now:
        return None
    last = _aware(token.last_used_at) if token.last_used_at is not None else None
    if last is None or now - last >= TOUCH_EVERY:
        touch(conn, token.id, now)
    return principal_of_rows(rows), token.id


def touch(conn: Connection, token_id: int, now: dt.datetime) -> None:
    """Record that a token was used (authenticate does it at most once a minute per token)."""
    conn.execute(_TOUCH, {"token_id": token_id, "now": now})


def revoke(session: Session, token_id: int, *, actor: str) -> bool:
    """Revoke one token; False when it was already revoked."""
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if affected(done) == 1:
        audit.record(session, "api_token_revoked", actor=actor, token_id=token_id)
        return True
    return False
