"""The administrator's calendar page, the warning from 1 November, and 预估 on the inbox, task page and cockpit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, WorkCalendarEntry
from engine.scheduling.arrangements import book_source

ENTRY = {
    "year": "2027",
    "official": "1",
    "notice_no": "国办发明电〔2026〕99号（测试）",
    "notice_date": "2026-11-10",
    "holidays": "2027-01-01..2027-01-03\n2027-02-05..2027-02-13",
    "workdays": "2027-01-31\n2027-02-20",
}


@pytest.fixture(autouse=True)
def late_november(db):
    book_source(db.engine).invalidate()  # the PostgreSQL engine outlives a test: read its emptied table
    with clock.frozen(dt.datetime(2026, 11, 30, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        yield frozen
    book_source(db.engine).invalidate()


def test_only_administrators_open_the_calendar(client_for):
    assert client_for("so1").get("/admin/calendar/").status_code == 403
    assert client_for("so1").post("/admin/calendar/", data=ENTRY).status_code == 403
    admin = client_for("admin")
    assert admin.http.post("/admin/calendar/", data=ENTRY).status_code == 400  # no CSRF token


def test_the_warning_shows_until_next_year_is_entered(client_for, services):
    admin = client_for("admin")
    assert 'data-testid="calendar-warning"' in admin.get("/admin/").get_data(as_text=True)
    page = admin.get("/admin/calendar/").get_data(as_text=True)
    assert 'data-testid="calendar-warning"' in page and "2027 年的节假日安排尚未录入" in page
    assert 'data-testid="year-2027"' in page and "推算（无调休）" in page

    resp = admin.post("/admin/calendar/", data=ENTRY)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/calendar/2027")
    year = admin.get("/admin/calendar/2027").get_data(as_text=True)
    assert (
        "2027-02-05..2027-02-13" in year
        and "2027-01-31、2027-02-20" in year
        and "国办发明电〔2026〕99号（测试）" in year
    )
    assert 'data-testid="calendar-warning"' not in admin.get("/admin/").get_data(as_text=True)
    with services.db.session() as s:
        assert s.scalar(select(WorkCalendarEntry.entered_by)) == "admin"
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.action == "calendar_entered")) == "admin"


def test_a_wrong_entry_names_its_fields_and_saves_nothing(client_for, services):
    admin = client_for("admin")
    resp = admin.post("/admin/calendar/", data={**ENTRY, "workdays": "2027-02-17", "notice_no": ""})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="a-workdays-error"' in html and "星期三" in html
    assert 'id="a-notice_no-error"' in html
    with services.db.session() as s:
        assert s.scalar(select(WorkCalendarEntry.id)) is None


def test_inbox_task_page_and_cockpit_mark_an_estimated_due_date(client_for, services, who, late_november):
    late_november.set(dt.datetime(2026, 12, 28, 10, tzinfo=clock.LOCAL_TZ))
    start = services.runtime.start("gt_test_clue", actor=who("cm1"))
    done = services.runtime.complete_task(
        start.created_tasks[0], actor=who("cm1"), data={"clue_no": "XS-2026-0100", "handling_unit": "jc1"}
    )
    propose = done.created_tasks[0]
    so1 = client_for("so1")
    assert 'data-testid="due-estimated"' in so1.get("/inbox?tab=group").get_data(as_text=True)
    assert 'data-testid="due-estimated"' in so1.get(f"/tasks/{propose}").get_data(as_text=True)

    # Monday 2027-01-04: one working day left, so the cockpit's deadlines list it.
    late_november.set(dt.datetime(2027, 1, 4, 10, tzinfo=clock.LOCAL_TZ))
    boss = client_for("boss")
    deadlines = boss.get("/cockpit/deadlines").get_data(as_text=True)
    assert "XS-2026-0100" in deadlines and 'data-testid="due-estimated"' in deadlines

    assert client_for("admin").post("/admin/calendar/", data={**ENTRY, "notice_date": "2026-12-01"}).status_code == 302
    assert 'data-testid="due-estimated"' not in so1.get("/inbox?tab=group").get_data(as_text=True)
    assert 'data-testid="due-estimated"' not in so1.get(f"/tasks/{propose}").get_data(as_text=True)
    deadlines = boss.get("/cockpit/deadlines").get_data(as_text=True)
    assert "XS-2026-0100" in deadlines and 'data-testid="due-estimated"' not in deadlines


def test_the_calendar_page_in_english(client_for):
    admin = client_for("admin")
    admin.post("/locale", data={"locale": "en", "next": "/admin/calendar/"})
    page = admin.get("/admin/calendar/").get_data(as_text=True)
    assert "Working-day calendar" in page and "Guessed (no make-up working days)" in page
    assert "The holiday arrangement for 2027 has not been entered" in page
