"""政治生态 indicators gathered, not retyped (issue 16): P8 opens with the figures P2, P5 and P7 hold.

The P8 plan (``gt_p8_eco`` ``t_plan``) promises "系统自动汇集P2、P5、P7数据": the offices that report
indicator data (信访室 ``t_xf``, 案管室 ``t_cm``, 巡察办 ``t_ib``) used to count by hand what the database
already records, and the judgement (分管领导 ``t_judge``) typed scores and grades that
``settings.yaml grades.political_ecology`` defines. Here, when one of those steps is shown, its form
comes filled with the figures for each assessed unit (the plan's ``scope_units``) over the assessed
period (the plan's ``eco_period``), each with its source: the platform and process, the instances
counted and the period. The officer may still change a value: a submission that differs from what was
gathered needs ``adjust_reason`` and leaves an ``ecology_adjusted`` audit event with both values.

Need-to-know: the figures are counts over the instances the P8 instance's commission owns and the
commissions under it (engine/cockpit/scope.py: a county never counts a neighbour's cases), read from
categorical fields only (被反映单位 ``host_unit``, 来源类别, 重复件, 四种形态; P2's 风险提示涉及单位),
never a summary, a name or a reporter; a source names instance numbers, whose content stays behind the
access gate.

Where each figure comes from (the events of engine/cockpit/metrics.py, counted per assessed unit)
---------------------------------------------------------------------------------------------------
- P2 ``risk_alerts``: 月例会 (``gt_p2_info`` ``t_meet``) completed in the period with ``risk_alert`` whose
  ``risk_units`` name the unit;
- P5 ``clues``, ``petitions``, ``repeat_clues``: clues registered in the period (``t_register``) whose
  ``host_unit`` is the unit; of them, those from 信访举报 and those marked 重复件;
- P5 ``cases``: clues of the unit whose first 立案 step (``gt_p5_case``) was created in the period;
- P5 ``form_first`` … ``form_fourth``: clues of the unit closed (``t_close``) in the period, by 四种形态;
- P7 ``rectified``, ``rectified_on_time``, ``on_time_rate``: rectifications (``gt_m3_rectify``) closed in
  the period whose items the unit carried out (``gt_p7_item`` ``t_do``), on time when no item needed a
  督办单; ``rectify_orders``: 督办单 (``t_order``) issued to the unit in the period.

The score
---------
``max_points`` less, for each figure, its count times its deduction (``DEDUCTIONS``; a deployment may
override any of them under ``grades.political_ecology.deductions``), never below 0; the grade is the
first of ``scale`` (highest ``min`` first) whose ``min`` the score reaches. A judgement whose grade does
not match its score under that scale is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.models import HumanTask, ProcessInstance, TaskCandidate, TaskSubmission, Unit
from engine.organisation.directory import commissions_under

from .figures import Scope, owned
from .metrics import (
    CASE_PROCESS,
    CLUE_CLOSED,
    CLUE_REGISTERED,
    RECTIFICATION_CHECK,
    RECTIFICATION_ORDER,
    RECTIFY_PROCESS,
    Period,
    _local,
)

ECO_PROCESS = "gt_p8_eco"
PLAN_STEP = "t_plan"
JUDGEMENT_STEP = "t_judge"
MEETING = ("gt_p2_info", "t_meet")
ITEM_STEP = ("gt_p7_item", "t_do")
REASON = "adjust_reason"


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # the row's 指标 as the form shows it
    platform: str
    process: str


KINDS = (
    Kind("risk_alerts", "P2月例会风险提示次数", "P2", "gt_p2_info"),
    Kind("petitions", "信访举报件数", "P5", "gt_p5_intake"),
    Kind("repeat_clues", "重复件数", "P5", "gt_p5_intake"),
    Kind("clues", "问题线索数", "P5", "gt_p5_intake"),
    Kind("cases", "立案数", "P5", CASE_PROCESS),
    Kind("form_first", "第一种形态人次", "P5", "gt_p5_clue"),
    Kind("form_second", "第二种形态人次", "P5", "gt_p5_clue"),
    Kind("form_third", "第三种形态人次", "P5", "gt_p5_clue"),
    Kind("form_fourth", "第四种形态人次", "P5", "gt_p5_clue"),
    Kind("rectified", "整改销号数", "P7", RECTIFY_PROCESS),
    Kind("rectified_on_time", "按期整改销号数", "P7", RECTIFY_PROCESS),
    Kind("on_time_rate", "整改按期完成率（%）", "P7", RECTIFY_PROCESS),
    Kind("rectify_orders", "逾期督办单数", "P7", "gt_p7_item"),
)
KIND = {k.key: k for k in KINDS}
FOUR_FORM_KINDS = {"first": "form_first", "second": "form_second", "third": "form_third", "fourth": "form_fourth"}

# the steps whose form is filled, and with which figures (t_judge: the scores of them all)
FILLED: Mapping[tuple[str, str], tuple[str, ...]] = {
    (ECO_PROCESS, "t_xf"): ("petitions", "repeat_clues"),
    (ECO_PROCESS, "t_cm"): ("clues", "cases", "form_first", "form_second", "form_third", "form_fourth"),
    (ECO_PROCESS, "t_ib"): ("rectified", "rectified_on_time", "on_time_rate", "rectify_orders"),
    (ECO_PROCESS, JUDGEMENT_STEP): tuple(k.key for k in KINDS),
}

# points off max_points per counted event (a rate and plain volumes take none: many clues registered is
# not in itself a bad sign, repeats and what they led to are)
DEFAULT_DEDUCTIONS: Mapping[str, float] = {
    "risk_alerts": 2,
    "repeat_clues": 1,
    "cases": 5,
    "form_first": 1,
    "form_second": 2,
    "form_third": 4,
    "form_fourth": 6,
    "rectify_orders": 3,
}


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Source:
    """Where a figure comes from: the platform and process, the instances counted, the period."""

    platform: str
    process: str
    period: str
    instances: tuple[int, ...]


@dataclass(frozen=True)
class Figure:
    unit: str
    unit_name: str
    kind: str
    label: str
    value: float
    source: Source


@dataclass(frozen=True)
class Grade:
    code: str
    title: str
    min: float


@dataclass(frozen=True)
class UnitScore:
    unit: str
    unit_name: str
    score: float
    grade: str
    grade_title: str
    deductions: tuple[tuple[str, float], ...]  # (kind, points) of each figure that took points


@dataclass(frozen=True)
class Gathered:
    """The figures of one P8 step: what the form is filled with, and why."""

    eco_period: str
    period: Period
    units: tuple[str, ...]
    figures: list[Figure]  # the step's own figures, unit by unit
    scores: list[UnitScore] = field(default_factory=list)  # t_judge only
    judgement: bool = False
    max_points: float = 100

    @staticmethod
    def label(kind: str) -> str:
        """The 指标 a figure's kind is shown as (a deduction names its figure by kind)."""
        return KIND[kind].label if kind in KIND else kind

    def values(self) -> dict[str, Any]:
        """The form's values: the indicator rows, or the judgement's score and grade per unit."""
        if self.judgement:
            return {"unit_grades": [{"unit": s.unit, "score": s.score, "grade": s.grade} for s in self.scores]}
        return {"rows": [{"unit": f.unit, "indicator": f.label, "value": f.value} for f in self.figures]}


# --------------------------------------------------------------------------- the settings
def grade_scale(settings: Mapping[str, Any]) -> tuple[float, list[Grade], dict[str, float]]:
    """``grades.political_ecology``: max_points, the scale (highest first) and the deductions."""
    block = ((settings or {}).get("grades") or {}).get("political_ecology") or {}
    scale = sorted(
        (
            Grade(str(g["code"]), str(g.get("title") or g["code"]), float(g.get("min") or 0))
            for g in block.get("scale") or []
        ),
        key=lambda g: -g.min,
    )
    if not scale:
        raise ValueError("settings.yaml grades.political_ecology has no scale")
    deductions = {**DEFAULT_DEDUCTIONS, **{str(k): float(v) for k, v in (block.get("deductions") or {}).items()}}
    return float(block.get("max_points") or 100), scale, deductions


def grade_for(score: float, scale: Sequence[Grade]) -> Grade:
    """The first grade (highest ``min`` first) the score reaches; the lowest one otherwise."""
    return next((g for g in scale if score >= g.min), scale[-1])


def score_of(
    counts: Mapping[str, float], max_points: float, deductions: Mapping[str, float]
) -> tuple[float, list[tuple[str, float]]]:
    taken = [
        (kind, counts.get(kind, 0) * points) for kind, points in deductions.items() if counts.get(kind, 0) and points
    ]
    return max(0.0, round(max_points - sum(p for _, p in taken), 2)), taken


# --------------------------------------------------------------------------- the period
_HALF = re.compile(r"^(\d{4})\s*[Hh]([12])$")
_QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})(?:年)?$")


def assessed_period(eco_period: str, planned: dt.date) -> Period:
    """研判期次 → dates: ``2024`` a year, ``2024H1`` a half, ``2024Q3`` a quarter; anything else (an
    专项研判 named otherwise) the twelve months up to the day the plan was issued."""
    text = (eco_period or "").strip()
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _HALF.match(text):
        year, half = int(m.group(1)), int(m.group(2))
        return (
            Period(dt.date(year, 1, 1), dt.date(year, 6, 30))
            if half == 1
            else Period(dt.date(year, 7, 1), dt.date(year, 12, 31))
        )
    if m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        start = dt.date(year, 3 * q - 2, 1)
        after = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)
        return Period(start, after - dt.timedelta(days=1))
    return Period(planned - dt.timedelta(days=364), planned)


# --------------------------------------------------------------------------- reading
def _fields(session: Session, task_ids: Iterable[int], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    """The named fields of each task's final submission (nothing else of it is read)."""
    wanted = sorted(set(task_ids))
    out: dict[int, dict[str, Any]] = {}
    for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
        for task_id, data in session.execute(
            select(TaskSubmission.task_id, TaskSubmission.data).where(
                TaskSubmission.task_id.in_(chunk), TaskSubmission.kind == "final"
            )
        ):
            out[task_id] = {n: (data or {}).get(n) for n in names}
    return out


def _marked(
    session: Session, scope: Scope, markers: Iterable[tuple[str, str]], bounds: tuple[dt.datetime, dt.datetime] | None
) -> list[tuple[int, int, dt.datetime]]:
    """(task id, instance id, completed) of the completed marker steps in the scope (in ``bounds``)."""
    pairs = sorted(set(markers))
    query = (
        select(HumanTask.id, HumanTask.instance_id, HumanTask.completed_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.process_key.in_(sorted({k for k, _ in pairs})),
            HumanTask.spec_id.in_(sorted({s for _, s in pairs})),
            HumanTask.status == "completed",
            *owned(scope),
        )
        .order_by(HumanTask.id)
    )
    if bounds is not None:
        query = query.where(HumanTask.completed_at >= bounds[0], HumanTask.completed_at < bounds[1])
    # both columns filtered separately: keep only the exact pairs
    return [
        (r.id, r.instance_id, r.completed_at)
        for r in session.execute(query.add_columns(HumanTask.process_key, HumanTask.spec_id))
        if (r.process_key, r.spec_id) in pairs
    ]


def _host_units(session: Session, scope: Scope, instance_ids: Iterable[int]) -> dict[int, str]:
    """The 被反映单位 each clue instance registered (its first registration)."""
    wanted = set(instance_ids)
    if not wanted:
        return {}
    first: dict[int, int] = {}
    for task_id, instance_id, _ in _marked(session, scope, CLUE_REGISTERED, None):
        if instance_id in wanted:
            first.setdefault(instance_id, task_id)
    values = _fields(session, first.values(), ("host_unit",))
    return {i: str(v) for i, t in first.items() if isinstance(v := values.get(t, {}).get("host_unit"), str) and v}


class _Counter:
    """Counts per (unit, kind) with the instances counted."""

    def __init__(self, units: Sequence[str]):
        self.units = set(units)
        self.counts: dict[tuple[str, str], float] = {}
        self.sources: dict[tuple[str, str], set[int]] = {}

    def add(self, unit: str | None, kind: str, instance_id: int, amount: float = 1) -> None:
        if unit in self.units:
            key = (unit, kind)
            self.counts[key] = self.counts.get(key, 0) + amount
            self.sources.setdefault(key, set()).add(instance_id)


def gather(session: Session, *, scope: Scope, period: Period, units: Sequence[str]) -> _Counter:
    """Every figure of ``KINDS`` for each of ``units`` over ``period``, from the scope's instances."""
    bounds = period.bounds()
    counter = _Counter(units)
    # P2: risk alerts naming the unit
    meetings = _marked(session, scope, [MEETING], bounds)
    said = _fields(session, (t for t, _, _ in meetings), ("risk_alert", "risk_units"))
    for task_id, instance_id, _ in meetings:
        data = said.get(task_id, {})
        if data.get("risk_alert") is True and isinstance(data.get("risk_units"), list):
            for unit in sorted({u for u in data["risk_units"] if isinstance(u, str)}):
                counter.add(unit, "risk_alerts", instance_id)
    # P5: clues registered in the period
    registered = _marked(session, scope, CLUE_REGISTERED, bounds)
    first: dict[int, int] = {}
    for task_id, instance_id, _ in registered:
        first.setdefault(instance_id, task_id)
    reg = _fields(session, first.values(), ("host_unit", "source_category", "is_repeat"))
    for instance_id, task_id in first.items():
        data = reg.get(task_id, {})
        host = data.get("host_unit") if isinstance(data.get("host_unit"), str) else None
        counter.add(host, "clues", instance_id)
        if data.get("source_category") == "xinfang_jubao":
            counter.add(host, "petitions", instance_id)
        if data.get("is_repeat") is True:
            counter.add(host, "repeat_clues", instance_id)
    # P5: cases filed in the period
    begin, after = bounds
    filed = [
        instance_id
        for instance_id, when in session.execute(
            select(HumanTask.instance_id, func.min(HumanTask.created_at))
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.process_key == CASE_PROCESS, *owned(scope))
            .group_by(HumanTask.instance_id)
        )
        if when is not None and begin <= _local(when) < after
    ]
    # P5: clues closed in the period, by 四种形态
    closed: dict[int, int] = {}
    for task_id, instance_id, _ in _marked(session, scope, CLUE_CLOSED, bounds):
        closed.setdefault(instance_id, task_id)
    hosts = _host_units(session, scope, set(filed) | set(closed))
    for instance_id in filed:
        counter.add(hosts.get(instance_id), "cases", instance_id)
    forms = _fields(session, closed.values(), ("four_forms",))
    for instance_id, task_id in closed.items():
        kind = FOUR_FORM_KINDS.get(str(forms.get(task_id, {}).get("four_forms")))
        if kind:
            counter.add(hosts.get(instance_id), kind, instance_id)
    # P7: rectifications closed in the period, the units that carried out their items
    checks: dict[int, dt.datetime] = {}
    for _, instance_id, when in _marked(session, scope, [RECTIFICATION_CHECK], None):
        checks[instance_id] = max(checks.get(instance_id, when), when)
    rectified = sorted(
        i
        for i in session.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.id.in_(sorted(checks)),
                ProcessInstance.process_key == RECTIFY_PROCESS,
                ProcessInstance.status == "completed",
            )
        )
        if begin <= _local(checks[i]) < after
    )
    carried = _item_units(session, rectified)
    ordered = _orders(session, rectified)
    for instance_id in rectified:
        for unit in sorted(carried.get(instance_id, ())):
            counter.add(unit, "rectified", instance_id)
            if instance_id not in ordered:
                counter.add(unit, "rectified_on_time", instance_id)
    for unit in sorted(counter.units):
        done = counter.counts.get((unit, "rectified"), 0)
        if done:
            on_time = counter.counts.get((unit, "rectified_on_time"), 0)
            counter.counts[(unit, "on_time_rate")] = round(100 * on_time / done, 1)
            counter.sources[(unit, "on_time_rate")] = set(counter.sources[(unit, "rectified")])
    # P7: 督办单 issued in the period, to the unit whose item ran late
    for _order, instance_id, created in session.execute(
        select(HumanTask.id, HumanTask.instance_id, HumanTask.created_at)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.process_key == RECTIFICATION_ORDER[0],
            HumanTask.spec_id == RECTIFICATION_ORDER[1],
            HumanTask.status != "cancelled",
            *owned(scope),
        )
    ):
        if created is not None and begin <= _local(created) < after:
            for unit in sorted(_item_units(session, [instance_id]).get(instance_id, ())):
                counter.add(unit, "rectify_orders", instance_id)
    return counter


def _item_units(session: Session, instance_ids: Sequence[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    if not instance_ids:
        return out
    for instance_id, unit in session.execute(
        select(HumanTask.instance_id, TaskCandidate.unit_code)
        .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
        .where(
            HumanTask.instance_id.in_(sorted(instance_ids)),
            HumanTask.process_key == ITEM_STEP[0],
            HumanTask.spec_id == ITEM_STEP[1],
        )
    ):
        out.setdefault(instance_id, set()).add(unit)
    return out


def _orders(session: Session, instance_ids: Sequence[int]) -> set[int]:
    if not instance_ids:
        return set()
    return set(
        session.scalars(
            select(HumanTask.instance_id).where(
                HumanTask.instance_id.in_(sorted(instance_ids)),
                HumanTask.process_key == RECTIFICATION_ORDER[0],
                HumanTask.spec_id == RECTIFICATION_ORDER[1],
            )
        )
    )


# --------------------------------------------------------------------------- one P8 step
@dataclass(frozen=True)
class Plan:
    instance_id: int
    eco_period: str
    units: tuple[str, ...]
    planned: dt.date
    owner: str | None


def _plan(session: Session, instance_id: int) -> Plan | None:
    """The P8 instance's plan: the period and the assessed units (the latest 研判方案 issued)."""
    row = session.execute(
        select(TaskSubmission.data, HumanTask.completed_at, ProcessInstance.owner_unit)
        .join(HumanTask, HumanTask.id == TaskSubmission.task_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.process_key == ECO_PROCESS,
            HumanTask.spec_id == PLAN_STEP,
            HumanTask.status == "completed",
            TaskSubmission.kind == "final",
        )
        .order_by(HumanTask.id.desc())
        .limit(1)
    ).first()
    if row is None or row.completed_at is None:
        return None
    data = row.data or {}
    units = tuple(u for u in data.get("scope_units") or [] if isinstance(u, str))
    return Plan(
        instance_id=instance_id,
        eco_period=str(data.get("eco_period") or ""),
        units=units,
        planned=_local(row.completed_at).date(),
        owner=row.owner_unit,
    )


def fills(process_key: str, spec_id: str) -> bool:
    """Whether the step's form is filled with gathered figures."""
    return (process_key, spec_id) in FILLED


def for_step(
    session: Session, settings: Mapping[str, Any], *, process_key: str, spec_id: str, instance_id: int
) -> Gathered | None:
    """The figures a P8 step is filled with (None: not such a step, or no plan issued yet).

    The scope is the P8 instance's commission and the commissions under it, whoever holds the step."""
    kinds = FILLED.get((process_key, spec_id))
    if kinds is None:
        return None
    plan = _plan(session, instance_id)
    if plan is None or not plan.units:
        return None
    scope: Scope = frozenset(commissions_under(session, {plan.owner})) if plan.owner else frozenset()
    period = assessed_period(plan.eco_period, plan.planned)
    counter = gather(session, scope=scope, period=period, units=plan.units)
    query = select(Unit.code, Unit.name).where(Unit.code.in_(plan.units))
    names = {row.code: row.name for row in session.execute(query)}
    label = period.label()
    figures = [
        Figure(
            unit=unit,
            unit_name=names.get(unit, unit),
            kind=kind,
            label=KIND[kind].label,
            value=counter.counts.get((unit, kind), 0),
            source=Source(
                KIND[kind].platform, KIND[kind].process, label, tuple(sorted(counter.sources.get((unit, kind), ())))
            ),
        )
        for unit in plan.units
        for kind in kinds
        if kind != "on_time_rate" or (unit, kind) in counter.counts  # no rate without a rectification
    ]
    judgement = spec_id == JUDGEMENT_STEP
    scores: list[UnitScore] = []
    max_points = 100.0
    if judgement:
        max_points, scale, deductions = grade_scale(settings)
        for unit in plan.units:
            counts = {kind: counter.counts.get((unit, kind), 0) for kind in KIND}
            score, taken = score_of(counts, max_points, deductions)
            grade = grade_for(score, scale)
            scores.append(UnitScore(unit, names.get(unit, unit), score, grade.code, grade.title, tuple(taken)))
    return Gathered(
        eco_period=plan.eco_period,
        period=period,
        units=plan.units,
        figures=figures,
        scores=scores,
        judgement=judgement,
        max_points=max_points,
    )


# --------------------------------------------------------------------------- a submission
@dataclass(frozen=True)
class Review:
    problems: dict[str, str]
    changes: list[dict[str, Any]]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def review(gathered: Gathered | None, settings: Mapping[str, Any], data: Mapping[str, Any]) -> Review:
    """What a submitted P8 form changed from what was gathered, and what is wrong with it: a change
    without ``adjust_reason``; a grade that does not match its score under ``grades.political_ecology``."""
    if gathered is None:
        return Review({}, [])
    problems: dict[str, str] = {}
    changes: list[dict[str, Any]] = []
    if gathered.judgement:
        _, scale, _ = grade_scale(settings)
        proposed = {s.unit: s for s in gathered.scores}
        for n, row in enumerate(data.get("unit_grades") or [], start=1):
            if not isinstance(row, Mapping):
                continue
            score = _number(row.get("score"))
            if score is not None and row.get("grade") and grade_for(score, scale).code != row.get("grade"):
                expected = grade_for(score, scale)
                problems["unit_grades"] = f"第{n}行：得分{score:g}按等次标准应为“{expected.title}”"
            was = proposed.get(str(row.get("unit")))
            if was is not None and (score != was.score or row.get("grade") != was.grade):
                changes.append(
                    {
                        "unit": was.unit,
                        "indicator": "score",
                        "gathered": [was.score, was.grade],
                        "submitted": [score, row.get("grade")],
                    }
                )
    else:
        gathered_values = {(f.unit, f.label): f.value for f in gathered.figures}
        seen: set[tuple[str, str]] = set()
        for row in data.get("rows") or []:
            if not isinstance(row, Mapping):
                continue
            key = (str(row.get("unit")), str(row.get("indicator")))
            if key in gathered_values:
                seen.add(key)
                value = _number(row.get("value"))
                if value != gathered_values[key]:
                    changes.append(
                        {"unit": key[0], "indicator": key[1], "gathered": gathered_values[key], "submitted": value}
                    )
        for key in sorted(set(gathered_values) - seen):
            changes.append({"unit": key[0], "indicator": key[1], "gathered": gathered_values[key], "submitted": None})
    if changes and not str(data.get(REASON) or "").strip():
        problems[REASON] = "与系统汇集的数值不同，须说明调整理由"
    return Review(problems, changes)


def record_adjustment(
    session: Session, outcome: Review, data: Mapping[str, Any], *, actor: str, instance_id: int, task_id: int
) -> None:
    """The ``ecology_adjusted`` audit event of a submission that changed gathered figures."""
    if outcome.changes:
        audit.record(
            session,
            "ecology_adjusted",
            actor=actor,
            instance_id=instance_id,
            task_id=task_id,
            changes=outcome.changes,
            reason=str(data.get(REASON) or "")[:2000],
        )
