"""Which instances belong to one case (案件): the link separation of duties and recusal are judged on.

A clue becomes a case across several instances. A report or a handover starts one instance that calls
线索处置 → 谈话函询 / 初核 → 立案审查调查 → 审理 → 处分 inside itself (call activities run in the
calling instance, their steps are its ``human_task`` rows); a message starts another instance whose
``parent_instance_id`` is the sender; an appeal (申诉、复审、复核, ``gt_p5_appeal``) is started later by
a person and names its case only by the case number (``case_no``). "Nobody who investigated may hear
or review this case" and "a conflicted member is kept out of this case" must hold across all of them.

So the link is recorded, not worked out from workflow state when someone reads: every number an
instance carries (``clue_no``, ``case_no``) becomes a ``case_reference`` row the moment the instance
starts or first holds it (``Runtime._sync`` calls :func:`note` with each write), scoped by the owning
commission (a county's XS-2024-0156 is not its neighbour's). Instances sharing a number share a
``case_file``; when a number joins two cases (an appeal registered before the clue instance reached its
立案 number) the later case is merged into the earlier. An instance a case instance started by message
joins its sender's case. "The linked instances of X" is then one indexed read: the rows whose
``case_id`` is X's (:func:`linked_instances`, :func:`linked_clause` for use inside other statements).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.db import core
from engine.models import CaseFile, CaseReference, ProcessInstance

# The data variables whose values name a case, in the order a case acquires them.
REFERENCE_VARS = ("clue_no", "case_no")
# The owning commission's unit (engine/instances/entry.owner_data puts it in every instance's data).
SCOPE_VARS = ("commission_unit", "case_management_unit")
PARENT = "parent"  # the kind of the row that ties a message-started instance to its sender's case


def carried(datas: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], str]:
    """({kind: number}, scope) an instance's data holds: the first non-empty value of each variable."""
    refs: dict[str, str] = {}
    scope = ""
    for data in datas:
        for var in REFERENCE_VARS:
            value = data.get(var)
            if var not in refs and isinstance(value, (str, int)) and str(value).strip():
                refs[var] = str(value).strip()[:120]
        if not scope:
            found = next((data.get(v) for v in SCOPE_VARS if isinstance(data.get(v), str) and data.get(v)), None)
            scope = str(found)[:64] if found else ""
    return refs, scope


# Built once: note() runs with every write of every instance, and building a statement costs more
# Python than running this indexed read (SQLAlchemy's compiled cache still needs the statement built).
INSTANCE = bindparam("instance_id", type_=Integer)
_KNOWN = select(CaseReference.kind, CaseReference.value, CaseReference.case_id).where(
    CaseReference.instance_id == INSTANCE
)
_CASE_OF = select(CaseReference.case_id).where(CaseReference.instance_id == INSTANCE).limit(1)


def case_id_of(session: Session, instance_id: int) -> int | None:
    """The case an instance belongs to (every row of one instance carries the same case)."""
    return session.scalar(_CASE_OF, {"instance_id": instance_id})


def note(
    session: Session,
    instance_id: int,
    refs: Mapping[str, str],
    scope: str,
    *,
    parent_instance_id: int | None = None,
) -> int | None:
    """Record the numbers ``instance_id`` carries (and its sender's case); returns its case, if any.

    Idempotent and cheap when nothing is new (one indexed read), so the runtime calls it on every write.
    """
    return _note(session, instance_id, refs, scope, parent_instance_id=parent_instance_id)[0]


def note_changed(
    session: Session,
    instance_id: int,
    refs: Mapping[str, str],
    scope: str,
    *,
    parent_instance_id: int | None = None,
) -> bool:
    """:func:`note`, answering whether it recorded a new number (the case may then have grown: the
    runtime reads the case's 回避 conflicts again before it addresses new tasks)."""
    return _note(session, instance_id, refs, scope, parent_instance_id=parent_instance_id)[1]


def note_fresh(
    session: Session,
    instance_id: int,
    refs: Mapping[str, str],
    scope: str,
    *,
    parent_instance_id: int | None = None,
) -> bool:
    """:func:`note` for an instance inserted in this transaction (a start): it carries no number yet, so
    none is read back. Answers whether it joined a case that already held other instances: only then
    can a 回避 conflict bind it (conflicts are registered against an existing instance of the case)."""
    if not refs and parent_instance_id is None:
        return False
    return not _note(session, instance_id, refs, scope, parent_instance_id=parent_instance_id, fresh=True)[2]


def _note(
    session: Session,
    instance_id: int,
    refs: Mapping[str, str],
    scope: str,
    *,
    parent_instance_id: int | None = None,
    fresh: bool = False,
) -> tuple[int | None, bool, bool]:
    """The instance's case, whether a number was recorded, and whether the case was opened here."""
    known = (
        {}
        if fresh
        else {(r.kind, r.value): r.case_id for r in core(session).execute(_KNOWN, {"instance_id": instance_id})}
    )
    wanted = {(kind, value) for kind, value in refs.items()}
    parent_case = case_id_of(session, parent_instance_id) if parent_instance_id is not None else None
    if parent_case is not None:
        wanted.add((PARENT, str(parent_instance_id)))
    missing = wanted - set(known)
    if not missing:
        return (min(known.values()) if known else None), False, False
    cases: set[int] = {int(c) for c in known.values()}
    if parent_case is not None:
        cases.add(parent_case)
    for kind, value in missing:
        if kind == PARENT:
            continue
        cases.update(
            session.scalars(
                select(CaseReference.case_id)
                .where(CaseReference.scope == scope, CaseReference.kind == kind, CaseReference.value == value)
                .distinct()
            )
        )
    if cases:
        target = min(cases)
        merged = sorted(cases - {target})
        if merged:  # one number now joins two cases: they were one case all along
            session.execute(
                update(CaseReference)
                .where(CaseReference.case_id.in_(merged))
                .values(case_id=target)
                .execution_options(synchronize_session=False)
            )
    else:
        label = refs.get("case_no") or refs.get("clue_no")
        case = CaseFile(scope=scope, label=label, opened_at=clock.now())
        session.add(case)
        session.flush()
        target = case.id
    now = clock.now()
    session.add_all(
        CaseReference(instance_id=instance_id, kind=kind, value=value, scope=scope, case_id=target, created_at=now)
        for kind, value in sorted(missing)
    )
    session.flush()
    return target, True, not cases


def same_case(instance_id: Any) -> Select[Any]:
    """The ids of the instances in ``instance_id``'s case (itself included), by case_reference's indexes."""
    mine = select(CaseReference.case_id).where(CaseReference.instance_id == instance_id)
    return select(CaseReference.instance_id).where(CaseReference.case_id.in_(mine))


def linked_clause(column: Any, instance_id: Any) -> ColumnElement[bool]:
    """``column`` (an instance id column) is ``instance_id`` or an instance linked to it, for a WHERE.

    ``instance_id`` is a number, or :data:`INSTANCE` in a statement built once and run with
    ``{"instance_id": …}``.
    """
    return or_(column == instance_id, column.in_(same_case(instance_id)))


def linked_instances(session: Session, instance_id: int) -> set[int]:
    """``instance_id`` and every instance of the same case."""
    return {instance_id, *session.scalars(same_case(instance_id))}


@dataclass(frozen=True)
class LinkedInstance:
    id: int
    process_key: str
    title: str | None
    business_key: str | None
    status: str


def linked_view(session: Session, instance_id: int) -> list[LinkedInstance]:
    """The instances of ``instance_id``'s case, oldest first, for the pages that list them."""
    rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.process_key,
            ProcessInstance.title,
            ProcessInstance.business_key,
            ProcessInstance.status,
        )
        .where(linked_clause(ProcessInstance.id, instance_id))
        .order_by(ProcessInstance.id)
    ).all()
    return [LinkedInstance(r.id, r.process_key, r.title, r.business_key, r.status) for r in rows]
