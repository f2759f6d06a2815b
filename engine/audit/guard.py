"""The database's own refusal to change audit rows: triggers installed with the table.

UPDATE and DELETE of ``audit_event`` are refused for every role, with one exception the sealer needs:
filling ``seq`` and ``chain`` of a row that has none yet, leaving everything else as it was. A sealed
row can therefore never change again, and no row can ever be deleted. Both PostgreSQL and SQLite get the
triggers (the migration 0005 and ``create_all`` install them).

A trigger binds whoever cannot drop it. On PostgreSQL, run the application as a role that does not own
the tables (migrations as the owner; the application role granted SELECT, INSERT and UPDATE (seq, chain)
on ``audit_event`` and no TRUNCATE), and the guard holds against the application itself; a superuser or
the table owner can still disable it, which the chain then shows. On SQLite anyone with the file can.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from engine.db import execute_for

# Everything but the chain columns: what must stay as it was written.
WRITTEN = ("id", "at", "actor", "action", "instance_id", "task_id", "version_id", "detail", "nonce", "key_id", "mac")


def _columns(prefix: str) -> str:
    return ", ".join(f"{prefix}.{c}" for c in WRITTEN)


POSTGRESQL = (
    f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.chain IS NOT NULL
     AND ({_columns("NEW")}) IS NOT DISTINCT FROM ({_columns("OLD")}) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only: % of event % refused', TG_OP, OLD.id
    USING ERRCODE = 'insufficient_privilege';
END
$$""",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
)

_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in WRITTEN)
SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event "
    f"WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.chain IS NULL OR {_CHANGED} "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
)

DROP = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
    ),
    "sqlite": ("DROP TRIGGER IF EXISTS audit_event_no_delete", "DROP TRIGGER IF EXISTS audit_event_no_update"),
}


def install(connection: Connection) -> None:
    execute_for(connection, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def remove(connection: Connection) -> None:
    """For the migration's downgrade (and tests that play the attacker who holds the database)."""
    execute_for(connection, DROP)
