"""``process_instance.open_due_at`` (engine/instances/open_due.py): kept by the database's triggers.

The invariant, checked after every change on SQLite and PostgreSQL: each instance's column is the earliest
due time of its open (``ready``) tasks, NULL when none has one. Changes made the way the application and
the runtime make them (ORM inserts and updates, bulk UPDATE and DELETE statements), across two instances so
that moving a task from one to the other updates both; a claim does not write the instance; the backfill
repairs what a trigger-less bulk load left, and ``overdue`` answers as the old EXISTS did.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import delete, exists, func, select, text, update

from engine.instances import open_due, queries
from engine.models import HumanTask, ProcessDefinition, ProcessInstance

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _expected(s) -> dict[int, dt.datetime | None]:
    earliest = (
        select(func.min(HumanTask.due_at))
        .where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready")
        .scalar_subquery()
    )
    return dict(s.execute(select(ProcessInstance.id, earliest)).all())


def _kept(s) -> dict[int, dt.datetime | None]:
    return dict(s.execute(select(ProcessInstance.id, ProcessInstance.open_due_at)).all())


def _check(db) -> dict[int, dt.datetime | None]:
    with db.session() as s:
        kept = _kept(s)
        assert kept == _expected(s)
        return kept


def _row_version(s, instance_id: int) -> object:
    """PostgreSQL: the row version's transaction (``xmin``: changes with any UPDATE, even to equal values);
    SQLite has none, so the invariant alone is checked there."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    return s.scalar(text("SELECT xmin::text FROM process_instance WHERE id = :i"), {"i": instance_id})


def _instances(db, deployed, n: int = 2) -> list[int]:
    with db.session() as s:
        definition = s.scalars(select(ProcessDefinition).where(ProcessDefinition.version_id == deployed)).first()
        rows = [
            ProcessInstance(
                definition_id=definition.id,
                version_id=deployed,
                process_key=definition.process_key,
                business_key=f"XS-{i}",
                state="{}",
                summary={},
            )
            for i in range(n)
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def _task(instance_id: int, n: int, *, due: dt.datetime | None, status: str = "ready") -> HumanTask:
    return HumanTask(
        instance_id=instance_id,
        task_uuid=f"00000000-0000-0000-0000-{n:012d}",
        spec_id=f"s{n}",
        process_key="p",
        name=f"步骤{n}",
        status=status,
        created_at=START,
        due_at=due,
    )


def test_every_change_of_a_task_keeps_its_instance_earliest_open_due_time(db, deployed):
    a, b = _instances(db, deployed)
    day = dt.timedelta(days=1)
    assert _check(db) == {a: None, b: None}
    with db.session() as s:  # inserted: open with and without a due time, and closed
        s.add_all(
            [
                _task(a, 1, due=START + 3 * day),
                _task(a, 2, due=START + 5 * day),
                _task(a, 3, due=None),
                _task(a, 4, due=START + day, status="completed"),
                _task(b, 5, due=None),
            ]
        )
    kept = _check(db)
    assert kept[a] == START + 3 * day and kept[b] is None
    with db.session() as s:  # the earliest completed (an ORM update, as a completion writes it)
        s.scalars(select(HumanTask).where(HumanTask.spec_id == "s1")).one().status = "completed"
    assert _check(db)[a] == START + 5 * day
    with db.session() as s:  # its time limit moved earlier (a bulk update, as a calendar change writes it)
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s2").values(due_at=START + 2 * day))
    assert _check(db)[a] == START + 2 * day
    with db.session() as s:  # a claim touches neither status nor due time: the instance is not written
        row_version = _row_version(s, a)
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s2").values(assignee="so1"))
    with db.session() as s:
        assert _row_version(s, a) == row_version
    _check(db)
    with db.session() as s:  # moved to the other instance: both recomputed
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s2").values(instance_id=b))
    kept = _check(db)
    assert kept[a] is None and kept[b] == START + 2 * day
    with db.session() as s:  # reopened, then the other's cancelled
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s1").values(status="ready"))
        s.execute(update(HumanTask).where(HumanTask.instance_id == b).values(status="cancelled"))
    kept = _check(db)
    assert kept[a] == START + 3 * day and kept[b] is None
    with db.session() as s:  # deleted
        s.execute(delete(HumanTask).where(HumanTask.spec_id == "s1"))
    assert _check(db)[a] is None
    with db.session() as s:  # an instance deleted with its tasks (cascade): nothing left to fail on
        s.execute(delete(HumanTask).where(HumanTask.instance_id == b))
        s.execute(delete(ProcessInstance).where(ProcessInstance.id == b))
    assert list(_check(db)) == [a]


def test_random_changes_keep_the_invariant(db, deployed):
    ids = _instances(db, deployed, 4)
    rng = random.Random(16)
    with db.session() as s:
        for n in range(40):
            due = rng.choice((None, START + dt.timedelta(hours=rng.randint(0, 900))))
            s.add(_task(rng.choice(ids), n, due=due, status=rng.choice(("ready", "ready", "completed"))))
    _check(db)
    for _ in range(150):
        with db.session() as s:
            spec = f"s{rng.randrange(40)}"
            change = rng.choice(("status", "due", "instance"))
            values = {
                "status": {"status": rng.choice(("ready", "completed", "cancelled"))},
                "due": {"due_at": rng.choice((None, START + dt.timedelta(hours=rng.randint(0, 900))))},
                "instance": {"instance_id": rng.choice(ids)},
            }[change]
            s.execute(update(HumanTask).where(HumanTask.spec_id == spec).values(**values))
        _check(db)


def test_a_task_without_a_due_time_never_writes_its_instance(db, deployed):
    """Opened, claimed, completed and deleted without a due time (most steps have none), a task leaves its
    instance's row untouched; given a due time while open, it sets the earliest without a re-read."""
    a, _b = _instances(db, deployed)
    with db.session() as s:
        s.add(_task(a, 1, due=START))
    with db.session() as s:
        before = _row_version(s, a)
        s.add(_task(a, 2, due=None))
        s.flush()
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s2").values(status="completed"))
        s.execute(delete(HumanTask).where(HumanTask.spec_id == "s2"))
        s.add(_task(a, 3, due=START + dt.timedelta(days=2), status="completed"))
    with db.session() as s:
        assert _row_version(s, a) == before
    assert _check(db)[a] == START
    with db.session() as s:
        s.add(_task(a, 4, due=None))
    with db.session() as s:
        s.execute(update(HumanTask).where(HumanTask.spec_id == "s4").values(due_at=START - dt.timedelta(hours=1)))
    assert _check(db)[a] == START - dt.timedelta(hours=1)


def test_backfill_repairs_a_load_that_bypassed_the_triggers_and_overdue_answers_as_before(db, deployed):
    a, b, c = _instances(db, deployed, 3)
    with db.session() as s:
        s.add_all([_task(a, 1, due=START - dt.timedelta(days=2)), _task(b, 2, due=START + dt.timedelta(days=2))])
        s.add(_task(c, 3, due=None))
    with db.engine.begin() as conn:  # what a COPY with the triggers off leaves: nothing, or stale values
        open_due.remove(conn)
        conn.execute(update(ProcessInstance).values(open_due_at=None))
        conn.execute(update(ProcessInstance).where(ProcessInstance.id == c).values(open_due_at=START))
    with db.session() as s:
        assert _kept(s) != _expected(s)
    with db.engine.begin() as conn:
        open_due.backfill(conn)
        open_due.install(conn)
    _check(db)
    old_exists = exists(
        select(HumanTask.id).where(
            HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready", HumanTask.due_at < START
        )
    )
    with db.session() as s:
        for flag in (True, False):
            new = queries.overdue(START) if flag else ~queries.overdue(START)
            old = old_exists if flag else ~old_exists
            assert set(s.scalars(select(ProcessInstance.id).where(new))) == set(
                s.scalars(select(ProcessInstance.id).where(old))
            )
        assert set(s.scalars(select(ProcessInstance.id).where(queries.overdue(START)))) == {a}


def test_the_triggers_are_installed_on_a_migrated_database_too(db):
    """``create_all`` (the SQLite tests) and the migrations (the PostgreSQL tests) install the same."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = conn.scalars(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'human_task'::regclass AND NOT tgisinternal")
            ).all()
            assert "instance_open_due" in names
        else:
            names = conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
            assert {"instance_open_due_insert", "instance_open_due_update", "instance_open_due_delete"} <= set(names)
