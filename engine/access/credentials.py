"""Setting a person's password, whoever sets it: the policy check, the history, and what a new password ends.

One place for the owner's change (engine.access.accounts.change_password) and an administrator's create
or reset (engine.organisation.operations), so both apply the same rules: the policy of
engine/access/passwords.py (configured length, character classes, not the username, not one of the last
``password_history``), a hash kept in ``password_history``, every session and API token of that person
ended, and ``must_change_password`` set when the password is an initial one (someone else chose it).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.access import sessions
from engine.access.passwords import PasswordPolicy, hash_password, policy_problem
from engine.config import Config
from engine.models import PasswordHistory, User


def policy(config: Config) -> PasswordPolicy:
    return PasswordPolicy(min_length=config.password_min_length, history=config.password_history)


def recent_hashes(session: Session, user: User | None, config: Config) -> list[str]:
    """The person's current password hash and their previous ones, newest first."""
    if user is None or user.id is None:
        return []
    kept = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(config.password_history)
    ).all()
    current = [user.password_hash] if user.password_hash and user.password_hash not in kept else []
    return (current + list(kept))[: config.password_history]


def problem(session: Session, user: User | None, username: str, password: str, config: Config) -> str | None:
    """The rule a proposed password breaks (a code of engine.access.passwords), or None."""
    return policy_problem(
        password, username=username, policy=policy(config), recent_hashes=recent_hashes(session, user, config)
    )


def store(session: Session, user: User, password: str, config: Config, *, initial: bool, reason: str) -> None:
    """Set ``user``'s password (already checked with :func:`problem`), remember its hash, end every
    session and API token of theirs (``reason`` names why), and mark an ``initial`` one to be changed."""
    previous = user.password_hash
    remembered = session.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id))
    if previous and previous not in set(remembered):
        # Set before history was kept (a seed file, an older release): remembered now, so it too is refused.
        session.add(PasswordHistory(user_id=user.id, password_hash=previous))
        session.flush()
    user.password_hash = hash_password(password)
    user.must_change_password = initial
    session.flush()
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    session.flush()
    keep = session.scalars(
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
        .limit(max(config.password_history, 1))
    ).all()
    session.execute(
        delete(PasswordHistory)
        .where(PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(keep))
        .execution_options(synchronize_session=False)
    )
    sessions.revoke_all(session, user.id, reason=reason)
