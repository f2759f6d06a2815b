"""预估 in the API: a due date counted on a year without an official arrangement says so, until one is entered."""

import datetime as dt

import pytest

from engine import clock
from engine.scheduling import operations as calendar_ops
from engine.scheduling.arrangements import book_source


@pytest.fixture(autouse=True)
def fresh_arrangements(db):
    book_source(db.engine).invalidate()  # the PostgreSQL engine outlives a test: read its emptied table
    yield
    book_source(db.engine).invalidate()


def test_a_due_date_in_an_unofficial_year_is_marked_estimated(api_as, clue, services, who):
    with clock.frozen(dt.datetime(2026, 12, 28, 10, tzinfo=clock.LOCAL_TZ)):
        so1, clue.cm1 = api_as("so1"), api_as("cm1")  # tokens minted on the frozen clock
        clue.start()
        clue.register(unit="jc1")
        # 5 working days from Monday 2026-12-28: 12-29, 12-30, 12-31, (2027-01-01 off, a guess) 01-04, 01-05.
        [listed] = so1.get("/tasks?scope=group").get_json()["items"]
        assert listed["due_at"].startswith("2027-01-05T") and listed["due_estimated"] is True
        detail = so1.get(f"/tasks/{listed['id']}").get_json()
        assert detail["due_estimated"] is True

        calendar_ops.enter_arrangement(
            services,
            who("admin"),
            year=2027,
            notice_no="国办发明电〔2026〕99号（测试）",
            notice_date="2026-11-10",
            holidays=["2027-01-01..2027-01-03", "2027-02-05..2027-02-13"],
            workdays=["2027-01-31", "2027-02-20"],
        )
        [listed] = so1.get("/tasks?scope=group").get_json()["items"]
        assert listed["due_estimated"] is False
        assert so1.get(f"/tasks/{listed['id']}").get_json()["due_estimated"] is False


def test_a_due_date_in_an_official_year_is_not_estimated(api_as, clue):
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)):
        clue.start()
        clue.register(unit="jc1")
        [listed] = api_as("so1").get("/tasks?scope=group").get_json()["items"]
    assert listed["due_estimated"] is False
