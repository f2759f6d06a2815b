"""One clock for the whole engine, so tests and the scheduler can move time.

SpiffWorkflow's timer events read ``datetime.now(timezone.utc)`` directly. We swap the ``datetime``
name inside its timer module for a subclass whose ``now`` asks this clock, so a test can jump over a
holiday and watch a boundary timer fire, and production uses the real time unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_source: Callable[[], _dt.datetime] | None = None

# The dates a case may carry. A form accepted 9999-12-31 and every later step of that instance failed
# with an overflow; counting working days from year 1 would loop for minutes. Forms refuse dates outside
# these bounds and the deadline helpers of expressions refuse them too.
EARLIEST_DATE = _dt.date(1900, 1, 1)
LATEST_DATE = _dt.date(2100, 12, 31)


def within_bounds(day: _dt.date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def bounded_date(value: object) -> _dt.date:
    """The ISO date at the start of ``value`` (a date or date-time string), or ValueError naming the bounds."""
    day = _dt.date.fromisoformat(str(value)[:10])
    if not within_bounds(day):
        raise ValueError(f"date {day.isoformat()} is outside {EARLIEST_DATE.isoformat()}..{LATEST_DATE.isoformat()}")
    return day


def now() -> _dt.datetime:
    """The current moment, timezone-aware (UTC)."""
    if _source is not None:
        return _source().astimezone(_dt.UTC)
    return _dt.datetime.now(_dt.UTC)


def local_now() -> _dt.datetime:
    return now().astimezone(LOCAL_TZ)


def today() -> _dt.date:
    """Today's date in China, which is what working-day limits count from."""
    return local_now().date()


class FrozenClock:
    """A clock a test can set and advance."""

    def __init__(self, start: _dt.datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=LOCAL_TZ)
        self.current = start

    def __call__(self) -> _dt.datetime:
        return self.current

    def set(self, moment: _dt.datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TZ)
        self.current = moment

    def advance(self, **delta: float) -> _dt.datetime:
        self.current = self.current + _dt.timedelta(**delta)
        return self.current


@contextlib.contextmanager
def frozen(start: _dt.datetime) -> Iterator[FrozenClock]:
    global _source
    previous = _source
    clock = FrozenClock(start)
    _source = clock
    try:
        yield clock
    finally:
        _source = previous


class _EngineDatetime(_dt.datetime):
    # A plain datetime, not Self: SpiffWorkflow only compares and subtracts what ``now`` returns.
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        moment = now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def install() -> None:
    """Point SpiffWorkflow's timers at this clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _EngineDatetime
