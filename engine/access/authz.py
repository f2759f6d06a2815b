"""Who may see, claim and complete a human task (need-to-know, 知悉范围).

A task belongs to a role (its lane) and, usually, to candidate units. A person may act on it when they
hold that role in one of those units (or in any unit when the task names none), or when it is assigned
to them. Separation of functions (审理 ≠ investigators, 复审 ≠ 审理) is enforced through the task's
``separate_from`` list. A unit leader may reassign their unit's tasks.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TypeAlias

from engine.access.principal import Principal
from engine.errors import Conflict, Forbidden
from engine.models import HumanTask

# A task as the rules read it: a loaded ORM row, or the plain view the completion path reads in one query
# (engine.runtime.core ``_read_for_completion``, carrying ``candidate_units`` instead of ``candidates``).
TaskView: TypeAlias = "HumanTask | SimpleNamespace"


def candidate_units(task: TaskView) -> set[str]:
    """The task's candidate units, from a loaded ORM row or from a plain view carrying ``candidate_units``."""
    units = getattr(task, "candidate_units", None)
    if units is not None:
        return set(units)
    return {c.unit_code for c in task.candidates}


def in_pool(principal: Principal, task: TaskView) -> bool:
    """The person holds the task's role in a candidate unit."""
    if task.role is None:
        return False
    units = candidate_units(task)
    if not units:
        return principal.holds(task.role)
    return bool(principal.units_for(task.role) & units)


def can_see(principal: Principal, task: TaskView) -> bool:
    if principal.is_system:
        return True
    if task.assignee == principal.username or task.completed_by == principal.username:
        return True
    if in_pool(principal, task):
        return True
    return bool(principal.leader_of & candidate_units(task))


def _separated(principal: Principal, task: TaskView) -> bool:
    return principal.username in (task.separate_from or [])


def require_can_claim(principal: Principal, task: TaskView) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if not in_pool(principal, task):
        raise Forbidden(f"task {task.id} is not for your role or unit", task=task.id)
    if _separated(principal, task):
        raise Forbidden(
            f"task {task.id}: you took part in an earlier step this one must be separate from",
            task=task.id,
            rule="separation_of_functions",
        )
    if task.assignee and task.assignee != principal.username:
        raise Conflict(f"task {task.id} is already claimed by {task.assignee}", task=task.id, assignee=task.assignee)


def require_can_complete(principal: Principal, task: TaskView) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if principal.is_system:
        return
    if _separated(principal, task):
        raise Forbidden(
            f"task {task.id}: you took part in an earlier step this one must be separate from",
            task=task.id,
            rule="separation_of_functions",
        )
    if task.assignee == principal.username:
        return
    if task.assignee:
        raise Conflict(f"task {task.id} is claimed by {task.assignee}", task=task.id, assignee=task.assignee)
    if not in_pool(principal, task):
        raise Forbidden(f"task {task.id} is not for your role or unit", task=task.id)


def require_can_reassign(principal: Principal, task: TaskView) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if principal.is_system:
        return
    if not (principal.leader_of & candidate_units(task)):
        raise Forbidden("only a leader of the task's unit may reassign it", task=task.id)
