"""The cockpit's use cases on the seeded May Day county (conftest.py): every figure computed by hand.

Each use case is called as the web page calls it: (services, principal, plain filters) → frozen plain data,
usable after its transaction has closed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import event, update

from engine.cockpit import operations
from engine.models import HumanTask, Notification

from .conftest import end_of


def test_overview_counts_running_instances_and_overdue_work(services, who, seeded):
    data = operations.overview(services, who("boss"), soon_workdays=2)
    assert data.statuses == {"running": 5, "error": 1, "suspended": 1, "completed": 1}
    assert data.running == 5
    assert data.by_stage == {"dispose": 5} and data.by_platform == {"P5": 5} and data.by_mechanism == {"M2": 5}
    assert data.matrix == {("dispose", "P5"): 5}
    assert data.stages == ["goal", "discover", "dispose", "rectify"]
    assert (data.overdue_tasks, data.overdue_instances, data.due_soon) == (1, 1, 2)  # A; B and C
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.running = 0  # type: ignore[misc]


def test_an_overdue_instance_stops_counting_once_it_is_no_longer_running(services, who, seeded):
    services.runtime.suspend(seeded.instances["A"], actor=who("boss"))
    data = operations.overview(services, who("boss"))
    assert (data.running, data.overdue_instances) == (4, 0)
    assert data.overdue_tasks == 1  # the task itself is still ready and late


def test_deadlines_across_the_may_day_holiday(services, who, seeded):
    with services.db.session() as s:
        s.add(
            Notification(
                kind="escalation",
                role_code="commission_secretary",
                unit_code="cdi",
                instance_id=seeded.instances["A"],
                message="督办：A 已逾期",
            )
        )
        s.add(Notification(kind="reminder", username="so1", message="提醒：B 即将到期"))
    data = operations.deadlines(services, who("boss"), soon_workdays=2)
    assert data.totals == {"overdue": 1, "due_soon": 2} and not data.truncated and data.soon_workdays == 2
    jc1, jc2 = data.groups  # the most overdue group first
    assert (jc1.unit, jc1.role, jc1.overdue, jc1.due_soon) == ("jc1", "supervision_office", 1, 1)
    assert (jc2.unit, jc2.role, jc2.overdue, jc2.due_soon) == ("jc2", "supervision_office", 0, 1)
    a, b = jc1.items
    [c] = jc2.items
    assert (a.id, b.id, c.id) == (seeded.propose["A"], seeded.propose["B"], seeded.propose["C"])
    # A was due on Tuesday 30 April: six calendar days ago, four weekdays, but one working day (6 May).
    assert (a.due.state, a.due.workdays_left, a.due.due_at) == (
        "overdue",
        -1,
        end_of(dt.date(2024, 4, 30)),
    )
    assert (b.due.state, b.due.workdays_left) == ("due_soon", 2)  # 7 and 8 May
    assert (c.due.state, c.due.workdays_left) == ("due_soon", 6)  # 7–11 May (Saturday 11 is worked) and 13 May
    assert a.units == ["jc1"] and a.business_key == "XS-A" and a.name == "提出处置意见"
    assert [n.message for n in data.escalations] == ["督办：A 已逾期"]
    # No window: C is still there, by its reminder; a wide one: D (due 28 June) is still not due soon.
    narrow = operations.deadlines(services, who("boss"), soon_workdays=0)
    assert narrow.totals == {"overdue": 1, "due_soon": 1} and [g.unit for g in narrow.groups] == ["jc1", "jc2"]
    assert operations.deadlines(services, who("boss"), soon_workdays=10).totals == {"overdue": 1, "due_soon": 2}


def test_deadlines_take_a_fixed_number_of_queries_whatever_the_rows(services, who, seeded, steady_caches):
    def statements() -> int:
        seen: list[str] = []

        def capture(conn, cursor, statement, *args):
            # the holiday arrangements are re-read when their cache ages (engine/scheduling/arrangements.py):
            # on a slow machine that may fall between the two calls; it is not a query per row
            if "work_calendar" not in statement:
                seen.append(statement)

        event.listen(services.db.engine, "before_cursor_execute", capture)
        try:
            operations.deadlines(services, who("boss"))
            operations.overview(services, who("boss"))
        finally:
            event.remove(services.db.engine, "before_cursor_execute", capture)
        assert not [q for q in seen if "process_instance.state" in q]  # never the workflow state
        return len(seen)

    before = statements()
    with services.db.session() as s:  # every ready task overdue now: more rows, not more queries
        s.execute(update(HumanTask).where(HumanTask.status == "ready").values(due_at=end_of(dt.date(2024, 4, 30))))
    assert operations.deadlines(services, who("boss")).totals["overdue"] == 7
    assert statements() == before


def test_durations_count_working_days_on_the_holiday_calendar(services, who, seeded):
    data = operations.durations(services, who("boss"))
    [step] = [s for s in data.steps if s.key == ("gt_test_clue", "register")]
    # hours 2, 48, 136, 146; working days 0, 1, 1, 2 (see conftest.REGISTER_TIMES)
    assert (step.count, step.sample, step.label) == (4, 4, "登记线索")
    assert step.mean_hours == pytest.approx(83.0, abs=0.01)
    assert step.median_hours == pytest.approx(92.0) and step.p90_hours == pytest.approx(143.0)
    assert step.median_workdays == 1 and step.p90_workdays == pytest.approx(1.7)
    [stage] = data.stages
    assert (stage.stage, stage.count, stage.median_hours) == ("dispose", 4, pytest.approx(92.0))
    [process] = data.processes  # H: 3 April 09:00 → 8 April 09:00 over Qingming
    assert (process.label, process.count, process.mean_hours) == ("测试线索处置", 1, pytest.approx(120.0, abs=0.01))
    assert (process.median_hours, process.median_workdays, process.p90_workdays) == (120.0, 2, 2)
    # the process filter's choices: every deployed process by key, named after its latest version
    assert data.process_names["gt_test_clue"] == "测试线索处置"
    assert list(data.process_names) == sorted(data.process_names)
    assert not data.sampled and data.process_key is None


def test_durations_filter_by_process_and_sample(services, who, seeded):
    none = operations.durations(services, who("boss"), process_key="  nope ")
    assert (none.steps, none.stages, none.processes, none.process_key) == ([], [], [], "nope")
    assert "gt_test_clue" in none.process_names  # the choices stay whole
    one = operations.durations(services, who("boss"), process_key="gt_test_clue", sample_limit=2)
    [step] = [s for s in one.steps if s.key == ("gt_test_clue", "register")]
    # the two most recent completions (C at 11:00 and B at 11:00 on 6 May: 2 h and 146 h); the mean is over all
    assert one.sampled and (step.count, step.sample) == (4, 2)
    assert step.median_hours == pytest.approx(74.0) and step.mean_hours == pytest.approx(83.0, abs=0.01)
    assert operations.durations(services, who("boss"), process_key="x" * 500).process_key == "x" * 120


def test_failed_instances_name_the_element_and_who_may_retry(services, who, seeded):
    data = operations.failed(services, who("boss"))
    [row] = data.rows
    assert row.id == seeded.instances["F"] and row.process_name == "测试线索处置"
    assert row.error["element"] == "gw_disposal" and "no gateway condition" in row.error["message"]
    assert row.attempts == 1 and (data.total, data.page, data.pages) == (1, 1, 1)
    assert data.may_retry is True  # the overseers retry; no administrator opens the cockpit (三员分立)
    later = operations.failed(services, who("boss"), page=3, per_page=1)
    assert (later.rows, later.total, later.page, later.pages) == ([], 1, 3, 1)
    assert operations.failed(services, who("boss"), page=-4).page == 1
