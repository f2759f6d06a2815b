"""The cockpit's figures, answered in SQL over column rows (never an instance's workflow state).

- ``overview``: running instances counted by stage, mechanism and platform, per status, overdue;
- ``deadlines``: ready tasks due soon or overdue (working days on each version's calendar), by unit and role;
- ``escalations``: the latest escalation and overdue notices, whoever they went to;
- ``durations``: how long steps, processes and stages really take: counts and means by SQL aggregate,
  median and 90th percentile in Python over a bounded sample of the most recent completions;
- ``failed``: instances stopped by an automatic step that kept failing, and where.

Each function takes an open session and the manager's ``scope`` (the commissions whose instances he
oversees, engine/cockpit/scope.py: every figure counts only instances whose ``owner_unit`` is one of
them; ``None`` for no limit) and returns frozen dataclasses; the use cases in ``operations`` authorize,
compute the scope and hold the transaction. The page-sized limits keep every page to a fixed number of queries,
whatever the number of instances (the province benchmark measures these pages).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.instances.queries import overdue as overdue_clause
from engine.instances.queries import process_choices as process_choices  # the process filters' choices
from engine.models import HumanTask, Notification, ProcessDefinition, ProcessInstance, TaskCandidate
from engine.scheduling.workdays import WorkCalendar
from engine.tasks.inbox import Calendars, DueInfo, due_info

from .lazy import LazyList

STAGE_ORDER = ("goal", "discover", "dispose", "rectify")
ESCALATION_KINDS = ("escalation", "overdue")


def pages_for(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


# --------------------------------------------------------------------------- shared SQL
Scope = Collection[str] | None  # the commissions a manager oversees (engine/cockpit/scope.py); None: all


def owned(scope: Scope) -> list[ColumnElement[bool]]:
    """The condition on ``process_instance`` that keeps the scope's instances (none for no limit)."""
    return [] if scope is None else [ProcessInstance.owner_unit.in_(sorted(scope))]


def _tasks_of(select_: Any, scope: Scope) -> Any:
    """``select_`` over ``human_task`` narrowed to the scope's instances (joined once, by instance id)."""
    if scope is None:
        return select_
    return select_.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(*owned(scope))


def candidate_units(session: Session, task_ids: list[int]) -> dict[int, list[str]]:
    """Candidate unit codes of each task, in one query for the whole list."""
    result: dict[int, list[str]] = {}
    if task_ids:
        for task_id, unit in session.execute(
            select(TaskCandidate.task_id, TaskCandidate.unit_code)
            .where(TaskCandidate.task_id.in_(task_ids))
            .order_by(TaskCandidate.unit_code)
        ):
            result.setdefault(task_id, []).append(unit)
    return result


# --------------------------------------------------------------------------- overview
@dataclass(frozen=True)
class Overview:
    by_stage: Mapping[str, int]
    by_mechanism: Mapping[str, int]
    by_platform: Mapping[str, int]
    matrix: Mapping[tuple[str, str], int]  # (stage, platform) → running instances
    stages: list[str]  # the four stages in order, then any other stage found
    statuses: Mapping[str, int]  # every instance, per status
    overdue_tasks: int
    overdue_instances: int  # running instances with at least one overdue task
    running: int
    due_soon: int = 0  # ready tasks due within the due-soon window (from ``deadlines``)


def overview(session: Session, *, scope: Scope = None, now: dt.datetime | None = None) -> Overview:
    """Counts of running instances by stage, mechanism and platform; counts per status; overdue tasks."""
    now = now or clock.now()
    mine = owned(scope)
    joined = (
        select(
            ProcessDefinition.mechanism,
            ProcessDefinition.platform,
            ProcessInstance.stage,
            func.count(ProcessInstance.id).label("n"),
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.status == "running", *mine)
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
    statuses: dict[str, int] = dict(
        session.execute(
            select(ProcessInstance.status, func.count()).where(*mine).group_by(ProcessInstance.status)
        ).all()
    )
    overdue_tasks = (
        session.scalar(
            _tasks_of(select(func.count()).select_from(HumanTask), scope).where(
                HumanTask.status == "ready", HumanTask.due_at < now
            )
        )
        or 0
    )
    overdue_instances = (
        session.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(ProcessInstance.status == "running", overdue_clause(now), *mine)
        )
        or 0
    )
    return Overview(
        by_stage=by_stage,
        by_mechanism=by_mechanism,
        by_platform=by_platform,
        matrix=matrix,
        stages=list(STAGE_ORDER) + sorted(k for k in by_stage if k not in STAGE_ORDER),
        statuses=statuses,
        overdue_tasks=overdue_tasks,
        overdue_instances=overdue_instances,
        running=statuses.get("running", 0),
    )


# --------------------------------------------------------------------------- notices
@dataclass(frozen=True)
class Notice:
    """One notification as a page shows it: to a person by name, or to a role (in a unit, or anywhere)."""

    id: int
    kind: str  # reminder | escalation | overdue | info
    username: str | None
    unit_code: str | None
    role_code: str | None
    task_id: int | None
    instance_id: int | None
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


NOTICE_COLUMNS = (
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


def notices(rows: Iterable[Any]) -> list[Notice]:
    """Rows selected with ``NOTICE_COLUMNS``, as plain data."""
    return [Notice(*row) for row in rows]


def escalations(session: Session, *, scope: Scope = None, limit: int = 50) -> list[Notice]:
    """The latest escalation and overdue notices of the scope's instances, to whomever they went: the
    deadlines page's watch list."""
    query = select(*NOTICE_COLUMNS)
    if scope is not None:
        query = query.join(ProcessInstance, ProcessInstance.id == Notification.instance_id).where(*owned(scope))
    return notices(
        session.execute(
            query.where(Notification.kind.in_(ESCALATION_KINDS))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


# --------------------------------------------------------------------------- deadlines
@dataclass(frozen=True)
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


@dataclass(frozen=True)
class DeadlineGroup:
    unit: str | None
    role: str | None
    overdue: int
    due_soon: int
    items: LazyList[DeadlineItem]  # earliest due first; read from a snapshot, decoded only as far as shown


@dataclass(frozen=True)
class Deadlines:
    groups: list[DeadlineGroup]  # most overdue first; a task with several candidate units is in each
    totals: Mapping[str, int]  # "overdue" and "due_soon", each task counted once
    truncated: bool  # more tasks were in the window than ``limit``: the earliest due are shown
    soon_workdays: int  # the due-soon window the states were computed with
    escalations: list[Notice] = field(default_factory=list)  # filled by the deadlines page's use case


def deadlines(
    session: Session, *, soon_workdays: int, scope: Scope = None, limit: int = 2000, now: dt.datetime | None = None
) -> Deadlines:
    """Ready tasks overdue or due within ``soon_workdays`` working days (or past their reminder).

    SQL narrows to tasks due within a generous calendar window (holidays stretch working days), then
    each task's due state is counted on its own version's calendar, as in the inbox.
    """
    now = now or clock.now()
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
            *owned(scope),
        )
        .order_by(HumanTask.due_at, HumanTask.id)
        .limit(limit)
    ).all()
    calendars = Calendars(session)
    units = candidate_units(session, [r.id for r in rows])
    groups: dict[tuple[str, str], tuple[str | None, str | None, list[DeadlineItem]]] = {}
    totals = {"overdue": 0, "due_soon": 0}
    for r in rows:
        due = due_info(
            r.due_at, calendars(r.version_id), now=now, reminder_at=r.reminder_at, soon_workdays=soon_workdays
        )
        if due.state not in totals:
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
        targets: list[str | None] = [*item.units] or [None]
        for unit in targets:
            groups.setdefault((unit or "", r.role or ""), (unit, r.role, []))[2].append(item)
    built = [
        DeadlineGroup(
            unit=unit,
            role=role,
            overdue=sum(1 for i in items if i.due.state == "overdue"),
            due_soon=sum(1 for i in items if i.due.state == "due_soon"),
            items=LazyList(items),
        )
        for unit, role, items in groups.values()
    ]
    built.sort(key=lambda g: (-g.overdue, -g.due_soon, g.unit or "~", g.role or ""))
    return Deadlines(groups=built, totals=totals, truncated=len(rows) >= limit, soon_workdays=soon_workdays)


# --------------------------------------------------------------------------- durations
def _hours_sql(session: Session, end: Any, start: Any) -> Any:
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


@dataclass(frozen=True)
class DurationStat:
    key: tuple[str, ...]  # (process key, spec id) for a step, (process key,) for a process, (stage,) for a stage
    label: str
    count: int  # every completion, from SQL
    mean_hours: float | None  # SQL aggregate over every completion
    sample: int  # completions the percentiles were computed over
    median_hours: float | None
    p90_hours: float | None
    median_workdays: float | None
    p90_workdays: float | None
    process_key: str | None = None
    stage: str | None = None


@dataclass
class _Tally:
    """A ``DurationStat`` being collected: the SQL aggregates, then the sampled hours and working days."""

    key: tuple[str, ...]
    label: str
    count: int
    mean_hours: float | None
    process_key: str | None = None
    stage: str | None = None
    hours: list[float] = field(default_factory=list)
    workdays: list[float] = field(default_factory=list)

    def add(self, hours: float, workdays: int) -> None:
        self.hours.append(hours)
        self.workdays.append(workdays)

    def finish(self, label: str | None = None) -> DurationStat:
        hours, days = sorted(self.hours), sorted(self.workdays)
        return DurationStat(
            key=self.key,
            label=self.label if label is None else label,
            count=self.count,
            mean_hours=self.mean_hours,
            sample=len(hours),
            median_hours=percentile(hours, 0.5),
            p90_hours=percentile(hours, 0.9),
            median_workdays=percentile(days, 0.5),
            p90_workdays=percentile(days, 0.9),
            process_key=self.process_key,
            stage=self.stage,
        )


@dataclass(frozen=True)
class Durations:
    steps: list[DurationStat]  # per process, slowest median first
    processes: list[DurationStat]  # whole instances, started → completed
    stages: list[DurationStat]  # task durations per stage, in stage order
    process_names: Mapping[str, str]  # process key → name of its latest version
    sampled: bool  # the percentiles were computed over the most recent ``sample_limit`` completions only
    process_key: str | None = None  # the one process the figures are for; None: every process


def _workdays(calendar: WorkCalendar, start: dt.datetime, end: dt.datetime) -> int:
    return max(
        0, calendar.workdays_between(start.astimezone(clock.LOCAL_TZ).date(), end.astimezone(clock.LOCAL_TZ).date())
    )


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def durations(
    session: Session,
    *,
    process_key: str | None = None,
    scope: Scope = None,
    sample_limit: int = 20000,
    choices: list[tuple[str, str]] | None = None,
) -> Durations:
    """Per task spec, per process (whole instances) and per stage: count, mean, median and p90.

    Working days count as deadlines do: the working days after the day the task arrived, up to and
    including the day it was completed (same day: 0). ``choices`` are the caller's ``process_choices``,
    when it has them already, for the processes' names.
    """
    task_where = [HumanTask.status == "completed", HumanTask.completed_at.is_not(None)]
    inst_where = [ProcessInstance.status == "completed", ProcessInstance.completed_at.is_not(None), *owned(scope)]
    if process_key:
        task_where.append(HumanTask.process_key == process_key)
        inst_where.append(ProcessInstance.process_key == process_key)
    task_hours = _hours_sql(session, HumanTask.completed_at, HumanTask.created_at)
    inst_hours = _hours_sql(session, ProcessInstance.completed_at, ProcessInstance.started_at)

    steps: dict[tuple[str, ...], _Tally] = {}
    for pk, spec, name, n, mean in session.execute(
        _tasks_of(
            select(
                HumanTask.process_key, HumanTask.spec_id, func.max(HumanTask.name), func.count(), func.avg(task_hours)
            ),
            scope,
        )
        .where(*task_where)
        .group_by(HumanTask.process_key, HumanTask.spec_id)
    ):
        steps[(pk, spec)] = _Tally(key=(pk, spec), label=name, count=n, mean_hours=_f(mean), process_key=pk)
    stages: dict[tuple[str, ...], _Tally] = {}
    for stage, n, mean in session.execute(
        _tasks_of(select(HumanTask.stage, func.count(), func.avg(task_hours)), scope)
        .where(*task_where)
        .group_by(HumanTask.stage)
    ):
        stages[(stage or "",)] = _Tally(
            key=(stage or "",), label=stage or "", count=n, mean_hours=_f(mean), stage=stage
        )
    processes: dict[tuple[str, ...], _Tally] = {}
    for pk, n, mean in session.execute(
        select(ProcessInstance.process_key, func.count(), func.avg(inst_hours))
        .where(*inst_where)
        .group_by(ProcessInstance.process_key)
    ):
        processes[(pk,)] = _Tally(key=(pk,), label=pk, count=n, mean_hours=_f(mean), process_key=pk)

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
        .where(*task_where, *owned(scope))
        .order_by(HumanTask.completed_at.desc())
        .limit(sample_limit)
    ).all()
    for r in sample:
        hours = max(0.0, (r.completed_at - r.created_at).total_seconds() / 3600)
        days = _workdays(calendars(r.version_id), r.created_at, r.completed_at)
        for tally in (steps.get((r.process_key, r.spec_id)), stages.get((r.stage or "",))):
            if tally is not None:
                tally.add(hours, days)
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
    for inst in inst_sample:
        tally = processes.get((inst.process_key,))
        if tally is not None:
            tally.add(
                max(0.0, (inst.completed_at - inst.started_at).total_seconds() / 3600),
                _workdays(calendars(inst.version_id), inst.started_at, inst.completed_at),
            )
    names = dict(process_choices(session) if choices is None else choices)
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    step_stats = [t.finish() for t in steps.values()]
    stage_stats = [t.finish() for t in stages.values()]
    process_stats = [t.finish(names.get(pk, pk)) for (pk,), t in processes.items()]
    return Durations(
        steps=sorted(step_stats, key=lambda s: (s.process_key or "", -(s.median_hours or 0))),
        processes=sorted(process_stats, key=lambda s: s.process_key or ""),
        stages=sorted(stage_stats, key=lambda s: (order.get(s.stage or "", 99), s.stage or "")),
        process_names=names,
        sampled=len(sample) >= sample_limit,
        process_key=process_key,
    )


# --------------------------------------------------------------------------- failed instances
@dataclass(frozen=True)
class FailedInstance:
    id: int
    business_key: str | None
    title: str | None
    process_name: str
    error: Mapping[str, Any]  # element, message, attempts, at: what the failing step left behind
    attempts: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class FailedPage:
    rows: list[FailedInstance]
    total: int
    page: int
    pages: int
    may_retry: bool = False  # the retry button: the overseers who open the cockpit (engine.cockpit.operations)


def failed(session: Session, *, scope: Scope = None, page: int = 1, per_page: int = 50) -> FailedPage:
    """The scope's instances in error, most recently changed first, a page at a time."""
    where = [ProcessInstance.status == "error", *owned(scope)]
    total = session.scalar(select(func.count()).select_from(ProcessInstance).where(*where)) or 0
    rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.business_key,
            ProcessInstance.title,
            ProcessDefinition.name,
            ProcessInstance.error,
            ProcessInstance.attempts,
            ProcessInstance.updated_at,
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(*where)
        .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return FailedPage(
        rows=[
            FailedInstance(
                id=r.id,
                business_key=r.business_key,
                title=r.title,
                process_name=r.name,
                error=dict(r.error or {}),
                attempts=r.attempts,
                updated_at=r.updated_at,
            )
            for r in rows
        ],
        total=total,
        page=page,
        pages=pages_for(total, per_page),
    )
