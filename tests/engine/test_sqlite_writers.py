"""SQLite's writers take turns through a file lock (engine/sqlite_writers.py): a write transaction holds
the turn from its first write to its end, reads never take it, and nothing can leave it held."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.db import Database
from engine.sqlite_writers import TakingTurns, lock_path


def _connect(path: Path, timeout: float = 5.0) -> TakingTurns:
    conn = sqlite3.connect(path, timeout=timeout, factory=TakingTurns, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


@pytest.fixture
def path(tmp_path: Path) -> Path:
    db = tmp_path / "turns.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.commit()
    conn.close()
    return db


def _turn_is_free(path: Path) -> bool:
    """Ask the kernel, as another process would, whether someone holds the turn."""
    fd = os.open(lock_path(str(path)), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing gives back a lock taken here
    return True


def test_a_write_transaction_holds_the_turn_until_it_ends(path):
    conn = _connect(path)
    conn.execute("SELECT count(*) FROM t").fetchall()
    assert _turn_is_free(path), "a read takes no turn"
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.in_transaction
    assert not _turn_is_free(path)
    conn.execute("SELECT count(*) FROM t").fetchall()
    assert not _turn_is_free(path), "a read inside the transaction keeps it"
    conn.commit()
    assert _turn_is_free(path)
    conn.execute("UPDATE t SET n = 2")
    assert not _turn_is_free(path)
    conn.rollback()
    assert _turn_is_free(path)
    conn.execute("DELETE FROM t")
    conn.close()  # closing a connection in a transaction gives the turn back
    assert _turn_is_free(path)


def test_a_failed_write_leaves_no_turn_held(path):
    conn = _connect(path)
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("INSERT INTO missing VALUES (1)")
    assert not conn.in_transaction
    assert _turn_is_free(path)
    conn.close()


def test_a_second_writer_waits_for_the_turn_and_goes_on_when_it_is_given_back(path):
    first, second = _connect(path), _connect(path)
    first.execute("INSERT INTO t VALUES (1)")
    done = threading.Event()

    def write() -> None:
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    worker = threading.Thread(target=write)
    worker.start()
    assert not done.wait(0.3), "the second writer went ahead while the first held the turn"
    assert first.execute("SELECT count(*) FROM t").fetchone() == (1,)
    first.commit()
    assert done.wait(5)
    worker.join()
    assert sorted(first.execute("SELECT n FROM t").fetchall()) == [(1,), (2,)]
    first.close()
    second.close()


def test_reads_go_on_while_someone_writes(path):
    writer, reader = _connect(path), _connect(path)
    writer.execute("INSERT INTO t VALUES (1)")
    began = time.perf_counter()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # WAL: the committed state
    assert time.perf_counter() - began < 1.0
    writer.commit()
    writer.close()
    reader.close()


def test_a_thread_writing_through_a_second_connection_does_not_wait_for_itself(path):
    """No use case does this; if one did, SQLite's busy timeout answers, as it would without turns."""
    first, second = _connect(path), _connect(path, timeout=0.2)
    first.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.commit()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    assert _turn_is_free(path)
    first.close()
    second.close()


def _hold_in_child(path: str, held, release) -> None:
    conn = _connect(Path(path))
    conn.execute("INSERT INTO t VALUES (10)")
    held.set()
    release.wait(10)
    conn.commit()
    conn.close()


def test_processes_take_turns(path):
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_in_child, args=(str(path), held, release))
    child.start()
    try:
        assert held.wait(10)
        assert not _turn_is_free(path)
        conn = _connect(path)
        done = threading.Event()
        worker = threading.Thread(target=lambda: (conn.execute("INSERT INTO t VALUES (11)"), done.set()))
        worker.start()
        assert not done.wait(0.3)
        release.set()
        assert done.wait(10)
        worker.join()
        conn.commit()
        assert sorted(conn.execute("SELECT n FROM t").fetchall()) == [(10,), (11,)]
        conn.close()
    finally:
        release.set()
        child.join(10)
    assert _turn_is_free(path)


def test_guantongs_sqlite_connections_take_turns(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    with db.engine.connect() as conn:
        assert isinstance(conn.connection.dbapi_connection, TakingTurns)
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not _turn_is_free(tmp_path / "g.db")
        conn.rollback()
        assert _turn_is_free(tmp_path / "g.db")
    with db.session() as s:
        s.execute(text("INSERT INTO t VALUES (2)"))
        assert not _turn_is_free(tmp_path / "g.db")
    assert _turn_is_free(tmp_path / "g.db")
    db.dispose() if hasattr(db, "dispose") else db.engine.dispose()


def test_in_memory_databases_take_no_turn():
    conn = sqlite3.connect(":memory:", factory=TakingTurns)
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    assert lock_path(":memory:") is None
