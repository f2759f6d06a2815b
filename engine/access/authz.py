"""Who may see, claim and complete a human task (need-to-know, 知悉范围).

A task belongs to a role (its lane) and, usually, to candidate units. A person may act on it when they
hold that role in one of those units (or in any unit when the task names none), or when it is assigned
to them. A person the task's case keeps out (separation of functions by who really did the named
steps, a binding 回避 conflict: engine/access/duties.py) may neither claim nor complete it, whoever holds
it; the caller reads those ``bars`` in its own transaction and passes them. A unit leader may reassign
their unit's tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import TypeAlias

from engine.access.duties import RECUSAL, Bar
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
    """The person holds the task's role in a candidate unit (a task addressed to one person has no pool)."""
    if task.role is None or getattr(task, "personal", False):
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
    if getattr(task, "personal", False):
        return False  # a letter addressed to one person is his alone: not his unit's leader's (issue 18)
    if in_pool(principal, task):
        return True
    return bool(principal.leader_of & candidate_units(task))


def require_not_barred(principal: Principal, task: TaskView, bars: Mapping[str, Bar]) -> None:
    """Refuse a person the case keeps out; the denial is audited under the rule's name."""
    bar = bars.get(principal.username)
    if bar is None:
        return
    what = (
        "you are recused from this case (回避)"
        if bar.rule == RECUSAL
        else "you took part in an earlier step this one must be separate from"
    )
    raise Forbidden(
        f"task {task.id}: {what}",
        task=task.id,
        instance=task.instance_id,
        rule=bar.rule,
        reason=bar.rule,
        why=bar.why,
    )


def require_can_claim(principal: Principal, task: TaskView, bars: Mapping[str, Bar]) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if not in_pool(principal, task):
        raise Forbidden(f"task {task.id} is not for your role or unit", task=task.id)
    require_not_barred(principal, task, bars)
    if task.assignee and task.assignee != principal.username:
        raise Conflict(f"task {task.id} is already claimed by {task.assignee}", task=task.id, assignee=task.assignee)


def require_can_complete(principal: Principal, task: TaskView, bars: Mapping[str, Bar]) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if principal.is_system:
        return
    require_not_barred(principal, task, bars)
    if task.assignee == principal.username:
        return
    if task.assignee:
        raise Conflict(f"task {task.id} is claimed by {task.assignee}", task=task.id, assignee=task.assignee)
    if not in_pool(principal, task):
        raise Forbidden(f"task {task.id} is not for your role or unit", task=task.id)


def require_can_reassign(principal: Principal, task: TaskView) -> None:
    require_reassignable(task)
    if principal.is_system:
        return
    if not (principal.leader_of & candidate_units(task)):
        raise Forbidden("only a leader of the task's unit may reassign it", task=task.id)


def require_reassignable(task: TaskView) -> None:
    """Whoever reassigns: an open task, not one addressed to one person by name."""
    if task.status != "ready":
        raise Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
    if getattr(task, "personal", False):
        raise Forbidden(
            f"task {task.id} is addressed to one person and cannot be handed to another",
            task=task.id,
            rule="addressed_to_one_person",
        )
