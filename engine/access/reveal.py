"""The one gate every read of step records passes: confidential fields opened for reveal roles only,
and each view that opened any of them audited once (``confidential_viewed``).

The task page, the instance page, the cockpit and the API used to open sealed fields each in their own
loop, each with its own audit call; a reader could not tell whether a new view had the rule. Now the
use cases (engine/tasks/operations.py, engine/instances/operations.py) hand their records here and get
back what the person may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.access.principal import Principal
from engine.access.sealing import DEFAULT_REVEAL_ROLES, Sealer, may_reveal


@dataclass(frozen=True)
class Reveal:
    """The sealing key and the roles that may see reporter identity (a deployment's settings)."""

    sealer: Sealer
    roles: frozenset[str] = field(default=DEFAULT_REVEAL_ROLES)

    def allows(self, principal: Principal) -> bool:
        return may_reveal(principal, self.roles)


@dataclass(frozen=True)
class Sealed:
    """One stored record: what is readable by the instance's readers, and the sealed confidential part."""

    data: Mapping[str, Any]
    sealed: str | None
    author: str | None = None  # set for a draft: its author sees what they typed themselves


@dataclass(frozen=True)
class Read:
    """A record as this reader sees it: ``data`` holds the opened confidential values when ``revealed``."""

    data: dict[str, Any]
    sealed: bool
    revealed: bool


def read_records(
    session: Session,
    principal: Principal,
    reveal: Reveal,
    records: Iterable[Sealed],
    *,
    instance_id: int,
    task_id: int | None = None,
    channel: str | None = None,
) -> list[Read]:
    """Open what the person may read, and audit the view once when anything confidential was shown.

    Pass every record one view shows in one call, so the view leaves one event. A draft's author sees
    what they typed (no one else's identity is disclosed to them, so that is not audited).
    """
    allowed = reveal.allows(principal)
    result: list[Read] = []
    disclosed = False
    for record in records:
        data = dict(record.data or {})
        own = record.author is not None and record.author == principal.username
        opened = bool(record.sealed) and (allowed or own)
        if opened:
            data.update(reveal.sealer.open(record.sealed))
            disclosed = disclosed or not own
        result.append(Read(data=data, sealed=bool(record.sealed), revealed=opened))
    if disclosed:
        audit.record(
            session,
            "confidential_viewed",
            actor=principal.username,
            instance_id=instance_id,
            task_id=task_id,
            channel=channel,
        )
    return result
