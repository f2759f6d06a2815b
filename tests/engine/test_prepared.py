"""Prepared statements (engine/prepared.py) return and write what SQLAlchemy's own execution does.

Each statement the hot paths run prepared is run both ways on the same rows, on SQLite and PostgreSQL:
the rows read must be equal value for value (types included: datetimes, booleans, JSON), and the rows
written must be equal column for column. What a prepared statement cannot do is refused when it is
built, never silently done differently.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import ArgumentError, IntegrityError

from engine.access import sessions, tokens
from engine.audit import trail
from engine.audit.chain import digest_ok, keyring
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask, TaskSubmission, User
from engine.prepared import Prepared
from engine.runtime import core, instance_lock
from tests.engine.usecases import services  # noqa: F401 - the use-case tests' county services

NOW = dt.datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=dt.UTC)


@pytest.fixture
def instance_id(services, who) -> int:  # noqa: F811 - the fixture imported above
    """A running instance of the test library (its row and the foreign keys the task rows need)."""
    return instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-P1").instance_id


def _task_values(instance_id: int, uuid: str) -> dict:
    return {
        "instance_id": instance_id,
        "task_uuid": uuid,
        "spec_id": "Task_a",
        "process_key": "p",
        "business_key": "XS-1",
        "name": "核实",
        "lane": "officer",
        "role": "supervision_office",
        "form_key": "f",
        "stage": "发现问题",
        "mechanism": None,
        "platform": None,
        "assignee": None,
        "status": "ready",
        "separate_from": ["lisi"],
        "separate_steps": None,
        "created_at": NOW,
        "due_at": NOW + dt.timedelta(days=3),
        "due_key": "P3D",
        "due_start": dt.date(2026, 11, 30),
        "reminder_at": None,
        "has_candidates": True,
        "personal": False,
    }


def _rows(conn, table, where) -> list[tuple]:
    return [tuple(r) for r in conn.execute(select(table).where(where).order_by(table.c.id))]


def test_reads_return_what_sqlalchemy_returns_value_for_value(db, instance_id):
    with db.engine.begin() as conn:
        core._INSERT_TASK(conn, _task_values(instance_id, "u-1"))
        core._INSERT_TASK(conn, {**_task_values(instance_id, "u-2"), "assignee": "wangfang"})
        for statement, params in (
            (core._READY_ROWS, {"instance_id": instance_id}),
            (instance_lock._HOLD, {"instance_id": instance_id}),
        ):
            ours = statement(conn, params).all()
            theirs = conn.execute(statement.statement, params).all()
            assert ours == [tuple(r) for r in theirs] and len(ours) >= 1
            assert [r._asdict() for r in ours] == [r._asdict() for r in theirs]  # the same names
        task_id = conn.execute(select(HumanTask.id).where(HumanTask.task_uuid == "u-1")).scalar_one()
        ours = core._READ_FOR_COMPLETION(conn, {"task_id": task_id}).one()
        theirs = conn.execute(core._READ_FOR_COMPLETION.statement, {"task_id": task_id}).one()
        assert ours._asdict() == theirs._asdict()
        assert isinstance(ours.due_at, dt.datetime) and ours.due_at == theirs.due_at  # converted as SQLAlchemy does
        assert ours.separate_from == ["lisi"]  # JSON read back as a list
        assert isinstance(ours.has_draft, type(theirs.has_draft))
        assert core._READY_ROWS(conn, {"instance_id": -1}).all() == []


def test_writes_write_what_sqlalchemy_writes_column_for_column(db, instance_id):
    with db.engine.begin() as conn:
        ours = core._INSERT_TASK(conn, _task_values(instance_id, "ours")).scalar_one()
        theirs = conn.execute(core._INSERT_TASK.statement, _task_values(instance_id, "theirs")).scalar_one()
        a, b = (
            conn.execute(select(HumanTask.__table__).where(HumanTask.id == i)).one()._asdict() for i in (ours, theirs)
        )
        assert {k: v for k, v in a.items() if k not in ("id", "task_uuid")} == {
            k: v for k, v in b.items() if k not in ("id", "task_uuid")
        }
        submission = {
            "task_id": ours,
            "instance_id": instance_id,
            "kind": "final",
            "data": {"opinion": "同意", "n": 2, "ok": True},
            "sealed": None,
            "submitted_by": "wangfang",
            "submitted_at": NOW,
        }
        core._INSERT_SUBMISSION(conn, submission)
        conn.execute(core._INSERT_SUBMISSION.statement, {**submission, "task_id": theirs})
        written = _rows(conn, TaskSubmission.__table__, TaskSubmission.instance_id == instance_id)
        assert [r[2:] for r in written[:1]] == [r[2:] for r in written[1:]]
        assert written[0][4] == {"opinion": "同意", "n": 2, "ok": True}
        # an UPDATE counts the rows it changed, as the guards read it
        done = {"_id": ours, "completed_at": NOW, "completed_by": "wangfang", "assignee": "wangfang"}
        assert core._COMPLETE_TASK(conn, done).rowcount == 1
        assert core._COMPLETE_TASK(conn, done).rowcount == 0  # no longer ready
        row = conn.execute(select(HumanTask).where(HumanTask.id == ours)).one()
        assert row.status == "completed" and row.completed_at == NOW.replace(tzinfo=row.completed_at.tzinfo)


def test_audit_events_written_many_at_once_verify(db):
    """The audit trail's insert (run at commit, many events in one call) keeps every signed field."""
    with db.session() as s:
        trail.record(s, "completed", actor="wangfang", instance_id=None, task_id=7, task="Task_a")
        trail.record(s, "task_created", actor="wangfang", task_id=8, units=["u1", "u2"])
    with db.session() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events][-2:] == ["completed", "task_created"]
        assert events[-1].detail == {"units": ["u1", "u2"]}
        ring = keyring()
        assert all(
            digest_ok(ring, {c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns}) for e in events[-2:]
        )


def test_driver_errors_come_back_as_sqlalchemy_errors_and_listeners_see_each_statement(db):
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            core._INSERT_SUBMISSION(  # no such task: the foreign key refuses it
                conn,
                {
                    "task_id": 999_999,
                    "instance_id": 999_999,
                    "kind": "final",
                    "data": {},
                    "sealed": None,
                    "submitted_by": "x",
                    "submitted_at": NOW,
                },
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)
    assert any(s.startswith("INSERT INTO task_submission") for s in seen)


def test_a_caller_mistake_is_refused_before_anything_runs(db):
    with db.engine.begin() as conn:
        with pytest.raises(ArgumentError, match="required"):
            core._READY_ROWS(conn, {})
        with pytest.raises(ArgumentError, match=r"no parameter.*bogus"):  # would be dropped silently
            core._READY_ROWS(conn, {"instance_id": 1, "bogus": 2})
        with pytest.raises(TypeError, match="returning rows"):
            core._READY_ROWS.many(conn, [{"instance_id": 1}])


def test_what_cannot_be_prepared_is_refused_when_compiled(db):
    with db.engine.begin() as conn:
        expanding = Prepared(select(HumanTask.id).where(HumanTask.id.in_(bindparam("ids", expanding=True))))
        with pytest.raises(TypeError, match="expanding"):
            expanding(conn, {"ids": [1]})
        defaults = Prepared(insert(AuditEvent).values(action=bindparam("action")))  # ``at`` has a default
        with pytest.raises(TypeError, match=r"Python-side defaults.*\bat\b"):
            defaults(conn, {"action": "x"})


def test_the_sign_in_reads_are_prepared_and_answer_alike(db, services):  # noqa: F811 - the county
    """The token's and the web session's reads (every API call, every page) answer as SQLAlchemy does: a
    live token's user and every membership, one row each, and nothing for an unknown token."""
    assert isinstance(tokens._LOOKUP, Prepared) and isinstance(sessions._LOOKUP, Prepared)
    with db.session() as s:
        raw, _row = tokens.issue(s, s.scalars(select(User).where(User.username == "cm1")).one())
    params = {"token_hash": tokens.hash_token(raw)}
    with db.engine.begin() as conn:
        ours = tokens._LOOKUP(conn, params).all()
        theirs = conn.execute(tokens._LOOKUP.statement, params).all()
        assert ours and [r._asdict() for r in ours] == [r._asdict() for r in theirs]
        assert {r.username for r in ours} == {"cm1"} and all(r.unit_code for r in ours)
        for lookup in (tokens._LOOKUP, sessions._LOOKUP):
            assert lookup(conn, {"token_hash": "none"}).all() == []
    with db.engine.connect() as conn:
        found = tokens.authenticate(conn, raw)
    assert found is not None and found[0].username == "cm1"
