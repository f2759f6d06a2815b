"""Shared pieces of the benchmarks: databases, timing, and the record of what was measured."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from engine.config import Config
from engine.db import Database
from engine.definitions import compile_bundle
from engine.migrate import upgrade
from engine.services import Services

from .fixtures import bench_bundle

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/guantong_bench")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def interleaved(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, tuple[float, float]]:
    """Each run timed once per round, the runs in turn (the machine is shared: a slow moment then falls on
    every run alike); (median, 90th percentile) in ms per run."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (statistics.median(t), sorted(t)[max(0, int(len(t) * 0.9) - 1)]) for name, t in times.items()}


def pg_available() -> bool:
    try:
        db = Database(PG_ADMIN)
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db.dispose()
        return True
    except Exception:
        return False


def fresh_database(kind: str, workdir: Path) -> Database:
    """An empty, migrated database: a new SQLite file, or the PostgreSQL bench database recreated."""
    if kind == "sqlite":
        path = workdir / f"bench-{time.time_ns()}.db"
        db = Database(f"sqlite:///{path}")
    else:
        recreate_pg_database(PG_URL)
        db = Database(PG_URL)
    upgrade(db)
    return db


def recreate_pg_database(url: str) -> None:
    """Drop the PostgreSQL database ``url`` names (closing its connections) and create it empty."""
    name = url.rsplit("/", 1)[1]
    admin = Database(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                    "AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


_COMPILED = None


def deployed_services(db: Database, workdir: Path) -> Services:
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = compile_bundle(bench_bundle())
    services = Services(Config.from_env(database_url=db.url, instance_dir=workdir), db=db)
    services.definitions.deploy(_COMPILED, actor="bench")
    return services


@dataclass
class Report:
    quick: bool
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    sections: list[tuple[str, str]] = field(default_factory=list)

    def add(self, title: str, markdown: str) -> None:
        print(f"\n## {title}\n{markdown}", flush=True)
        self.sections.append((title, markdown))

    def machine(self) -> str:
        def version(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
            except Exception:
                return "n/a"

        import sqlite3

        import SpiffWorkflow
        import sqlalchemy

        mem = "n/a"
        try:
            with open("/proc/meminfo") as fh:
                mem = f"{int(fh.readline().split()[1]) / 1024 / 1024:.1f} GiB"
        except OSError:
            pass
        rows = [
            ("date (UTC)", self.started.strftime("%Y-%m-%d %H:%M")),
            ("machine", f"{platform.machine()}, {os.cpu_count()} cores, {mem} memory"),
            ("Python", platform.python_version()),
            ("SpiffWorkflow", getattr(SpiffWorkflow, "__version__", "3.2.0")),
            ("SQLAlchemy", sqlalchemy.__version__),
            ("SQLite", sqlite3.sqlite_version),
            ("PostgreSQL", version(["psql", "--version"])),
            ("mode", "quick (smoke run, figures not meaningful)" if self.quick else "full"),
        ]
        return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)

    def write(self, path: Path) -> None:
        parts = [
            "# Benchmarks",
            "",
            "Written by `make bench` (bench/). Medians and ratios are from one run on the machine below; "
            "the machines are noisy, so compare figures from the same run only.",
            "",
            self.machine(),
            "",
        ]
        for title, markdown in self.sections:
            parts += [f"## {title}", "", markdown, ""]
        path.write_text("\n".join(parts), encoding="utf-8")


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="guantong-bench-"))
