"""Stalled tasks: open tasks of the manager's commission that no active account can act on.

A case must never wait on a task nobody can do (issue 15). Deploy refuses a task addressed to a typed
name (engine/definitions/addressing.py) and the runtime refuses to open one addressed to a name without
an active account (engine/runtime/addressing.py); what can still happen is that the organisation
changes under an open task: its holder's account is deactivated, or the last officer holding the lane's
role in its unit leaves. This module finds those, live, so the cockpit lists them for the manager, who
can then appoint someone (组织管理) or have a unit leader hand the task on.

A task is stalled when
- it is held by (assigned to) an account that no longer exists or is inactive; or
- nobody holds it and no active account holds its role in one of its candidate units.

Read from ``human_task`` and the organisation only, never from workflow state, within the manager's
scope (engine/cockpit/scope.py), like every cockpit figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, Membership, ProcessInstance, TaskCandidate, User

from .figures import Scope, owned

LIMIT = 200  # a page of them is plenty: each one is an emergency, not a statistic


@dataclass(frozen=True)
class StalledTask:
    id: int
    instance_id: int
    business_key: str | None
    name: str
    lane: str | None
    assignee: str | None
    units: tuple[str, ...]
    created_at: dt.datetime
    why: str  # inactive_assignee | no_account


def stalled_tasks(session: Session, *, scope: Scope = None, limit: int = LIMIT) -> list[StalledTask]:
    """The scope's open tasks nobody active can act on, oldest first."""
    active_holder = exists().where(User.username == HumanTask.assignee, User.active.is_(True))
    someone_in_pool = exists(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .join(TaskCandidate, TaskCandidate.unit_code == Membership.unit_code)
        .where(
            TaskCandidate.task_id == HumanTask.id,
            Membership.role_code == HumanTask.role,
            User.active.is_(True),
        )
    )
    rows = session.execute(
        select(
            HumanTask.id,
            HumanTask.instance_id,
            HumanTask.business_key,
            HumanTask.name,
            HumanTask.lane,
            HumanTask.assignee,
            HumanTask.created_at,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.status == "ready",
            ProcessInstance.status.in_(("running", "error")),
            *owned(scope),
            or_(
                and_(HumanTask.assignee.is_not(None), not_(active_holder)),
                and_(
                    HumanTask.assignee.is_(None),
                    HumanTask.has_candidates.is_(True),
                    HumanTask.role.is_not(None),
                    not_(someone_in_pool),
                ),
            ),
        )
        .order_by(HumanTask.created_at, HumanTask.id)
        .limit(limit)
    ).all()
    units: dict[int, list[str]] = {}
    if rows:
        for task_id, unit in session.execute(
            select(TaskCandidate.task_id, TaskCandidate.unit_code).where(
                TaskCandidate.task_id.in_([r.id for r in rows])
            )
        ):
            units.setdefault(task_id, []).append(unit)
    return [
        StalledTask(
            id=r.id,
            instance_id=r.instance_id,
            business_key=r.business_key,
            name=r.name,
            lane=r.lane,
            assignee=r.assignee,
            units=tuple(sorted(units.get(r.id, []))),
            created_at=r.created_at,
            why="inactive_assignee" if r.assignee else "no_account",
        )
        for r in rows
    ]
