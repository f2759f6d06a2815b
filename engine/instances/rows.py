"""An instance as every list and detail shows it: its columns, read in one place, and the plain row.

The instance list, the instance detail and the instances linked to one (engine/instances/links.py)
read the same columns and name the process the same way; they did so in two copies before. The
statements are built once, with the moment ``now`` (for ``overdue``) as a bound parameter: building a
select of two dozen columns and two correlated subqueries cost more Python than running it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select

from engine.db import UTCDateTime
from engine.instances import queries
from engine.models import HumanTask, ProcessDefinition, ProcessInstance

# The moment ``overdue`` compares due times with: every statement with COLUMNS takes {"now": ...}.
NOW = bindparam("now", type_=UTCDateTime())

_OPEN_TASKS = (
    select(func.count())
    .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready")
    .correlate(ProcessInstance)
    .scalar_subquery()
)

# Select with a join of ``ProcessDefinition`` on the instance's ``definition_id`` (see ``DEFINITION``).
COLUMNS: tuple[Any, ...] = (
    ProcessInstance.id,
    ProcessInstance.process_key,
    ProcessInstance.title,
    ProcessInstance.business_key,
    ProcessInstance.status,
    ProcessInstance.stage,
    ProcessInstance.version_id,
    ProcessInstance.owner_unit,
    ProcessInstance.started_by,
    ProcessInstance.started_at,
    ProcessInstance.updated_at,
    ProcessInstance.completed_at,
    ProcessInstance.summary,
    ProcessInstance.error,
    ProcessInstance.attempts,
    ProcessInstance.parent_instance_id,
    ProcessDefinition.revision,
    ProcessDefinition.name.label("definition_name"),
    ProcessDefinition.mechanism,
    ProcessDefinition.platform,
    queries.overdue(NOW).label("overdue"),
    _OPEN_TASKS.label("open_tasks"),
)
DEFINITION = ProcessDefinition.id == ProcessInstance.definition_id


@dataclass(frozen=True)
class InstanceRow:
    id: int
    process_key: str
    process_name: str
    title: str | None
    business_key: str | None
    status: str
    stage: str | None
    version: int
    revision: int
    mechanism: str | None
    platform: str | None
    owner_unit: str | None
    started_by: str | None
    started_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    overdue: bool
    open_tasks: int
    error: dict[str, Any] | None
    attempts: int
    parent_instance_id: int | None = None


def row(r: Any) -> InstanceRow:
    """The plain row of a result row of ``COLUMNS``."""
    return InstanceRow(
        id=r.id,
        process_key=r.process_key,
        process_name=(r.summary or {}).get("process_name") or r.definition_name or r.process_key,
        title=r.title,
        business_key=r.business_key,
        status=r.status,
        stage=r.stage,
        version=r.version_id,
        revision=r.revision,
        mechanism=r.mechanism,
        platform=r.platform,
        owner_unit=r.owner_unit,
        started_by=r.started_by,
        started_at=r.started_at,
        updated_at=r.updated_at,
        completed_at=r.completed_at,
        overdue=bool(r.overdue),
        open_tasks=int(r.open_tasks or 0),
        error=r.error,
        attempts=r.attempts or 0,
        parent_instance_id=r.parent_instance_id,
    )
