"""The append-only audit trail: every handler signs every step (监督执纪工作规则 第23条).

Events are added to the caller's session, so they commit or roll back together with the change they
describe. Each is signed as it is recorded (engine/audit/chain.py: a keyed digest, linked into the
chain later by the sealer). Nothing in Guantong updates or deletes an audit row, and the database
refuses it (engine/audit/guard.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction

from engine.audit.chain import sign
from engine.clock import now
from engine.models import AuditEvent
from engine.prepared import Prepared


def digest(data: Any) -> str:
    """A stable fingerprint of submitted data, so the log proves what was sent without storing it twice."""
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


# Every change ends with it, inside SQLite's writer turn: run on the driver (engine/prepared.py), its
# columns named (the table's own ``id`` aside), so nothing is left to a Python-side default.
_INSERT = Prepared(
    insert(AuditEvent).values(
        {
            name: bindparam(name)
            for name in (
                "at",
                "actor",
                "action",
                "instance_id",
                "task_id",
                "version_id",
                "detail",
                "nonce",
                "key_id",
                "mac",
            )
        }
    )
)


def record(
    session: Session,
    action: str,
    *,
    actor: str | None,
    instance_id: int | None = None,
    task_id: int | None = None,
    version_id: int | None = None,
    **detail: Any,
) -> None:
    """Append one event to the caller's transaction; all of a change's events go in one insert at commit."""
    session.info.setdefault(_BUFFER, []).append(
        sign(
            {
                "at": now(),
                "actor": actor,
                "action": action,
                "instance_id": instance_id,
                "task_id": task_id,
                "version_id": version_id,
                "detail": {k: v for k, v in detail.items() if v is not None},
            }
        )
    )


_BUFFER = "guantong_audit"


@event.listens_for(Session, "before_commit")
def _write_buffered(session: Session) -> None:
    events = session.info.pop(_BUFFER, None)
    if events:
        _INSERT.many(session.connection(), events)


@event.listens_for(Session, "after_soft_rollback")
def _drop_buffered(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(_BUFFER, None)
