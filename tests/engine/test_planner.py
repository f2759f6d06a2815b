"""Planner statistics kept fresh by the worker (engine/planner.py): on PostgreSQL a table that changed by more
than autovacuum's threshold since its last ANALYZE is analysed again, one that changed less is not, and two
workers never analyse at once; SQLite has nothing to do."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from engine import planner
from engine.config import Config
from engine.models import CaseFile, Notification
from engine.scheduling.worker import Worker
from engine.services import Services
from tests.county import FIXTURES


def _pending(db, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).scalar_one()


def _wait_counted(db, table: str, at_least: int) -> None:
    """PostgreSQL publishes a backend's table counters shortly after its transaction ends, not at once."""
    deadline = time.monotonic() + 15
    while _pending(db, table) < at_least:
        assert time.monotonic() < deadline, f"{table}'s changes were never counted"
        time.sleep(0.1)


def _over_threshold(db, table: str) -> bool:
    with db.engine.connect() as conn:
        pending, rows = conn.execute(
            text(
                "SELECT s.n_mod_since_analyze, greatest(c.reltuples, 0) FROM pg_stat_user_tables s "
                "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = :t"
            ),
            {"t": table},
        ).one()
    return pending >= planner.ANALYZE_THRESHOLD + planner.ANALYZE_SCALE * rows


def test_tables_that_changed_enough_are_analysed_and_the_others_not(db):
    """PostgreSQL publishes a backend's counters up to seconds after its transactions (an earlier test's
    idle connections among them), so the tables' counters are compared as they stand just before the call,
    rather than assumed to hold only this test's rows."""
    if db.dialect != "postgresql":
        assert planner.analyze_changed(db) == []
        return
    planner.refresh_statistics(db)  # every table analysed: the counters start from (about) nothing
    with db.session() as s:
        s.add_all(CaseFile(scope="qh", label=f"XS-{n}") for n in range(80))  # over 50 + 10 % of an empty table
        s.add_all(Notification(kind="info", username="so1", message=f"m{n}") for n in range(10))  # under
    _wait_counted(db, "case_file", 80)
    _wait_counted(db, "notification", 10)
    expected = {t: _over_threshold(db, t) for t in ("case_file", "notification")}
    assert expected["case_file"]
    analysed = planner.analyze_changed(db)
    assert {t: t in analysed for t in expected} == expected
    assert _pending(db, "case_file") == 0
    if not expected["notification"]:
        assert _pending(db, "notification") >= 10  # left for a later pass, its count kept
    assert "case_file" not in planner.analyze_changed(db)  # nothing changed since


def test_one_worker_analyses_at_a_time(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    planner.refresh_statistics(db)
    with db.session() as s:
        s.add_all(CaseFile(scope="qh", label=f"XS-{n}") for n in range(80))
    _wait_counted(db, "case_file", 80)
    with db.engine.connect() as other:  # another worker holds the turn
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": planner._ADVISORY_KEY})
        assert planner.analyze_changed(db) == []
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": planner._ADVISORY_KEY})
        other.commit()
    assert "case_file" in planner.analyze_changed(db)  # (other tables may have late counters: see above)


def test_the_worker_looks_once_per_interval(services_for_worker, monkeypatch):
    services, db = services_for_worker
    worker = Worker(services)
    calls = []
    monkeypatch.setattr(planner, "analyze_changed", lambda database: calls.append(database) or ["case_file"])
    assert worker.refresh_statistics() == 1
    assert worker.refresh_statistics() == 0  # within the interval: not asked again
    worker._statistics_checked = time.monotonic() - services.config.statistics_interval - 1
    assert worker.refresh_statistics() == 1
    assert calls == [db, db]


@pytest.fixture
def services_for_worker(db, tmp_path):
    config = Config(
        database_url=db.url,
        processes_dir=FIXTURES / "lib",
        instance_dir=tmp_path,
        secret_key="planner-test-secret",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    return Services(config, db=db), db
