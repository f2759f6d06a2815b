"""Outcome metrics (issue 16): how fast clues are disposed of and closed, problems rectified, work done.

Everything is read from the database rows the runtime writes with each step (``human_task``,
``process_instance``) and, for three categorical decisions, from the final submission of the one step
that records them (``task_submission``: only the enum values named below are read, never free text, so
the figures tell a manager nothing of a case's content). Instances count when their ``owner_unit`` is in
the manager's scope (engine/cockpit/scope.py): a neighbouring county's cases never count.

Events, worked out from processes/ (processes/bpmn/*.bpmn; the ids are the BPMN task ids,
``human_task.spec_id``, within the process that holds the task, ``human_task.process_key``)
-----------------------------------------------------------------------------------------------------
- **clue registered** (线索登记): ``t_register`` completed in ``gt_p5_intake_report`` (信访室 registers a
  report) or ``gt_p5_intake_handover`` (案管室 registers a handed-over clue); its ``source_category`` is
  the clue's source (p5_clue_register);
- **disposal decided** (处置): the last approval of the disposal proposal completed in
  ``gt_p5_disposal`` (``t_appr`` 分管领导, then ``t_sec`` 书记, then ``t_county`` 县委书记 when the chain
  needs them): the moment the 处置方式 takes effect;
- **case filed** (立案): any step of ``gt_p5_case`` created (the funnel's third step);
- **clue closed** (办结销号): ``t_close`` completed in ``gt_p5_clue`` (``t_close_ho`` for a handed-over
  clue, whose closing is due half a year from the handover); its ``four_forms`` is the clue's 四种形态 (p5_close);
- **problem found** (发现问题): ``t_reg`` completed in ``gt_p4_findings`` of the instance that sent the
  ``gt_msg_rectification_needed`` message (``process_instance.parent_instance_id``); a rectification
  started otherwise (巡察 feedback, 政治生态 judgement, an outside source) was found when it started;
- **rectification closed** (整改销号): a ``gt_m3_rectify`` instance completed, at its last ``t_so_check``
  (核验销号 of ``gt_p7_item``); it was **on time** when no item of it needed a 督办单 (``t_order``,
  created only when the item's own limit plus grace ran out: boundary timer ``b_due``);
- **a platform's cycle** (平台周期): for each instance and platform (``human_task.platform``, P1–P8 and
  L1–L4), from the first of its steps created to the last completed, once none is still open;
- **overdue** (逾期): a step with a due date in the period that was completed after it, or is still open
  past it (cancelled steps are left out: a cancelled step was not late work);
- **the clue funnel**: the clues registered in the period, and how many of them have since been
  disposed of, reached 立案, been closed (where they stand now, whenever that happened);
- **the stage funnel**: instances that had a step of each stage (确定目标 → 发现问题 → 处置问题 →
  整改问题, ``human_task.stage``) arrive in the period;
- **staff effort** (人力投入) per closed clue: the sum over the instance's completed steps of each step's
  working days (person-working-days; a multi-instance step is one row per person, so Σ duration × people)
  and hours.

Durations are in working days on each instance's version's calendar, counted as deadlines count them
(engine/cockpit/figures.py ``durations``: the working days after the start day up to and including the
end day; same day: 0); medians and 90th percentiles interpolate linearly (``figures.percentile``).
A duration or count belongs to the period its *end* event falls in (local dates, Asia/Shanghai).

Slices
------
- ``stage``, ``mechanism``, ``platform``: of the step that ends the measure (a platform cycle: its own);
- ``unit``: the owning commission (``process_instance.owner_unit``): a prefecture compares its counties;
- ``linkage``: the linkage mode of the instance, from the linkage sub-process it ran (call activities run
  inside the calling instance, so their steps carry their own ``process_key``): ``gt_l1_shizudi`` 室组地,
  ``gt_l2_inspection``/``gt_l2_round`` 巡察+派驻, ``gt_l3_four_plus_x`` 四类监督+X, ``gt_l4_zone`` 片区协作,
  otherwise ``none`` (the first in that order when an instance ran several).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import ValidationError
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskSubmission
from engine.scheduling.workdays import WorkCalendar
from engine.tasks.inbox import Calendars

from .figures import STAGE_ORDER, Scope, owned, percentile

# --------------------------------------------------------------------------- the events' markers
CLUE_REGISTERED = frozenset({("gt_p5_intake_report", "t_register"), ("gt_p5_intake_handover", "t_register")})
DISPOSAL_DECIDED = frozenset(
    {("gt_p5_disposal", "t_appr"), ("gt_p5_disposal", "t_sec"), ("gt_p5_disposal", "t_county")}
)
CLUE_CLOSED = frozenset({("gt_p5_clue", "t_close"), ("gt_p5_clue", "t_close_ho")})
CASE_PROCESS = "gt_p5_case"
PROBLEM_FOUND = ("gt_p4_findings", "t_reg")
RECTIFY_PROCESS = "gt_m3_rectify"
RECTIFICATION_CHECK = ("gt_p7_item", "t_so_check")
RECTIFICATION_ORDER = ("gt_p7_item", "t_order")
MARKERS = CLUE_REGISTERED | DISPOSAL_DECIDED | CLUE_CLOSED | {RECTIFICATION_CHECK, RECTIFICATION_ORDER}

LINKAGE_PROCESSES = (
    ("shizudi", ("gt_l1_shizudi",)),
    ("inspection_resident", ("gt_l2_inspection", "gt_l2_round")),
    ("four_plus_x", ("gt_l3_four_plus_x",)),
    ("zone", ("gt_l4_zone",)),
)
LINKAGE_MODES = (*(mode for mode, _ in LINKAGE_PROCESSES), "none")

# source_category (p5_clue_register) → the sources a leader compares
SOURCE_GROUPS = {
    "xinfang_jubao": "petition",
    "xuncha_yijiao": "inspection",
    "paizhu_faxian": "resident",
    "shenji_yijiao": "audit",
    "zhifa_sifa": "x_department",
}
SOURCES = ("petition", "inspection", "resident", "audit", "x_department", "other")
FOUR_FORMS = ("first", "second", "third", "fourth", "none")

CYCLES = ("register_dispose", "dispose_close", "register_close", "found_rectified")
SLICES = ("all", "stage", "mechanism", "platform", "unit", "linkage")
FUNNEL = ("registered", "disposed", "case_filed", "closed")
MAX_PERIOD_DAYS = 3 * 366  # a longer period is refused: the page reads every event in it


# --------------------------------------------------------------------------- the period
@dataclass(frozen=True)
class Period:
    """Local dates, both ends included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first moment, first moment after) in the local time zone."""
        begin = dt.datetime.combine(self.start, dt.time(), tzinfo=clock.LOCAL_TZ)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=clock.LOCAL_TZ)
        return begin, after

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def months(self) -> list[str]:
        """'YYYY-MM' of every month the period touches, in order."""
        out: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(clock.LOCAL_TZ)


def _workdays(calendar: WorkCalendar, start: dt.datetime, end: dt.datetime) -> int:
    return max(0, calendar.workdays_between(_local(start).date(), _local(end).date()))


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Stat:
    """One measure over one slice: how many, median and 90th percentile in working days."""

    metric: str
    slice: str  # the slice's value ('' for everything)
    count: int
    median: float | None
    p90: float | None
    mean: float | None


@dataclass(frozen=True)
class Rate:
    slice: str
    total: int
    hits: int

    @property
    def rate(self) -> float | None:
        return None if not self.total else self.hits / self.total


@dataclass(frozen=True)
class MonthRow:
    month: str
    registered: int
    disposed: int
    closed: int
    median_register_close: float | None


@dataclass(frozen=True)
class UnitRow:
    unit: str
    registered: int
    closed: int
    median_register_dispose: float | None
    median_dispose_close: float | None
    overdue: int
    due: int


@dataclass(frozen=True)
class EffortStat:
    slice: str
    cases: int
    workdays: int  # person-working-days, summed
    hours: float
    median_workdays: float | None


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    cycles: list[Stat]  # every cycle, all slices together
    sliced: list[Stat]  # every cycle per value of the chosen slice
    platform_cycles: list[Stat]  # per platform (whatever the slice)
    overdue: Rate
    overdue_sliced: list[Rate]
    on_time: Rate  # rectifications closed in the period, hits: closed on time
    on_time_sliced: list[Rate]
    four_forms: Mapping[str, int]
    sources: Mapping[str, int]
    effort: EffortStat
    effort_sliced: list[EffortStat]
    funnel: list[tuple[str, int]]
    stages: list[tuple[str, int]]  # instances with a step of each stage arriving in the period, in stage order
    monthly: list[MonthRow]
    by_unit: list[UnitRow]

    def cycle(self, metric: str) -> Stat:
        return next(s for s in self.cycles if s.metric == metric)


@dataclass(frozen=True)
class Metrics:
    current: PeriodFigures
    baseline: PeriodFigures
    slice: str
    baseline_chosen: bool  # the baseline was chosen, not the previous period
    query: MetricsQuery


# --------------------------------------------------------------------------- reading the events
@dataclass
class _Instance:
    id: int
    version_id: int
    owner: str
    process_key: str
    parent: int | None
    status: str
    started_at: dt.datetime
    stage: str
    mechanism: str
    platform: str
    linkage: str = "none"
    events: dict[tuple[str, str], list[tuple[dt.datetime | None, dt.datetime | None, int]]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class _Obs:
    """One measured duration (or event) with its slices."""

    metric: str
    end: dt.datetime
    days: int
    slices: Mapping[str, str]


def _aware(moment: dt.datetime) -> dt.datetime:
    """The moment as an aware datetime (a naive one is UTC): compared as is, no zone conversion needed."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _in(moment: dt.datetime | None, bounds: tuple[dt.datetime, dt.datetime]) -> bool:
    return moment is not None and bounds[0] <= _aware(moment) < bounds[1]


Bounds = tuple[dt.datetime, dt.datetime]


def _labelled(column: Any, periods: Sequence[Bounds]) -> tuple[Any, ColumnElement[bool]]:
    """Which of the disjoint ``periods`` ``column`` falls in (its index), and the condition that it falls
    in one of them: one scan of the steps answers for the period and its baseline alike."""
    ranges = [(column >= begin) & (column < after) for begin, after in periods]
    return case(*((r, i) for i, r in enumerate(ranges))), or_(*ranges)


LINKAGE_KEYS = sorted({key for _, keys in LINKAGE_PROCESSES for key in keys})
_CHUNK = 1000  # ids per IN list on SQLite: well under its bound-parameter limit


def _chunks(session: Session, ids: Sequence[int]) -> list[list[int]]:
    """``ids`` in lists one statement takes: all at once on PostgreSQL (one array parameter, ``_among``),
    a thousand at a time on SQLite."""
    size = len(ids) if session.get_bind().dialect.name == "postgresql" else _CHUNK
    return [list(ids[i : i + size]) for i in range(0, len(ids), max(size, 1))]


def _among(session: Session, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids``: on PostgreSQL as ``= ANY(array)``, one bound parameter however many ids (an IN
    list of thousands of parameters cost more to render and parse than to run); an IN list elsewhere."""
    condition: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        condition = column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    else:
        condition = column.in_(ids)
    return condition


class _Instances:
    """The instances the figures slice by, each read once per request: the period and its baseline,
    their markers, overdue steps and platform cycles share most of their instances (``compute``)."""

    def __init__(self, session: Session):
        self.s = session
        self.known: dict[int, _Instance] = {}
        self.missing: set[int] = set()  # asked for, not found (deleted meanwhile)
        self.evented: set[int] = set()  # whose marker events are read (``with_events``)
        self.calendars = Calendars(session)
        # Periods whose scans of the steps run as one statement (``_Reader.batched``): disjoint ones only.
        self.periods: list[Bounds] = []
        self.batches: dict[tuple[str, Bounds], list[Any]] = {}

    def __call__(self, ids: Iterable[int]) -> dict[int, _Instance]:
        wanted = set(ids)
        new = sorted(wanted - self.known.keys() - self.missing)
        for chunk in _chunks(self.s, new):
            self._read(chunk)
        self.missing.update(i for i in new if i not in self.known)
        return {i: self.known[i] for i in wanted if i in self.known}

    def with_events(self, ids: Iterable[int]) -> dict[int, _Instance]:
        """``ids``' instances with their marker events (every one, whatever the period: read once)."""
        found = self(ids)
        new = sorted(found.keys() - self.evented)
        markers = [HumanTask.spec_id.in_(sorted({spec for _, spec in MARKERS}))]
        for chunk in _chunks(self.s, new):
            for r in self.s.execute(
                select(
                    HumanTask.id,
                    HumanTask.instance_id,
                    HumanTask.process_key,
                    HumanTask.spec_id,
                    HumanTask.created_at,
                    HumanTask.completed_at,
                    HumanTask.status,
                ).where(_among(self.s, HumanTask.instance_id, chunk), *markers)
            ):
                if (r.process_key, r.spec_id) in MARKERS:
                    done = r.completed_at if r.status == "completed" else None
                    found[r.instance_id].events.setdefault((r.process_key, r.spec_id), []).append(
                        (r.created_at, done, r.id)
                    )
            for instance_id in self.s.scalars(
                select(HumanTask.instance_id)
                .where(_among(self.s, HumanTask.instance_id, chunk), HumanTask.process_key == CASE_PROCESS)
                .distinct()
            ):
                found[instance_id].events[(CASE_PROCESS, "*")] = []
        self.evented.update(new)
        return found

    def _read(self, chunk: list[int]) -> None:
        for r in self.s.execute(
            select(
                ProcessInstance.id,
                ProcessInstance.version_id,
                ProcessInstance.owner_unit,
                ProcessInstance.process_key,
                ProcessInstance.parent_instance_id,
                ProcessInstance.status,
                ProcessInstance.started_at,
                ProcessDefinition.stage,
                ProcessDefinition.mechanism,
                ProcessDefinition.platform,
            )
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(_among(self.s, ProcessInstance.id, chunk))
        ):
            self.known[r.id] = _Instance(
                id=r.id,
                version_id=r.version_id,
                owner=r.owner_unit or "",
                process_key=r.process_key,
                parent=r.parent_instance_id,
                status=r.status,
                started_at=r.started_at,
                stage=r.stage or "",
                mechanism=r.mechanism or "",
                platform=r.platform or "",
            )
        # Only the linkage processes' steps decide the mode: the rest of an instance's steps are not read.
        linked: dict[int, set[str]] = {}
        for instance_id, key in self.s.execute(
            select(HumanTask.instance_id, HumanTask.process_key)
            .where(_among(self.s, HumanTask.instance_id, chunk), HumanTask.process_key.in_(LINKAGE_KEYS))
            .group_by(HumanTask.instance_id, HumanTask.process_key)
        ):
            linked.setdefault(instance_id, set()).add(key)
        for instance_id, keys in linked.items():
            if instance_id in self.known:
                self.known[instance_id].linkage = linkage_mode(keys)


def _instances(session: Session, ids: Iterable[int]) -> dict[int, _Instance]:
    return _Instances(session)(ids)


def linkage_mode(process_keys: Iterable[str]) -> str:
    """The linkage mode of an instance whose steps belong to ``process_keys`` (module docstring)."""
    keys = set(process_keys)
    return next((mode for mode, processes in LINKAGE_PROCESSES if keys & set(processes)), "none")


def _choices(session: Session, task_ids: Sequence[int], name: str) -> dict[int, str]:
    """The value of one categorical field in the final submission of each task (nothing else is read)."""
    out: dict[int, str] = {}
    for chunk in _chunks(session, task_ids):
        for task_id, data in session.execute(
            select(TaskSubmission.task_id, TaskSubmission.data).where(
                _among(session, TaskSubmission.task_id, chunk), TaskSubmission.kind == "final"
            )
        ):
            value = (data or {}).get(name)
            if isinstance(value, str):
                out[task_id] = value
    return out


class _Reader:
    """Reads one period's events for one scope, then answers every figure from them."""

    def __init__(
        self, session: Session, scope: Scope, period: Period, now: dt.datetime, known: _Instances | None = None
    ):
        self.s = session
        self.known = known or _Instances(session)
        self.scope = scope
        self.period = period
        self.bounds = period.bounds()
        self.now = now
        self.calendars = self.known.calendars
        begin, after = self.bounds
        # instances with a marker event (or a rectification) ending in the period
        markers = [HumanTask.spec_id.in_(sorted({spec for _, spec in MARKERS}))]
        ids = set(
            session.scalars(
                select(HumanTask.instance_id)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(
                    *markers,
                    HumanTask.process_key.in_(sorted({key for key, _ in MARKERS})),
                    HumanTask.status == "completed",
                    HumanTask.completed_at >= begin,
                    HumanTask.completed_at < after,
                    *owned(scope),
                )
                .distinct()
            )
        )
        self.instances = self.known.with_events(ids)

    # ------------------------------------------------------------------ helpers
    def batched(self, kind: str, read: Any) -> list[Any]:
        """This period's rows of one scan, ``read(periods)`` answering for every period of the request at
        once (a list of rows per period, in order) when the periods are disjoint, else for this one."""
        key = (kind, self.bounds)
        if key not in self.known.batches:
            periods = self.known.periods if self.bounds in self.known.periods else [self.bounds]
            for bounds, rows in zip(periods, read(periods), strict=True):
                self.known.batches[(kind, bounds)] = rows
        return self.known.batches.pop(key)

    def cal(self, inst: _Instance) -> WorkCalendar:
        return self.calendars(inst.version_id)

    @staticmethod
    def first_done(
        inst: _Instance, markers: Iterable[tuple[str, str]], last: bool = False
    ) -> tuple[dt.datetime, int] | None:
        done = [(end, task) for m in markers for (_, end, task) in inst.events.get(m, []) if end is not None]
        if not done:
            return None
        return max(done) if last else min(done)

    @staticmethod
    def slices(inst: _Instance, stage: str, mechanism: str, platform: str) -> dict[str, str]:
        return {
            "all": "",
            "stage": stage,
            "mechanism": mechanism,
            "platform": platform,
            "unit": inst.owner,
            "linkage": inst.linkage,
        }

    # ------------------------------------------------------------------ clue and rectification cycles
    def observations(self) -> list[_Obs]:
        out: list[_Obs] = []
        found_in_parent = self._problems_found()
        for inst in self.instances.values():
            registered = self.first_done(inst, CLUE_REGISTERED)
            disposed = self.first_done(inst, DISPOSAL_DECIDED, last=True)
            closed = self.first_done(inst, CLUE_CLOSED)
            cal = self.cal(inst)
            clue = self.slices(inst, "dispose", "M2", "P5")
            for metric, begin, finish in (
                ("register_dispose", registered, disposed),
                ("dispose_close", disposed, closed),
                ("register_close", registered, closed),
            ):
                if begin and finish and _in(finish[0], self.bounds):
                    out.append(_Obs(metric, finish[0], _workdays(cal, begin[0], finish[0]), clue))
            rectified = self.rectified(inst)
            if rectified is not None:
                found = found_in_parent.get(inst.parent or 0) or inst.started_at
                out.append(
                    _Obs(
                        "found_rectified",
                        rectified,
                        _workdays(cal, found, rectified),
                        self.slices(inst, "rectify", "M3", "P7"),
                    )
                )
        return out

    def rectified(self, inst: _Instance) -> dt.datetime | None:
        """When a completed rectification was closed, if that falls in the period."""
        if inst.process_key != RECTIFY_PROCESS or inst.status != "completed":
            return None
        last = self.first_done(inst, [RECTIFICATION_CHECK], last=True)
        return last[0] if last and _in(last[0], self.bounds) else None

    def _problems_found(self) -> dict[int, dt.datetime]:
        parents = sorted({i.parent for i in self.instances.values() if i.process_key == RECTIFY_PROCESS and i.parent})
        if not parents:
            return {}
        return {
            instance_id: when
            for instance_id, when in self.s.execute(
                select(HumanTask.instance_id, func.min(HumanTask.completed_at))
                .where(
                    _among(self.s, HumanTask.instance_id, parents),
                    HumanTask.process_key == PROBLEM_FOUND[0],
                    HumanTask.spec_id == PROBLEM_FOUND[1],
                    HumanTask.status == "completed",
                )
                .group_by(HumanTask.instance_id)
            )
            if when is not None
        }

    def on_time(self) -> list[tuple[_Instance, bool]]:
        return [
            (inst, not inst.events.get(RECTIFICATION_ORDER))
            for inst in self.instances.values()
            if self.rectified(inst) is not None
        ]

    # ------------------------------------------------------------------ categorical
    def ended(self, markers: Iterable[tuple[str, str]]) -> list[tuple[_Instance, int]]:
        """Each instance whose first completion of ``markers`` falls in the period, with that task's id."""
        return [
            (inst, c[1])
            for inst in self.instances.values()
            if (c := self.first_done(inst, markers)) and _in(c[0], self.bounds)
        ]

    def tally(
        self, markers: Iterable[tuple[str, str]], name: str, keys: Sequence[str], group: Mapping[str, str], rest: str
    ) -> dict[str, int]:
        """How many of the ``markers`` ending in the period recorded each value of the categorical field
        ``name``, grouped by ``group`` (a value it does not name, or none, counts as ``rest``)."""
        ids = [task for _, task in self.ended(markers)]
        values = _choices(self.s, ids, name)
        counts = dict.fromkeys(keys, 0)
        for task_id in ids:
            counts[group.get(values.get(task_id, ""), rest)] += 1
        return counts

    def four_forms(self) -> dict[str, int]:
        return self.tally(CLUE_CLOSED, "four_forms", FOUR_FORMS, {f: f for f in FOUR_FORMS}, "none")

    def sources(self) -> dict[str, int]:
        return self.tally(CLUE_REGISTERED, "source_category", SOURCES, SOURCE_GROUPS, "other")

    def funnel(self) -> list[tuple[str, int]]:
        counts = dict.fromkeys(FUNNEL, 0)
        for inst in self.instances.values():
            reg = self.first_done(inst, CLUE_REGISTERED)
            if not reg or not _in(reg[0], self.bounds):
                continue  # the funnel follows the clues registered in the period
            counts["registered"] += 1
            counts["disposed"] += bool(self.first_done(inst, DISPOSAL_DECIDED))
            counts["case_filed"] += (CASE_PROCESS, "*") in inst.events
            counts["closed"] += bool(self.first_done(inst, CLUE_CLOSED))
        return list(counts.items())

    def stages(self) -> list[tuple[str, int]]:
        """The stage funnel: instances that had a step of each stage arrive in the period."""

        def read(periods: list[Bounds]) -> list[list[Any]]:
            label, within = _labelled(HumanTask.created_at, periods)
            out: list[list[Any]] = [[] for _ in periods]
            for i, stage, n in self.s.execute(
                select(label, HumanTask.stage, func.count(func.distinct(HumanTask.instance_id)))
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(within, *owned(self.scope))
                .group_by(label, HumanTask.stage)
            ):
                out[i].append((stage, n))
            return out

        counts = dict(self.batched("stages", read))
        return [(stage, int(counts.get(stage, 0))) for stage in STAGE_ORDER]

    # ------------------------------------------------------------------ platform cycles
    def platform_cycles(self) -> list[_Obs]:
        def read(periods: list[Bounds]) -> list[list[Any]]:
            # A cycle ends in a period only if one of its steps was completed in it: the instances with
            # such a step bound the grouping, which otherwise ran over every step ever taken.
            _, completed_within = _labelled(HumanTask.completed_at, periods)
            ended = (
                select(HumanTask.instance_id)
                .where(HumanTask.platform.is_not(None), HumanTask.status != "cancelled", completed_within)
                .scalar_subquery()
            )
            _, last_within = _labelled(func.max(HumanTask.completed_at), periods)
            out: list[list[Any]] = [[] for _ in periods]
            for row in self.s.execute(
                select(
                    HumanTask.instance_id,
                    HumanTask.platform,
                    func.max(HumanTask.stage),
                    func.max(HumanTask.mechanism),
                    func.min(HumanTask.created_at),
                    func.max(HumanTask.completed_at),
                    func.sum(case((HumanTask.status == "ready", 1), else_=0)),
                )
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(
                    HumanTask.platform.is_not(None),
                    HumanTask.status != "cancelled",
                    HumanTask.instance_id.in_(ended),
                    *owned(self.scope),
                )
                .group_by(HumanTask.instance_id, HumanTask.platform)
                .having(last_within)
            ):
                out[next(i for i, bounds in enumerate(periods) if _in(row[5], bounds))].append(row)
            return out

        rows = self.batched("platform", read)
        instances = self.known({r[0] for r in rows})
        out = []
        for instance_id, platform, stage, mechanism, first, last, still_open in rows:
            if still_open or last is None:
                continue
            inst = instances[instance_id]
            out.append(
                _Obs(
                    "platform",
                    last,
                    _workdays(self.cal(inst), first, last),
                    self.slices(inst, stage or "", mechanism or "", platform or ""),
                )
            )
        return out

    # ------------------------------------------------------------------ overdue
    def overdue(self) -> list[tuple[dict[str, str], int, int]]:
        """Per instance and step slice: how many steps were due in the period, and how many of them late
        (counted by the database: the rows are as many as instances, not steps)."""
        # A step due in the period and still open is late once its due time has passed (before the
        # period's end, as it is due in the period): one condition for every period of the request.
        now = _aware(self.now)
        late = case(
            (HumanTask.completed_at > HumanTask.due_at, 1),
            ((HumanTask.status == "ready") & (HumanTask.due_at < now), 1),
            else_=0,
        )

        def read(periods: list[Bounds]) -> list[list[Any]]:
            label, within = _labelled(HumanTask.due_at, periods)
            out: list[list[Any]] = [[] for _ in periods]
            for i, *row in self.s.execute(
                select(
                    label,
                    HumanTask.instance_id,
                    HumanTask.stage,
                    HumanTask.mechanism,
                    HumanTask.platform,
                    func.count(),
                    func.sum(late),
                )
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(within, HumanTask.status.in_(("ready", "completed")), *owned(self.scope))
                .group_by(label, HumanTask.instance_id, HumanTask.stage, HumanTask.mechanism, HumanTask.platform)
            ):
                out[i].append(row)
            return out

        rows = self.batched("overdue", read)
        instances = self.known({r[0] for r in rows})
        return [
            (self.slices(instances[instance_id], stage or "", mechanism or "", platform or ""), int(n), int(hits or 0))
            for instance_id, stage, mechanism, platform, n, hits in rows
        ]

    # ------------------------------------------------------------------ effort
    def effort(self) -> list[tuple[_Instance, int, float]]:
        closed = [inst for inst, _ in self.ended(CLUE_CLOSED)]
        if not closed:
            return []
        sums: dict[int, list[float]] = {inst.id: [0, 0.0] for inst in closed}
        by_id = {inst.id: inst for inst in closed}
        for instance_id, created, completed in self.s.execute(
            select(HumanTask.instance_id, HumanTask.created_at, HumanTask.completed_at).where(
                _among(self.s, HumanTask.instance_id, sorted(sums)), HumanTask.status == "completed"
            )
        ):
            if created is None or completed is None:
                continue
            sums[instance_id][0] += _workdays(self.cal(by_id[instance_id]), created, completed)
            sums[instance_id][1] += max(0.0, (completed - created).total_seconds() / 3600)
        return [(by_id[i], int(v[0]), v[1]) for i, v in sums.items()]


# --------------------------------------------------------------------------- aggregation
def _stat(metric: str, slice_value: str, days: list[int]) -> Stat:
    values = sorted(float(d) for d in days)
    return Stat(
        metric=metric,
        slice=slice_value,
        count=len(values),
        median=percentile(values, 0.5),
        p90=percentile(values, 0.9),
        mean=(sum(values) / len(values)) if values else None,
    )


def _group(obs: Iterable[_Obs], metric: str, dimension: str) -> list[Stat]:
    groups: dict[str, list[int]] = {}
    for o in obs:
        if o.metric == metric:
            groups.setdefault(o.slices[dimension], []).append(o.days)
    return [_stat(metric, key, groups[key]) for key in sorted(groups)]


def _rates(items: Iterable[tuple[Mapping[str, str], bool]], dimension: str) -> list[Rate]:
    return _counted_rates(((slices, 1, int(hit)) for slices, hit in items), dimension)


def _counted_rates(items: Iterable[tuple[Mapping[str, str], int, int]], dimension: str) -> list[Rate]:
    """``_rates`` over items already counted: (slices, how many, how many of them hits)."""
    totals: dict[str, list[int]] = {}
    for slices, n, hits in items:
        t = totals.setdefault(slices[dimension], [0, 0])
        t[0] += n
        t[1] += hits
    return [Rate(key, t[0], t[1]) for key, t in sorted(totals.items())]


def _efforts(items: list[tuple[_Instance, int, float]], dimension: str) -> list[EffortStat]:
    groups: dict[str, list[tuple[int, float]]] = {}
    for inst, days, hours in items:
        value = _Reader.slices(inst, "dispose", "M2", "P5")[dimension]
        groups.setdefault(value, []).append((days, hours))
    return [
        EffortStat(
            slice=key,
            cases=len(rows),
            workdays=sum(d for d, _ in rows),
            hours=round(sum(h for _, h in rows), 2),
            median_workdays=percentile(sorted(float(d) for d, _ in rows), 0.5),
        )
        for key, rows in sorted(groups.items())
    ]


def period_figures(
    session: Session, *, scope: Scope, period: Period, dimension: str = "all", now: dt.datetime | None = None
) -> PeriodFigures:
    """Every figure of one period for one scope, sliced by ``dimension`` (one of ``SLICES``)."""
    return _period_figures(session, scope, period, dimension, now or clock.now(), _Instances(session))


def _period_figures(
    session: Session, scope: Scope, period: Period, dimension: str, now: dt.datetime, known: _Instances
) -> PeriodFigures:
    reader = _Reader(session, scope, period, now, known)
    obs = reader.observations()
    platforms = reader.platform_cycles()
    overdue = reader.overdue()
    on_time = [(reader.slices(inst, "rectify", "M3", "P7"), hit) for inst, hit in reader.on_time()]
    effort = reader.effort()
    cycles = [_group(obs, m, "all")[0] if any(o.metric == m for o in obs) else _stat(m, "", []) for m in CYCLES]
    sliced = [s for m in CYCLES for s in _group(obs, m, dimension)]
    months = period.months()
    # each clue registered in the period, once: its instance and the month of its registration
    registrations = [
        (inst, _local(r[0]).strftime("%Y-%m"))
        for inst in reader.instances.values()
        if (r := reader.first_done(inst, CLUE_REGISTERED)) and _in(r[0], reader.bounds)
    ]
    obs_months = [_local(o.end).strftime("%Y-%m") for o in obs]
    monthly = []
    for month in months:
        in_month = [o for o, m in zip(obs, obs_months, strict=True) if m == month]
        reg_close = sorted(float(o.days) for o in in_month if o.metric == "register_close")
        monthly.append(
            MonthRow(
                month=month,
                registered=sum(1 for _, m in registrations if m == month),
                disposed=sum(1 for o in in_month if o.metric == "register_dispose"),
                closed=len(reg_close),
                median_register_close=percentile(reg_close, 0.5),
            )
        )
    units: dict[str, dict[str, Any]] = {}
    for o in obs:
        units.setdefault(o.slices["unit"], {})
        units[o.slices["unit"]].setdefault(o.metric, []).append(float(o.days))
    registered_by_unit: dict[str, int] = {}
    for inst, _ in registrations:
        registered_by_unit[inst.owner] = registered_by_unit.get(inst.owner, 0) + 1
    overdue_by_unit = {r.slice: r for r in _counted_rates(overdue, "unit")}
    unit_keys = sorted(set(units) | set(registered_by_unit) | set(overdue_by_unit))
    by_unit = [
        UnitRow(
            unit=u,
            registered=registered_by_unit.get(u, 0),
            closed=len(units.get(u, {}).get("register_close", [])),
            median_register_dispose=percentile(sorted(units.get(u, {}).get("register_dispose", [])), 0.5),
            median_dispose_close=percentile(sorted(units.get(u, {}).get("dispose_close", [])), 0.5),
            overdue=overdue_by_unit[u].hits if u in overdue_by_unit else 0,
            due=overdue_by_unit[u].total if u in overdue_by_unit else 0,
        )
        for u in unit_keys
    ]
    all_effort = _efforts(effort, "all")
    return PeriodFigures(
        period=period,
        cycles=cycles,
        sliced=sliced,
        platform_cycles=_group(platforms, "platform", "platform"),
        overdue=(_counted_rates(overdue, "all") or [Rate("", 0, 0)])[0],
        overdue_sliced=_counted_rates(overdue, dimension),
        on_time=(_rates(on_time, "all") or [Rate("", 0, 0)])[0],
        on_time_sliced=_rates(on_time, dimension),
        four_forms=reader.four_forms(),
        sources=reader.sources(),
        effort=all_effort[0] if all_effort else EffortStat("", 0, 0, 0.0, None),
        effort_sliced=_efforts(effort, dimension),
        funnel=reader.funnel(),
        stages=reader.stages(),
        monthly=monthly,
        by_unit=by_unit,
    )


# --------------------------------------------------------------------------- the query
@dataclass(frozen=True)
class MetricsQuery:
    """The page's choices, checked: the period, the baseline (None: the previous period), the slice."""

    period: Period
    baseline: Period | None
    slice: str

    @classmethod
    def parse(
        cls,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        base_from: str | None = None,
        base_to: str | None = None,
        slice_by: str | None = None,
        today: dt.date | None = None,
    ) -> MetricsQuery:
        """Dates as ISO strings; a missing period is the six months to today. Errors name the field."""
        today = today or clock.today()
        errors: dict[str, str] = {}

        def day(name: str, value: str | None) -> dt.date | None:
            text = (value or "").strip()
            if not text:
                return None
            try:
                parsed = dt.date.fromisoformat(text[:10])
            except ValueError:
                errors[name] = "日期格式应为 YYYY-MM-DD"
                return None
            if not clock.within_bounds(parsed):
                errors[name] = "日期超出范围"
                return None
            return parsed

        start, end = day("date_from", date_from), day("date_to", date_to)
        b_start, b_end = day("base_from", base_from), day("base_to", base_to)
        end = end or today
        if start is None and "date_from" not in errors:
            first = dt.date(end.year, end.month, 1)
            start = dt.date(first.year - (1 if first.month <= 5 else 0), (first.month - 6) % 12 + 1, 1)
        chosen = (slice_by or "all").strip() or "all"
        if chosen not in SLICES:
            errors["slice"] = "未知的分组维度"
        period = baseline = None
        if start is not None and not errors.get("date_to"):
            if end < start:
                errors["date_to"] = "结束日期早于开始日期"
            elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                errors["date_to"] = "统计期间不能超过三年"
            else:
                period = Period(start, end)
        if (b_start is None) != (b_end is None) and not ({"base_from", "base_to"} & set(errors)):
            errors["base_to" if b_end is None else "base_from"] = "对比期间须同时给出开始和结束日期"
        elif b_start is not None and b_end is not None:
            if b_end < b_start:
                errors["base_to"] = "结束日期早于开始日期"
            elif (b_end - b_start).days + 1 > MAX_PERIOD_DAYS:
                errors["base_to"] = "统计期间不能超过三年"
            else:
                baseline = Period(b_start, b_end)
        if errors or period is None:
            raise ValidationError("统计条件有误", fields=errors or {"date_from": "缺少开始日期"})
        return cls(period=period, baseline=baseline, slice=chosen)

    def params(self) -> dict[str, str]:
        """The query as the page's parameters (links, exports, the audit event)."""
        out = {
            "date_from": self.period.start.isoformat(),
            "date_to": self.period.end.isoformat(),
            "slice": self.slice,
        }
        if self.baseline is not None:
            out["base_from"] = self.baseline.start.isoformat()
            out["base_to"] = self.baseline.end.isoformat()
        return out


def compute(session: Session, *, scope: Scope, query: MetricsQuery, now: dt.datetime | None = None) -> Metrics:
    """The period's figures and its baseline's (the previous period unless one was chosen)."""
    baseline = query.baseline or query.period.previous()
    now = now or clock.now()
    known = _Instances(session)  # both periods' instances, each read once
    current, previous = query.period.bounds(), baseline.bounds()
    if current[1] <= previous[0] or previous[1] <= current[0]:
        known.periods = [current, previous]  # disjoint: their scans of the steps run once for both
    return Metrics(
        current=_period_figures(session, scope, query.period, query.slice, now, known),
        baseline=_period_figures(session, scope, baseline, query.slice, now, known),
        slice=query.slice,
        baseline_chosen=query.baseline is not None,
        query=query,
    )
