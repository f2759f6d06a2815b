"""What one API request costs inside the server (issue 19): statements, transactions and milliseconds
per ``POST /api/v1/tasks/{id}/complete`` and per inbox read ``GET /api/v1/tasks?scope=group&instance=I``,
through the Flask test client with a bearer token, on SQLite and PostgreSQL.

Counts come from SQLAlchemy's cursor and transaction events on the service's engine, so they are exact
on a loaded machine where the milliseconds are not; the milliseconds are medians of interleaved
requests in one process. ``--profile`` adds a cProfile breakdown of each request kind (inclusive time
of the request's phases: token, parsing, use case, serialisation).

    python -m bench.perrequest [--requests 200] [--profile] [--pg]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from .common import recreate_pg_database
from .overhead import PROCESS, setup_service_db
from .serve import api_headers

DATA = {"opinion": "已核实，同意。", "finished": False}


class Counter:
    """Statements and transactions (BEGIN ... COMMIT/ROLLBACK) seen on one engine."""

    def __init__(self, engine) -> None:
        self.statements = 0
        self.commits = 0
        self.rollbacks = 0
        self.sql: list[str] = []
        event.listen(engine, "before_cursor_execute", self._cursor)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _cursor(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements += 1
        self.sql.append(statement.split("\n")[0][:110])

    @staticmethod
    def _open(conn) -> bool:
        """Whether the driver holds a transaction the database knows of (a COMMIT or ROLLBACK that is a
        round trip): SQLAlchemy fires its events for a connection in autocommit, or for SQLite's
        driver with nothing begun, too."""
        dbapi = conn.connection.dbapi_connection
        if hasattr(dbapi, "in_transaction"):  # sqlite3
            return bool(dbapi.in_transaction)
        return not dbapi.autocommit and dbapi.info.transaction_status != 0  # psycopg: 0 is IDLE

    def _commit(self, conn) -> None:
        self.commits += self._open(conn)

    def _rollback(self, conn) -> None:
        self.rollbacks += self._open(conn)

    def snapshot(self) -> tuple[int, int, int]:
        return self.statements, self.commits, self.rollbacks


def _services(kind: str, work: Path):
    if kind == "sqlite":
        return setup_service_db("sqlite", work, clients=1)
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_req19")
    os.environ["BENCH_DATABASE_URL"] = url
    from . import common

    common.PG_URL = url
    recreate_pg_database(url)
    return setup_service_db("postgresql", work, clients=1)


def run(kind: str, requests: int, profile: bool) -> dict:
    from web import create_app

    work = Path(tempfile.mkdtemp(prefix="guantong-perrequest-"))
    db, services = _services(kind, work)

    app = create_app(services=services)
    client = app.test_client()
    headers = api_headers("officer_01")
    counter = Counter(db.engine)
    # Enough instances that every completion has a fresh first task.
    starts = [
        services.runtime.start(PROCESS, data={"clue_no": f"XS-pr-{i}", "unit": "load_01"}) for i in range(requests)
    ]
    pairs = [(r.instance_id, r.created_tasks[0]) for r in starts]

    def inbox(instance: int):
        return client.get(f"/api/v1/tasks?scope=group&instance={instance}", headers=headers)

    def complete(task: int):
        return client.post(
            f"/api/v1/tasks/{task}/complete", json={"data": {**DATA, "unit": "load_01"}}, headers=headers
        )

    for instance, task in pairs[:3]:  # warm-up (and the token's once-a-minute touch)
        assert inbox(instance).status_code == 200
        done = complete(task)
        assert done.status_code == 200, done.get_data(as_text=True)
    out: dict = {"inbox": [], "complete": [], "count": {}}
    profiles = {"inbox": cProfile.Profile(), "complete": cProfile.Profile()}
    for n, (instance, task) in enumerate(pairs[3:]):
        for op, call, arg in (("inbox", inbox, instance), ("complete", complete, task)):
            before = counter.snapshot()
            mark = len(counter.sql)
            prof = profiles[op] if profile else None
            start = time.perf_counter()
            if prof:
                prof.enable()
            response = call(arg)
            if prof:
                prof.disable()
            out[op].append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            after = counter.snapshot()
            if n == 5:
                out["count"][op] = {
                    "statements": after[0] - before[0],
                    "commits": after[1] - before[1],
                    "rollbacks": after[2] - before[2],
                    "sql": counter.sql[mark:],
                }
    result = {
        "kind": kind,
        "inbox_ms": statistics.median(out["inbox"]) * 1000,
        "complete_ms": statistics.median(out["complete"]) * 1000,
        "count": out["count"],
    }
    if profile:
        for op, prof in profiles.items():
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
            stats.print_stats(os.environ.get("PERREQUEST_FILTER", ""), 45)
            result[f"profile_{op}"] = buf.getvalue()
            result[f"calls_{op}"] = stats.total_calls / len(out[op])  # type: ignore[attr-defined]
            result[f"stats_{op}"] = stats
    db.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--pg", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request of each kind")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    for kind in kinds:
        r = run(kind, args.requests, args.profile)
        print(f"\n== {kind}: inbox {r['inbox_ms']:.2f} ms, complete {r['complete_ms']:.2f} ms (medians)")
        for op, c in r["count"].items():
            calls = f", {r[f'calls_{op}']:.0f} Python calls" if f"calls_{op}" in r else ""
            print(f"  {op}: {c['statements']} statements, {c['commits']} commits, {c['rollbacks']} rollbacks{calls}")
            if args.sql:
                for line in c["sql"]:
                    print("     ", line)
        for op in ("inbox", "complete"):
            if f"profile_{op}" in r and os.environ.get("PERREQUEST_FILTER") is not None:
                print(f"\n-- profile {op} ({kind})\n{r[f'profile_{op}']}")


if __name__ == "__main__":
    main()
