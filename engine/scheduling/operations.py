"""Use cases of the working-day calendar: show the years, enter or import a year's arrangement, warn.

Each December a commission's administrator enters the next year's arrangement from the 国务院办公厅
notice (holidays and 调休 make-up working days). The entry is stored as a new row (the older ones stay
as history, engine/models.py ``WorkCalendarEntry``), audited, and in the same transaction the open tasks
whose limits cross a changed day get their due date, reminder and escalation moment recomputed, each
change audited with its before and after: a due date is fixed when a task is created, so without this
the tasks created before the notice would keep a guess. Administrators only (``guantong calendar``
acts as an administrator named by its ``--actor``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import yaml
from chinese_calendar import constants as table
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import sanyuan
from engine.access.principal import Principal
from engine.errors import NotFound, ValidationError
from engine.models import HumanTask, ProcessInstance, WorkCalendarEntry
from engine.scheduling.arrangements import (
    CalendarBook,
    YearArrangement,
    book_source,
    day_ranges,
    fixed,
    load_book,
)
from engine.scheduling.deadlines import DeadlinePolicy, start_day
from engine.scheduling.workdays import WorkCalendar, guessed_holidays
from engine.services import Services

Progress = Callable[[str, int, int], None]  # (what, done, total): the recompute's progress

MIN_YEAR, MAX_YEAR = 2000, 2100
FIELDS = ("year", "official", "notice_no", "notice_date", "holidays", "workdays", "comment")
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class HistoryEntry:
    entry_id: int
    official: bool
    notice_no: str | None
    notice_date: dt.date | None
    holidays: int
    workdays: int
    source: str | None
    entered_by: str
    entered_at: dt.datetime


@dataclass(frozen=True)
class YearView:
    """One year as the calendar counts it. ``source``: ``entered`` (an administrator's arrangement),
    ``table`` (chinese-calendar's official table) or ``guess`` (weekends and rule-based holidays, no 调休)."""

    year: int
    official: bool
    source: str
    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()
    notice_no: str | None = None
    notice_date: dt.date | None = None
    entered_by: str | None = None
    entered_at: dt.datetime | None = None
    history: tuple[HistoryEntry, ...] = ()  # every entry of the year, newest first

    @property
    def holiday_ranges(self) -> tuple[str, ...]:
        return day_ranges(self.holidays)

    @property
    def workday_ranges(self) -> tuple[str, ...]:
        return day_ranges(self.workdays)


@dataclass(frozen=True)
class TaskChange:
    task_id: int
    instance_id: int
    name: str
    due_before: dt.datetime
    due_after: dt.datetime
    reminder_before: dt.datetime | None
    reminder_after: dt.datetime | None


@dataclass(frozen=True)
class EntryResult:
    year: int
    entry_id: int
    official: bool
    changed_days: tuple[dt.date, ...]
    tasks: tuple[TaskChange, ...]
    skipped: tuple[int, ...]  # open tasks created before due_start was kept, whose start is unknown


@dataclass(frozen=True)
class CalendarWarning:
    """Years without an official arrangement that an administrator should enter now."""

    years: tuple[int, ...]


def _require_admin(principal: Principal) -> None:
    """The calendar is configuration: the system administrator's (三员分立)."""
    sanyuan.require_system_admin(principal)


# --------------------------------------------------------------------------- show
def list_years(services: Services, principal: Principal, *, today: dt.date | None = None) -> tuple[YearView, ...]:
    """Last year, this year, next year and every year with an entry, without their days."""
    _require_admin(principal)
    today = today or clock.today()
    with services.db.session() as s:
        book = load_book(s)
    years = sorted({today.year - 1, today.year, today.year + 1, *book.years})
    return tuple(_view(year, book, days=False) for year in years)


def show_year(services: Services, principal: Principal, year: int) -> YearView:
    """One year's days off and make-up working days, where they come from, and its entries' history."""
    _require_admin(principal)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NotFound(f"没有 {year} 年的日历", year=year)
    with services.db.session() as s:
        book = load_book(s)
        rows = s.scalars(
            select(WorkCalendarEntry).where(WorkCalendarEntry.year == year).order_by(WorkCalendarEntry.id.desc())
        ).all()
        history = tuple(
            HistoryEntry(
                entry_id=r.id,
                official=r.official,
                notice_no=r.notice_no,
                notice_date=r.notice_date,
                holidays=len(r.holidays or ()),
                workdays=len(r.workdays or ()),
                source=r.source,
                entered_by=r.entered_by,
                entered_at=r.entered_at,
            )
            for r in rows
        )
    return replace(_view(year, book, days=True), history=history)


def _view(year: int, book: CalendarBook, *, days: bool) -> YearView:
    arrangement = book.year(year)
    if arrangement is not None:
        return YearView(
            year=year,
            official=arrangement.official,
            source="entered",
            holidays=tuple(sorted(arrangement.holidays)) if days else (),
            workdays=tuple(sorted(arrangement.workdays)) if days else (),
            notice_no=arrangement.notice_no,
            notice_date=arrangement.notice_date,
            entered_by=arrangement.entered_by,
            entered_at=arrangement.entered_at,
        )
    if WorkCalendar().is_official_year(year):
        return YearView(
            year=year,
            official=True,
            source="table",
            holidays=tuple(sorted(d for d in table.holidays if d.year == year)) if days else (),
            workdays=tuple(sorted(d for d in table.workdays if d.year == year)) if days else (),
        )
    return YearView(
        year=year,
        official=False,
        source="guess",
        holidays=tuple(sorted(guessed_holidays(year))) if days else (),
    )


# --------------------------------------------------------------------------- warn
def calendar_warning(services: Services, principal: Principal, today: dt.date | None = None) -> CalendarWarning | None:
    """For administrators: this year without an official arrangement, or from 1 November next year."""
    if not principal.is_system_admin:
        return None
    today = today or clock.today()
    with services.db.session() as s:
        calendar = WorkCalendar(book=fixed(load_book(s)))
    wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    missing = tuple(y for y in wanted if not calendar.is_official_year(y))
    return CalendarWarning(years=missing) if missing else None


# --------------------------------------------------------------------------- enter
def import_arrangement(
    services: Services, principal: Principal, text: str, *, source: str | None = None, progress: Progress | None = None
) -> EntryResult:
    """Enter a year's arrangement from a YAML document (``processes/calendar/*.yaml`` shows the format)."""
    _require_admin(principal)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError("日历文件不是有效的 YAML", fields={"file": str(exc).splitlines()[0]}) from None
    if not isinstance(data, dict):
        raise ValidationError("日历文件应为一个映射（year、notice_no、holidays…）", fields={"file": "不是映射"})
    unknown = sorted(str(k) for k in data if k not in FIELDS)
    if unknown:
        raise ValidationError(
            "日历文件含有未知字段", fields={k: f"未知字段，可用：{', '.join(FIELDS)}" for k in unknown}
        )
    return enter_arrangement(
        services,
        principal,
        year=data.get("year"),
        official=data.get("official", True),
        notice_no=data.get("notice_no"),
        notice_date=data.get("notice_date"),
        holidays=data.get("holidays"),
        workdays=data.get("workdays"),
        comment=data.get("comment"),
        source=source or "import",
        progress=progress,
    )


def enter_arrangement(
    services: Services,
    principal: Principal,
    *,
    year: Any,
    holidays: Any,
    workdays: Any,
    notice_no: Any = None,
    notice_date: Any = None,
    official: Any = True,
    comment: Any = None,
    source: str = "form",
    progress: Progress | None = None,
) -> EntryResult:
    """Store a year's arrangement (validated), audit it, and move the open tasks' limits that cross it.

    ``holidays``/``workdays``: dates or ISO strings, one per item or separated by spaces, commas or
    new lines; ``A..B`` is a range of days. Nothing is stored when anything is wrong; the error names
    each field at fault."""
    _require_admin(principal)
    arrangement, note = _validated(year, holidays, workdays, notice_no, notice_date, official, comment)
    actor = principal.username
    now = clock.now()
    with services.db.session() as s:
        before = load_book(s)
        row = WorkCalendarEntry(
            year=arrangement.year,
            official=arrangement.official,
            notice_no=arrangement.notice_no,
            notice_date=arrangement.notice_date,
            holidays=[d.isoformat() for d in sorted(arrangement.holidays)],
            workdays=[d.isoformat() for d in sorted(arrangement.workdays)],
            source=source[:200] if source else None,
            comment=note,
            entered_by=actor,
            entered_at=now,
        )
        s.add(row)
        s.flush()
        after = before.with_year(arrangement)
        changed = _changed_days(arrangement.year, before, after)
        tasks, skipped = _recompute(s, services, before, after, changed, actor=actor, now=now, progress=progress)
        audit.record(
            s,
            "calendar_entered",
            actor=actor,
            year=arrangement.year,
            entry=row.id,
            official=arrangement.official,
            notice_no=arrangement.notice_no,
            notice_date=arrangement.notice_date.isoformat() if arrangement.notice_date else None,
            holidays=len(arrangement.holidays),
            workdays=len(arrangement.workdays),
            changed_days=[d.isoformat() for d in changed],
            tasks_recomputed=len(tasks),
            tasks_skipped=list(skipped) or None,
            source=source,
        )
        entry_id = row.id
    book_source(services.db.engine).invalidate()
    return EntryResult(
        year=arrangement.year,
        entry_id=entry_id,
        official=arrangement.official,
        changed_days=tuple(changed),
        tasks=tuple(tasks),
        skipped=skipped,
    )


def _validated(
    year: Any, holidays: Any, workdays: Any, notice_no: Any, notice_date: Any, official: Any, comment: Any
) -> tuple[YearArrangement, str | None]:
    errors: dict[str, str] = {}
    year_value = _year(year, errors)
    is_official = _flag(official, errors)
    off = _days(holidays, "holidays", year_value, errors)
    on = _days(workdays, "workdays", year_value, errors)
    weekday_workdays = sorted(d for d in on if d.weekday() < 5)
    if weekday_workdays:
        errors.setdefault(
            "workdays",
            "调休上班日应为周六或周日："
            + "、".join(f"{d.isoformat()}（星期{_WEEKDAYS[d.weekday()]}）" for d in weekday_workdays),
        )
    both = sorted(off & on)
    if both:
        errors.setdefault("workdays", "同时列为放假日和上班日：" + "、".join(d.isoformat() for d in both))
    number = str(notice_no).strip() if notice_no is not None else ""
    if len(number) > 120:
        errors["notice_no"] = "通知文号不超过 120 个字符"
    date = None
    if notice_date not in (None, ""):
        date = _date(notice_date)
        if date is None:
            errors["notice_date"] = f"“{notice_date}” 不是日期（YYYY-MM-DD）"
        elif date > clock.today():
            errors["notice_date"] = "通知日期不能晚于今天"
    if is_official:
        if not number:
            errors.setdefault("notice_no", "正式安排须填写国务院办公厅通知的文号")
        if notice_date in (None, ""):
            errors.setdefault("notice_date", "正式安排须填写通知日期")
        if not off and "holidays" not in errors:
            errors["holidays"] = "正式安排至少有一个放假日"
    note = str(comment).strip()[:2000] if comment not in (None, "") else None
    if errors or year_value is None:
        raise ValidationError("日历安排未保存，请更正标出的字段", fields=errors)
    return (
        YearArrangement(
            year=year_value,
            holidays=frozenset(off),
            workdays=frozenset(on),
            official=is_official,
            notice_no=number or None,
            notice_date=date,
        ),
        note,
    )


def _year(value: Any, errors: dict[str, str]) -> int | None:
    try:
        year = int(str(value).strip()) if not isinstance(value, bool) and value not in (None, "") else None
    except ValueError:
        year = None
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = f"年份应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的整数"
        return None
    return year


def _flag(value: Any, errors: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("0", "false", "no", "off", "否", ""):
        return False
    errors["official"] = "应为是或否"
    return False


_SEPARATORS = re.compile(r"[\s,，、;；]+")
_RANGE = re.compile(r"\s*(?:\.\.|~|～|至)\s*")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _days(value: Any, name: str, year: int | None, errors: dict[str, str]) -> set[dt.date]:
    """The dates of a list or a text; a reason per field in ``errors`` for what is not a date of ``year``."""
    items: Iterable[Any]
    if value in (None, ""):
        items = ()
    elif isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        errors[name] = "应为日期列表"
        return set()
    days: set[dt.date] = set()
    bad: list[str] = []
    outside: list[str] = []
    for item in items:
        parts = [item] if isinstance(item, dt.date) else [p for p in _SEPARATORS.split(str(_ranged(item))) if p]
        for part in parts:
            span = _span(part)
            if span is None:
                bad.append(str(part))
                continue
            for day in span:
                if year is not None and day.year != year:
                    outside.append(day.isoformat())
                else:
                    days.add(day)
    if bad:
        errors[name] = "不是日期（YYYY-MM-DD，或 起..止）：" + "、".join(bad[:10])
    elif outside:
        errors[name] = f"不在 {year} 年内：" + "、".join(sorted(set(outside))[:10])
    return days


def _ranged(item: Any) -> str:
    """``2027-02-05 至 2027-02-13`` and ``2027-02-05~2027-02-13`` written as ``2027-02-05..2027-02-13``."""
    return _RANGE.sub("..", str(item))


def _span(part: Any) -> list[dt.date] | None:
    if isinstance(part, dt.date):
        day = _date(part)
        return [day] if day else None
    first, _, last = str(part).partition("..")
    start, end = _date(first), _date(last) if last else _date(first)
    if start is None or end is None or end < start or (end - start).days > 60:
        return None
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


# --------------------------------------------------------------------------- recompute
def _changed_days(year: int, before: CalendarBook, after: CalendarBook) -> list[dt.date]:
    """The days of ``year`` whose working or rest status the change flips."""
    old, new = WorkCalendar(book=fixed(before)), WorkCalendar(book=fixed(after))
    day, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    changed = []
    while day <= end:
        if old.is_workday(day) != new.is_workday(day):
            changed.append(day)
        day += dt.timedelta(days=1)
    return changed


def _recompute(
    session: Session,
    services: Services,
    before: CalendarBook,
    after: CalendarBook,
    changed: list[dt.date],
    *,
    actor: str,
    now: dt.datetime,
    progress: Progress | None = None,
) -> tuple[list[TaskChange], tuple[int, ...]]:
    """Move the open tasks whose limits cross a changed day; return the moves and the tasks left alone.

    Counting a limit looks at days from its start up to its due day only (the reminder counts back
    from the due day), so only tasks due on or after the first changed day can move. A task's limit is
    counted again from the day it ran from (``due_start``); a task created before that was kept is
    counted from its creation day when that gives back its stored due date, and left alone otherwise.
    A reminder already sent or an escalation already made is armed again when its new moment is still
    ahead, and so is a BPMN timer armed on the same rule beside the task (``Runtime.retime_deadline_timers``).
    Each move is guarded on the due date read, so a task completed meanwhile is not touched."""
    if not changed:
        return [], ()
    since = dt.datetime.combine(min(changed), dt.time.min, tzinfo=clock.LOCAL_TZ)
    rows = session.execute(
        select(
            HumanTask.id,
            HumanTask.instance_id,
            HumanTask.task_uuid,
            HumanTask.name,
            HumanTask.due_key,
            HumanTask.due_start,
            HumanTask.created_at,
            HumanTask.due_at,
            HumanTask.reminder_at,
            HumanTask.reminded_at,
            HumanTask.escalated_at,
            ProcessInstance.version_id,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.status == "ready", HumanTask.due_key.is_not(None), HumanTask.due_at >= since)
        .order_by(HumanTask.id)
    ).all()
    policies: dict[int, tuple[DeadlinePolicy, DeadlinePolicy]] = {}
    moved: list[tuple[Any, dt.date, dict[str, Any]]] = []
    skipped: list[int] = []
    for index, r in enumerate(rows):
        if progress is not None:  # ``guantong calendar import`` draws it (web/cli_progress.py)
            progress("open tasks", index, len(rows))
        pair = policies.get(r.version_id)
        if pair is None:
            settings = services.definitions.loaded(r.version_id).settings
            pair = policies[r.version_id] = (
                DeadlinePolicy(settings, book=fixed(before)),
                DeadlinePolicy(settings, book=fixed(after)),
            )
        old, new = pair
        if r.due_key not in new.rules:
            skipped.append(r.id)
            continue
        start = r.due_start
        if start is None:
            start = start_day(r.created_at)
            if old.due_at(r.due_key, start) != r.due_at:
                skipped.append(r.id)
                continue
        due, remind = new.due_at(r.due_key, start), new.reminder_at(r.due_key, start)
        if due == r.due_at and remind == r.reminder_at:
            continue
        values: dict[str, Any] = {"due_at": due, "reminder_at": remind}
        if r.reminded_at is not None and remind > now:
            values["reminded_at"] = None
        if r.escalated_at is not None and due > now:
            values["escalated_at"] = None
        done = session.execute(
            update(HumanTask)
            .where(HumanTask.id == r.id, HumanTask.status == "ready", HumanTask.due_at == r.due_at)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            moved.append((r, start, values))
    # The BPMN timers armed on the same rule beside a moved task (a boundary 'deadline(...)') follow it.
    by_instance: dict[int, dict[str, tuple[str, dt.datetime, dt.datetime]]] = {}
    for r, _, values in moved:
        by_instance.setdefault(r.instance_id, {})[r.task_uuid] = (r.due_key, r.due_at, values["due_at"])
    timers = {
        instance_id: services.runtime.retime_deadline_timers(session, instance_id, tasks)
        for instance_id, tasks in by_instance.items()
    }
    changes = []
    for r, start, values in moved:
        audit.record(
            session,
            "task_due_recomputed",
            actor=actor,
            instance_id=r.instance_id,
            task_id=r.id,
            version_id=r.version_id,
            due_key=r.due_key,
            due_start=start.isoformat(),
            due_at_before=_utc(r.due_at),
            due_at_after=_utc(values["due_at"]),
            reminder_at_before=_utc(r.reminder_at),
            reminder_at_after=_utc(values["reminder_at"]),
            reminder_rearmed=("reminded_at" in values) or None,
            escalation_rearmed=("escalated_at" in values) or None,
            timers_rearmed=timers.get(r.instance_id) or None,
        )
        changes.append(
            TaskChange(r.id, r.instance_id, r.name, r.due_at, values["due_at"], r.reminder_at, values["reminder_at"])
        )
    if progress is not None:
        progress("open tasks", len(rows), len(rows))
    return changes, tuple(skipped)


def _utc(moment: dt.datetime | None) -> str | None:
    """As the database gives moments back, so an audit event's before and after compare as text."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def arrangement_document(view: YearView) -> dict[str, Any]:
    """A year as the YAML ``import_arrangement`` reads (to export an entered year or start a new one)."""
    return {
        "year": view.year,
        "official": view.official,
        "notice_no": view.notice_no,
        "notice_date": view.notice_date,
        "holidays": list(view.holiday_ranges),
        "workdays": list(view.workday_ranges),
    }
