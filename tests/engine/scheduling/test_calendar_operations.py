"""The working-day calendar as managed data: entering a year moves open tasks' limits, audited; 预估 marks guesses.

The dates are counted by hand on the 2027 calendar (weekdays: 2027-02-01 Monday, 02-05 Friday, 02-13 and
02-20 Saturday, 01-31 Sunday). Before an arrangement is entered, 2027 is a guess from the ``holidays``
package: 02-05..02-10 off, no make-up day. The arrangement entered here: 02-05..02-13 off (春节), make-up
working days Sunday 01-31 and Saturday 02-20 (调休).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.config import Config
from engine.errors import Forbidden, ValidationError
from engine.models import AuditEvent, HumanTask, ProcessInstance, WorkCalendarEntry
from engine.scheduling import operations as calendar_ops
from engine.scheduling.arrangements import book_source
from engine.services import Services
from engine.tasks import inbox

ROOT = Path(__file__).resolve().parents[3]
S = SYSTEM_PRINCIPAL
ADMIN = Principal(username="admin", admin_kind="system")
OFFICER = Principal(username="so1", memberships=frozenset({("jc1", "supervision_office")}))
LOCAL = clock.LOCAL_TZ

ARRANGEMENT_2027 = dict(
    year=2027,
    notice_no="国办发明电〔2026〕99号（测试）",
    notice_date="2026-11-10",
    holidays=["2027-01-01..2027-01-03", "2027-02-05..2027-02-13"],
    workdays=["2027-01-31", "2027-02-20"],
)


@pytest.fixture
def services(db, deployed, tmp_path):
    book_source(db.engine).invalidate()  # the PostgreSQL engine outlives a test: read its emptied table
    yield Services(Config.from_env(database_url=db.url, instance_dir=tmp_path), db=db)
    book_source(db.engine).invalidate()


def _end(y, m, d):
    return dt.datetime(y, m, d, 23, 59, 59, tzinfo=LOCAL)


def _nine(y, m, d):
    return dt.datetime(y, m, d, 9, 0, tzinfo=LOCAL)


def _propose_task(services, clue: str) -> int:
    """A 提出处置意见 task (5 working days, reminder 2 working days before) created now."""
    rt = services.runtime
    start = rt.start("gt_test_clue")
    done = rt.complete_task(start.created_tasks[0], actor=S, data={"clue_no": clue, "handling_unit": "jc1"})
    return done.created_tasks[0]


def _task(services, task_id) -> HumanTask:
    with services.db.session() as s:
        return s.get(HumanTask, task_id)


def _due(services, task_id) -> inbox.DueInfo:
    with services.db.session() as s:
        task = s.get(HumanTask, task_id)
        calendar = inbox.Calendars(s)(s.get(ProcessInstance, task.instance_id).version_id)
    return inbox.due_info(task.due_at, calendar, reminder_at=task.reminder_at)


def test_entering_2027_moves_open_tasks_across_spring_festival_and_a_make_up_saturday(services):
    with clock.frozen(dt.datetime(2027, 2, 1, 10, tzinfo=LOCAL)) as frozen:
        across_festival = _propose_task(services, "XS-2027-0001")
        frozen.set(dt.datetime(2027, 2, 17, 10, tzinfo=LOCAL))
        across_saturday = _propose_task(services, "XS-2027-0002")
        legacy = _propose_task(services, "XS-2027-0003")
        done = _propose_task(services, "XS-2027-0004")
        services.runtime.complete_task(done, actor=S, data={"disposal": "liaojie"})
        with services.db.session() as s:  # a row from before due_start was kept
            s.execute(update(HumanTask).where(HumanTask.id == legacy).values(due_start=None))

        # The guess: 02-02, 02-03, 02-04, (02-05..02-10 off) 02-11, 02-12 -> Friday 02-12; reminder 02-04.
        first = _task(services, across_festival)
        assert (first.due_at, first.reminder_at) == (_end(2027, 2, 12), _nine(2027, 2, 4))
        # From Wednesday 02-17: 02-18, 02-19, 02-22, 02-23, 02-24 -> 02-24; reminder 02-22.
        second = _task(services, across_saturday)
        assert (second.due_at, second.reminder_at) == (_end(2027, 2, 24), _nine(2027, 2, 22))
        assert _due(services, across_saturday).estimated

        result = calendar_ops.enter_arrangement(services, ADMIN, **ARRANGEMENT_2027)

    # Now 02-05..02-13 off: 02-02, 02-03, 02-04, (Sunday 02-14 off) 02-15, 02-16 -> Tuesday 02-16.
    # Reminder two working days back: 02-15, 02-04.
    first = _task(services, across_festival)
    assert (first.due_at, first.reminder_at) == (_end(2027, 2, 16), _nine(2027, 2, 4))
    # Saturday 02-20 is worked: 02-18, 02-19, 02-20, 02-22, 02-23 -> Tuesday 02-23; reminder 02-22, 02-20.
    second = _task(services, across_saturday)
    assert (second.due_at, second.reminder_at) == (_end(2027, 2, 23), _nine(2027, 2, 20))
    assert _task(services, legacy).due_at == _end(2027, 2, 23)  # counted from its creation day
    assert _task(services, done).due_at == _end(2027, 2, 24)  # completed: left as it was
    assert {t.task_id for t in result.tasks} == {across_festival, across_saturday, legacy}
    assert result.skipped == ()
    assert {dt.date(2027, 1, 31), dt.date(2027, 2, 11), dt.date(2027, 2, 12), dt.date(2027, 2, 20)} <= set(
        result.changed_days
    )

    with services.db.session() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "task_due_recomputed").order_by(AuditEvent.task_id)
        ).all()
        entered = s.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_entered")).one()
    by_task = {e.task_id: e.detail for e in events}
    assert set(by_task) == {across_festival, across_saturday, legacy}
    assert by_task[across_saturday]["due_at_before"] == _end(2027, 2, 24).astimezone(dt.UTC).isoformat()
    assert by_task[across_saturday]["due_at_after"] == _end(2027, 2, 23).astimezone(dt.UTC).isoformat()
    assert by_task[across_saturday]["reminder_at_after"] == _nine(2027, 2, 20).astimezone(dt.UTC).isoformat()
    assert all(e.actor == "admin" for e in events)
    assert entered.detail["year"] == 2027 and entered.detail["tasks_recomputed"] == 3

    assert by_task[across_saturday]["timers_rearmed"] == ["propose_late"]

    # The boundary timer deadline('propose') beside the task follows it: armed for 02-23, not 02-24.
    instance_id = _task(services, across_saturday).instance_id
    with services.db.session() as s:
        assert s.get(ProcessInstance, instance_id).next_timer_at == _end(2027, 2, 23)
    with clock.frozen(dt.datetime(2027, 2, 18, 10, tzinfo=LOCAL)):
        assert not _due(services, across_saturday).estimated
    with clock.frozen(dt.datetime(2027, 2, 24, 0, 30, tzinfo=LOCAL)):
        services.runtime.fire_due_timers()
    assert _task(services, across_saturday).status == "cancelled"
    with services.db.session() as s:
        names = s.scalars(
            select(HumanTask.name).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
        )
        assert list(names) == ["督办逾期处置"]


def test_a_later_entry_wins_and_the_history_is_kept(services):
    with clock.frozen(dt.datetime(2026, 12, 1, 10, tzinfo=LOCAL)):
        draft = {**ARRANGEMENT_2027, "official": False, "notice_no": None, "notice_date": None}
        calendar_ops.enter_arrangement(services, ADMIN, **draft)
        view = calendar_ops.show_year(services, ADMIN, 2027)
        assert (view.source, view.official) == ("entered", False)
        calendar_ops.enter_arrangement(services, ADMIN, **ARRANGEMENT_2027)
        view = calendar_ops.show_year(services, ADMIN, 2027)
    assert view.official and view.notice_no == ARRANGEMENT_2027["notice_no"]
    assert [h.official for h in view.history] == [True, False]
    assert dt.date(2027, 2, 13) in view.holidays and view.workdays == (dt.date(2027, 1, 31), dt.date(2027, 2, 20))
    years = {y.year: y for y in calendar_ops.list_years(services, ADMIN, today=dt.date(2026, 12, 1))}
    assert (years[2026].source, years[2026].official) == ("table", True)
    assert years[2027].source == "entered"
    with services.db.session() as s:
        assert s.query(WorkCalendarEntry).count() == 2


def test_a_due_date_in_an_unofficial_year_is_estimated(services):
    with clock.frozen(dt.datetime(2026, 12, 28, 10, tzinfo=LOCAL)):
        # From Monday 12-28: 12-29, 12-30, 12-31 (2026, official), then 2027: 01-01 off (the guess), 01-04, 01-05.
        task_id = _propose_task(services, "XS-2026-0100")
        assert _task(services, task_id).due_at == _end(2027, 1, 5)
        assert _due(services, task_id).estimated
        with services.db.session() as s:
            page = inbox.list_tasks(s, OFFICER, inbox.InboxQuery(tab="group"))
        assert [item.due.estimated for item in page.items if item.id == task_id] == [True]
        with services.db.session() as s:
            assert not inbox.due_info(_end(2026, 12, 31), inbox.Calendars(s)(None)).estimated


@pytest.mark.parametrize(
    "change, field",
    [
        ({"year": "二〇二七"}, "year"),
        ({"holidays": ["2027-02-30"]}, "holidays"),
        ({"holidays": ["2028-01-01"]}, "holidays"),
        ({"workdays": ["2027-02-17"]}, "workdays"),  # a Wednesday
        ({"workdays": ["2027-02-13"]}, "workdays"),  # also a holiday
        ({"notice_no": ""}, "notice_no"),
        ({"notice_date": "2026-13-01"}, "notice_date"),
        ({"notice_date": "2027-01-01"}, "notice_date"),  # after today
    ],
)
def test_a_wrong_arrangement_names_the_field_and_stores_nothing(services, change, field):
    with clock.frozen(dt.datetime(2026, 12, 1, 10, tzinfo=LOCAL)), pytest.raises(ValidationError) as caught:
        calendar_ops.enter_arrangement(services, ADMIN, **{**ARRANGEMENT_2027, **change})
    assert field in caught.value.fields
    with services.db.session() as s:
        assert s.query(WorkCalendarEntry).count() == 0


def test_only_the_system_administrator_manages_the_calendar(services):
    security = Principal(username="secadmin", admin_kind="security")
    for person in (OFFICER, security, Principal(username="auditadmin", admin_kind="audit")):
        with pytest.raises(Forbidden) as caught:
            calendar_ops.enter_arrangement(services, person, **ARRANGEMENT_2027)
        assert caught.value.details["reason"] == "sanyuan_system_admin_only"
        with pytest.raises(Forbidden):
            calendar_ops.list_years(services, person)
        assert calendar_ops.calendar_warning(services, person, dt.date(2026, 11, 30)) is None


def test_the_warning_appears_from_1_november_until_next_year_is_entered(services):
    assert calendar_ops.calendar_warning(services, ADMIN, dt.date(2026, 10, 31)) is None
    warning = calendar_ops.calendar_warning(services, ADMIN, dt.date(2026, 11, 1))
    assert warning is not None and warning.years == (2027,)
    assert calendar_ops.calendar_warning(services, ADMIN, dt.date(2027, 1, 5)).years == (2027,)
    with clock.frozen(dt.datetime(2026, 11, 30, 10, tzinfo=LOCAL)):
        calendar_ops.enter_arrangement(services, ADMIN, **ARRANGEMENT_2027)
    assert calendar_ops.calendar_warning(services, ADMIN, dt.date(2026, 11, 30)) is None


def test_the_shipped_2027_draft_imports_as_unofficial(services):
    text = (ROOT / "processes" / "calendar" / "2027.yaml").read_text(encoding="utf-8")
    with clock.frozen(dt.datetime(2026, 11, 30, 10, tzinfo=LOCAL)):
        result = calendar_ops.import_arrangement(services, ADMIN, text, source="import: 2027.yaml")
    assert result.year == 2027 and not result.official
    view = calendar_ops.show_year(services, ADMIN, 2027)
    assert dt.date(2027, 2, 6) in view.holidays and all(d.weekday() >= 5 for d in view.workdays)
    # a draft is not the notice: the warning stays
    assert calendar_ops.calendar_warning(services, ADMIN, dt.date(2026, 11, 30)).years == (2027,)


def test_import_refuses_unknown_fields_and_bad_yaml(services):
    with pytest.raises(ValidationError) as caught:
        calendar_ops.import_arrangement(services, ADMIN, "year: 2027\nholiday: [2027-01-01]\n")
    assert "holiday" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        calendar_ops.import_arrangement(services, ADMIN, "year: [2027\n")
    assert "file" in caught.value.fields
