"""Who is kept out of a task by what really happened in its case: separation of duties and recusal.

Two rules of 监督执纪工作规则 decide this from records, never from names typed into a form:

- **separation of functions** (审查调查与审理分离, 复议复查 apart from the original review and
  hearing, regulations-and-practice.md §6.7): a task's ``separateFromSteps`` property names steps
  (``process:step``); whoever completed one of them, or holds one open, in ANY instance linked to the
  task's case (engine/instances/cases.py) may not claim, complete or be handed this task. The older
  ``separateFrom`` property (usernames in a data variable) still adds people the system cannot know
  of, such as investigators from outside it.
- **recusal** (回避, §6.6): a conflict entered in the register (``recusal_conflict``) for any linked
  instance of the case, undecided or decided ``replace``, keeps the person out of every task of the
  case until a leader decides to keep him, with a reason.

The result is a :class:`Bar` per username; engine/access/authz.py refuses a barred person (and the
denial is audited under the bar's rule), the inbox does not offer him the task, the reassign list
leaves him out, and the case's forms neither offer nor accept him (engine/forms/schema.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engine.db import core
from engine.instances import cases
from engine.models import HumanTask, RecusalConflict

SEPARATION = "separation_of_functions"
RECUSAL = "recusal"

# 回避情形 of the register, with the Chinese every page, message and form shows.
CONFLICT_KINDS = {
    "kinship": "亲属关系",
    "former_post": "曾在该单位任职",
    "host_unit": "驻在或联系该单位",
    "witness": "本案证人",
    "other": "其他利害关系",
}
BINDING = (None, "replace")  # decisions that keep the person out


@dataclass(frozen=True)
class Bar:
    """Why one person may not do one task: the rule (audited as the denial's reason) and a sentence."""

    rule: str
    why: str


NO_BARS: Mapping[str, Bar] = {}


def _binding() -> Any:
    return or_(RecusalConflict.decision.is_(None), RecusalConflict.decision == "replace")


# Built once: every claim and completion asks it (see cases.INSTANCE).
_CONFLICTS = (
    select(RecusalConflict.username, RecusalConflict.kind, RecusalConflict.decision)
    .where(cases.linked_clause(RecusalConflict.instance_id, cases.INSTANCE), _binding())
    .order_by(RecusalConflict.id)
)


def conflicts_in_case(session: Session, instance_id: int) -> dict[str, str]:
    """{username: 中文说明} of everyone a binding conflict keeps out of ``instance_id``'s case."""
    rows = core(session).execute(_CONFLICTS, {"instance_id": instance_id}).all()
    found: dict[str, str] = {}
    for r in rows:
        state = "领导已决定回避" if r.decision == "replace" else "待领导决定"
        found.setdefault(r.username, f"已登记回避（{CONFLICT_KINDS.get(r.kind, r.kind)}，{state}）")
    return found


def replaced_in_case(session: Session, instance_id: int) -> set[str]:
    """Usernames a leader decided to replace (回避) in ``instance_id``'s case."""
    return set(
        session.scalars(
            select(RecusalConflict.username)
            .where(cases.linked_clause(RecusalConflict.instance_id, instance_id), RecusalConflict.decision == "replace")
            .distinct()
        )
    )


def step_actors(
    session: Session, instance_id: int, steps: Iterable[str], *, besides: int | None = None
) -> dict[str, str]:
    """{username: name of the step} of whoever completed or holds one of ``steps`` in the linked instances."""
    wanted = {tuple(step.split(":", 1)) for step in steps if ":" in step}
    if not wanted:
        return {}
    stmt = select(
        HumanTask.process_key,
        HumanTask.spec_id,
        HumanTask.name,
        HumanTask.status,
        HumanTask.completed_by,
        HumanTask.assignee,
    ).where(
        cases.linked_clause(HumanTask.instance_id, instance_id),
        HumanTask.spec_id.in_(sorted({spec for _, spec in wanted})),
        HumanTask.status.in_(("completed", "ready")),
    )
    if besides is not None:
        stmt = stmt.where(HumanTask.id != besides)
    found: dict[str, str] = {}
    for r in session.execute(stmt.order_by(HumanTask.id)):
        if (r.process_key, r.spec_id) not in wanted:
            continue
        who = r.completed_by if r.status == "completed" else r.assignee
        if who:
            found.setdefault(who, r.name)
    return found


def bars(session: Session, task: Any, *, conflicts: Mapping[str, str] | None = None) -> dict[str, Bar]:
    """Everyone kept out of ``task`` (an ORM row or the completion path's plain view), and why.
    ``conflicts``: the case's, when the caller has read them in this transaction (``conflicts_in_case``)."""
    found: dict[str, Bar] = {}
    if conflicts is None:
        conflicts = conflicts_in_case(session, task.instance_id)
    for who, why in conflicts.items():
        found[who] = Bar(RECUSAL, why)
    steps = getattr(task, "separate_steps", None) or []
    for who, step in step_actors(session, task.instance_id, steps, besides=task.id).items():
        found.setdefault(who, Bar(SEPARATION, f"办理过本案“{step}”环节，须与本环节分离"))
    for who in task.separate_from or []:
        found.setdefault(who, Bar(SEPARATION, "列为本案须回避的前序环节人员，须与本环节分离"))
    return found


# Built once: every inbox read asks it.
_CONFLICTED = (
    select(RecusalConflict.instance_id).where(RecusalConflict.username == bindparam("username"), _binding()).distinct()
)


def barred_tasks(session: Session, username: str, tasks: Iterable[Any]) -> dict[int, Bar]:
    """{task id: bar} of the ``tasks`` (rows with ``id``, ``instance_id``, ``separate_steps``,
    ``separate_from``) that ``username`` is kept out of: the inbox's question for one page.

    Reads nothing for a page with no separation rule when the person has no binding conflict anywhere
    (the usual page): one indexed read of the register, then only the rows that name steps.
    """
    tasks = list(tasks)
    result: dict[int, Bar] = {}
    conflicted = set(session.scalars(_CONFLICTED, {"username": username}))
    if conflicted:
        kept_out: set[int] = set()
        for instance_id in conflicted:
            kept_out |= cases.linked_instances(session, instance_id)
        for t in tasks:
            if t.instance_id in kept_out:
                result[t.id] = Bar(RECUSAL, "已登记回避")
    for t in tasks:
        if t.id in result:
            continue
        if username in (t.separate_from or []):
            result[t.id] = Bar(SEPARATION, "列为本案须回避的前序环节人员")
        elif getattr(t, "separate_steps", None):
            step = step_actors(session, t.instance_id, t.separate_steps, besides=t.id).get(username)
            if step:
                result[t.id] = Bar(SEPARATION, f"办理过本案“{step}”环节")
    return result
