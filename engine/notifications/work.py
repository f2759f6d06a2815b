"""Notices of new work: a 待办 that arrived, and a task handed to a person.

Officers were not told that work arrived or was handed to them. The worker now sweeps the ready tasks
(rather than the completion's hot path notifying inside its transaction): each task's arrival is noticed
once, to the person it is addressed to or to its role in its candidate units (the same targets as the
reminders, engine/scheduling/worker.py ``_notify_task``), and each hand-over to a person once, unless the
person took the task himself (认领). ``task_notice`` remembers what was noticed. The message names the
step and the business key only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from engine.models import AuditEvent, HumanTask, TaskNotice

Notify = Callable[[Session, HumanTask, str, str], None]


def claim(session: Session, table: Any, **values: Any) -> bool:
    """Insert a marker row unless it exists; True when this transaction inserted it. Workers running at
    once race for the same row: the loser's insert waits for the winner's commit and then does nothing
    (PostgreSQL), or waits for the write lock (SQLite), so only one of them notifies."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    key = next(iter(table.__table__.primary_key.columns))
    # RETURNING, not the row count: psycopg reports -1 for an INSERT … ON CONFLICT through the session.
    inserted = session.execute(insert(table).values(**values).on_conflict_do_nothing().returning(key)).first()
    return inserted is not None


def _key(task: HumanTask) -> str:
    return str(task.business_key or task.instance_id)


def sweep(session: Session, notify: Notify, *, batch: int = 200) -> int:
    """Notice the ready tasks not noticed yet; how many notices were written."""
    written = 0
    arrived = aliased(TaskNotice)
    new = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.status == "ready",
            ~exists().where(and_(arrived.task_id == HumanTask.id, arrived.kind == "arrived")),
        )
        .order_by(HumanTask.id)
        .limit(batch)
    ).all()
    for task in new:
        if not claim(session, TaskNotice, task_id=task.id, kind="arrived", username=""):
            continue
        notify(session, task, "arrived", f"新待办：任务“{task.name}”（{_key(task)}）已到达，请及时办理。")
        if task.assignee:  # addressed to him: the arrival notice is his hand-over notice too
            claim(session, TaskNotice, task_id=task.id, kind="assigned", username=task.assignee)
        written += 1
    session.flush()
    assigned = aliased(TaskNotice)
    handed = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.status == "ready",
            HumanTask.assignee.is_not(None),
            ~exists().where(
                and_(
                    assigned.task_id == HumanTask.id,
                    assigned.kind == "assigned",
                    assigned.username == HumanTask.assignee,
                )
            ),
        )
        .order_by(HumanTask.id)
        .limit(batch)
    ).all()
    for task in handed:
        assert task.assignee is not None
        if not claim(session, TaskNotice, task_id=task.id, kind="assigned", username=task.assignee):
            continue
        took_it = session.scalar(
            select(AuditEvent.id)
            .where(AuditEvent.task_id == task.id, AuditEvent.action == "claimed", AuditEvent.actor == task.assignee)
            .limit(1)
        )
        if took_it is None:
            notify(session, task, "assigned", f"转交：任务“{task.name}”（{_key(task)}）已交由您办理。")
            written += 1
    session.flush()
    return written
