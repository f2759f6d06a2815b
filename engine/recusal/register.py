"""The conflict register (回避登记): writing declarations and decisions, reading a case's entries.

Who declares: the officer himself (申报) or a leader who learns of a conflict (记录, e.g. from the
cadre database); what: 亲属关系, 曾任职, 驻在单位, 证人, 其他, with a reason. Who decides: the
responsible leader, ``keep`` (不予回避, with the reason) or ``replace`` (回避). Until he keeps the
person, the entry binds: engine/access/duties.py keeps the person out of every task of the case's
linked instances and engine/forms/conflicts.py out of its forms' teams.

Entries come from the register's use cases (engine/recusal/operations.py) and from two forms a process
fills, which say so with ``"x-recusal"`` (:func:`after_form`, called by the runtime in the completion's
transaction): a ``declaration`` (the 回避声明 with ``has_conflict``) registers the signer's own conflict;
a ``decision`` (the leader's team adjustment) decides every open conflict of the team it replaces:
members left in the team are kept, the others replaced, with the form's reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access.duties import CONFLICT_KINDS
from engine.errors import Conflict, ValidationError
from engine.instances import cases
from engine.models import RecusalConflict, User

DECISIONS = {"keep": "不予回避（保留）", "replace": "回避（替换）"}
MAX_REASON = 2000


@dataclass(frozen=True)
class Entry:
    """One register entry as the pages and the API show it."""

    id: int
    instance_id: int
    username: str
    display_name: str
    kind: str
    kind_label: str
    reason: str
    declared_by: str
    declared_by_name: str
    self_declared: bool
    declared_at: dt.datetime
    decision: str | None
    decision_label: str | None
    decision_reason: str | None
    decided_by: str | None
    decided_by_name: str | None
    decided_at: dt.datetime | None

    @property
    def binding(self) -> bool:
        """Keeps the person out of the case: undecided, or decided ``replace``."""
        return self.decision != "keep"


def clean_reason(value: object, field: str) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if not text:
        raise ValidationError("a reason is required", fields={field: "请说明理由"})
    if len(text) > MAX_REASON:
        raise ValidationError("reason too long", fields={field: f"不能超过 {MAX_REASON} 个字"})
    return text


def declare(
    session: Session,
    *,
    instance_id: int,
    username: str,
    kind: str,
    reason: str,
    declared_by: str,
    task_id: int | None = None,
) -> RecusalConflict:
    """Enter one conflict (checked: a known kind, an active person, a reason, not already open)."""
    if kind not in CONFLICT_KINDS:
        raise ValidationError(f"unknown conflict kind '{kind}'", fields={"kind": "请选择回避情形"})
    reason = clean_reason(reason, "reason")
    if session.scalar(select(User.id).where(User.username == username, User.active.is_(True))) is None:
        raise ValidationError(f"no active user '{username}'", fields={"username": "请选择本系统的在职人员"})
    open_same = session.scalar(
        select(RecusalConflict.id).where(
            cases.linked_clause(RecusalConflict.instance_id, instance_id),
            RecusalConflict.username == username,
            RecusalConflict.kind == kind,
            RecusalConflict.decision.is_(None),
        )
    )
    if open_same is not None:
        raise Conflict(f"{username} already has an undecided conflict of this kind in the case", conflict=open_same)
    entry = RecusalConflict(
        instance_id=instance_id,
        task_id=task_id,
        username=username,
        kind=kind,
        reason=reason,
        declared_by=declared_by,
        self_declared=declared_by == username,
        declared_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "recusal_declared",
        actor=declared_by,
        instance_id=instance_id,
        task_id=task_id,
        conflict=entry.id,
        username=username,
        kind=kind,
    )
    return entry


def decide(session: Session, entry: RecusalConflict, *, decision: str, reason: str, decided_by: str) -> None:
    """Record the leader's decision on one entry (a decided entry is not decided again)."""
    if decision not in DECISIONS:
        raise ValidationError(f"unknown decision '{decision}'", fields={"decision": "请选择保留或替换"})
    reason = clean_reason(reason, "decision_reason")
    if entry.decision is not None:
        raise Conflict(f"conflict {entry.id} was already decided ({entry.decision})", conflict=entry.id)
    entry.decision, entry.decision_reason = decision, reason
    entry.decided_by, entry.decided_at = decided_by, clock.now()
    session.flush()
    audit.record(
        session,
        "recusal_decided",
        actor=decided_by,
        instance_id=entry.instance_id,
        conflict=entry.id,
        username=entry.username,
        decision=decision,
    )


def entries(session: Session, instance_id: int) -> list[Entry]:
    """Every entry of ``instance_id``'s case (all its linked instances), oldest first."""
    rows = session.scalars(
        select(RecusalConflict)
        .where(cases.linked_clause(RecusalConflict.instance_id, instance_id))
        .order_by(RecusalConflict.id)
    ).all()
    people = {r.username for r in rows} | {r.declared_by for r in rows} | {r.decided_by for r in rows if r.decided_by}
    names = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(people))).all())
    return [
        Entry(
            id=r.id,
            instance_id=r.instance_id,
            username=r.username,
            display_name=names.get(r.username) or r.username,
            kind=r.kind,
            kind_label=CONFLICT_KINDS.get(r.kind, r.kind),
            reason=r.reason,
            declared_by=r.declared_by,
            declared_by_name=names.get(r.declared_by) or r.declared_by,
            self_declared=r.self_declared,
            declared_at=r.declared_at,
            decision=r.decision,
            decision_label=DECISIONS.get(r.decision) if r.decision else None,
            decision_reason=r.decision_reason,
            decided_by=r.decided_by,
            decided_by_name=(names.get(r.decided_by) or r.decided_by) if r.decided_by else None,
            decided_at=r.decided_at,
        )
        for r in rows
    ]


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if v]
    return []


def after_form(
    session: Session,
    schema: Mapping[str, Any],
    *,
    instance_id: int,
    task_id: int,
    actor: str,
    submitted: Mapping[str, Any],
    before: Mapping[str, Any],
) -> None:
    """What a completed form declaring ``x-recusal`` enters in the register (nothing for other forms)."""
    config = schema.get("x-recusal")
    if not isinstance(config, dict):
        return
    if config.get("role") == "declaration":
        if submitted.get(config.get("flag", "has_conflict")) is not True:
            return
        kind = str(submitted.get(config.get("kind", "")) or "other")
        kind = kind if kind in CONFLICT_KINDS else "other"
        reason = str(submitted.get(config.get("reason", "")) or "").strip() or f"本人申报：{CONFLICT_KINDS[kind]}"
        declare(
            session,
            instance_id=instance_id,
            username=actor,
            kind=kind,
            reason=reason,
            declared_by=actor,
            task_id=task_id,
        )
    elif config.get("role") == "decision":
        team_field = str(config.get("team"))
        after = set(_names(submitted.get(team_field)))
        concerned = set(_names(before.get(team_field))) | after
        reason = clean_reason(submitted.get(str(config.get("reason"))), str(config.get("reason")))
        for entry in session.scalars(
            select(RecusalConflict)
            .where(
                cases.linked_clause(RecusalConflict.instance_id, instance_id),
                RecusalConflict.decision.is_(None),
                RecusalConflict.username.in_(sorted(concerned)),
            )
            .order_by(RecusalConflict.id)
        ):
            decide(
                session,
                entry,
                decision="keep" if entry.username in after else "replace",
                reason=reason,
                decided_by=actor,
            )
