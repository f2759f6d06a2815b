"""Per-account lock-out after repeated failed sign-ins, with the counters in the database.

The counters live in ``sign_in_lock`` so that every worker process (and both doors: the sign-in page and
the API's token request) sees the same count: ``lockout_failures`` failures within
``lockout_window_minutes`` lock the name for ``lockout_minutes``, and the lock is an ``account_locked``
audit event. Names that match no account are counted the same way, so neither the count nor the lock
tells an attacker whether an account exists. Per-address throttling stays at the web's door
(Flask-Limiter): it answers a different attack (one address trying many names).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.config import Config
from engine.db import affected
from engine.models import SignInLock


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _key(username: str) -> str:
    return username.strip().casefold()[:80]


def locked_until(session: Session, username: str) -> dt.datetime | None:
    """When the lock on ``username`` ends, if it is locked now."""
    until = session.scalar(select(SignInLock.locked_until).where(SignInLock.username == _key(username)))
    if until is None:
        return None
    until = _aware(until)
    return until if until > clock.now() else None


def record_failure(session: Session, username: str, config: Config, *, remote: str | None) -> dt.datetime | None:
    """Count one failed sign-in for ``username``; returns the end of the lock this failure set, if any.

    The increment is one UPDATE (``failures = failures + 1``), so two workers counting at once both count.
    """
    key = _key(username)
    if not key:
        return None
    now = clock.now()
    window_start = now - dt.timedelta(minutes=config.lockout_window_minutes)
    # A window that has run out starts again at this failure.
    session.execute(
        update(SignInLock)
        .where(SignInLock.username == key, SignInLock.window_start <= window_start)
        .values(failures=0, window_start=now, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    counted = session.execute(
        update(SignInLock)
        .where(SignInLock.username == key)
        .values(failures=SignInLock.failures + 1)
        .execution_options(synchronize_session=False)
    )
    if affected(counted) == 0:
        try:
            with session.begin_nested():
                session.add(SignInLock(username=key, failures=1, window_start=now))
        except IntegrityError:  # another worker inserted the row first: count on it
            session.execute(
                update(SignInLock)
                .where(SignInLock.username == key)
                .values(failures=SignInLock.failures + 1)
                .execution_options(synchronize_session=False)
            )
    failures = session.scalar(select(SignInLock.failures).where(SignInLock.username == key)) or 0
    if failures < config.lockout_failures:
        return None
    until = now + dt.timedelta(minutes=config.lockout_minutes)
    session.execute(
        update(SignInLock)
        .where(SignInLock.username == key)
        .values(locked_until=until, failures=0, window_start=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        "account_locked",
        actor=None,
        username=key,
        failures=failures,
        until=until.isoformat(),
        remote=remote,
    )
    return until


def clear(session: Session, username: str) -> None:
    """A successful sign-in starts the count again."""
    session.execute(
        update(SignInLock)
        .where(SignInLock.username == _key(username), SignInLock.failures > 0)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )
