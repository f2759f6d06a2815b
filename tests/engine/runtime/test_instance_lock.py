"""A completion that would lose is refused at once (engine/runtime/instance_lock.py): while another
transaction holds the instance it gets 409 without waiting, nothing changes, and the task is still
there to complete afterwards; a row merely referring to the instance (an audit event) does not make it
busy; an instance moved on since the task was read is refused before the engine runs."""

import threading
import time

import pytest
from sqlalchemy import func, select, text

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.errors import Conflict
from engine.models import HumanTask, ProcessInstance, TaskSubmission
from engine.runtime import instance_lock

S = SYSTEM_PRINCIPAL


def _register(runtime):
    start = runtime.start("gt_test_clue")
    outcome = runtime.complete_task(
        start.created_tasks[0], actor=S, data={"clue_no": "XS-2024-0300", "handling_unit": "qh_jc2"}
    )
    return start.instance_id, outcome.created_tasks[0]


def _status(db, task_id):
    with db.session() as s:
        return s.get(HumanTask, task_id).status


def _lock_version(db, instance_id):
    with db.session() as s:
        return s.get(ProcessInstance, instance_id).lock_version


def _holding(db, instance_id, statement, release: threading.Event, held: threading.Event):
    """Hold ``statement``'s locks on the instance in a transaction of its own until ``release``."""
    with db.engine.connect() as conn:
        conn.execute(text(statement), {"id": instance_id})
        held.set()
        release.wait(30)
        conn.rollback()


def _postgres_only(db):
    if db.dialect != "postgresql":
        pytest.skip("row locks: SQLite writes one transaction at a time")


def test_a_completion_meeting_a_held_instance_is_refused_at_once_and_changes_nothing(db, runtime, deployed):
    _postgres_only(db)
    instance_id, propose_id = _register(runtime)
    before = _lock_version(db, instance_id)
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_holding,
        args=(db, instance_id, "SELECT id FROM process_instance WHERE id = :id FOR NO KEY UPDATE", release, held),
    )
    holder.start()
    try:
        assert held.wait(30)
        began = time.monotonic()
        with pytest.raises(Conflict, match="being completed by someone else") as caught:
            runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
        waited = time.monotonic() - began
    finally:
        release.set()
        holder.join()
    assert caught.value.status == 409
    # Refused without queueing for the holder (which kept the row for up to 30 s).
    assert waited < 10
    assert _status(db, propose_id) == "ready" and _lock_version(db, instance_id) == before
    with db.session() as s:
        assert s.scalar(select(func.count()).where(TaskSubmission.task_id == propose_id)) == 0
    # Once the holder is gone the task completes as usual.
    runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    assert _status(db, propose_id) == "completed" and _lock_version(db, instance_id) == before + 1


def test_a_row_referring_to_the_instance_does_not_make_it_busy(db, runtime, deployed):
    _postgres_only(db)
    instance_id, propose_id = _register(runtime)
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_holding,
        # Inserting a row with a foreign key to the instance takes FOR KEY SHARE on the instance row.
        args=(db, instance_id, "SELECT id FROM process_instance WHERE id = :id FOR KEY SHARE", release, held),
    )
    holder.start()
    try:
        assert held.wait(30)
        runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    finally:
        release.set()
        holder.join()
    assert _status(db, propose_id) == "completed"


def test_an_instance_moved_on_since_the_read_is_refused_before_the_engine_runs(db, runtime, deployed):
    instance_id, propose_id = _register(runtime)
    current = _lock_version(db, instance_id)
    with db.session() as s:
        instance_lock.hold(s, instance_id, current, propose_id)  # as read: ours
    with db.session() as s, pytest.raises(Conflict, match="changed by someone else meanwhile"):
        instance_lock.hold(s, instance_id, current - 1, propose_id)
    assert _status(db, propose_id) == "ready"
