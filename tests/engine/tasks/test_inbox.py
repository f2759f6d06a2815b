"""engine.inbox: tabs, filters, pagination and counts from human_task alone; due states; context."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.access import duties
from engine.clock import LOCAL_TZ
from engine.models import HumanTask
from engine.organisation.directory import import_organisation
from engine.scheduling.workdays import WorkCalendar
from engine.tasks import inbox
from tests.conftest import principal_of as who

ORG = {
    "units": [
        {"code": "ags", "name": "案管室", "kind": "office"},
        {"code": "jc1", "name": "一室", "kind": "office"},
        {"code": "jc2", "name": "二室", "kind": "office"},
        {"code": "cdi", "name": "委", "kind": "commission"},
    ],
    "users": [
        {"username": "cm1", "name": "案管一", "roles": [{"unit": "ags", "role": "case_management"}]},
        {"username": "cm2", "name": "案管二", "roles": [{"unit": "ags", "role": "case_management"}]},
        {"username": "so1", "name": "一室甲", "roles": [{"unit": "jc1", "role": "supervision_office"}]},
        {
            "username": "lead1",
            "name": "一室主任",
            "roles": [{"unit": "jc1", "role": "supervision_office", "leader": True}],
        },
        {"username": "so2", "name": "二室甲", "roles": [{"unit": "jc2", "role": "supervision_office"}]},
        {"username": "boss", "name": "书记", "roles": [{"unit": "cdi", "role": "commission_secretary"}]},
    ],
}


@pytest.fixture
def org(db, deployed):
    with db.session() as s:
        import_organisation(s, ORG)


def page(db, username, **query):
    with db.session() as s:
        return inbox.list_tasks(s, who(db, username), inbox.InboxQuery(**query))


def start(runtime, db, n=1, **data):
    return [
        runtime.start(
            "gt_test_clue", actor=who(db, "cm1"), data={**data, "clue_no": f"XS-{i}"} if "clue_no" not in data else data
        )
        for i in range(n)
    ]


def register_all(runtime, db, unit="jc1"):
    with db.session() as s:
        ids = s.scalars(select(HumanTask.id).where(HumanTask.spec_id == "register", HumanTask.status == "ready")).all()
    for task_id in ids:
        runtime.complete_task(task_id, actor=who(db, "cm1"), data={"clue_no": f"XS-{task_id}", "handling_unit": unit})


def test_group_tab_is_role_and_unit_scoped(db, runtime, org):
    start(runtime, db, 3)
    assert page(db, "cm1", tab="group").total == 3
    assert page(db, "cm2", tab="group").total == 3
    assert page(db, "so1", tab="group").total == 0
    register_all(runtime, db, unit="jc1")
    assert page(db, "so1", tab="group").total == 3
    assert page(db, "lead1", tab="group").total == 3
    assert page(db, "so2", tab="group").total == 0
    assert page(db, "cm1", tab="completed").total == 3
    assert page(db, "cm2", tab="completed").total == 0
    items = page(db, "so1", tab="group").items
    assert all(i.claimable and i.units == ["jc1"] and i.process_name == "测试线索处置" for i in items)


def test_mine_team_and_counts(db, runtime, org):
    start(runtime, db, 2)
    register_all(runtime, db)
    first = page(db, "so1", tab="group").items[0]
    runtime.claim(first.id, actor=who(db, "so1"))
    result = page(db, "so1", tab="mine")
    assert [i.id for i in result.items] == [first.id]
    assert result.counts == {"mine": 1, "group": 1, "team": 0, "completed": 0}
    assert page(db, "lead1", tab="team").counts["team"] == 2  # the leader sees claimed and unclaimed
    assert page(db, "so2", tab="team").total == 0


def test_counts_equal_the_rows_of_each_tab(db, runtime, org):
    """The badges come from one statement and the page's total from its own badge: each must equal the
    rows the tab actually lists, for every person, with and without a filter."""
    start(runtime, db, 4)
    register_all(runtime, db, unit="jc1")
    start(runtime, db, 2, clue_no="XS-open")
    group = page(db, "so1", tab="group").items
    runtime.claim(group[0].id, actor=who(db, "so1"))
    runtime.complete_task(group[1].id, actor=who(db, "lead1"), data={"disposal": "chubu_heshi"})
    for username in ("cm1", "cm2", "so1", "lead1", "so2", "boss"):
        for filters in ({}, {"stage": "dispose"}, {"q": "XS-open"}, {"unit": "jc1"}):
            first = page(db, username, **filters)
            for tab in inbox.TABS:
                listed = page(db, username, tab=tab, per_page=inbox.MAX_PER_PAGE, **filters)
                assert listed.counts == first.counts, (username, filters)
                assert listed.total == first.counts[tab] == len(listed.items), (username, tab, filters)
    counts = page(db, "lead1").counts
    assert counts["team"] == 3 and counts["completed"] == 1 and counts["group"] == 2  # the claimed one is mine only


def test_web_page_reads_the_same_counts_rows_and_menus(db, runtime, org):
    """``inbox_page`` reads badges and menus in one grouped statement when no filter applies: it must
    answer exactly what ``list_tasks`` and ``filter_choices`` answer separately."""
    start(runtime, db, 3)
    register_all(runtime, db, unit="jc1")
    start(runtime, db, 1, clue_no="XS-open")
    runtime.claim(page(db, "so1", tab="group").items[0].id, actor=who(db, "so1"))
    for username in ("cm1", "so1", "lead1", "so2", "boss"):
        p = who(db, username)
        for query in (
            inbox.InboxQuery(tab="group"),
            inbox.InboxQuery(tab="team"),
            inbox.InboxQuery(tab="mine", stage="dispose"),
            inbox.InboxQuery(tab="group", q="open"),
        ):
            with db.session() as s:
                combined, choices = inbox.inbox_page(s, p, query)
                separate = inbox.list_tasks(s, p, query)
                assert choices == inbox.filter_choices(s, p), (username, query)
            assert combined.counts == separate.counts and combined.total == separate.total, (username, query)
            assert [i.id for i in combined.items] == [i.id for i in separate.items], (username, query)
    with db.session() as s:
        _, choices = inbox.inbox_page(s, who(db, "lead1"))
    assert choices["processes"] == [("gt_test_clue", "测试线索处置")] and choices["units"] == ["jc1"]


def test_the_kept_summary_follows_a_change_of_memberships(db, runtime, org):
    """The inbox page's grouped summary is built once per person and kept (engine/tasks/inbox.py
    ``_summary_statement``): a role given to the person counts at once, and two people with the same
    roles never share one's badges."""
    import dataclasses

    start(runtime, db, 2)
    register_all(runtime, db, unit="jc1")
    inbox._summary_statement.cache_clear()
    so2 = who(db, "so2")
    with db.session() as s:
        assert inbox.inbox_page(s, so2)[0].counts["group"] == 0
        assert inbox.inbox_page(s, so2)[0].counts["group"] == 0
        assert inbox._summary_statement.cache_info().hits >= 1
        joined = dataclasses.replace(so2, memberships=so2.memberships | {("jc1", "supervision_office")})
        assert inbox.inbox_page(s, joined)[0].counts["group"] == 2
        assert inbox.inbox_page(s, so2)[0].counts["group"] == 0
        cm1, twin = who(db, "cm1"), dataclasses.replace(who(db, "cm1"), username="cm9")
        assert inbox.inbox_page(s, cm1)[0].counts["completed"] == 2
        assert inbox.inbox_page(s, twin)[0].counts["completed"] == 0


def test_filters_search_and_pagination(db, runtime, org):
    for i in range(5):
        runtime.start("gt_test_clue", actor=who(db, "cm1"), data={"clue_no": f"XS-2024-{i}"})
    result = page(db, "cm1", tab="group", per_page=2, page=3)
    assert result.total == 5 and result.pages == 3 and len(result.items) == 1
    ids = [i.id for p in (1, 2, 3) for i in page(db, "cm1", tab="group", per_page=2, page=p).items]
    assert len(set(ids)) == 5
    assert [i.business_key for i in page(db, "cm1", tab="group", q="2024-3").items] == ["XS-2024-3"]
    assert page(db, "cm1", tab="group", q="_").total == 0  # wildcards are literal
    assert (
        page(db, "cm1", tab="group", stage="dispose", platform="P5", mechanism="M2", process_key="gt_test_clue").total
        == 5
    )
    assert page(db, "cm1", tab="group", platform="P1").total == 0
    assert page(db, "cm1", tab="group", unit="ags").total == 0  # register names no candidate unit


def test_inbox_never_loads_workflow_state(db, runtime, org):
    start(runtime, db, 2)
    statements = []
    from sqlalchemy import event

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        page(db, "cm1", tab="group")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert statements and not any("process_instance.state" in s for s in statements)


def test_due_info_in_working_days():
    cal = WorkCalendar()
    due = dt.datetime(2024, 4, 12, 23, 59, 59, tzinfo=LOCAL_TZ)  # Friday after 清明
    at = lambda *a: dt.datetime(*a, tzinfo=LOCAL_TZ)  # noqa: E731
    assert inbox.due_info(None, cal).state == "none"
    ok = inbox.due_info(due, cal, now=at(2024, 4, 3, 9))
    assert (ok.state, ok.workdays_left) == ("ok", 6)  # 04-04..06 holiday, Sunday 04-07 a working day
    soon = inbox.due_info(due, cal, now=at(2024, 4, 10, 9))
    assert (soon.state, soon.workdays_left) == ("due_soon", 2)
    reminded = inbox.due_info(due, cal, now=at(2024, 4, 3, 9), reminder_at=at(2024, 4, 1, 9))
    assert reminded.state == "due_soon"
    late = inbox.due_info(due, cal, now=at(2024, 4, 16, 9))
    assert (late.state, late.workdays_left) == ("overdue", -2)
    assert inbox.due_info(due, cal, now=at(2024, 4, 16, 9), status="completed").state == "none"


def test_context_visible_to_people_involved(db, runtime, org):
    [outcome] = start(runtime, db, 1)
    register_all(runtime, db, unit="jc1")
    with db.session() as s:
        assert inbox.can_see_instance(s, who(db, "so1"), outcome.instance_id)
        assert inbox.can_see_instance(s, who(db, "cm2"), outcome.instance_id)  # 案管 sees every clue's metadata
        assert not inbox.can_see_instance(s, who(db, "so2"), outcome.instance_id)
        assert not inbox.can_see_instance(s, who(db, "boss"), outcome.instance_id)
        steps = inbox.instance_steps(s, outcome.instance_id)
        assert [(st.name, st.submitted_by_name) for st in steps] == [("登记线索", "案管一")]
        propose = s.scalar(select(HumanTask).where(HumanTask.spec_id == "propose"))
        assert inbox.eligible_assignees(s, propose, duties.bars(s, propose)) == [
            ("lead1", "一室主任"),
            ("so1", "一室甲"),
        ]
        assert inbox.latest_draft(s, propose.id) is None
