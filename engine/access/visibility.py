"""Which instances a person may find and read, answered in SQL so lists never load workflow state.

Need-to-know (知悉范围) for a whole instance follows from its tasks: a person sees an instance when they
started it, when they could see any of its tasks (``engine.authz.can_see``: assignee, completer, the
task's role in one of its candidate units — or in any unit when it names none —, or leader of one of
its candidate units), or, for its metadata only, when they oversee it as a manager: a cockpit role in
the commission that owns it or in one above (``oversee``, the commissions engine/cockpit/scope.py
computes; the pages and the API pass the same set). No administrator reads every instance (三员分立,
engine/access/sanyuan.py): only the engine itself does.

Seeing an instance is not the same as reading what its steps recorded. The one who only started it
(an intake system, a 信访室 officer handing a clue on) follows its status and current step; what later
steps recorded is for the people who work on the instance's tasks, as on the web's instance page.
Confidential fields need a reveal role on top of that (``engine.sealing.may_reveal``).

The unit-and-role half of the rule is read from ``instance_access`` (engine/models.py
``InstanceAccess``), which this module derives from the tasks (``_access_rows``) and keeps in step:
``grant_task_access`` in the transaction that creates tasks (engine/runtime.py ``_sync``),
``refresh_access`` for rows written outside the runtime. A province holds about a million task rows;
reading every task a person's units were ever offered, twice per list, cost 60–90 ms for a commission
leader, where the derived rows take one index range per role. The person half (started, holds,
completed) changes with claims and completions and is read live from indexed columns.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from typing import cast

from sqlalchemy import Integer, String, Table, and_, bindparam, exists, func, literal_column, or_, select, true, union
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, CompoundSelect, FromClause, Insert, Select
from sqlalchemy.sql.elements import BindParameter

from engine.access.principal import Principal
from engine.models import HumanTask, InstanceAccess, ProcessInstance, TaskCandidate
from engine.prepared import Prepared
from engine.tasks.inbox import pool_row_clause as _pool_clause

# One instance, named by its id or by a bound parameter in a statement built once (``instance_id``).
InstanceRef = int | BindParameter[int]

# instance_access.unit_code of a task that names no candidate unit: every holder of its role may see it.
ANY_UNIT = ""
# instance_access.role of a task without a role: no pool holds it, only leaders of its units see it.
NO_ROLE = ""

# ANY_UNIT and NO_ROLE (both the empty string) as the SQL constant the derived rows are built with.
assert ANY_UNIT == NO_ROLE == ""
_EMPTY = literal_column("''", String)

# The table behind the model (a declarative model's ``__table__`` is typed as a plain FromClause).
_ACCESS = cast(Table, InstanceAccess.__table__)


def task_visible_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL for ``authz.can_see(principal, HumanTask)``: assignee, completer, pool member or unit leader."""
    if principal.is_system:
        return true()
    clauses = [
        HumanTask.assignee == principal.username,
        HumanTask.completed_by == principal.username,
        _pool_clause(principal),
    ]
    if principal.leader_of:
        clauses.append(
            and_(
                HumanTask.personal.is_(False),  # addressed to one person: his alone, not his leader's
                exists().where(
                    TaskCandidate.task_id == HumanTask.id, TaskCandidate.unit_code.in_(sorted(principal.leader_of))
                ),
            )
        )
    return or_(*clauses)


# --------------------------------------------------------------------------- the derived rows
def _access_rows(task_filter: ColumnElement[bool]) -> CompoundSelect[str, str, int]:
    """(unit_code, role, instance_id) for every grant the tasks matching ``task_filter`` make."""
    return grants_of(cast(Table, HumanTask.__table__), cast(Table, TaskCandidate.__table__), task_filter)


def grants_of(
    tasks: FromClause, candidates: FromClause, task_filter: ColumnElement[bool] | None = None
) -> CompoundSelect[str, str, int]:
    """(unit_code, role, instance_id) for every grant the rows of ``tasks`` make (its columns ``id``,
    ``role``, ``instance_id``, ``personal``, ``has_candidates``; ``candidates``: ``task_id``, ``unit_code``):
    one per candidate unit (its members holding the role, and its leaders, may see the instance) and one
    with ``ANY_UNIT`` for a task that names no unit — the same facts ``pool_row_clause`` and the leader rule
    of ``task_visible_clause`` read (``has_candidates`` decides "names no unit", as there).

    The tables themselves, or (engine/runtime/task_insert.py) the rows a PostgreSQL statement is inserting
    in the same statement: one rule for both, so the grants of a task written either way are the same rows."""
    t, c = tasks.c, candidates.c
    only = (task_filter,) if task_filter is not None else ()
    # A task addressed to one person grants nothing to its units: only he (as assignee) finds the instance
    # through it — neither the other holders of his role there nor their leader (who signs his reply later).
    # The two constants are SQL literals, not bound values: SQLAlchemy's statement cache does not carry a
    # bound literal through a data-modifying CTE (task_insert.py), and a constant needs no parameter.
    role = func.coalesce(t.role, _EMPTY)
    by_unit = (
        select(c.unit_code, role, t.instance_id)
        .select_from(candidates.join(tasks, t.id == c.task_id))
        .where(t.personal.is_(False), *only)
    )
    unscoped = select(_EMPTY, t.role, t.instance_id).where(
        t.has_candidates.is_(False), t.role.is_not(None), t.personal.is_(False), *only
    )
    return union(by_unit, unscoped)


def insert_grants(dialect: str, rows: CompoundSelect[str, str, int]) -> Insert:
    """Insert derived rows, skipping those already there (two tasks of an instance often grant the same)."""
    table = _ACCESS
    columns = ["unit_code", "role", "instance_id"]
    if dialect == "postgresql":
        return postgresql.insert(table).from_select(columns, rows).on_conflict_do_nothing()
    return table.insert().prefix_with("OR IGNORE").from_select(columns, rows)


def _insert_missing(session: Session, rows: CompoundSelect[str, str, int]) -> None:
    session.execute(insert_grants(session.get_bind().dialect.name, rows))


@functools.cache
def _grant_statement(dialect: str) -> Insert:
    """Built once per dialect: it runs in every state change that opens several tasks."""
    return insert_grants(dialect, _access_rows(HumanTask.id.in_(bindparam("task_ids", expanding=True))))


@functools.cache
def _grant_one(dialect: str) -> Prepared:
    """The grants of one new task, the usual step, on the driver (engine/prepared.py): inside SQLite's
    writer turn on the completion path."""
    return Prepared(insert_grants(dialect, _access_rows(HumanTask.id == bindparam("task_id"))))


def grant_task_access(session: Session, task_ids: Iterable[int]) -> None:
    """Record what newly created tasks grant, in the transaction that creates them.

    Called by ``Runtime._sync`` once the new task rows and their candidate units are written. Nothing
    else needs maintaining: a task's role and units never change, and who holds or completed it is read
    from ``human_task`` directly."""
    ids = sorted(set(task_ids))
    if ids:
        conn = session.connection()
        if len(ids) == 1:
            _grant_one(conn.dialect.name)(conn, {"task_id": ids[0]})
        else:
            conn.execute(_grant_statement(conn.dialect.name), {"task_ids": ids})


def refresh_access(session: Session, instance_ids: Iterable[int] | None = None) -> None:
    """Derive the rows of the given instances (every instance when None) again from their tasks.

    For task rows written outside the runtime (a bulk load, a benchmark reset that deleted tasks) and
    after restoring data; in normal operation ``grant_task_access`` keeps the table equal to this."""
    table = _ACCESS
    if instance_ids is None:
        session.execute(table.delete())
        _insert_missing(session, _access_rows(true()))
        return
    ids = sorted(set(instance_ids))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        session.execute(table.delete().where(table.c.instance_id.in_(chunk)))
        _insert_missing(session, _access_rows(HumanTask.instance_id.in_(chunk)))


# --------------------------------------------------------------------------- reading the rule
def _granted_instances(principal: Principal, instance_id: InstanceRef | None) -> list[Select[int]]:
    """Selects of the instances the person's units and roles reach through ``instance_access``: one per
    role (its units), the roles' tasks that name no unit, and every task of the units they lead."""
    a = InstanceAccess
    only = (a.instance_id == instance_id,) if instance_id is not None else ()
    roles = sorted(r for r in principal.roles if r != NO_ROLE)
    parts = []
    for role in roles:
        units = sorted(u for u in principal.units_for(role) if u != ANY_UNIT)
        parts.append(select(a.instance_id).where(a.unit_code.in_(units), a.role == role, *only))
    if roles:
        parts.append(select(a.instance_id).where(a.unit_code == ANY_UNIT, a.role.in_(roles), *only))
    led = sorted(u for u in principal.leader_of if u != ANY_UNIT)
    if led:
        parts.append(select(a.instance_id).where(a.unit_code.in_(led), *only))
    return parts


def _visible_task_instances(principal: Principal, instance_id: InstanceRef | None = None) -> list[Select[int]]:
    """The instances of the tasks ``task_visible_clause`` admits, as a union of index ranges: the tasks
    the person holds or completed (read live: claims and releases change them), and the grants of
    their units and roles. ``instance_id`` narrows every branch to that instance (one probe each)."""
    t = HumanTask
    only = (t.instance_id == instance_id,) if instance_id is not None else ()
    return [
        select(t.instance_id).where(t.assignee == principal.username, *only),
        select(t.instance_id).where(t.completed_by == principal.username, *only),
        *_granted_instances(principal, instance_id),
    ]


def _started_instances(principal: Principal, instance_id: InstanceRef | None = None) -> Select[int]:
    only = (ProcessInstance.id == instance_id,) if instance_id is not None else ()
    return select(ProcessInstance.id).where(ProcessInstance.started_by == principal.username, *only)


def visible_instance_ids(principal: Principal, instance_id: InstanceRef | None = None) -> CompoundSelect[int] | None:
    """The ids of the instances the person may find by need to know, as a union to select from
    (``instance_id``: when the caller asks about that one instance only); None when they may find every
    instance (the engine itself). Counting this union is cheaper than counting the instances it names."""
    if principal.is_system:
        return None
    return union(_started_instances(principal, instance_id), *_visible_task_instances(principal, instance_id))


def overseen_clause(oversee: Collection[str]) -> ColumnElement[bool]:
    """SQL for 'a commission the person oversees owns this instance' over ``process_instance``."""
    return ProcessInstance.owner_unit.in_(sorted(oversee))


def instance_visible_clause(
    principal: Principal, instance_id: InstanceRef | None = None, *, oversee: Collection[str] | None = None
) -> ColumnElement[bool]:
    """SQL for 'the person may find this instance' over ``process_instance``: need to know, or (``oversee``:
    the commissions whose instances the person oversees as a manager, engine/cockpit/scope.py) owned by one
    of them. The latter is a condition on the row, not more ids in the union: a prefecture's manager
    oversees tens of thousands of instances, which a union would have to collect and hash first."""
    ids = visible_instance_ids(principal, instance_id)
    if ids is None:
        return true()
    if oversee:
        return or_(overseen_clause(oversee), ProcessInstance.id.in_(ids))
    return ProcessInstance.id.in_(ids)


def instance_data_clause(principal: Principal, instance_id: InstanceRef | None = None) -> ColumnElement[bool]:
    """SQL for 'the person may read what the instance's steps recorded'."""
    if principal.is_system:
        return true()
    return ProcessInstance.id.in_(union(*_visible_task_instances(principal, instance_id)))


def instance_gate(
    principal: Principal, instance_id: InstanceRef, *, oversee: Collection[str] | None = None
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The two answers of :func:`can_see_instance` and :func:`can_read_instance_data` as columns over
    ``process_instance``, to be read with the instance's own row (one statement for a detail read)."""
    return (
        instance_visible_clause(principal, instance_id, oversee=oversee),
        instance_data_clause(principal, instance_id),
    )


def can_see_instance(
    session: Session, principal: Principal, instance_id: int, *, oversee: Collection[str] | None = None
) -> bool:
    """The one gate of an instance's page, for ``/instances/<id>``, ``/cockpit/instances/<id>`` and the API
    alike: need-to-know, or (``oversee``) a manager's commission owns it."""
    gate = _gate_statement(principal, frozenset(oversee) if oversee else None, recorded=False)
    return bool(session.scalar(gate, {"gate_instance": instance_id}))


def can_read_instance_data(session: Session, principal: Principal, instance_id: int) -> bool:
    gate = _gate_statement(principal, None, recorded=True)
    return bool(session.scalar(gate, {"gate_instance": instance_id}))


@functools.lru_cache(maxsize=256)
def _gate_statement(principal: Principal, oversee: frozenset[str] | None, *, recorded: bool) -> Select[int]:
    """The gate's statement for one person (and the commissions he oversees), the instance a parameter.

    Built per call, its union of one branch per role cost 0.2–0.4 ms of SQLAlchemy on every task and
    instance page (issue 19). The whole principal is the key (name, memberships, led units: everything
    the clauses read), so a change of memberships, read afresh on every request, is a new statement at
    once; about 28 KB each, bounded per web process to the 256 most recent (person, kind of gate)."""
    ref = bindparam("gate_instance", type_=Integer)
    clause = (
        instance_data_clause(principal, ref) if recorded else instance_visible_clause(principal, ref, oversee=oversee)
    )
    return select(ProcessInstance.id).where(ProcessInstance.id == ref, clause)
