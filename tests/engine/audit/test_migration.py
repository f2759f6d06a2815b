"""Events recorded before the chain existed are signed by the migration and then sealed like any other."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from engine.audit.verify import verify
from engine.db import Database
from engine.migrate import upgrade


def test_existing_events_are_signed_by_the_migration_and_verify(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0003")
        with db.engine.begin() as conn:
            for i in range(3):
                conn.execute(
                    text("INSERT INTO audit_event (at, actor, action, detail) VALUES (:at, :actor, 'completed', :d)"),
                    {
                        "at": dt.datetime(2024, 1, 2, 3, 4, 5, i).isoformat(" "),
                        "actor": f"u{i}",
                        "d": '{"decision": "同意"}',
                    },
                )
        upgrade(db)
        result = verify(db)
        assert result.ok and result.head_seq == 3
    finally:
        db.dispose()
