"""The SQL rules of the instance list, written once: the overdue predicate, the unit filter, the filters.

The API's list and the cockpit's list used to build these each on their own and disagreed (the unit
filter counted any task in one and only open tasks in the other; the business key was exact in one
and a search in the other). Lists read columns only, never an instance's workflow state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from engine.instances import search
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate

STATUSES = ("running", "suspended", "error", "completed", "cancelled")


def overdue(now: dt.datetime | ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    """The instance has an open task past its due time (``now``: a moment, or a bound parameter).

    Asked of the instance's own ``open_due_at``, the earliest due time of its open tasks, which triggers
    on human_task keep (engine/instances/open_due.py): a column test, so a count of a commission's overdue
    instances is one range of ``ix_instance_owner_status_due``. False, not NULL, without one (so that
    ``not_(overdue)`` keeps the instances with no due time)."""
    return and_(ProcessInstance.open_due_at.is_not(None), ProcessInstance.open_due_at < now)


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


def conditions(f: InstanceFilter, now: dt.datetime) -> list[Any]:
    """The filter as conditions on ``process_instance`` (each a column test or an indexed probe)."""
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
        flag = overdue(now)
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
