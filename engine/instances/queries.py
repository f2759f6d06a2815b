"""The SQL rules of the instance list, written once: the overdue predicate, the unit filter, the filters.

The API's list and the cockpit's list used to build these each on their own and disagreed (the unit
filter counted any task in one and only open tasks in the other; the business key was exact in one
and a search in the other). Lists read columns only, never an instance's workflow state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from engine.instances import search
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate

STATUSES = ("running", "suspended", "error", "completed", "cancelled")


def overdue(now: dt.datetime | ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    """The instance has an open task past its due time (``now``: a moment, or a bound parameter)."""
    return exists(
        select(HumanTask.id).where(
            HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready", HumanTask.due_at < now
        )
    )


def overdue_probe(now: dt.datetime | ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    """``overdue`` as a question asked of each row: its earliest open due time, before ``now`` (false, not
    null, when it has none). The same answer as ``overdue``, but PostgreSQL cannot turn a correlated
    scalar subquery into a join: where a few rows are looked at (the newest of one commission, a person's
    need-to-know ids), each is one probe of (instance_id, status) instead of a hash of every overdue
    task of the province (45,000), which the planner built for EXISTS whatever the rows it would probe."""
    earliest = (
        select(func.min(HumanTask.due_at))
        .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready")
        .correlate(ProcessInstance)
        .scalar_subquery()
    )
    return func.coalesce(earliest < now, false())


def at_unit(unit: str) -> ColumnElement[bool]:
    """The unit owns the instance, or is a candidate unit of one of its tasks (open or done)."""
    return or_(
        ProcessInstance.owner_unit == unit,
        exists(
            select(HumanTask.id)
            .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
            .where(HumanTask.instance_id == ProcessInstance.id, TaskCandidate.unit_code == unit)
        ),
    )


@dataclass(frozen=True)
class InstanceFilter:
    """What a list of instances may be narrowed by (``None``: not narrowed)."""

    status: str | None = None
    stage: str | None = None
    mechanism: str | None = None
    platform: str | None = None
    process_key: str | None = None
    unit: str | None = None
    business_key: str | None = None  # a case-insensitive search, wildcards taken literally
    overdue: bool | None = None
    page: int = 1
    per_page: int = 20


def conditions(f: InstanceFilter, now: dt.datetime, *, probe: bool = False) -> list[Any]:
    """The filter as conditions on ``process_instance``; ``probe``: ``overdue`` asked row by row
    (``overdue_probe``), for statements that look at a few rows of an index range."""
    where: list[Any] = []
    if f.status:
        where.append(ProcessInstance.status == f.status)
    if f.stage:
        where.append(ProcessInstance.stage == f.stage)
    if f.process_key:
        where.append(ProcessInstance.process_key == f.process_key)
    definition = []
    if f.mechanism:
        definition.append(ProcessDefinition.mechanism == f.mechanism)
    if f.platform:
        definition.append(ProcessDefinition.platform == f.platform)
    if definition:
        where.append(ProcessInstance.definition_id.in_(select(ProcessDefinition.id).where(*definition)))
    if f.unit:
        where.append(at_unit(f.unit))
    if f.business_key:
        where.append(search.contains(ProcessInstance.business_key, f.business_key))
    if f.overdue is not None:
        flag = overdue_probe(now) if probe else overdue(now)
        where.append(flag if f.overdue else not_(flag))
    return where


def process_choices(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every process ever deployed, under its latest name: the lists' process menus."""
    latest: dict[str, str] = {}
    for key, name in session.execute(
        select(ProcessDefinition.process_key, ProcessDefinition.name).order_by(ProcessDefinition.version_id)
    ):
        latest[key] = name
    return sorted(latest.items())
