"""The Alembic migrations build exactly the schema engine/models.py declares.

SQLite test databases are made from the models (``create_all``) and PostgreSQL ones through the
migrations, so a migration that drifted from the models (an index forgotten, a column typed differently)
would otherwise only show in production's query plans.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine import models  # noqa: F401 - registers every table on Base.metadata
from engine.db import Base, Database
from engine.migrate import current, upgrade


def _differences(db: Database) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_sqlite_migrations_match_the_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        upgrade(db)
        assert current(db) is not None
        assert _differences(db) == []
    finally:
        db.dispose()


def test_postgresql_migrations_match_the_models(pg_database):
    assert _differences(pg_database) == []
