"""The cockpit's questions, answered in SQL over column rows (never an instance's workflow state).

- ``overview``: running instances counted by stage, mechanism and platform;
- ``deadlines``: ready tasks due soon or overdue (working days on each version's calendar);
- ``durations``: how long steps, processes and stages really take: counts and means by SQL aggregate,
  median and 90th percentile in Python over a bounded sample of the most recent completions.

Nothing here imports Flask; the blueprint passes the principal, settings and page numbers in.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.access.principal import Principal
from engine.instances.queries import overdue, process_choices
from engine.models import (
    HumanTask,
    Notification,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
)
from engine.tasks.inbox import Calendars, DueInfo, due_info

STAGE_ORDER = ("goal", "discover", "dispose", "rectify")
ACTIVE_STATUSES = ("running", "suspended", "error")
STATUSES = ("running", "suspended", "error", "completed", "cancelled")


# --------------------------------------------------------------------------- overview
def overview(session: Session) -> dict:
    """Counts of running instances by stage, mechanism and platform; counts per status; overdue tasks."""
    now = clock.now()
    joined = (
        select(
            ProcessDefinition.mechanism,
            ProcessDefinition.platform,
            ProcessInstance.stage,
            func.count(ProcessInstance.id).label("n"),
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.status == "running")
        .group_by(ProcessDefinition.mechanism, ProcessDefinition.platform, ProcessInstance.stage)
    )
    by_stage: dict[str, int] = {}
    by_mechanism: dict[str, int] = {}
    by_platform: dict[str, int] = {}
    matrix: dict[tuple[str, str], int] = {}
    for mech, plat, stage, n in session.execute(joined):
        by_stage[stage or ""] = by_stage.get(stage or "", 0) + n
        by_mechanism[mech or ""] = by_mechanism.get(mech or "", 0) + n
        by_platform[plat or ""] = by_platform.get(plat or "", 0) + n
        matrix[(stage or "", plat or "")] = matrix.get((stage or "", plat or ""), 0) + n
    statuses = dict(
        session.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)).all()
    )
    overdue_tasks = (
        session.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready", HumanTask.due_at < now)
        )
        or 0
    )
    overdue_instances = (
        session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "running", overdue(now))
        )
        or 0
    )
    stages = list(STAGE_ORDER) + sorted(k for k in by_stage if k not in STAGE_ORDER)
    return {
        "by_stage": by_stage,
        "by_mechanism": by_mechanism,
        "by_platform": by_platform,
        "matrix": matrix,
        "stages": stages,
        "statuses": statuses,
        "overdue_tasks": overdue_tasks,
        "overdue_instances": overdue_instances,
        "running": statuses.get("running", 0),
    }


def _candidate_units(session: Session, task_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    if task_ids:
        for task_id, unit in session.execute(
            select(TaskCandidate.task_id, TaskCandidate.unit_code)
            .where(TaskCandidate.task_id.in_(task_ids))
            .order_by(TaskCandidate.unit_code)
        ):
            result.setdefault(task_id, []).append(unit)
    return result


# --------------------------------------------------------------------------- deadlines
@dataclass
class DeadlineItem:
    id: int
    instance_id: int
    name: str
    process_key: str
    business_key: str | None
    title: str | None
    role: str | None
    lane: str | None
    assignee: str | None
    units: list[str]
    due: DueInfo


@dataclass
class DeadlineGroup:
    unit: str | None
    role: str | None
    overdue: int = 0
    due_soon: int = 0
    items: list[DeadlineItem] = field(default_factory=list)


def deadlines(session: Session, *, soon_workdays: int, limit: int = 2000) -> dict:
    """Ready tasks overdue or due within ``soon_workdays`` working days (or past their reminder).

    SQL narrows to tasks due within a generous calendar window (holidays stretch working days), then
    each task's due state is counted on its own version's calendar, as in the inbox.
    """
    now = clock.now()
    horizon = now + dt.timedelta(days=soon_workdays * 2 + 12)
    rows = session.execute(
        select(
            HumanTask.id,
            HumanTask.instance_id,
            HumanTask.name,
            HumanTask.process_key,
            HumanTask.business_key,
            HumanTask.role,
            HumanTask.lane,
            HumanTask.assignee,
            HumanTask.due_at,
            HumanTask.reminder_at,
            ProcessInstance.version_id,
            ProcessInstance.title,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.status == "ready",
            HumanTask.due_at.is_not(None),
            or_(HumanTask.due_at <= horizon, HumanTask.reminder_at <= now),
        )
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
    ).all()
    calendars = Calendars(session)
    units = _candidate_units(session, [r.id for r in rows])
    groups: dict[tuple, DeadlineGroup] = {}
    totals = {"overdue": 0, "due_soon": 0}
    for r in rows:
        due = due_info(
            r.due_at, calendars(r.version_id), now=now, reminder_at=r.reminder_at, soon_workdays=soon_workdays
        )
        if due.state not in ("overdue", "due_soon"):
            continue
        item = DeadlineItem(
            id=r.id,
            instance_id=r.instance_id,
            name=r.name,
            process_key=r.process_key,
            business_key=r.business_key,
            title=r.title,
            role=r.role,
            lane=r.lane,
            assignee=r.assignee,
            units=units.get(r.id, []),
            due=due,
        )
        totals[due.state] += 1
        for unit in item.units or [None]:
            group = groups.setdefault((unit or "", r.role or ""), DeadlineGroup(unit=unit, role=r.role))
            group.items.append(item)
            setattr(group, due.state, getattr(group, due.state) + 1)
    ordered = sorted(groups.values(), key=lambda g: (-g.overdue, -g.due_soon, g.unit or "~", g.role or ""))
    return {"groups": ordered, "totals": totals, "truncated": len(rows) >= limit}


def escalations(session: Session, *, limit: int = 50):
    return session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.username,
            Notification.unit_code,
            Notification.role_code,
            Notification.task_id,
            Notification.instance_id,
            Notification.message,
            Notification.created_at,
            Notification.read_at,
        )
        .where(Notification.kind.in_(("escalation", "overdue")))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()


# --------------------------------------------------------------------------- durations
def _hours_sql(session: Session, end, start):
    """Hours between two timestamp columns, as SQL for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in 0..1) over already sorted values."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


@dataclass
class DurationStat:
    key: tuple
    label: str
    count: int = 0  # every completion, from SQL
    mean_hours: float | None = None  # SQL aggregate over every completion
    sample: int = 0  # completions the percentiles were computed over
    median_hours: float | None = None
    p90_hours: float | None = None
    median_workdays: float | None = None
    p90_workdays: float | None = None
    process_key: str | None = None
    stage: str | None = None
    _hours: list = field(default_factory=list, repr=False)
    _workdays: list = field(default_factory=list, repr=False)

    def finish(self) -> None:
        hours = sorted(self._hours)
        days = sorted(self._workdays)
        self.sample = len(hours)
        self.median_hours, self.p90_hours = percentile(hours, 0.5), percentile(hours, 0.9)
        self.median_workdays, self.p90_workdays = percentile(days, 0.5), percentile(days, 0.9)


def _workdays(calendar, start: dt.datetime, end: dt.datetime) -> int:
    return max(
        0, calendar.workdays_between(start.astimezone(clock.LOCAL_TZ).date(), end.astimezone(clock.LOCAL_TZ).date())
    )


def durations(session: Session, *, process_key: str | None = None, sample_limit: int = 20000) -> dict:
    """Per task spec, per process (whole instances) and per stage: count, mean, median and p90.

    Working days count as deadlines do: the working days after the day the task arrived, up to and
    including the day it was completed (same day: 0).
    """
    task_where = [HumanTask.status == "completed", HumanTask.completed_at.is_not(None)]
    inst_where = [ProcessInstance.status == "completed", ProcessInstance.completed_at.is_not(None)]
    if process_key:
        task_where.append(HumanTask.process_key == process_key)
        inst_where.append(ProcessInstance.process_key == process_key)
    task_hours = _hours_sql(session, HumanTask.completed_at, HumanTask.created_at)
    inst_hours = _hours_sql(session, ProcessInstance.completed_at, ProcessInstance.started_at)

    steps: dict[tuple, DurationStat] = {}
    for pk, spec, name, n, mean in session.execute(
        select(HumanTask.process_key, HumanTask.spec_id, func.max(HumanTask.name), func.count(), func.avg(task_hours))
        .where(*task_where)
        .group_by(HumanTask.process_key, HumanTask.spec_id)
    ):
        steps[(pk, spec)] = DurationStat(key=(pk, spec), label=name, count=n, mean_hours=_f(mean), process_key=pk)
    stages: dict[tuple, DurationStat] = {}
    for stage, n, mean in session.execute(
        select(HumanTask.stage, func.count(), func.avg(task_hours)).where(*task_where).group_by(HumanTask.stage)
    ):
        stages[(stage or "",)] = DurationStat(
            key=(stage or "",), label=stage or "", count=n, mean_hours=_f(mean), stage=stage
        )
    processes: dict[tuple, DurationStat] = {}
    for pk, n, mean in session.execute(
        select(ProcessInstance.process_key, func.count(), func.avg(inst_hours))
        .where(*inst_where)
        .group_by(ProcessInstance.process_key)
    ):
        processes[(pk,)] = DurationStat(key=(pk,), label=pk, count=n, mean_hours=_f(mean), process_key=pk)

    calendars = Calendars(session)
    sample = session.execute(
        select(
            HumanTask.process_key,
            HumanTask.spec_id,
            HumanTask.stage,
            HumanTask.created_at,
            HumanTask.completed_at,
            ProcessInstance.version_id,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*task_where)
        .order_by(HumanTask.completed_at.desc())
        .limit(sample_limit)
    ).all()
    for r in sample:
        hours = max(0.0, (r.completed_at - r.created_at).total_seconds() / 3600)
        days = _workdays(calendars(r.version_id), r.created_at, r.completed_at)
        for stat in (steps.get((r.process_key, r.spec_id)), stages.get((r.stage or "",))):
            if stat is not None:
                stat._hours.append(hours)
                stat._workdays.append(days)
    inst_sample = session.execute(
        select(
            ProcessInstance.process_key,
            ProcessInstance.started_at,
            ProcessInstance.completed_at,
            ProcessInstance.version_id,
        )
        .where(*inst_where)
        .order_by(ProcessInstance.completed_at.desc())
        .limit(sample_limit)
    ).all()
    for r in inst_sample:
        stat = processes.get((r.process_key,))
        if stat is not None:
            stat._hours.append(max(0.0, (r.completed_at - r.started_at).total_seconds() / 3600))
            stat._workdays.append(_workdays(calendars(r.version_id), r.started_at, r.completed_at))
    for group in (steps, stages, processes):
        for stat in group.values():
            stat.finish()
    names = dict(process_choices(session))
    for stat in processes.values():
        stat.label = names.get(stat.process_key, stat.process_key)
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    return {
        "steps": sorted(steps.values(), key=lambda s: (s.process_key, -(s.median_hours or 0))),
        "processes": sorted(processes.values(), key=lambda s: s.process_key),
        "stages": sorted(stages.values(), key=lambda s: (order.get(s.stage, 99), s.stage or "")),
        "process_names": names,
        "sampled": len(sample) >= sample_limit,
    }


def _f(value) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- notifications
def notification_clause(p: Principal):
    """Notifications for the person: to them by name, or to a role (in one of their units, or any unit)."""
    clauses = [Notification.username == p.username]
    for role in sorted(p.roles):
        units = sorted(p.units_for(role))
        clauses.append(
            and_(
                Notification.username.is_(None),
                Notification.role_code == role,
                or_(Notification.unit_code.is_(None), Notification.unit_code.in_(units)),
            )
        )
    return or_(*clauses)


def unread_count(session: Session, p: Principal) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Notification).where(notification_clause(p), Notification.read_at.is_(None))
        )
        or 0
    )


def notifications(session: Session, p: Principal, *, unread_only: bool = False, page: int = 1, per_page: int = 20):
    where = [notification_clause(p)]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = (
        session.execute(
            select(Notification)
            .where(*where)
            .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        .scalars()
        .all()
    )
    return rows, total
