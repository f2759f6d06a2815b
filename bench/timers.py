"""Due timers fired per second by one and by two worker processes against one database.

Instances of a process whose task has a 5-working-day boundary timer are started with the clock set
in the past, so every timer is due; then worker processes (already imported and connected) are let
go at the same moment and drain the due work. Throughput counts timers fired from that moment until
the last worker finishes; the audit log is checked to prove each timer fired exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from engine import clock
from engine.models import AuditEvent

from .common import deployed_services, fresh_database, pg_available

ROOT = Path(__file__).resolve().parent.parent


def _seed(services, count: int) -> None:
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)):
        for i in range(count):
            services.runtime.start("gt_bench_timer", data={"clue_no": f"XS-T{i}", "unit": "qh_jc2"})


def _run_workers(db_url: str, workers: int, work: Path) -> tuple[float, int]:
    go = work / f"go-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.worker_child", db_url, str(go), f"w{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    for proc in procs:
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"worker did not start: {line} {proc.stderr.read()}")
    start = time.time()
    go.touch()
    finished, fired = [], 0
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(err)
        _, count, at = out.strip().split()
        fired += int(count)
        finished.append(float(at))
    return max(finished) - start, fired


def run(report, work, quick: bool) -> dict:
    count = 40 if quick else 3000
    kinds = ["sqlite"] + (["postgresql"] if pg_available() else [])
    rows, results = [], {}
    for kind in kinds:
        for workers in (1, 2):
            db = fresh_database(kind, work)
            services = deployed_services(db, work)
            _seed(services, count)
            elapsed, fired = _run_workers(db.url, workers, work)
            with db.session() as session:
                per_instance = session.execute(
                    select(AuditEvent.instance_id, func.count())
                    .where(AuditEvent.action == "timer_fired")
                    .group_by(AuditEvent.instance_id)
                ).all()
            exactly_once = len(per_instance) == count and all(n == 1 for _, n in per_instance)
            results[(kind, workers)] = fired / elapsed
            rows.append(
                f"| {kind} | {workers} | {count} | {fired} | {elapsed:.2f} | {fired / elapsed:.0f} | "
                f"{'yes' if exactly_once else 'NO'} |"
            )
            db.dispose()
    report.add(
        "5. Timers",
        "\n".join(
            [
                "Due boundary timers fired per second by worker processes (leases per instance; on PostgreSQL "
                "`FOR UPDATE SKIP LOCKED`).",
                "",
                "| database | workers | due timers | fired | seconds | timers/s | each fired exactly once |",
                "|---|---|---|---|---|---|---|",
                *rows,
                "",
                "Each firing loads the instance, runs the boundary timer path, writes the guarded state, closes the "
                "task row and appends audit events in one transaction. Two workers fire "
                + ", ".join(f"{results[(kind, 2)] / results[(kind, 1)]:.2f}× on {kind}" for kind in kinds)
                + " what one fires per second: on SQLite writers take turns on the database lock (only the engine work before the write "
                "overlaps), on PostgreSQL the two workers take disjoint batches and share the machine's 2 cores "
                "with the database.",
            ]
        ),
    )
    return results
