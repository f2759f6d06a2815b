"""The database's own refusal to change or remove interference records: triggers installed with the tables.

An entry in the register is evidence that someone tried to influence a case; the rules require it to
be kept as recorded. Nothing in Guantong updates or deletes these rows (a correction is a new entry), and
the database refuses it for every role that cannot drop the triggers, as it does for the audit trail
(engine/audit/guard.py explains the deployment that makes this bind the application too).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.db import execute_for

TABLES = ("interference_entry", "interference_followup")

POSTGRESQL = (
    """
CREATE OR REPLACE FUNCTION interference_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % of row % refused', TG_TABLE_NAME, TG_OP, OLD.id
    USING ERRCODE = 'insufficient_privilege';
END
$$""",
    *(
        statement
        for table in TABLES
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION interference_append_only()",
        )
    ),
)

SQLITE = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
)

DROP = {
    "postgresql": (
        *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES),
        "DROP FUNCTION IF EXISTS interference_append_only()",
    ),
    "sqlite": tuple(f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in TABLES for op in ("update", "delete")),
}


def install(connection: Connection) -> None:
    execute_for(connection, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def remove(connection: Connection) -> None:
    """For the migration's downgrade."""
    execute_for(connection, DROP)
