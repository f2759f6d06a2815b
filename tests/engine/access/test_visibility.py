"""engine/visibility.py: the ``instance_access`` rows stay what the rule derives, through every state change.

The rule is ``authz.can_see`` per task (the starter sees their instance too); the table is a derived copy
of its unit-and-role half. After each kind of change (start, completion, claim, release, reassignment,
cancellation, a timer) the table must equal a derivation written here in Python from the task rows, and
the SQL answer for every person must equal ``can_see`` over the instance's tasks.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine import clock
from engine.access import visibility
from engine.access.authz import can_see
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.models import HumanTask, InstanceAccess, ProcessInstance
from engine.organisation.directory import import_organisation
from tests.conftest import principal_of as who
from tests.county import ORGANISATION

USERS = [u["username"] for u in ORGANISATION["users"] if u.get("active", True)]
MIGRATION = Path(__file__).resolve().parents[3] / "engine" / "migrations" / "versions" / "0003_instance_access.py"


@pytest.fixture
def county(db, deployed):
    with db.session() as s:
        import_organisation(s, ORGANISATION)


def task_of(db, instance_id, spec_id):
    with db.session() as s:
        return s.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.spec_id == spec_id, HumanTask.status == "ready"
            )
        )


def derived_in_python(s) -> set[tuple[str, str, int]]:
    """What each task grants, read from the ORM rows: its candidate units, or 'any unit' when it names none."""
    rows = set()
    for t in s.scalars(select(HumanTask)).all():
        for c in t.candidates:
            rows.add((c.unit_code, t.role or visibility.NO_ROLE, t.instance_id))
        if not t.has_candidates and t.role:
            rows.add((visibility.ANY_UNIT, t.role, t.instance_id))
    return rows


def stored(s) -> set[tuple[str, str, int]]:
    return {
        tuple(r) for r in s.execute(select(InstanceAccess.unit_code, InstanceAccess.role, InstanceAccess.instance_id))
    }


def assert_table_follows_rule(db):
    """The table equals the derivation, and every person finds exactly the instances the rule allows."""
    with db.session() as s:
        assert stored(s) == derived_in_python(s)
        tasks = s.scalars(select(HumanTask)).all()
        instances = s.execute(select(ProcessInstance.id, ProcessInstance.started_by)).all()
        for username in USERS:
            p = who(db, username)
            by_tasks = {i.id for i in instances if any(can_see(p, t) for t in tasks if t.instance_id == i.id)}
            # No administrator finds every instance (三员分立): the same rule as everyone else.
            expected = {i.id for i in instances if i.started_by == username} | by_tasks
            found = set(s.scalars(select(ProcessInstance.id).where(visibility.instance_visible_clause(p))))
            assert found == expected, username
            ids = visibility.visible_instance_ids(p)
            if ids is not None:
                assert s.scalar(select(func.count()).select_from(ids.subquery())) == len(expected), username
            readable = set(s.scalars(select(ProcessInstance.id).where(visibility.instance_data_clause(p))))
            assert readable == by_tasks, username
            for i in instances:
                assert visibility.can_see_instance(s, p, i.id) == (i.id in expected), (username, i.id)
                assert visibility.can_read_instance_data(s, p, i.id) == (i.id in readable), (username, i.id)


def start_and_register(runtime, db, clue_no, unit):
    outcome = runtime.start("gt_test_clue", actor=who(db, "cm1"), data={"clue_no": clue_no})
    runtime.complete_task(
        task_of(db, outcome.instance_id, "register"),
        actor=who(db, "cm1"),
        data={"clue_no": clue_no, "handling_unit": unit},
    )
    return outcome.instance_id


def test_access_rows_follow_every_state_change(db, runtime, county):
    started = runtime.start("gt_test_clue", actor=who(db, "cm1"), data={"clue_no": "XS-0"}).instance_id
    assert_table_follows_rule(db)  # a task that names no unit: every 案管 officer
    first = start_and_register(runtime, db, "XS-1", "jc1")
    second = start_and_register(runtime, db, "XS-2", "jc2")
    assert_table_follows_rule(db)

    propose = task_of(db, first, "propose")
    runtime.claim(propose, actor=who(db, "so1"))
    assert_table_follows_rule(db)
    runtime.unclaim(propose, actor=who(db, "so1"))
    assert_table_follows_rule(db)
    runtime.reassign(propose, actor=who(db, "so1lead"), to_username="so1b")
    assert_table_follows_rule(db)
    runtime.complete_task(propose, actor=who(db, "so1b"), data={"disposal": "chubu_heshi"})
    assert_table_follows_rule(db)  # the approval names no unit: the commission's leader

    runtime.cancel(second, actor=SYSTEM_PRINCIPAL)
    runtime.cancel(started, actor=SYSTEM_PRINCIPAL)
    assert_table_follows_rule(db)


def test_access_rows_follow_a_timer(db, runtime, county):
    instance_id = start_and_register(runtime, db, "XS-9", "jc2")
    with clock.frozen(clock.now() + dt.timedelta(days=120)):
        assert runtime.fire_due_timers() == 1
    assert task_of(db, instance_id, "escalated") is not None
    assert_table_follows_rule(db)


def test_refresh_rebuilds_what_was_lost(db, runtime, county):
    kept = start_and_register(runtime, db, "XS-1", "jc1")
    lost = start_and_register(runtime, db, "XS-2", "jc2")
    with db.session() as s:
        before = stored(s)
        s.execute(InstanceAccess.__table__.delete().where(InstanceAccess.instance_id == lost))
    with db.session() as s:
        assert {r for r in stored(s) if r[2] == lost} == set()
        visibility.refresh_access(s, [lost])
    with db.session() as s:
        assert stored(s) == before
        s.execute(InstanceAccess.__table__.delete())
    with db.session() as s:
        visibility.refresh_access(s)
        visibility.grant_task_access(s, s.scalars(select(HumanTask.id)).all())  # granting again adds nothing
    with db.session() as s:
        assert stored(s) == before and {r[2] for r in before} == {kept, lost}


def test_migration_backfill_derives_the_same_rows(db, runtime, county):
    """The SQL the migration fills existing databases with equals the module's derivation."""
    start_and_register(runtime, db, "XS-1", "jc1")
    runtime.start("gt_test_clue", actor=who(db, "cm1"), data={"clue_no": "XS-2"})
    spec = importlib.util.spec_from_file_location("migration_0003", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with db.session() as s:
        before = stored(s)
        s.execute(InstanceAccess.__table__.delete())
        s.execute(text(migration.BACKFILL))
    with db.session() as s:
        assert stored(s) == before == derived_in_python(s)
        assert len(before) >= 3
