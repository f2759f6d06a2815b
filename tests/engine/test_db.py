"""The SQLite connection settings: WAL, foreign keys, and commits as durable as configured."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import Database, sqlite_synchronous

LEVELS = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


def _pragmas(db: Database) -> dict:
    with db.engine.connect() as conn:
        return {
            name: str(conn.execute(text(f"PRAGMA {name}")).scalar())
            for name in ("journal_mode", "synchronous", "foreign_keys")
        }


def test_sqlite_commits_are_fsynced_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("GUANTONG_SQLITE_SYNCHRONOUS", raising=False)
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    found = _pragmas(db)
    db.dispose()
    assert (found["journal_mode"], LEVELS[found["synchronous"]], found["foreign_keys"]) == ("wal", "FULL", "1")


def test_sqlite_durability_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("GUANTONG_SQLITE_SYNCHRONOUS", "normal")
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    assert LEVELS[_pragmas(db)["synchronous"]] == "NORMAL"
    db.dispose()
    monkeypatch.setenv("GUANTONG_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ValueError, match="GUANTONG_SQLITE_SYNCHRONOUS must be one of FULL, EXTRA, NORMAL, not 'OFF'"):
        sqlite_synchronous()


def test_a_new_sqlite_database_file_is_owner_only(tmp_path):
    from engine.db import Database

    database = Database(f"sqlite:///{tmp_path / 'new' / 'guantong.db'}")
    database.create_all()
    assert (tmp_path / "new" / "guantong.db").stat().st_mode & 0o077 == 0
    database.dispose()


def _pg_or_skip() -> str:
    from tests.conftest import PG_URL, _pg_url

    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    return _pg_url()


def _backend_pid(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_in_steady_use_is_not_pinged_and_an_idle_dead_one_is_replaced(monkeypatch):
    """Issue 19: pinging before every unit of work was two round trips per API request; only a connection
    left idle is pinged now, and one that died meanwhile (database restart) is replaced, not handed out."""
    url = _pg_or_skip()
    db = Database(url, pool_size=1, max_overflow=0, ping_idle_after=60.0)
    pings = []
    real_ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        first = _backend_pid(db)
        for _ in range(5):
            assert _backend_pid(db) == first  # the same pooled connection, straight back into use
        assert pings == []
        # Left idle past the threshold and killed meanwhile: the ping finds it dead, the pool reconnects.
        for record in [db.engine.pool._pool.queue[0]]:  # the one pooled connection record
            record.info["guantong_idle_since"] -= 120.0
        admin = Database(url)
        with admin.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        assert _backend_pid(db) != first
        assert len(pings) == 1
    finally:
        db.dispose()


def test_pre_ping_can_still_be_asked_for():
    """``pool_pre_ping=True`` keeps SQLAlchemy's ping on every checkout (no idle check on top)."""
    url = _pg_or_skip()
    db = Database(url, pool_pre_ping=True)
    try:
        assert db.engine.pool._pre_ping
        _backend_pid(db)
    finally:
        db.dispose()


def test_statistics_are_gathered_after_a_bulk_load_on_postgresql(tmp_path):
    """Issue 19: with autovacuum off the planner knew nothing of the tables Guantong had just filled;
    seeding, deploying and restoring end with ANALYZE (engine/planner.py). SQLite is left as it is."""
    from engine.planner import refresh_statistics

    sqlite = Database(f"sqlite:///{tmp_path / 'g.db'}")
    assert refresh_statistics(sqlite) is False
    sqlite.dispose()
    url = _pg_or_skip()
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS planner_probe"))
            conn.execute(text("CREATE TABLE planner_probe (n int)"))
            conn.execute(text("INSERT INTO planner_probe SELECT generate_series(1, 1000)"))
        assert refresh_statistics(db) is True
        with db.engine.connect() as conn:
            tuples = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'planner_probe'")).scalar_one()
        assert tuples == 1000  # the planner now knows the rows just loaded (-1: never analysed)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS planner_probe"))
        db.dispose()


def test_a_reading_session_refuses_every_write_and_leaves_the_data_as_it_was(db):
    """``Database.reading()`` runs in autocommit on PostgreSQL, where a write would be committed out of
    any unit of work; it refuses an ORM flush and an INSERT/UPDATE/DELETE statement before either
    reaches the database, on both backends, and still reads."""
    from sqlalchemy import insert, select, update

    from engine.db import ReadOnlySession
    from engine.models import Unit

    with db.session() as s:
        s.add(Unit(code="u1", name="一室", kind="office"))
    with db.reading() as s:
        assert s.scalar(select(Unit.name).where(Unit.code == "u1")) == "一室"
    with pytest.raises(ReadOnlySession), db.reading() as s:
        s.add(Unit(code="u2", name="二室", kind="office"))
        s.flush()
    with pytest.raises(ReadOnlySession), db.reading() as s:
        s.get(Unit, "u1").name = "改名"
        s.scalar(select(Unit.code))  # autoflush of the changed row
    with pytest.raises(ReadOnlySession), db.reading() as s:
        s.execute(update(Unit).where(Unit.code == "u1").values(name="改名"))
    with pytest.raises(ReadOnlySession), db.reading() as s:
        s.execute(insert(Unit).values(code="u3", name="三室", kind="office"))
    with db.session() as s:
        assert [(u.code, u.name) for u in s.scalars(select(Unit).order_by(Unit.code))] == [("u1", "一室")]
