"""``process_instance.open_due_at``: the earliest due time of an instance's open tasks, kept by the database.

Why: "overdue" (an open task past its due time) is asked of instances in bulk — the cockpit's overdue
list counts a province's 45,000 overdue instances on each page, the overview counts them per commission —
and as a question about tasks it had to be answered by matching every owned instance against every open
task (75 ms for the province's secretary under EXPLAIN, the one cockpit page left over 100 ms). Kept on
the instance, it is a column test, and with the index ``(owner_unit, status, open_due_at)`` a count is one
index range per commission, as the running list's is.

Why triggers, not code: every path that opens, completes, cancels, moves or re-times a task (the runtime's
sync and completion, PostgreSQL's folded statements, terminations, time-limit changes, rewinds, version
migrations, the worker) would have to remember it, and one that forgot would make an instance silently
not overdue. A trigger on ``human_task`` sets it in the same transaction as the change, whoever writes.
Each fires only when a task's status, due time or instance changes (not on a claim or a reassignment),
acts only for a task that has a due time and is or was open, and writes the instance only when the
earliest due time actually moved (migration 0022 replaced triggers that re-read it for every row).

Semantics, exactly those of the EXISTS it replaces: NULL when no open (``ready``) task has a due time;
the instance is overdue at ``now`` when ``open_due_at < now``. Bulk loads that turn triggers off
(``session_replication_role = replica``: bench/province.py's COPY) call ``backfill`` afterwards; the
migration 0021 backfills too. ``install`` is run by the migration and by ``create_all`` (engine/models.py).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from engine.db import execute_for

# Only a task that has a due time and is open (or was, before the change) can move its instance's
# earliest due time; the triggers do nothing for any other row. A task that opens adds one time to the
# set, so the new earliest is the smaller of the two — no read of the other tasks; a task that closes,
# moves, changes its time or goes away has the earliest read again from the instance's open tasks
# (``ix_task_ready_due``). Each time is written only when it moved. A completion on PostgreSQL spent
# 0.6 ms in a trigger that re-read and re-planned both subqueries for every row it touched (issue 19).
_EARLIEST = "(SELECT min(t.due_at) FROM human_task t WHERE t.instance_id = {x} AND t.status = 'ready')"
_COUNTS_OLD = "OLD.status = 'ready' AND OLD.due_at IS NOT NULL"
_COUNTS_NEW = "NEW.status = 'ready' AND NEW.due_at IS NOT NULL"


def _earlier(x: str, due: str) -> str:
    """An open task with ``due`` joined instance ``x``: the earliest is the smaller one."""
    return f"UPDATE process_instance SET open_due_at = {due} WHERE id = {x} AND (open_due_at IS NULL OR open_due_at > {due})"  # noqa: S608


POSTGRESQL = (
    f"""
CREATE OR REPLACE FUNCTION instance_open_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  earliest timestamptz;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF {_COUNTS_NEW} THEN
      {_earlier("NEW.instance_id", "NEW.due_at")};
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NOT ({_COUNTS_OLD}) AND NOT ({_COUNTS_NEW}) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NOT ({_COUNTS_OLD}) AND OLD.instance_id = NEW.instance_id THEN
    {_earlier("NEW.instance_id", "NEW.due_at")};
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' AND NOT ({_COUNTS_OLD}) THEN
    RETURN NULL;
  END IF;
  SELECT min(t.due_at) INTO earliest FROM human_task t WHERE t.instance_id = OLD.instance_id AND t.status = 'ready';
  UPDATE process_instance SET open_due_at = earliest WHERE id = OLD.instance_id AND open_due_at IS DISTINCT FROM earliest;
  IF TG_OP = 'UPDATE' AND OLD.instance_id IS DISTINCT FROM NEW.instance_id THEN
    SELECT min(t.due_at) INTO earliest FROM human_task t WHERE t.instance_id = NEW.instance_id AND t.status = 'ready';
    UPDATE process_instance SET open_due_at = earliest WHERE id = NEW.instance_id AND open_due_at IS DISTINCT FROM earliest;
  END IF;
  RETURN NULL;
END
$$""",  # noqa: S608 - built from this module's constants only
    "DROP TRIGGER IF EXISTS instance_open_due ON human_task",
    "CREATE TRIGGER instance_open_due AFTER INSERT OR DELETE OR UPDATE OF status, due_at, instance_id "
    "ON human_task FOR EACH ROW EXECUTE FUNCTION instance_open_due()",
)

# SQLite: the same cases as WHEN clauses (IS NOT for IS DISTINCT FROM: it works on every version).
_SQLITE_SET = "UPDATE process_instance SET open_due_at = {e} WHERE id = {x} AND open_due_at IS NOT {e};"


def _sqlite_recompute(x: str) -> str:
    return _SQLITE_SET.format(e=_EARLIEST.format(x=x), x=x)


SQLITE = (
    f"CREATE TRIGGER IF NOT EXISTS instance_open_due_insert AFTER INSERT ON human_task WHEN {_COUNTS_NEW} BEGIN "
    + _earlier("NEW.instance_id", "NEW.due_at")
    + "; END",
    "CREATE TRIGGER IF NOT EXISTS instance_open_due_update AFTER UPDATE OF status, due_at, instance_id "
    f"ON human_task WHEN ({_COUNTS_OLD}) OR ({_COUNTS_NEW}) BEGIN "
    + _sqlite_recompute("NEW.instance_id")
    + " "
    + _sqlite_recompute("OLD.instance_id")
    + " END",
    f"CREATE TRIGGER IF NOT EXISTS instance_open_due_delete AFTER DELETE ON human_task WHEN {_COUNTS_OLD} BEGIN "
    + _sqlite_recompute("OLD.instance_id")
    + " END",
)

DROP = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS instance_open_due ON human_task",
        "DROP FUNCTION IF EXISTS instance_open_due()",
    ),
    "sqlite": tuple(f"DROP TRIGGER IF EXISTS instance_open_due_{kind}" for kind in ("insert", "update", "delete")),
}

# Every instance at once, for a bulk load or the migration: one grouped pass over the open tasks.
BACKFILL = (
    "UPDATE process_instance SET open_due_at = NULL WHERE open_due_at IS NOT NULL",
    "UPDATE process_instance SET open_due_at = (SELECT min(t.due_at) FROM human_task t "
    "WHERE t.instance_id = process_instance.id AND t.status = 'ready') "
    "WHERE id IN (SELECT instance_id FROM human_task WHERE status = 'ready' AND due_at IS NOT NULL)",
)


def install(connection: Connection) -> None:
    execute_for(connection, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def remove(connection: Connection) -> None:
    execute_for(connection, DROP)


def backfill(connection: Connection) -> None:
    """Every instance's column recomputed from its tasks (after a load that bypassed the triggers)."""
    for statement in BACKFILL:
        connection.execute(text(statement))
