"""When timer-started processes are due: the 派驻机构月例会 on the 5th, yearly goals in January…

A schedule in ``settings.yaml`` names the months (``month`` or ``months``; every month when absent) and
the ``day_of_month``; ``shift_if_holiday: next_workday`` moves an occurrence off a rest day. Each
occurrence has a period key (``2024-03``) so that a start fires once per period, whichever worker
sees it first (the key is unique in ``schedule_run``).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from engine.clock import LOCAL_TZ
from engine.scheduling.workdays import WorkCalendar

START_OF_DAY = dt.time(9, 0)


@dataclass(frozen=True)
class Occurrence:
    period: str
    due_at: dt.datetime


def _months(cron: dict[str, Any]) -> list[int]:
    if "months" in cron:
        return sorted(int(m) for m in cron["months"])
    if "month" in cron:
        return [int(cron["month"])]
    return list(range(1, 13))


def occurrence(schedule: dict[str, Any], year: int, month: int, calendar: WorkCalendar) -> Occurrence:
    cron = schedule.get("cron") or {}
    day = min(int(cron.get("day_of_month", 1)), _calendar.monthrange(year, month)[1])
    date = dt.date(year, month, day)
    if schedule.get("shift_if_holiday") == "next_workday":
        date = calendar.next_workday(date)
    return Occurrence(period=f"{year}-{month:02d}", due_at=dt.datetime.combine(date, START_OF_DAY, tzinfo=LOCAL_TZ))


def latest_due(schedule: dict[str, Any], now: dt.datetime, calendar: WorkCalendar) -> Occurrence | None:
    """The most recent occurrence at or before ``now`` (looking back at most a year)."""
    local = now.astimezone(LOCAL_TZ)
    months = _months(schedule.get("cron") or {})
    best = None
    for year in (local.year - 1, local.year):
        for month in months:
            occ = occurrence(schedule, year, month, calendar)
            if occ.due_at <= now and (best is None or occ.due_at > best.due_at):
                best = occ
    return best


def next_due(schedule: dict[str, Any], now: dt.datetime, calendar: WorkCalendar) -> Occurrence:
    local = now.astimezone(LOCAL_TZ)
    months = _months(schedule.get("cron") or {})
    for year in (local.year, local.year + 1):
        for month in months:
            occ = occurrence(schedule, year, month, calendar)
            if occ.due_at > now:
                return occ
    raise ValueError("schedule has no future occurrence")
