"""The years' holiday arrangements administrators entered (table ``work_calendar``), as the calendar reads them.

``chinese-calendar`` carries the State Council's table only up to the last year it was released for; each
December the commission's administrator enters the next year's arrangement from the 国务院办公厅 notice
(engine/scheduling/operations.py). Those entries must reach every ``WorkCalendar`` at once, in every
process (web servers, workers), without a database query in the middle of working-day arithmetic:
a ``BookSource`` per database engine keeps the latest arrangement of each year in memory and re-reads the
small table at most every ``ttl`` seconds (at once in the process that entered a change). A calendar
compares the ``CalendarBook`` it receives with the one it counted on, and forgets the days it knew when
the book changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.models import WorkCalendarEntry

log = logging.getLogger(__name__)

DEFAULT_TTL = 10.0


@dataclass(frozen=True)
class YearArrangement:
    """One year's arrangement: the days off (weekends inside a holiday period included) and the 调休
    weekend days worked. A day in neither follows the week: Monday to Friday work."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    official: bool = True
    notice_no: str | None = None
    notice_date: dt.date | None = None
    entry_id: int | None = None
    entered_by: str | None = None
    entered_at: dt.datetime | None = None

    def is_workday(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    @classmethod
    def from_entry(cls, row: WorkCalendarEntry) -> YearArrangement:
        return cls(
            year=row.year,
            holidays=frozenset(dt.date.fromisoformat(d) for d in row.holidays or ()),
            workdays=frozenset(dt.date.fromisoformat(d) for d in row.workdays or ()),
            official=bool(row.official),
            notice_no=row.notice_no,
            notice_date=row.notice_date,
            entry_id=row.id,
            entered_by=row.entered_by,
            entered_at=row.entered_at,
        )


@dataclass(frozen=True)
class CalendarBook:
    """The latest entered arrangement of each year; ``revision`` tells two readings apart."""

    years: Mapping[int, YearArrangement] = field(default_factory=dict)
    revision: tuple[int, int] = (0, 0)

    def year(self, year: int) -> YearArrangement | None:
        return self.years.get(year)

    def with_year(self, arrangement: YearArrangement) -> CalendarBook:
        """This book with one year replaced (the calendar a change is about to make)."""
        count, last = self.revision
        return CalendarBook({**self.years, arrangement.year: arrangement}, (count + 1, last + 1))


EMPTY_BOOK = CalendarBook()

# What a ``WorkCalendar`` asks for the current arrangements: a ``BookSource`` or a fixed book.
BookReader = Callable[[], CalendarBook]


def book_from_entries(rows: Iterable[WorkCalendarEntry]) -> CalendarBook:
    """The latest row of each year wins; ``rows`` in any order."""
    latest: dict[int, WorkCalendarEntry] = {}
    count = last = 0
    for row in rows:
        count += 1
        last = max(last, row.id)
        if row.year not in latest or row.id > latest[row.year].id:
            latest[row.year] = row
    return CalendarBook({y: YearArrangement.from_entry(r) for y, r in latest.items()}, (count, last))


def load_book(session: Session) -> CalendarBook:
    """The arrangements as this session's transaction sees them."""
    return book_from_entries(session.scalars(select(WorkCalendarEntry)))


def _read(connection: Connection) -> CalendarBook:
    with Session(bind=connection) as session:
        return load_book(session)


class BookSource:
    """The current ``CalendarBook`` of one database, re-read at most every ``ttl`` seconds.

    Called by a ``WorkCalendar`` before each lookup, so the check must be cheap: a clock reading, and
    a query on the (small) table only when ``ttl`` has passed. A database without the table (not yet
    upgraded) reads as no arrangement at all."""

    def __init__(self, engine: Engine, ttl: float = DEFAULT_TTL):
        self._engine = weakref.ref(engine)
        self.ttl = ttl
        self._book = EMPTY_BOOK
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> CalendarBook:
        read_at = self._read_at
        if read_at is None or time.monotonic() - read_at > self.ttl:
            self.refresh()
        return self._book

    def refresh(self) -> CalendarBook:
        with self._lock:
            engine = self._engine()
            if engine is not None:
                try:
                    with engine.connect() as connection:
                        book = _read(connection)
                except SQLAlchemyError as exc:
                    log.warning("working-day calendar: arrangements not readable (%s); using the table only", exc)
                    book = EMPTY_BOOK
                if book.revision != self._book.revision or book.years != self._book.years:
                    self._book = book
            self._read_at = time.monotonic()
        return self._book

    def invalidate(self) -> None:
        """Read the table again at the next lookup (after a change, or a database emptied under us)."""
        self._read_at = None


_SOURCES: weakref.WeakKeyDictionary[Engine, BookSource] = weakref.WeakKeyDictionary()
_SOURCES_LOCK = threading.Lock()


def book_source(engine: Engine) -> BookSource:
    """The one ``BookSource`` of ``engine`` in this process."""
    with _SOURCES_LOCK:
        source = _SOURCES.get(engine)
        if source is None:
            source = _SOURCES[engine] = BookSource(engine)
        return source


def fixed(book: CalendarBook) -> BookReader:
    """A source that always answers ``book`` (the calendars before and after a change)."""
    return lambda: book


def day_ranges(days: Iterable[dt.date]) -> tuple[str, ...]:
    """Days written as the notice reads them: runs of consecutive days as ``first..last``, others alone
    (the form ``import_arrangement`` and the admin page accept back)."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return tuple(r[0].isoformat() if len(r) == 1 else f"{r[0].isoformat()}..{r[-1].isoformat()}" for r in runs)
