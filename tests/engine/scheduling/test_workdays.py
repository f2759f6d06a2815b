"""Working days on the Chinese calendar: the dates of the domain scenarios, holidays and 调休."""

import datetime as dt

import pytest

from engine.scheduling.deadlines import DeadlinePolicy
from engine.scheduling.workdays import WorkCalendar

D = dt.date


@pytest.fixture
def cal():
    return WorkCalendar()


def test_acceptance_notice_15_workdays_from_monday_4_march_2024(cal):
    # Scenario B: report received Monday 2024-03-04, notice due 15 working days later.
    assert cal.add_workdays(D(2024, 3, 4), 15) == D(2024, 3, 25)


def test_reply_deadline_skips_qingming_and_counts_makeup_sunday(cal):
    # Scenario B: letter received 2024-03-21; 清明 04-04..06 off, Sunday 04-07 is a make-up working day.
    assert not cal.is_workday(D(2024, 4, 4))
    assert cal.is_workday(D(2024, 4, 7))
    assert cal.add_workdays(D(2024, 3, 21), 15) == D(2024, 4, 12)


def test_month_limit_moves_to_next_workday(cal):
    # 2024-09-21 is a Saturday: a one-month limit from 08-21 ends on Monday 09-23.
    assert cal.add_months(D(2024, 8, 21), 1) == D(2024, 9, 23)
    # Month ends are clamped: 01-31 + 1 month = 02-29 (2024 is a leap year, a Thursday).
    assert cal.add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)


def test_national_day_week_and_its_makeup_saturday(cal):
    assert cal.add_workdays(D(2024, 9, 30), 1) == D(2024, 10, 8)
    assert cal.is_workday(D(2024, 10, 12))  # Saturday make-up day in 2024


def test_years_beyond_the_official_table_fall_back_and_say_so(cal):
    assert not cal.is_official(D(2027, 3, 1))
    assert not cal.is_workday(D(2027, 1, 1))  # New Year from the public-holiday list
    assert not cal.is_workday(D(2027, 3, 6))  # a Saturday
    assert cal.is_workday(D(2027, 3, 1))


def test_overrides_set_next_years_arrangement():
    cal = WorkCalendar(overrides={"2027-02-20": "workday", "2027-03-01": "holiday"})
    assert cal.is_workday(D(2027, 2, 20)) and cal.is_official(D(2027, 2, 20))
    assert not cal.is_workday(D(2027, 3, 1))


def test_bad_override_is_refused():
    with pytest.raises(ValueError, match="2027-01-04"):
        WorkCalendar(overrides={"2027-01-04": "maybe"})


def test_workdays_between(cal):
    assert cal.workdays_between(D(2024, 3, 4), D(2024, 3, 25)) == 15
    assert cal.workdays_between(D(2024, 3, 25), D(2024, 3, 4)) == -15


def test_policy_due_and_reminder_in_china_time():
    policy = DeadlinePolicy({"deadlines": {"reply": {"workdays": 15, "reminder_before_workdays": 3}}})
    due = policy.due_at("reply", D(2024, 3, 21))
    assert due.date() == D(2024, 4, 12) and due.utcoffset() == dt.timedelta(hours=8)
    assert policy.reminder_at("reply", D(2024, 3, 21)).date() == D(2024, 4, 9)


def test_policy_refuses_ambiguous_rule():
    with pytest.raises(ValueError, match="exactly one"):
        DeadlinePolicy({"deadlines": {"x": {"workdays": 5, "months": 1}}})


def test_whether_the_table_covers_a_year_is_asked_once_per_year(cal, monkeypatch):
    """``estimated`` is asked for every due date a page shows; chinesecalendar scans its whole table on each
    question, so the answer is kept per year (the table cannot change while the process runs)."""
    import chinese_calendar

    from engine.scheduling import workdays

    asked = []
    real = chinese_calendar.is_workday
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda day: asked.append(day) or real(day))
    workdays._table_covers.cache_clear()
    try:
        flags = [cal.estimated(dt.date(2026, 3, d)) for d in range(1, 29)] + [cal.estimated(dt.date(2027, 5, 6))] * 9
        assert flags == [False] * 28 + [True] * 9
        assert len(asked) == 2  # 2026 and 2027, once each
    finally:
        workdays._table_covers.cache_clear()  # the next test's answers come from the real table again
