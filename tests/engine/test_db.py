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
