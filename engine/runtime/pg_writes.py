"""Pairs of a step's writes that PostgreSQL takes as one statement (one round trip fewer each).

On PostgreSQL every statement of a completion or a start is a round trip inside its transaction, and the
outside client waits for each (issue 19). Two groups of writes always go together and need nothing in
between from Python, so there they are one statement each, a data-modifying CTE:

**The completed task and its record** (``COMPLETE_AND_RECORD``, ``Runtime.finish_completion``)::

    WITH done AS (UPDATE human_task SET status='completed', … WHERE id = :_id AND status = 'ready'
                  RETURNING id)
    INSERT INTO task_submission (…) SELECT done.id, … FROM done

The submission is inserted from the row the guarded update returned, so the statement counts one row
exactly when the update did; otherwise the caller refuses with 409 and the transaction rolls back, as
when the update alone counted none. The instance's ``lock_version`` guard and its row lock
(engine/runtime/instance_lock.py) are untouched: they are the statements before.

**A new task, its candidate units and the need-to-know grants it makes** (``task_with_grants``,
``Runtime._sync``)::

    WITH new_task AS (INSERT INTO human_task … RETURNING id, instance_id, role, personal, has_candidates),
         new_candidates AS (INSERT INTO human_task_candidate SELECT new_task.id, unit
                            FROM new_task JOIN unnest(:units) ON true RETURNING task_id, unit_code),
         new_grants AS (INSERT INTO instance_access <visibility.grants_of(new_task, new_candidates)>
                        ON CONFLICT DO NOTHING)
    SELECT id FROM new_task

The grants are derived from the rows the statement inserts (their ``RETURNING``: sub-statements of one
statement do not see each other's rows in the tables) by the same rule, ``visibility.grants_of``, that the
portable path applies to the tables afterwards, so the rows written are the same either way
(tests/engine/runtime/test_pg_writes.py). The candidate rows' foreign key is checked at the end of the
statement, when the task row exists.

A third such pair, a new case file and the numbers that open it, is written beside the case rules
(engine/instances/cases.py). SQLite (one writer in-process, no network round trip) keeps the portable
statements: ``engine.db.folds_writes`` decides for all three.
Two SQLAlchemy details shape the statements: their constants are SQL literals, not bound values (the
statement cache did not carry a bound literal's value through a data-modifying CTE), and the record's
parameters are named apart from ``human_task``'s columns (a parameter named like a column of the CTE's
``UPDATE`` is taken as one more value to SET).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, column, func, literal_column, select, true
from sqlalchemy.dialects import postgresql

from engine.access import visibility
from engine.models import HumanTask, TaskCandidate, TaskSubmission
from engine.prepared import Prepared

_T = cast(Table, HumanTask.__table__)
_C = cast(Table, TaskCandidate.__table__)
_S = cast(Table, TaskSubmission.__table__)


# ----------------------------------------------------------------------- the completed task and its record
SUBMISSION_COLUMNS = ("task_id", "instance_id", "kind", "data", "sealed", "submitted_by", "submitted_at")
_DONE = (
    _T.update()
    .where(_T.c.id == bindparam("_id"), _T.c.status == literal_column("'ready'", String))
    .values(
        status=literal_column("'completed'", String),
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("completed_by"),
        assignee=bindparam("assignee"),
    )
    .returning(_T.c.id)
    .cte("done")
)
COMPLETE_AND_RECORD = Prepared(
    _S.insert().from_select(
        list(SUBMISSION_COLUMNS),
        select(_DONE.c.id, *(bindparam(f"s_{name}", type_=_S.c[name].type) for name in SUBMISSION_COLUMNS[1:])),
        # The INSERT's rowcount is the guard's answer here (the driver's, engine/prepared.py).
    )
)


def complete_and_record_params(completion: Mapping[str, Any], submission: Mapping[str, Any]) -> dict[str, Any]:
    """``COMPLETE_AND_RECORD``'s parameters from the two portable statements' (the submission's
    ``task_id`` is the updated row's id, which the statement takes from the update itself)."""
    return {**completion, **{f"s_{name}": submission[name] for name in SUBMISSION_COLUMNS[1:]}}


# ----------------------------------------------------------------------- a new task and its grants
# The columns Runtime._human_task fills (its ``values``); ``id`` is the sequence's.
TASK_COLUMNS = (
    "instance_id",
    "task_uuid",
    "spec_id",
    "process_key",
    "business_key",
    "name",
    "lane",
    "role",
    "form_key",
    "stage",
    "mechanism",
    "platform",
    "assignee",
    "status",
    "separate_from",
    "separate_steps",
    "created_at",
    "due_at",
    "due_key",
    "due_start",
    "reminder_at",
    "has_candidates",
    "personal",
)


@functools.cache
def task_with_grants() -> Prepared:
    """Built once per process: the task, its candidates and its grants; returns the new task's id.

    Executed with the task's ``values`` (exactly ``TASK_COLUMNS``) and ``units`` (a list, maybe empty)."""
    task = (
        _T.insert()
        .values({name: bindparam(name, type_=_T.c[name].type) for name in TASK_COLUMNS})
        .returning(_T.c.id, _T.c.instance_id, _T.c.role, _T.c.personal, _T.c.has_candidates)
        .cte("new_task")
    )
    unit = (
        func.unnest(bindparam("units", type_=postgresql.ARRAY(String)))
        .table_valued(column("unit", String))
        .render_derived(name="unit_codes")
    )
    candidates = (
        _C.insert()
        # ``ready`` as a SQL literal: from_select would add the column's Python default as a bound value,
        # which the statement cache does not carry (inserted as NULL).
        .from_select(
            ["task_id", "unit_code", "ready"],
            select(task.c.id, unit.c.unit, true()).select_from(task.join(unit, true())),
        )
        .returning(_C.c.task_id, _C.c.unit_code)
        .cte("new_candidates")
    )
    grants = visibility.insert_grants("postgresql", visibility.grants_of(task, candidates)).cte("new_grants")
    return Prepared(select(task.c.id).add_cte(candidates, grants))


def task_params(values: Mapping[str, Any], units: list[str]) -> dict[str, Any]:
    """``task_with_grants``'s parameters: the row's values (every column, nothing else) and its units."""
    if set(values) != set(TASK_COLUMNS):
        raise AssertionError(f"human_task values do not match pg_writes.TASK_COLUMNS: {sorted(values)}")
    return {**values, "units": list(units)}
