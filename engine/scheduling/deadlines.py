"""Time limits from ``processes/settings.yaml`` turned into due moments on the working-day calendar.

Rules such as "函询 reply within 15 working days" or "审理 within 1 month" are data, not code: each key
under ``deadlines:`` gives a count in ``workdays``, ``months`` or ``days``, how many working days ahead
to remind, and which role to escalate to. Local practice values stay editable there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import clock
from engine.scheduling.arrangements import BookReader
from engine.scheduling.workdays import WorkCalendar


@dataclass(frozen=True)
class DeadlineRule:
    key: str
    workdays: int | None = None
    months: int | None = None
    days: int | None = None
    reminder_before_workdays: int = 2
    escalate_to: str | None = None
    basis: str | None = None
    local_practice: bool = False
    # A limit in calendar ``days`` ending on a holiday moves to the next working day (期限届满日为节假日的顺延),
    # except a report that must reach the upper level whatever the day (安全事故24小时内报告):
    # ``holiday_extends: false`` keeps the calendar day.
    holiday_extends: bool = True

    @classmethod
    def from_settings(cls, key: str, raw: dict[str, Any]) -> DeadlineRule:
        if not isinstance(raw, dict):
            raise ValueError(f"deadline {key}: expected a mapping")
        units = [u for u in ("workdays", "months", "days") if raw.get(u) is not None]
        if len(units) != 1:
            raise ValueError(f"deadline {key}: give exactly one of workdays, months, days")
        return cls(
            key=key,
            workdays=raw.get("workdays"),
            months=raw.get("months"),
            days=raw.get("days"),
            reminder_before_workdays=int(raw.get("reminder_before_workdays", 2) or 0),
            escalate_to=raw.get("escalate_to"),
            basis=raw.get("basis"),
            local_practice=bool(raw.get("local_practice", False)),
            holiday_extends=bool(raw.get("holiday_extends", True)),
        )

    def describe(self) -> str:
        if self.workdays is not None:
            return f"{self.workdays} 个工作日"
        if self.months is not None:
            return f"{self.months} 个月"
        return f"{self.days} 日"


# A time limit written on the task itself (``dueIn="5 workdays"``, issue 17: the studio's panel offers a
# duration besides the settings' names): the count and unit of a settings entry, with its default
# reminder (2 working days ahead) and no escalation, since no rule names a role for it.
INLINE = re.compile(r"^([1-9][0-9]{0,2}) (workdays|months|days)$")


def inline_rule(key: str) -> DeadlineRule | None:
    """The rule a duration written in place of a settings key stands for, None for anything else."""
    found = INLINE.match(key or "")
    if found is None:
        return None
    count, unit = int(found.group(1)), found.group(2)
    return DeadlineRule(
        key=key,
        workdays=count if unit == "workdays" else None,
        months=count if unit == "months" else None,
        days=count if unit == "days" else None,
    )


class DeadlinePolicy:
    """Computes due dates, reminders and period boundaries for one deployed version's settings."""

    def __init__(self, settings: dict[str, Any] | None, *, book: BookReader | None = None):
        settings = settings or {}
        self.rules = {k: DeadlineRule.from_settings(k, v) for k, v in (settings.get("deadlines") or {}).items()}
        self.schedules = settings.get("schedules") or {}
        overrides = ((settings.get("calendar") or {}).get("overrides")) or {}
        self.calendar = WorkCalendar(overrides={str(k): v for k, v in overrides.items()}, book=book)

    def rule(self, key: str) -> DeadlineRule:
        found = self.find(key)
        if found is None:
            raise KeyError(f"no deadline '{key}' in settings.yaml")
        return found

    def find(self, key: str | None) -> DeadlineRule | None:
        """The settings' rule of that name, or the duration written in its place, or None."""
        if not key:
            return None
        return self.rules.get(key) or inline_rule(key)

    def due_date(self, key: str, start: dt.date) -> dt.date:
        rule = self.rule(key)
        if rule.workdays is not None:
            return self.calendar.add_workdays(start, rule.workdays)
        if rule.months is not None:
            return self.calendar.add_months(start, rule.months)
        if not rule.holiday_extends:
            return start + dt.timedelta(days=rule.days or 0)
        return self.calendar.add_days(start, rule.days or 0)

    def due_at(self, key: str, start: dt.datetime | dt.date | None = None) -> dt.datetime:
        start_date = start_day(start)
        return self.calendar.end_of(self.due_date(key, start_date))

    def reminder_at(self, key: str, start: dt.datetime | dt.date | None = None) -> dt.datetime:
        rule = self.rule(key)
        due = self.due_date(key, start_day(start))
        day = self.calendar.subtract_workdays(due, rule.reminder_before_workdays)
        # Remind at the start of that working day.
        return dt.datetime.combine(day, dt.time(9, 0), tzinfo=clock.LOCAL_TZ)

    def functions(self, context: dict[str, Any]) -> dict[str, Callable[..., Any]]:
        """The helpers BPMN expressions may call (see processes/CONVENTIONS.md)."""

        def deadline(key: str) -> str:
            return self.due_at(key).isoformat()

        def deadline_from(key: str, start: str) -> str:
            return self.due_at(key, clock.bounded_date(start)).isoformat()

        def reminder(key: str) -> str:
            return self.reminder_at(key).isoformat()

        def schedule(key: str) -> str:
            fired = context.get("scheduled_at")
            return str(fired) if fired else clock.now().isoformat()

        def today() -> str:
            return clock.today().isoformat()

        def workdays_between(a: str, b: str) -> int:
            return self.calendar.workdays_between(clock.bounded_date(a), clock.bounded_date(b))

        return {
            "deadline": deadline,
            "deadline_from": deadline_from,
            "reminder": reminder,
            "schedule": schedule,
            "today": today,
            "workdays_between": workdays_between,
        }


def start_day(start: dt.datetime | dt.date | None) -> dt.date:
    """The day a limit runs from: a moment's date in China, a date as is, today when not given."""
    if start is None:
        return clock.today()
    if isinstance(start, dt.datetime):
        return start.astimezone(clock.LOCAL_TZ).date()
    return start
