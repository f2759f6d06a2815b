"""委派 (delegation) as the completion path sees it: a delegate drafts, the owner decides.

Kept apart from engine/tasks/actions.py (the use cases) so that engine/tasks/operations.py can ask it
without importing the actions, which import the operations.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access.principal import Principal
from engine.errors import Forbidden
from engine.models import TaskDelegation


def open_delegation(s: Session, task_id: int) -> TaskDelegation | None:
    return s.scalar(
        select(TaskDelegation)
        .where(TaskDelegation.task_id == task_id, TaskDelegation.returned_at.is_(None))
        .order_by(TaskDelegation.id.desc())
        .limit(1)
    )


def require_not_delegate(delegate: str | None, task_id: int, principal: Principal) -> None:
    """A delegate works the task and hands it back; completing it stays the owner's decision.

    ``delegate``: the delegate of the task's open delegation, which the completion's one read of the task
    carries (engine/runtime/core.py ``_read_for_completion``), so the rule costs no read of its own."""
    if delegate is not None and delegate == principal.username:
        raise Forbidden(
            "a delegated task goes back to its owner for the decision; hand it back instead of completing it",
            task=task_id,
            rule="delegate_may_not_complete",
        )
