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
and writes the instance only when the earliest due time actually moved.

Semantics, exactly those of the EXISTS it replaces: NULL when no open (``ready``) task has a due time;
the instance is overdue at ``now`` when ``open_due_at < now``. Bulk loads that turn triggers off
(``session_replication_role = replica``: bench/province.py's COPY) call ``backfill`` afterwards; the
migration 0021 backfills too. ``install`` is run by the migration and by ``create_all`` (engine/models.py).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from engine.db import execute_for

# The earliest due time of one instance's open tasks (``:x`` is the instance's id in the trigger's row).
_EARLIEST = "(SELECT min(t.due_at) FROM human_task t WHERE t.instance_id = {x} AND t.status = 'ready')"


def _set(x: str) -> str:
    """The instance's column set to its earliest open due time, only when that moved."""
    earliest = _EARLIEST.format(x=x)  # x is one of this module's constants: NEW or OLD.instance_id
    return f"UPDATE process_instance SET open_due_at = {earliest} WHERE id = {x} AND open_due_at IS DISTINCT FROM {earliest}"  # noqa: S608


POSTGRESQL = (
    f"""
CREATE OR REPLACE FUNCTION instance_open_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_set("NEW.instance_id")};
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.instance_id IS DISTINCT FROM NEW.instance_id) THEN
    {_set("OLD.instance_id")};
  END IF;
  RETURN NULL;
END
$$""",
    "DROP TRIGGER IF EXISTS instance_open_due ON human_task",
    "CREATE TRIGGER instance_open_due AFTER INSERT OR DELETE OR UPDATE OF status, due_at, instance_id "
    "ON human_task FOR EACH ROW EXECUTE FUNCTION instance_open_due()",
)

# SQLite has IS NOT for IS DISTINCT FROM (3.39 also knows the latter; IS NOT works on every version).
_SQLITE_SET = "UPDATE process_instance SET open_due_at = {e} WHERE id = {x} AND open_due_at IS NOT {e};"
SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS instance_open_due_insert AFTER INSERT ON human_task BEGIN "
    + _SQLITE_SET.format(e=_EARLIEST.format(x="NEW.instance_id"), x="NEW.instance_id")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS instance_open_due_update AFTER UPDATE OF status, due_at, instance_id "
    "ON human_task BEGIN "
    + _SQLITE_SET.format(e=_EARLIEST.format(x="NEW.instance_id"), x="NEW.instance_id")
    + " "
    + _SQLITE_SET.format(e=_EARLIEST.format(x="OLD.instance_id"), x="OLD.instance_id")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS instance_open_due_delete AFTER DELETE ON human_task BEGIN "
    + _SQLITE_SET.format(e=_EARLIEST.format(x="OLD.instance_id"), x="OLD.instance_id")
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
