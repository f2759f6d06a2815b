"""加签 as the completion path sees it: an approval step waits for the opinions its approver asked for.

Kept apart from engine/tasks/countersign.py (the use cases) so that engine/tasks/operations.py can ask it
without importing the actions, which import the operations (as engine/tasks/delegation.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.models import TaskConsultation


def open_consultations(s: Session, task_id: int) -> list[TaskConsultation]:
    return list(
        s.scalars(
            select(TaskConsultation)
            .where(TaskConsultation.task_id == task_id, TaskConsultation.answered_at.is_(None))
            .order_by(TaskConsultation.id)
        )
    )


def require_opinions_given(s: Session, task_id: int) -> None:
    """The approver asked someone's opinion before deciding: he decides once it is given."""
    waiting = open_consultations(s, task_id)
    if waiting:
        raise Conflict(
            "the opinion asked for (加签) has not been given yet",
            task=task_id,
            rule="opinion_pending",
            waiting=[c.asked for c in waiting],
        )
