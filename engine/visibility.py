"""Which instances a person may find and read, answered in SQL so lists never load workflow state.

Need-to-know (知悉范围) for a whole instance follows from its tasks: a person sees an instance when they
started it, when they could see any of its tasks (``engine.authz.can_see``, written here as exists-
subqueries on ``human_task``/``human_task_candidate``), or when they are an administrator.

Seeing an instance is not the same as reading what its steps recorded. The one who only started it
(an intake system, a 信访室 officer handing a clue on) follows its status and current step; what later
steps recorded is for the people who work on the instance's tasks, as on the web's instance page.
Confidential fields need a reveal role on top of that (``engine.sealing.may_reveal``).
"""
from __future__ import annotations

from sqlalchemy import union, exists, or_, select, true
from sqlalchemy.orm import Session

from .inbox import pool_row_clause as _pool_clause
from .models import HumanTask, ProcessInstance, TaskCandidate
from .principal import Principal


def task_visible_clause(principal: Principal):
    """SQL for ``authz.can_see(principal, HumanTask)``: assignee, completer, pool member or unit leader."""
    if principal.is_system:
        return true()
    clauses = [HumanTask.assignee == principal.username, HumanTask.completed_by == principal.username,
               _pool_clause(principal)]
    if principal.leader_of:
        clauses.append(exists().where(TaskCandidate.task_id == HumanTask.id,
                                      TaskCandidate.unit_code.in_(sorted(principal.leader_of))))
    return or_(*clauses)


def _visible_task_instances(principal: Principal):
    """The instances of the tasks ``task_visible_clause`` admits, as a union the database drives from
    indexes (assignee, completer, candidate unit, role without units, led unit): a province holds about
    a million task rows, and a correlated EXISTS per instance would read them for every instance."""
    t, c = HumanTask, TaskCandidate
    parts = [select(t.instance_id).where(t.assignee == principal.username),
             select(t.instance_id).where(t.completed_by == principal.username)]
    for role in sorted(principal.roles):
        units = sorted(principal.units_for(role))
        parts.append(select(t.instance_id).join(c, c.task_id == t.id)
                     .where(c.unit_code.in_(units), t.role == role))
    if principal.roles:
        parts.append(select(t.instance_id).where(t.status.in_(("ready", "completed", "cancelled")),
                                                 t.role.in_(sorted(principal.roles)), t.has_candidates.is_(False)))
    if principal.leader_of:
        parts.append(select(t.instance_id).join(c, c.task_id == t.id)
                     .where(c.unit_code.in_(sorted(principal.leader_of))))
    return parts


def instance_visible_clause(principal: Principal):
    """SQL for 'the person may find this instance' over ``process_instance``."""
    if principal.is_admin or principal.is_system:
        return true()
    parts = [select(ProcessInstance.id).where(ProcessInstance.started_by == principal.username),
             *_visible_task_instances(principal)]
    return ProcessInstance.id.in_(union(*parts))


def instance_data_clause(principal: Principal):
    """SQL for 'the person may read what the instance's steps recorded'."""
    if principal.is_admin or principal.is_system:
        return true()
    return ProcessInstance.id.in_(union(*_visible_task_instances(principal)))


def can_see_instance(session: Session, principal: Principal, instance_id: int) -> bool:
    return bool(session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.id == instance_id, instance_visible_clause(principal))))


def can_read_instance_data(session: Session, principal: Principal, instance_id: int) -> bool:
    return bool(session.scalar(select(ProcessInstance.id).where(
        ProcessInstance.id == instance_id, instance_data_clause(principal))))

