"""Reopen a finished step: SpiffWorkflow's own ``reset_from_task_id``, then the usual write and row sync.

退回 (an officer returns the case to an earlier step) and 撤回 (the sender takes his last step back) both
come down to this. The engine drops every task below the step and makes the step READY again with the
data it had before it ran; ``Runtime._sync`` then cancels the rows of the dropped tasks and opens a row for
the step, with a fresh due date, like any new task. Only steps still in the engine's tree can be reopened:
``state.compact`` keeps the last ``RETURNABLE_STEPS`` finished human steps of each branch for this.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import audit
from engine.access.principal import Principal
from engine.errors import Conflict
from engine.models import HumanTask, ProcessInstance

from .core import Outcome, Runtime, run_engine


def _ancestors(workflow: BpmnWorkflow, task: Any) -> list[Any]:
    """The task's ancestors, nearest first, through the call activities that started its subprocess."""
    found = []
    node = task.parent
    while True:
        while node is not None:
            found.append(node)
            node = node.parent
        parent_id = task.workflow.parent_task_id
        if parent_id is None:
            return found
        task = workflow.get_task_from_id(parent_id)
        if task is None:
            return found
        node = task


def reopenable(runtime: Runtime, row: ProcessInstance, open_uuid: str) -> dict[str, Any]:
    """The finished human steps the open task descends from and the engine can still reset to.

    Maps their engine task ids (``human_task.task_uuid``) to the engine task, nearest first.
    """
    loaded = runtime.repo.loaded(row.version_id)
    workflow = Runtime._load(row, loaded)
    current = workflow.get_task_from_id(UUID(open_uuid))
    if current is None:
        return {}
    return {
        str(t.id): t
        for t in _ancestors(workflow, current)
        if t.task_spec.manual and t.has_state(TaskState.COMPLETED) and t.parent is not None
    }


def reopen(
    runtime: Runtime,
    session: Session,
    row: ProcessInstance,
    target_uuid: str,
    actor: Principal,
    *,
    action: str,
    detail: dict[str, Any],
) -> Outcome:
    """Reset the instance to the finished step ``target_uuid``; its new row is in ``outcome.created_tasks``.

    The completed row that step had keeps its history under a fresh engine id, so that the reopened
    step's row can carry the engine's (one open row per engine task, as everywhere else).
    """
    if row.status != "running":
        raise Conflict(f"instance {row.id} is {row.status}", instance=row.id, status=row.status)
    expected = row.lock_version
    loaded = runtime.repo.loaded(row.version_id)
    workflow = Runtime._load(row, loaded)
    target = workflow.get_task_from_id(UUID(target_uuid))
    if target is None or not target.has_state(TaskState.COMPLETED):
        raise Conflict("the step can no longer be reopened", instance=row.id)
    workflow.reset_from_task_id(target.id)
    run_engine(workflow, runtime.compact_history)
    if workflow.get_task_from_id(target.id) is None or target.state != TaskState.READY:
        raise Conflict("the step can no longer be reopened", instance=row.id)
    session.execute(
        update(HumanTask)
        .where(HumanTask.instance_id == row.id, HumanTask.task_uuid == target_uuid, HumanTask.status != "ready")
        .values(task_uuid=str(uuid.uuid4()))
        .execution_options(synchronize_session=False)
    )
    runtime._guarded_write(session, row, expected, loaded, workflow)
    audit.record(session, action, actor=actor.username, instance_id=row.id, **detail)
    outcome = Outcome(instance_id=row.id, status=row.status)
    runtime._sync(session, row, loaded, workflow, outcome, actor)
    return outcome
