"""The cockpit's instance list and instance page, answered in SQL over column rows (never an instance's
workflow state).

- ``list_instances``: filtered, paginated instance rows;
- ``timeline``: who did what and when on one instance, from ``audit_event`` and ``human_task``;
- ``current_tasks``: the ready tasks of one instance with their units and due state.

The cockpit's figures (overview, deadlines, durations, failures) and the notifications are in
engine/cockpit/; the SQL pieces both use (the overdue clause, the process choices, candidate units) are
imported from there.

Nothing here imports Flask; the blueprint passes the principal, settings and page numbers in.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.cockpit.figures import candidate_units as _candidate_units
from engine.cockpit.figures import overdue_clause as _overdue
from engine.cockpit.figures import process_choices as process_choices  # the instance filters' choices
from engine.instances import search
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, User
from engine.tasks.inbox import DueInfo, due_info

ACTIVE_STATUSES = ("running", "suspended", "error")
STATUSES = ("running", "suspended", "error", "completed", "cancelled")
# Access records are not part of "who did what" on the matter itself.
TIMELINE_HIDDEN = ("access_denied", "confidential_viewed", "attachment_downloaded", "draft_saved")


# --------------------------------------------------------------------------- instance list
@dataclass
class InstanceFilter:
    status: str | None = "running"
    stage: str | None = None
    mechanism: str | None = None
    platform: str | None = None
    process_key: str | None = None
    unit: str | None = None
    q: str | None = None
    overdue: bool = False
    page: int = 1
    per_page: int = 20

    def params(self) -> dict:
        values = {
            "status": self.status or "all",
            "stage": self.stage,
            "mechanism": self.mechanism,
            "platform": self.platform,
            "process": self.process_key,
            "unit": self.unit,
            "q": self.q,
            "overdue": "1" if self.overdue else None,
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class InstancePage:
    filter: InstanceFilter
    rows: list
    total: int
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, math.ceil(self.total / self.filter.per_page))


def list_instances(session: Session, f: InstanceFilter) -> InstancePage:
    now = clock.now()
    where = []
    if f.status:
        where.append(ProcessInstance.status == f.status)
    if f.stage:
        where.append(ProcessInstance.stage == f.stage)
    if f.mechanism:
        where.append(ProcessDefinition.mechanism == f.mechanism)
    if f.platform:
        where.append(ProcessDefinition.platform == f.platform)
    if f.process_key:
        where.append(ProcessInstance.process_key == f.process_key)
    if f.unit:
        where.append(
            or_(
                ProcessInstance.owner_unit == f.unit,
                exists(
                    select(HumanTask.id)
                    .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                    .where(
                        HumanTask.instance_id == ProcessInstance.id,
                        HumanTask.status == "ready",
                        TaskCandidate.unit_code == f.unit,
                    )
                ),
            )
        )
    if f.q:
        where.append(search.contains(ProcessInstance.business_key, f.q))
    if f.overdue:
        where.append(_overdue(now))
    base = select(ProcessInstance.id).join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    total = session.scalar(select(func.count()).select_from(base.where(*where).subquery())) or 0
    current = (
        select(func.count())
        .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready")
        .correlate(ProcessInstance)
        .scalar_subquery()
    )
    stmt = (
        select(
            ProcessInstance.id,
            ProcessInstance.title,
            ProcessInstance.business_key,
            ProcessInstance.status,
            ProcessInstance.stage,
            ProcessInstance.process_key,
            ProcessInstance.started_at,
            ProcessInstance.started_by,
            ProcessInstance.updated_at,
            ProcessInstance.owner_unit,
            ProcessInstance.version_id,
            ProcessDefinition.name.label("process_name"),
            ProcessDefinition.mechanism,
            ProcessDefinition.platform,
            ProcessDefinition.revision,
            ProcessInstance.error,
            ProcessInstance.attempts,
            current.label("open_tasks"),
            _overdue(now).label("overdue"),
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(*where)
        .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        .offset((f.page - 1) * f.per_page)
        .limit(f.per_page)
    )
    return InstancePage(filter=f, rows=session.execute(stmt).all(), total=total)


# --------------------------------------------------------------------------- one instance
INSTANCE_COLUMNS = (
    ProcessInstance.id,
    ProcessInstance.title,
    ProcessInstance.business_key,
    ProcessInstance.status,
    ProcessInstance.stage,
    ProcessInstance.process_key,
    ProcessInstance.version_id,
    ProcessInstance.definition_id,
    ProcessInstance.started_at,
    ProcessInstance.started_by,
    ProcessInstance.updated_at,
    ProcessInstance.completed_at,
    ProcessInstance.owner_unit,
    ProcessInstance.error,
    ProcessInstance.attempts,
    ProcessInstance.parent_instance_id,
)


def instance_row(session: Session, instance_id: int):
    return session.execute(
        select(
            *INSTANCE_COLUMNS,
            ProcessDefinition.name.label("process_name"),
            ProcessDefinition.mechanism,
            ProcessDefinition.platform,
            ProcessDefinition.revision,
            ProcessDefinition.filename,
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id == instance_id)
    ).one_or_none()


@dataclass
class TimelineEntry:
    at: dt.datetime
    action: str
    actor: str | None
    actor_name: str | None
    task_id: int | None
    task_name: str | None
    detail: dict


@dataclass
class CurrentTask:
    id: int
    name: str
    role: str | None
    lane: str | None
    units: list[str]
    assignee: str | None
    created_at: dt.datetime
    due: DueInfo


def timeline(session: Session, instance_id: int, *, limit: int = 500) -> list[TimelineEntry]:
    """Events of the instance, oldest first, with the task names and people's names resolved."""
    events = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.actor, AuditEvent.task_id, AuditEvent.detail)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.action.notin_(TIMELINE_HIDDEN))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    events.reverse()
    names = dict(
        session.execute(select(HumanTask.id, HumanTask.name).where(HumanTask.instance_id == instance_id)).all()
    )
    people = _people(session, {e.actor for e in events if e.actor})
    return [
        TimelineEntry(
            at=e.at,
            action=e.action,
            actor=e.actor,
            actor_name=people.get(e.actor, e.actor),
            task_id=e.task_id,
            task_name=names.get(e.task_id),
            detail=dict(e.detail or {}),
        )
        for e in events
    ]


def tasks_of(session: Session, instance_id: int):
    return session.execute(
        select(
            HumanTask.id,
            HumanTask.name,
            HumanTask.spec_id,
            HumanTask.role,
            HumanTask.lane,
            HumanTask.status,
            HumanTask.assignee,
            HumanTask.created_at,
            HumanTask.completed_at,
            HumanTask.completed_by,
            HumanTask.due_at,
            HumanTask.reminder_at,
        )
        .where(HumanTask.instance_id == instance_id)
        .order_by(HumanTask.created_at, HumanTask.id)
    ).all()


def current_tasks(session: Session, rows, calendar, *, soon_workdays: int) -> list[CurrentTask]:
    ready = [r for r in rows if r.status == "ready"]
    units = _candidate_units(session, [r.id for r in ready])
    now = clock.now()
    return [
        CurrentTask(
            id=r.id,
            name=r.name,
            role=r.role,
            lane=r.lane,
            units=units.get(r.id, []),
            assignee=r.assignee,
            created_at=r.created_at,
            due=due_info(r.due_at, calendar, now=now, reminder_at=r.reminder_at, soon_workdays=soon_workdays),
        )
        for r in ready
    ]


def _people(session: Session, usernames) -> dict[str, str]:
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(usernames))).all())


def people(session: Session, usernames) -> dict[str, str]:
    return _people(session, usernames)
