"""``WorkCalendar.workdays_between`` answers from a running count of working days (issue 16's cockpit
figures count tens of thousands of steps): it must say exactly what walking the days says, on every
calendar, across spans it has not seen, and forget its count when the year's arrangement changes."""

import datetime as dt
import random

from engine.scheduling.arrangements import CalendarBook, YearArrangement
from engine.scheduling.workdays import WorkCalendar

D = dt.date


def walked(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    """The rule spelled out: the working days after ``start`` up to and including ``end``."""
    if end < start:
        return -walked(cal, end, start)
    return sum(cal.is_workday(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))


def test_the_count_agrees_with_walking_the_days_on_random_spans():
    rng = random.Random(16)
    for overrides in ({}, {"2025-01-27": "holiday", "2025-02-08": "workday", "2027-03-01": "holiday"}):
        cal, plain = WorkCalendar(overrides=overrides), WorkCalendar(overrides=overrides)
        for _ in range(3000):
            start = D(2023, 6, 1) + dt.timedelta(days=rng.randint(0, 1800))
            end = start + dt.timedelta(days=rng.randint(-900, 900))
            assert cal.workdays_between(start, end) == walked(plain, start, end), (overrides, start, end)


def test_known_spans_across_holidays_and_makeup_days():
    cal = WorkCalendar()
    # National Day 2024: 10-01..07 off, Saturday 10-12 worked; 09-29 (Sunday) worked too.
    assert cal.workdays_between(D(2024, 9, 27), D(2024, 10, 14)) == 8  # 9-29, 9-30, 10-8..10-12, 10-14
    assert cal.workdays_between(D(2024, 10, 14), D(2024, 9, 27)) == -8
    assert cal.workdays_between(D(2024, 10, 3), D(2024, 10, 3)) == 0
    # A long span, then one far away from it (the count is rebuilt there), then the first again.
    far = cal.workdays_between(D(2024, 1, 1), D(2026, 1, 1))
    assert far == walked(WorkCalendar(), D(2024, 1, 1), D(2026, 1, 1))
    assert cal.workdays_between(D(2090, 1, 1), D(2091, 1, 1)) == walked(WorkCalendar(), D(2090, 1, 1), D(2091, 1, 1))
    assert cal.workdays_between(D(2024, 1, 1), D(2026, 1, 1)) == far


def test_the_count_follows_a_newly_entered_arrangement():
    books = [CalendarBook()]
    cal = WorkCalendar(book=lambda: books[-1])
    before = cal.workdays_between(D(2030, 1, 1), D(2030, 12, 31))
    assert before == walked(WorkCalendar(), D(2030, 1, 1), D(2030, 12, 31))
    # The year's arrangement is entered: three weekdays off, one Saturday worked.
    books.append(
        books[-1].with_year(
            YearArrangement(
                year=2030,
                holidays=frozenset({D(2030, 5, 1), D(2030, 5, 2), D(2030, 5, 3)}),
                workdays=frozenset({D(2030, 4, 27)}),
            )
        )
    )
    # The entered year replaces the guessed holidays: Monday to Friday, less three days, plus one Saturday.
    after = cal.workdays_between(D(2030, 1, 1), D(2030, 12, 31))
    assert after == 260 - 3 + 1 != before
    assert after == walked(WorkCalendar(book=lambda: books[-1]), D(2030, 1, 1), D(2030, 12, 31))
    assert cal.workdays_between(D(2030, 4, 26), D(2030, 5, 6)) == 4  # 04-27 (Saturday), 04-29, 04-30, 05-06


def test_the_ends_of_the_calendar_are_counted_without_overflow():
    cal = WorkCalendar()
    assert cal.workdays_between(D(1, 1, 2), D(1, 3, 1)) == walked(WorkCalendar(), D(1, 1, 2), D(1, 3, 1))
    assert cal.workdays_between(D(9999, 11, 1), D(9999, 12, 31)) == walked(
        WorkCalendar(), D(9999, 11, 1), D(9999, 12, 31)
    )
