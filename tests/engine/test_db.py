"""The SQLite connection settings: WAL, foreign keys, and commits as durable as configured."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import Database, StatusWord, sqlite_synchronous

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


def _compiles(db: Database, statement, runs: list[dict]) -> list[int]:
    """How many times SQLite compiled ``statement`` at each of ``runs`` (its parameters): the authorizer
    is called while a statement is prepared, never while a prepared one runs again."""
    calls = [0]

    def authorizer(*_args):
        calls[0] += 1
        return 0  # SQLITE_OK

    counts = []
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.set_authorizer(authorizer)
        try:
            for params in runs:
                before = calls[0]
                conn.execute(statement, params).all()
                counts.append(calls[0] - before)
        finally:
            raw.set_authorizer(None)
    return counts


def test_a_task_status_is_compared_as_a_word_so_sqlite_compiles_the_statement_once(tmp_path):
    """``human_task.status`` compared with a known status puts the word in the SQL (engine/db.py
    ``StatusWord``). With a bound parameter instead, SQLite's planner read its value to decide whether
    the partial indexes (``WHERE status = 'ready'``) apply and compiled the statement again at every
    execution: the completion's read of its task and the inbox's reads paid for it on every request."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.dialects import postgresql, sqlite

    from engine.models import HumanTask
    from engine.runtime.core import _COMPLETE_TASK, _READ_FOR_COMPLETION

    db = Database(f"sqlite:///{tmp_path / 'words.db'}")
    db.create_all()
    try:
        runs = [{"task_id": n} for n in (1, 2, 3)]
        first, *again = _compiles(db, _READ_FOR_COMPLETION.statement, runs)
        assert first > 0 and again == [0, 0]  # compiled once, then only run
        as_parameter = select(HumanTask.id).where(
            HumanTask.status == bindparam("s"), HumanTask.instance_id == bindparam("t")
        )
        counts = _compiles(db, as_parameter, [{"s": "ready", "t": n} for n in (1, 2, 3)])
        assert all(n > 0 for n in counts)  # the cause, shown: compiled at every execution
    finally:
        db.dispose()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "human_task.status = 'ready'" in str(_COMPLETE_TASK.statement.compile(dialect=dialect))
        assert "other_task.status = 'ready'" in str(_READ_FOR_COMPLETION.statement.compile(dialect=dialect))
    # A value that is not one of the column's words (it may come from a request) stays a parameter.
    odd = select(HumanTask.id).where(HumanTask.status == "ready' OR 1=1 --").compile(dialect=sqlite.dialect())
    assert "OR 1=1" not in str(odd) and odd.params == {"status_1": "ready' OR 1=1 --"}
    with pytest.raises(ValueError, match="plain ASCII letters"):  # a word is never anything to quote
        StatusWord(20, ["ready", "it's"])


def test_a_query_for_open_tasks_can_still_use_the_partial_indexes(tmp_path):
    """The word in the SQL keeps the partial indexes usable: SQLite refuses ``INDEXED BY`` an index a
    query cannot use ("no query solution"), and answers with the word in place. (Which index an empty
    database's planner picks among usable ones is its own choice, so the test names the index.)"""
    from sqlalchemy import select
    from sqlalchemy.dialects import sqlite

    from engine.models import HumanTask

    db = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    db.create_all()
    try:
        for index, condition in (
            ("ix_task_open_role", (HumanTask.role == "r", HumanTask.assignee.is_(None))),
            ("ix_task_ready_due", (HumanTask.due_at.is_not(None),)),
        ):
            query = select(HumanTask.id).where(HumanTask.status == "ready", *condition)
            sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            forced = sql.replace("FROM human_task", f"FROM human_task INDEXED BY {index}", 1)
            with db.engine.connect() as conn:
                plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + forced)))
                assert index in plan
                unusable = forced.replace("human_task.status = 'ready'", "human_task.status = 'completed'")
                with pytest.raises(Exception, match="no query solution"):
                    conn.execute(text("EXPLAIN QUERY PLAN " + unusable))
    finally:
        db.dispose()
