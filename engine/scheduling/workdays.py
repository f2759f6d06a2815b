"""Working-day arithmetic on the Chinese calendar (public holidays and 调休 make-up working days).

Legal time limits (函询 reply 15 working days, 受理告知 15 working days, transfers 5 working days) count
working days, not calendar days. ``chinese-calendar`` carries the official State Council table
(holidays *and* make-up working days) but only up to the last year it knows; after that we fall back to
weekends plus the public holidays from ``holidays`` (no 调休) and flag the result as unofficial. Each
year's arrangement (published by the 国务院办公厅 each November or December) is entered by an
administrator and read from the database on top of the table (engine/scheduling/arrangements.py), so
it reaches running instances at once; a deployed version's settings may still override single dates
(local holidays), and those win.

Counting rule: the day the period starts is not counted; a deadline is the end of the N-th working day
after it. A limit in months ends on the same day N months later, moved to the next working day when
that day is not one (期间届满日为节假日的, 以节假日后的第一个工作日为期间届满日).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar
import holidays as _holidays

from engine.clock import LOCAL_TZ
from engine.scheduling.arrangements import EMPTY_BOOK, BookReader, CalendarBook


@lru_cache(maxsize=64)
def guessed_holidays(year: int) -> frozenset[dt.date]:
    """The ``holidays`` package's rule-based public holidays: what a year beyond the table falls back to."""
    return frozenset(_holidays.country_holidays("CN", years=year).keys())


@lru_cache(maxsize=64)
def _table_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` table has ``year``. Kept per year: the table is fixed for
    the process's life, and the library answers by scanning all its dates for their range on every call
    (~0.1 ms), which every due date shown paid through ``estimated`` (a page of tasks, an instance's steps)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
        return True
    except NotImplementedError:
        return False


@dataclass
class WorkCalendar:
    """Decides whether a date is a working day; ``overrides`` maps ISO dates to ``workday``/``holiday``.

    Precedence: the version's overrides, then the year's entered arrangement (``book``), then the
    official table, then the weekend-and-``holidays`` guess."""

    overrides: dict[str, str] = field(default_factory=dict)
    day_end: dt.time = dt.time(23, 59, 59)
    book: BookReader | None = None

    def __post_init__(self) -> None:
        parsed: dict[dt.date, bool] = {}
        for key, value in (self.overrides or {}).items():
            day = dt.date.fromisoformat(str(key))  # str(): YAML reads an unquoted ISO date as a date
            if value not in ("workday", "holiday"):
                raise ValueError(f"calendar override {key}: expected 'workday' or 'holiday', got {value!r}")
            parsed[day] = value == "workday"
        self._overrides = parsed
        self._cache: dict[dt.date, bool] = {}
        self._book: CalendarBook = EMPTY_BOOK
        self._index: _Ordinals | None = None

    def current_book(self) -> CalendarBook:
        """The arrangements now in force; the days counted on an older book are forgotten."""
        book = self.book() if self.book is not None else EMPTY_BOOK
        if book is not self._book:
            self._book = book
            self._cache = {}
            self._index = None
        return book

    def is_official(self, day: dt.date) -> bool:
        """True when the official table, an entered official arrangement or an override covers this date."""
        if day in self._overrides:
            return True
        return self.is_official_year(day.year)

    def is_official_year(self, year: int) -> bool:
        """True when the year's arrangement is the State Council's: entered as official, or in the table."""
        arrangement = self.current_book().year(year)
        if arrangement is not None:
            return arrangement.official
        return _table_covers(year)

    def estimated(self, day: dt.date) -> bool:
        """A date counted on this day's year is a guess (预估): no official arrangement for the year."""
        return not self.is_official_year(day.year)

    def is_workday(self, day: dt.date) -> bool:
        book = self.current_book()
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._lookup(day, book)
        return cached

    def _lookup(self, day: dt.date, book: CalendarBook) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        arrangement = book.year(day.year)
        if arrangement is not None:
            return arrangement.is_workday(day)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5 and day not in guessed_holidays(day.year)

    def next_workday(self, day: dt.date) -> dt.date:
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def add_workdays(self, start: dt.date, count: int) -> dt.date:
        """The N-th working day after ``start`` (``start`` itself not counted)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        day = start
        remaining = count
        if remaining == 0:
            return self.next_workday(day)
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def subtract_workdays(self, end: dt.date, count: int) -> dt.date:
        day = end
        remaining = count
        while remaining:
            day -= dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start).

        Answered from a running count of working days (``_Ordinals``) over the span asked so far, so a
        figure counting the working days of tens of thousands of steps pays one subtraction per step
        instead of a walk over every day in between (the cockpit's durations and metrics, issue 16)."""
        if end < start:
            return -self.workdays_between(end, start)
        book = self.current_book()
        index = self._index
        if index is not None and index.book is not book:  # counted on older arrangements (another thread)
            index = None
        if index is None or not index.covers(start, end):
            if (end - start).days <= _SHORT_SPAN:  # not worth building the index for
                return self._walk(start, end)
            low, high = (start, end) if index is None else (min(start, index.origin), max(end, index.last))
            if (high - low).days > _MAX_INDEX_DAYS:  # far from the dates asked so far: start afresh
                low, high = start, end
                if (high - low).days > _MAX_INDEX_DAYS:
                    return self._walk(start, end)
            index = self._index = _Ordinals.build(self, book, _shift(low, -_MARGIN), _shift(high, _MARGIN))
        return index.between(start, end)

    def _walk(self, start: dt.date, end: dt.date) -> int:
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def add_months(self, start: dt.date, months: int) -> dt.date:
        month_index = start.month - 1 + months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        if not 1 <= year <= 9999:  # dt.date would overflow; a limit that far away is a settings error
            raise ValueError(f"{months} months from {start.isoformat()} is beyond the calendar")
        day = min(start.day, _calendar.monthrange(year, month)[1])
        return self.next_workday(dt.date(year, month, day))

    def add_days(self, start: dt.date, days: int) -> dt.date:
        return self.next_workday(start + dt.timedelta(days=days))

    def end_of(self, day: dt.date) -> dt.datetime:
        """The moment a limit that falls on ``day`` expires, in China's time zone."""
        return dt.datetime.combine(day, self.day_end, tzinfo=LOCAL_TZ)


_SHORT_SPAN = 7  # a week outside the index is walked day by day rather than indexed
_MARGIN = dt.timedelta(days=62)  # built a little wider than asked, so nearby dates reuse it
_MAX_INDEX_DAYS = 40 * 366  # beyond that (a settings error far in the future), walk instead


def _shift(day: dt.date, by: dt.timedelta) -> dt.date:
    """``day + by``, stopping at the calendar's ends."""
    try:
        return day + by
    except OverflowError:
        return dt.date.min if by < dt.timedelta(0) else dt.date.max


@dataclass(frozen=True)
class _Ordinals:
    """How many working days fall after ``origin`` up to each date of a contiguous span: the working days
    between two dates of the span are the difference of their counts. Built whole and swapped in at once,
    so threads sharing a calendar (engine/tasks/inbox.py ``_calendar_for``) never see a half-built one."""

    book: CalendarBook  # the arrangements it was counted on
    origin: dt.date
    counts: tuple[int, ...]  # counts[i]: working days in (origin, origin + i days]

    @property
    def last(self) -> dt.date:
        return self.origin + dt.timedelta(days=len(self.counts) - 1)

    def covers(self, start: dt.date, end: dt.date) -> bool:
        return self.origin <= start and end <= self.last

    def between(self, start: dt.date, end: dt.date) -> int:
        return self.counts[(end - self.origin).days] - self.counts[(start - self.origin).days]

    @classmethod
    def build(cls, calendar: WorkCalendar, book: CalendarBook, origin: dt.date, last: dt.date) -> _Ordinals:
        counts, running, day = [0], 0, origin
        while day < last:
            day += dt.timedelta(days=1)
            running += calendar.is_workday(day)
            counts.append(running)
        return cls(book, origin, tuple(counts))
