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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit, clock
from .models import ApiToken, User
from .principal import Principal, load_principal

PREFIX = "gt_"
DEFAULT_TTL = dt.timedelta(hours=8)
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(session: Session, user: User, *, ttl: dt.timedelta = DEFAULT_TTL, name: str | None = None,
          remote: str | None = None) -> tuple[str, ApiToken]:
    """A new token for ``user``; the raw value is returned once and never stored."""
    raw = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=name, created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    audit.record(session, "api_token_issued", actor=user.username, token_id=row.id, name=name,
                 expires_at=row.expires_at.isoformat(), remote=remote)
    return raw, row


def _live(session: Session, raw: str) -> tuple[ApiToken, User] | None:
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_hash == hash_token(raw))).first()
    if found is None:
        return None
    token, user = found
    if token.revoked_at is not None or token.expires_at <= clock.now() or not user.active:
        return None
    return token, user


def authenticate(session: Session, raw: str) -> tuple[Principal, int] | None:
    """The principal a live token acts for, and the token's id; None for an unknown, expired or revoked one."""
    found = _live(session, raw)
    if found is None:
        return None
    token, user = found
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))
    return load_principal(session, user.username), token.id


def revoke(session: Session, token_id: int, *, actor: str) -> bool:
    """Revoke one token; False when it was already revoked."""
    done = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=clock.now()).execution_options(synchronize_session=False))
    if done.rowcount == 1:
        audit.record(session, "api_token_revoked", actor=actor, token_id=token_id)
        return True
    return False
