"""PostgreSQL's one-statement writes (engine/runtime/pg_writes.py, a new case in engine/instances/cases.py)
write the rows the portable statements do.

A start and a completion that opens a task for two units run twice in one database at one frozen moment:
once through the portable statements (``engine.db.folds_writes`` answering False, as on SQLite), once as the
dialect does. Every row they write — the task rows, their candidate units, the need-to-know grants, the
submissions, the audit events, the case file and its references — must be the same but for ids, task uuids and the clue number. On SQLite
both runs are the portable path; the grants are also checked against the rule applied to the tables
(``refresh_access``) and against the values the test library's units and roles give.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import event, select

from engine import clock
from engine import db as database
from engine.access import visibility
from engine.instances import operations as instances
from engine.models import AuditEvent, CaseFile, CaseReference, HumanTask, InstanceAccess, TaskCandidate, TaskSubmission
from tests.engine.usecases import REGISTER

AT = dt.datetime(2026, 12, 1, 10, tzinfo=clock.LOCAL_TZ)
UNITS = ["jc1", "jc2"]


def _case(services, who, clue: str) -> tuple[int, list[str]]:
    """Start a clue (cm1) and register it for two offices; the instance and the statements of each step."""
    seen: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", spy)
    try:
        started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key=clue)
        start_statements = len(seen)
        assert started.own_task is not None
        # The runtime's completion (the form would take one office; the engine takes a list of units).
        services.runtime.complete_task(
            started.own_task, actor=who("cm1"), data={**REGISTER, "clue_no": clue, "handling_unit": list(UNITS)}
        )
    finally:
        event.remove(services.db.engine, "before_cursor_execute", spy)
    return started.instance_id, [f"start {start_statements}", f"complete {len(seen) - start_statements}", *seen]


def _rows(services, instance_id: int, clue: str) -> dict[str, Any]:
    """What the instance's steps wrote, ids replaced by the task's place and the clue by a marker."""
    with services.db.session() as s:
        task_rows = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id))
        place: dict[int | None, int | None] = {None: None}
        found = []
        for row in task_rows:
            place[row.id] = len(place) - 1
            values = {c.key: getattr(row, c.key) for c in HumanTask.__table__.columns}
            for key in ("id", "instance_id", "task_uuid"):
                values.pop(key)
            found.append(values)
        candidates = sorted(
            (place[c.task_id], c.unit_code)
            for c in s.scalars(select(TaskCandidate).where(TaskCandidate.task_id.in_([k for k in place if k])))
        )
        access = sorted(
            (a.unit_code, a.role)
            for a in s.scalars(select(InstanceAccess).where(InstanceAccess.instance_id == instance_id))
        )
        submissions = [
            (place[r.task_id], r.kind, r.data, r.sealed is not None, r.submitted_by, r.submitted_at)
            for r in s.scalars(
                select(TaskSubmission).where(TaskSubmission.instance_id == instance_id).order_by(TaskSubmission.id)
            )
        ]
        audit = [
            (e.action, e.actor, place.get(e.task_id, "?"), e.at, _digest_marked(e.detail), e.version_id)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
        ]
        case_rows = sorted(
            (r.kind, r.value, r.scope, str(r.created_at), f.label, f.scope, str(f.opened_at))
            for r, f in s.execute(
                select(CaseReference, CaseFile)
                .join(CaseFile, CaseFile.id == CaseReference.case_id)
                .where(CaseReference.instance_id == instance_id)
            )
        )
    got = {
        "cases": case_rows,
        "tasks": found,
        "candidates": candidates,
        "access": access,
        "submissions": submissions,
        "audit": audit,
    }
    return json.loads(json.dumps(got, default=str, ensure_ascii=False).replace(clue, "<clue>"))


def _digest_marked(detail: dict[str, Any]) -> dict[str, Any]:
    """The completion's digest of the data (which holds the clue) as a marker, once it is one."""
    if "data_digest" in detail:
        assert len(detail["data_digest"]) == 64
        return {**detail, "data_digest": "<digest>"}
    return detail


def _grants_by_rule(services, instance_id: int) -> list[tuple[str, str]]:
    """The instance's grants derived again from its tables (the portable rule), in a transaction undone."""
    with services.db.engine.connect() as conn, conn.begin() as tx:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as s:
            visibility.refresh_access(s, [instance_id])
            s.flush()
            rows = sorted(
                (a.unit_code, a.role)
                for a in s.scalars(select(InstanceAccess).where(InstanceAccess.instance_id == instance_id))
            )
        tx.rollback()
    return rows


def test_one_statement_writes_write_the_rows_the_portable_statements_do(services, who, monkeypatch):
    dialect = services.db.engine.dialect.name
    _case(services, who, "XS-W1")  # warm: the first start loads the deployed version (a read of its own)
    with clock.frozen(AT):
        monkeypatch.setattr(database, "folds_writes", lambda conn: False)
        portable_id, portable_sql = _case(services, who, "XS-P1")
        monkeypatch.undo()
        native_id, native_sql = _case(services, who, "XS-N1")
    portable, native = _rows(services, portable_id, "XS-P1"), _rows(services, native_id, "XS-N1")
    assert native == portable
    # What was written is what the test library's units and roles give: the start's task for the case
    # management office, the registered clue's next step for both offices named in the form.
    assert native["candidates"] == [[1, "jc1"], [1, "jc2"]]  # the start's task names no unit
    assert ["jc1", "supervision_office"] in native["access"] and ["jc2", "supervision_office"] in native["access"]
    assert [t["status"] for t in native["tasks"]] == ["completed", "ready"]
    assert [t["has_candidates"] for t in native["tasks"]][-1] is True
    assert [a[0] for a in native["audit"]].count("task_created") == 2
    # The registered clue number opened a case of its own (one file, one reference).
    assert native["cases"] == [
        ["clue_no", "<clue>", "", str(AT.astimezone(dt.UTC)), "<clue>", "", str(AT.astimezone(dt.UTC))]
    ]
    # The grants equal the rule applied to the tables afterwards (refresh_access), for both runs.
    assert [list(g) for g in _grants_by_rule(services, native_id)] == native["access"]
    assert [list(g) for g in _grants_by_rule(services, portable_id)] == portable["access"]
    # Statements: the portable path writes the task, its candidates and its grants apart, the completed
    # task apart from its record, a new case apart from its numbers; PostgreSQL writes each group as one.
    if dialect == "postgresql":
        assert not [q for q in portable_sql[2:] if q.lstrip().startswith("WITH")]
        assert [q.split()[1] for q in native_sql[2:] if q.lstrip().startswith("WITH")] == [
            "new_task",  # the start's task
            "done",  # the registration and its record
            "new_case",  # the clue number it registered opens a case
            "new_task",  # the next step
        ]
        assert int(portable_sql[0].split()[1]) - int(native_sql[0].split()[1]) == 1  # start: its task names no unit
        assert int(portable_sql[1].split()[1]) - int(native_sql[1].split()[1]) == 4  # complete: + the record, the case
    else:
        assert portable_sql[:2] == native_sql[:2]
        assert not [q for q in native_sql[2:] if q.lstrip().startswith("WITH")]


def test_a_refused_completion_writes_no_record_on_either_path(services, who, monkeypatch):
    """The guarded update and its record: a task completed meanwhile gets 409 and no second submission."""
    from engine.errors import Conflict

    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-R1")
    assert started.own_task is not None
    with services.db.session() as s:
        pending = services.runtime.begin_completion(s, started.own_task, who("cm1"))
        # Someone else's completion lands between this one's read and its write (the row's guard).
        s.connection().execute(
            HumanTask.__table__.update().where(HumanTask.id == started.own_task).values(status="completed")
        )
        try:
            services.runtime.finish_completion(s, pending, actor=who("cm1"), data={**REGISTER, "clue_no": "XS-R1"})
        except Conflict as exc:
            refused = exc.args[0]
        else:
            refused = ""
        s.rollback()
    assert refused == f"task {started.own_task} was completed by someone else"
    with services.db.session() as s:
        assert s.scalars(select(TaskSubmission).where(TaskSubmission.task_id == started.own_task)).all() == []
        assert s.get(HumanTask, started.own_task).status == "ready"
