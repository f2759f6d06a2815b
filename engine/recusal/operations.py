"""The conflict register's use cases (回避登记): list a case's entries, declare a conflict, decide on one.

Pages and the API call these, never the tables. Each one authorizes, validates and writes in one
transaction; a refusal is ``Forbidden`` (audited by the caller's error handler as ``access_denied``).

- **read**: whoever may read what the case's steps recorded (the people working on it, by
  engine/access/visibility.py) sees its register, with the linked instances it covers;
- **declare**: an officer declares his own conflict in a case he can see; a leader (the commission's
  secretary or leader in charge, or a leader of a unit working on the case) records anyone's;
- **decide**: the responsible leader (纪委书记监委主任 or 分管领导 of the case's commission), never on his
  own conflict, keeps (不予回避, with a reason) or replaces (回避) the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import visibility
from engine.access.duties import CONFLICT_KINDS
from engine.access.principal import Principal
from engine.errors import Forbidden, NotFound, NotVisible
from engine.instances import cases
from engine.models import CaseFile, ProcessInstance, RecusalConflict
from engine.recusal import register
from engine.recusal.register import DECISIONS, Entry
from engine.services import Services

# Who decides on a conflict (regulations-and-practice.md §6.6: "the responsible leader").
DECIDING_ROLES = ("commission_secretary", "leader_in_charge")


@dataclass(frozen=True)
class CaseRegister:
    """A case's register as a page or the API shows it, with what the person may do on it."""

    instance_id: int
    case_id: int | None
    case_label: str | None
    linked: list[cases.LinkedInstance]
    entries: list[Entry]
    may_declare_self: bool
    may_record: bool
    may_decide: bool
    kinds: dict[str, str] = field(default_factory=lambda: dict(CONFLICT_KINDS))
    decisions: dict[str, str] = field(default_factory=lambda: dict(DECISIONS))


def _scope(s: Session, instance_id: int) -> str:
    """The owning commission's unit of the instance's case ('' when the case does not know it)."""
    case_id = cases.case_id_of(s, instance_id)
    if case_id is None:
        return ""
    return s.scalar(select(CaseFile.scope).where(CaseFile.id == case_id)) or ""


def _leads(principal: Principal, scope: str) -> bool:
    """Holds a deciding role in the case's commission (any commission when the case names none)."""
    if principal.is_system:
        return True
    units = set().union(*(principal.units_for(role) for role in DECIDING_ROLES))
    return bool(units) and (not scope or scope in units)


def _require_reader(s: Session, principal: Principal, instance_id: int) -> None:
    if s.scalar(select(ProcessInstance.id).where(ProcessInstance.id == instance_id)) is None:
        raise NotFound(f"instance {instance_id} not found", instance=instance_id)
    if not visibility.can_read_instance_data(s, principal, instance_id):
        raise NotVisible(
            f"instance {instance_id} is not within your need to know",
            reason="instance_not_visible",
            instance=instance_id,
        )


def _may_record(principal: Principal, scope: str) -> bool:
    return _leads(principal, scope) or bool(principal.leader_of)


def case_register(services: Services, principal: Principal, instance_id: int) -> CaseRegister:
    """The register of ``instance_id``'s case (every linked instance), for a person working on it."""
    with services.db.session() as s:
        _require_reader(s, principal, instance_id)
        scope = _scope(s, instance_id)
        case_id = cases.case_id_of(s, instance_id)
        label = s.scalar(select(CaseFile.label).where(CaseFile.id == case_id)) if case_id is not None else None
        return CaseRegister(
            instance_id=instance_id,
            case_id=case_id,
            case_label=label,
            linked=cases.linked_view(s, instance_id),
            entries=register.entries(s, instance_id),
            may_declare_self=not principal.is_system,
            may_record=_may_record(principal, scope),
            may_decide=_leads(principal, scope),
        )


def declare_conflict(
    services: Services,
    principal: Principal,
    instance_id: int,
    *,
    username: str | None,
    kind: str,
    reason: str,
) -> int:
    """Enter a conflict in the case's register; ``username`` None or the person's own: his declaration."""
    who = (username or "").strip() or principal.username
    with services.db.session() as s:
        _require_reader(s, principal, instance_id)
        if who != principal.username and not _may_record(principal, _scope(s, instance_id)):
            raise Forbidden(
                "only a leader may record someone else's conflict",
                instance=instance_id,
                reason="recusal_record_leader_only",
            )
        entry = register.declare(
            s, instance_id=instance_id, username=who, kind=kind, reason=reason, declared_by=principal.username
        )
        return entry.id


def decide_conflict(services: Services, principal: Principal, conflict_id: int, *, decision: str, reason: str) -> None:
    """The responsible leader keeps (with a reason) or replaces a person with a registered conflict."""
    with services.db.session() as s:
        entry = s.get(RecusalConflict, conflict_id)
        if entry is None:
            raise NotFound(f"conflict {conflict_id} not found", conflict=conflict_id)
        _require_reader(s, principal, entry.instance_id)
        if not _leads(principal, _scope(s, entry.instance_id)):
            raise Forbidden(
                "only the commission's secretary or leader in charge decides on a conflict",
                instance=entry.instance_id,
                reason="recusal_decide_leader_only",
            )
        if entry.username == principal.username:
            raise Forbidden(
                "nobody decides on his own conflict", instance=entry.instance_id, reason="recusal_own_conflict"
            )
        register.decide(s, entry, decision=decision, reason=reason, decided_by=principal.username)
