"""Fresh planner statistics after Guantong loads data in bulk, and as its tables change (PostgreSQL).

PostgreSQL chooses a query's plan from the statistics ``ANALYZE`` gathers. Autovacuum gathers them as tables
grow, but some managed and hand-run servers have it off, and after a bulk load (seeding the demo county,
deploying a library, restoring a backup) the statistics describe the empty tables of a moment ago. The
queries are written to keep index-friendly plans either way (engine/tasks/inbox.py); this makes the
estimates true as well, where Guantong knows it has just changed much of the data. SQLite is left alone:
its planner uses no statistics unless asked to, and its plans do not flip with table sizes.

Between bulk loads the tables grow a step at a time. With autovacuum off, the statistics stay those of
``guantong init-db``'s ANALYZE, taken on empty tables, and PostgreSQL then believes every table nearly
empty and every condition nearly unselective: it nested-loops where it should hash. Measured on a county
database of 90 tasks in that state (issue 19): the inbox's tab summary and the group tab's page took 27 ms
each, row pairs scanned quadratically, where after an ANALYZE they take under a millisecond. So the worker
does what autoanalyze would (:func:`analyze_changed`): each minute it asks PostgreSQL's own counters
which of Guantong's tables changed by more than autovacuum's default threshold since they were last
analysed, and analyses those. With autovacuum on, autovacuum has usually done it first and this finds
nothing to do.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text

from engine.db import Base, Database

# autovacuum's defaults (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor): a table is analysed
# again once this many rows plus this share of its rows were inserted, updated or deleted since.
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE = 0.1
# One worker analyses at a time (several workers, several servers): a session-level advisory lock.
_ADVISORY_KEY = 0x6775616E  # "guan"

_CHANGED = text(
    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() AND s.relname IN :tables "
    "AND s.n_mod_since_analyze >= :threshold + :scale * greatest(c.reltuples, 0) ORDER BY s.relname"
).bindparams(bindparam("tables", expanding=True))


def refresh_statistics(db: Database) -> bool:
    """``ANALYZE`` every table of the database (PostgreSQL; a no-op on SQLite). True when it ran.

    ANALYZE reads a sample of each table (about 30,000 rows at most), so it takes well under a second on
    a county's data and a few seconds on a province's; it takes no lock that blocks reads or writes."""
    if db.dialect != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return True


def analyze_changed(db: Database) -> list[str]:
    """``ANALYZE`` each of Guantong's tables that changed by more than autovacuum's threshold since it was
    last analysed (PostgreSQL; on SQLite, and while another worker is at it, nothing). The tables analysed.

    The names come from PostgreSQL's catalogue, restricted to the tables Guantong's models declare, and
    are quoted as identifiers; the counters are PostgreSQL's own (``pg_stat_user_tables``), kept whether
    or not autovacuum runs."""
    if db.dialect != "postgresql":
        return []
    from engine import models  # noqa: F401 - the tables Guantong declares

    ours = sorted(Base.metadata.tables)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar():
            return []
        try:
            changed = list(
                conn.execute(
                    _CHANGED, {"tables": ours, "threshold": ANALYZE_THRESHOLD, "scale": ANALYZE_SCALE}
                ).scalars()
            )
            preparer = conn.dialect.identifier_preparer
            for name in changed:
                conn.execute(text(f"ANALYZE {preparer.quote(name)}"))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
    return changed
