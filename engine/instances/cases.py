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

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Select, String, Table, bindparam, column, func, or_, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert

from engine import clock
from engine import db as database
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
_CF, _CR = cast(Table, CaseFile.__table__), cast(Table, CaseReference.__table__)
# The cases a number is known in (within its commission's scope).
_CASES_OF_NUMBER = (
    select(_CR.c.case_id)
    .where(_CR.c.scope == bindparam("scope"), _CR.c.kind == bindparam("kind"), _CR.c.value == bindparam("value"))
    .distinct()
)
_OPEN_CASE = _CF.insert().returning(_CF.c.id)
_REFERENCE_COLUMNS = ("instance_id", "kind", "value", "scope", "case_id", "created_at")


@functools.cache
def _open_case_with_references() -> Insert:
    """PostgreSQL: a new case file and the numbers that open it, one statement (one round trip of a
    start's; engine/runtime/pg_writes.py says why such pairs are folded). Returns the case id per number.

    The references are inserted from the id the case's insert returned; the numbers come as two arrays
    (kinds, values) in the order the portable path inserts them. Parameters are named apart from the
    tables' columns (``r_``/``c_``): SQLAlchemy would take a parameter named like a column of the CTE's
    INSERT as one more value."""
    case = (
        _CF.insert()
        .values(scope=bindparam("c_scope"), label=bindparam("c_label"), opened_at=bindparam("c_opened_at"))
        .returning(_CF.c.id)
        .cte("new_case")
    )
    numbers = (
        func.unnest(
            bindparam("r_kinds", type_=postgresql.ARRAY(String)), bindparam("r_values", type_=postgresql.ARRAY(String))
        )
        .table_valued(column("kind", String), column("value", String))
        .render_derived(name="numbers")
    )
    rows = select(
        bindparam("r_instance_id", type_=Integer),
        numbers.c.kind,
        numbers.c.value,
        bindparam("r_scope", type_=String),
        case.c.id,
        bindparam("r_created_at", type_=_CR.c.created_at.type),
    ).select_from(case.join(numbers, true()))
    return _CR.insert().from_select(list(_REFERENCE_COLUMNS), rows).returning(_CR.c.case_id)


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
    conn = core(session)
    for kind, value in missing:
        if kind == PARENT:
            continue
        cases.update(conn.execute(_CASES_OF_NUMBER, {"scope": scope, "kind": kind, "value": value}).scalars())
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
        # A new case: Core statements on the session's connection (no unit of work to flush for two rows).
        label = refs.get("case_no") or refs.get("clue_no")
        opened_at = clock.now()
        now = clock.now()
        ordered = sorted(missing)
        if database.folds_writes(conn):
            params = {
                "c_scope": scope,
                "c_label": label,
                "c_opened_at": opened_at,
                "r_kinds": [kind for kind, _ in ordered],
                "r_values": [value for _, value in ordered],
                "r_instance_id": instance_id,
                "r_scope": scope,
                "r_created_at": now,
            }
            return conn.execute(_open_case_with_references(), params).scalars().first(), True, True
        target = conn.execute(_OPEN_CASE, {"scope": scope, "label": label, "opened_at": opened_at}).scalar_one()
        conn.execute(
            _CR.insert(), [_reference(instance_id, kind, value, scope, target, now) for kind, value in ordered]
        )
        return target, True, True
    now = clock.now()
    core(session).execute(
        _CR.insert(), [_reference(instance_id, kind, value, scope, target, now) for kind, value in sorted(missing)]
    )
    return target, True, False


def _reference(instance_id: int, kind: str, value: str, scope: str, case_id: int, at: Any) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "kind": kind,
        "value": value,
        "scope": scope,
        "case_id": case_id,
        "created_at": at,
    }


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
