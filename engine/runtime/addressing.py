"""Who a new task goes to: a named person must be an account, and nobody claims what is plainly his.

Called by the runtime for every task it opens, in the transaction that opens it (engine/runtime/core.py
``_sync``), so the answer is the same for the page, the API, the worker and the autopilot:

- **a task addressed to one person** (``assigneeVar``) goes only to an active account. A name with no
  account, or a deactivated one, is refused: the step that would open it fails with a 422 naming the
  variable and the value, and nothing is changed. Deploy already refuses an ``assigneeVar`` not taken
  from an account picker (engine/definitions/addressing.py); this catches the rest (start data sent
  through the API, an account deactivated meanwhile). A case never waits on a task nobody can act on.
- **less clicking** (issue 15): a pool task (its lane's role in its units) is given at once
  - to the person whose step opened it, when he may do it himself (he holds the role in a candidate
    unit and the case does not keep him out: separation ``separateFromSteps``/``separateFrom``, 回避);
    an officer who registers a report then finds the next step of the same case in 我的待办 without
    claiming it;
  - otherwise to the one person who may do it, when there is exactly one.
  Everyone else in the pool still sees it (authz ``can_see``); a leader can still hand it on.
- **stalls**: a pool task no active account may act on (nobody holds the role in its units) is still
  opened (the organisation may be completed before anyone looks), and the cockpit lists such tasks
  live (engine/cockpit/stalled.py) so a manager can appoint someone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from engine.access import duties
from engine.access.principal import Principal
from engine.db import core
from engine.errors import ValidationError
from engine.models import Membership, User
from engine.prepared import Prepared

SAME_PERSON = "same_person"
SINGLE_CANDIDATE = "single_candidate"


def _holders(unit: Any) -> Select[Any]:
    return (
        select(User.username)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role_code == bindparam("role"), unit, User.active.is_(True))
        .distinct()
        .order_by(User.username)
    )


# Built once: every completion that opens a pool task asks it. A task names one unit but for a few
# joint steps: that read runs on the driver (engine/prepared.py), the others expand their list.
_HOLDERS = _holders(Membership.unit_code.in_(bindparam("units", expanding=True)))
_HOLDERS_OF_UNIT = Prepared(_holders(Membership.unit_code == bindparam("unit")))
_ACTIVE = select(User.active).where(User.username == bindparam("username"))


def eligible(
    session: Session, role: str | None, units: list[str], task: Any, *, conflicts: Mapping[str, str] | None = None
) -> list[str]:
    """Usernames of the active accounts holding ``role`` in one of ``units`` whom the case does not keep
    out of ``task`` (a row or view with ``id``, ``instance_id``, ``separate_steps``, ``separate_from``).
    ``conflicts``: the case's 回避 conflicts, when the caller has read them in this transaction."""
    if not role or not units:
        return []
    conn = core(session)
    holders = (
        _HOLDERS_OF_UNIT(conn, {"role": role, "unit": units[0]}).scalars()
        if len(units) == 1
        else conn.execute(_HOLDERS, {"role": role, "units": list(units)}).scalars().all()
    )
    if not holders:
        return []
    barred = duties.bars(session, task, conflicts=conflicts)
    return [who for who in holders if who not in barred]


def address(
    session: Session,
    values: dict[str, Any],
    units: list[str],
    meta: dict[str, Any],
    actor: Principal,
    *,
    conflicts: Mapping[str, str] | None = None,
) -> str | None:
    """Check or choose the new task's assignee in ``values`` (the row about to be inserted).

    Returns why the task was given to someone without claiming (``same_person``, ``single_candidate``),
    or None. ``conflicts``: see :func:`eligible`.
    """
    named = values.get("assignee")
    if named:
        active = core(session).execute(_ACTIVE, {"username": str(named)}).scalar()
        if not active:
            var = meta.get("assignee_var") or "assignee"
            reason = "已停用" if active is False else "没有本系统账号"
            raise ValidationError(
                f"task {values['spec_id']} is addressed to '{named}' ({var}), who is not an active account",
                fields={var: f"“{named}”{reason}，“{values['name']}”将无人可办：请从组织中选择有账号的人员"},
                element=values["spec_id"],
                assignee=str(named),
            )
        return None
    view = SimpleNamespace(
        id=None,
        instance_id=values["instance_id"],
        separate_steps=values.get("separate_steps") or [],
        separate_from=values.get("separate_from") or [],
    )
    people = eligible(session, values.get("role"), units, view, conflicts=conflicts)
    if not actor.is_system and actor.username in people:
        values["assignee"] = actor.username
        return SAME_PERSON
    if len(people) == 1:
        values["assignee"] = people[0]
        return SINGLE_CANDIDATE
    return None
