"""PostgreSQL sessions plan with Guantong's parallel_setup_cost (engine/db.py), or the server's when told."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import PG_PARALLEL_SETUP_COST, Database, pg_parallel_setup_cost


def test_the_setting_is_read_and_refused_when_it_is_not_a_number(monkeypatch):
    monkeypatch.delenv("GUANTONG_PG_PARALLEL_SETUP_COST", raising=False)
    assert pg_parallel_setup_cost() == PG_PARALLEL_SETUP_COST
    monkeypatch.setenv("GUANTONG_PG_PARALLEL_SETUP_COST", "server")
    assert pg_parallel_setup_cost() is None
    monkeypatch.setenv("GUANTONG_PG_PARALLEL_SETUP_COST", " 2500 ")
    assert pg_parallel_setup_cost() == 2500
    monkeypatch.setenv("GUANTONG_PG_PARALLEL_SETUP_COST", "1e4; DROP TABLE x")
    with pytest.raises(ValueError, match="GUANTONG_PG_PARALLEL_SETUP_COST must be a whole number or 'server'"):
        pg_parallel_setup_cost()


def test_every_pooled_connection_plans_with_it(pg_database, monkeypatch):
    """On the suite's PostgreSQL database (skipped without TEST_DATABASE_URL)."""
    pg_url = pg_database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("GUANTONG_PG_PARALLEL_SETUP_COST", "12345")
    db = Database(pg_url)
    try:
        with db.engine.connect() as conn:  # a plain connection, as the token's read uses
            assert conn.execute(text("SHOW parallel_setup_cost")).scalar() == "12345"
        with db.session() as s:  # a unit of work, after a rollback or commit the setting stays
            assert s.execute(text("SHOW parallel_setup_cost")).scalar() == "12345"
    finally:
        db.dispose()
    monkeypatch.setenv("GUANTONG_PG_PARALLEL_SETUP_COST", "server")
    server = Database(pg_url)
    try:
        with server.engine.connect() as conn:
            # the server's own value, whatever its configuration says (reset_val: what RESET restores)
            configured = conn.execute(
                text("SELECT reset_val FROM pg_settings WHERE name = 'parallel_setup_cost'")
            ).scalar()
            assert conn.execute(text("SHOW parallel_setup_cost")).scalar() == configured != "12345"
    finally:
        server.dispose()
