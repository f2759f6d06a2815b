"""Migration 0010_sanyuan: every account that was an administrator becomes the system administrator; nobody else
becomes one (the security and audit administrators are given by hand, docs/security.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from engine.db import Database
from engine.migrate import upgrade


def test_is_admin_becomes_the_system_administrator(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0005_audit_chain")
        with db.engine.begin() as conn:
            for username, admin in (("admin", True), ("wangfang", False)):
                conn.execute(
                    text(
                        "INSERT INTO app_user (username, display_name, active, is_admin, locale, created_at)"
                        " VALUES (:u, :u, 1, :a, 'zh_CN', :at)"
                    ),
                    {"u": username, "a": admin, "at": dt.datetime(2026, 1, 1).isoformat(" ")},
                )
        upgrade(db)
        with db.engine.connect() as conn:
            kinds = dict(conn.execute(text("SELECT username, admin_kind FROM app_user")).all())
            pending = conn.execute(text("SELECT count(*) FROM approval_request")).scalar()
        assert kinds == {"admin": "system", "wangfang": None} and pending == 0
    finally:
        db.dispose()
