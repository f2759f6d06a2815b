"""The completion's hold on its instance: taken at once or refused at once, never queued for.

Two people completing steps of one instance at the same moment (two officers of a unit picking the same
task from the group inbox, two branches of a countersign) cannot both win: the write is guarded by the
instance's ``lock_version``. Without a hold taken early, the loser ran the engine for nothing and then,
on PostgreSQL, waited in its ``UPDATE`` for the row lock until the winner's whole transaction had
committed, only to be refused with 409 after all. Under load (50 officers, issue 19) those waits held
a web thread idle each, and queued the requests behind them.

``hold`` is called once the person is known to be allowed to complete the task (so a refusal keeps its
order: not found, not theirs, already done, then busy). On PostgreSQL it locks the instance row with
``FOR NO KEY UPDATE NOWAIT``:

- another transaction holds the row (completing a step of it, starting a timer of it): 409 at once;
- someone completed a step since the task was read (``lock_version`` moved): 409 at once, before the
  engine runs;
- otherwise the row is ours until commit, and the guarded write cannot lose any more.

``NO KEY UPDATE`` is the lock the guarded ``UPDATE`` takes anyway; it does not conflict with the
``KEY SHARE`` locks that inserting a row referring to the instance takes (an audit event, a comment), so
those never make a completion busy. SQLite writes one transaction at a time and has no row locks: there
the read only checks ``lock_version``.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.models import ProcessInstance
from engine.prepared import Prepared

_I = cast(Table, ProcessInstance.__table__)

# Built once (the completion's hot path): the lock_version of the instance, its row locked or refused.
_HOLD = Prepared(
    select(_I.c.lock_version).where(_I.c.id == bindparam("instance_id")).with_for_update(nowait=True, key_share=True)
)

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT lock that is held by someone else


def hold(session: Session, instance_id: int, expected: int, task_id: int) -> None:
    """Lock the instance for this completion, or raise Conflict at once (nothing changed).

    ``expected``: the ``lock_version`` the task was read with.
    """
    try:
        current = _HOLD(session.connection(), {"instance_id": instance_id}).scalar()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict(
            f"task {task_id} is being completed by someone else right now; reload and try again",
            task=task_id,
            instance=instance_id,
        ) from None
    if current != expected:
        raise Conflict(
            f"instance {instance_id} was changed by someone else meanwhile; reload and try again",
            task=task_id,
            instance=instance_id,
        )
