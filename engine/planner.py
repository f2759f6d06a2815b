"""Fresh planner statistics after Guantong itself loads data in bulk (PostgreSQL).

PostgreSQL chooses a query's plan from the statistics ``ANALYZE`` gathers. Autovacuum gathers them as tables
grow, but some managed and hand-run servers have it off, and after a bulk load (seeding the demo county,
deploying a library, restoring a backup) the statistics describe the empty tables of a moment ago. The
queries are written to keep index-friendly plans either way (engine/tasks/inbox.py); this makes the
estimates true as well, where Guantong knows it has just changed much of the data. SQLite is left alone:
its planner uses no statistics unless asked to, and its plans do not flip with table sizes.
"""

from __future__ import annotations

from sqlalchemy import text

from engine.db import Database


def refresh_statistics(db: Database) -> bool:
    """``ANALYZE`` every table of the database (PostgreSQL; a no-op on SQLite). True when it ran.

    ANALYZE reads a sample of each table (about 30,000 rows at most), so it takes well under a second on
    a county's data and a few seconds on a province's; it takes no lock that blocks reads or writes."""
    if db.dialect != "postgresql":
        return False
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return True
