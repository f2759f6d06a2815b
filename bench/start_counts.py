"""Statements, transactions and in-process time of the outside client's two slowest reads and writes:
``POST /api/v1/definitions/gt_bench_linear/instances`` (start) and ``GET /api/v1/instances/{id}``
(detail), through the Flask test client with a bearer token, as the API is used (issue 19).

``python -m bench.start_counts [--kinds sqlite,postgresql] [--rounds 5] [--per-round 40] [--profile N]``

Counts come from SQLAlchemy's ``before_cursor_execute`` and ``commit`` events on the engine, and do not
depend on the machine's load: they are the evidence for fewer round trips. Times are per call medians
over rounds in which start and detail alternate, so a loaded machine weighs on both alike; ``--profile``
runs N starts under cProfile and prints the functions holding the most cumulative time.

Run it from a checkout (``cd /work/main && .venv/bin/python -m bench.start_counts``) to compare commits:
it uses only the bench helpers and the public API, so the same file measures a base and a head.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event

from .common import pg_available
from .overhead import PROCESS, setup_service_db
from .serve import api_headers

USER, UNIT = "officer_01", "load_01"


class Counted:
    """Statements (by their first words) and commits on one engine while it is switched on."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: Counter[str] = Counter()
        self.commits = 0
        self.log: list[str] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            words = statement.split()
            kind = words[0].upper() if words else "?"
            if kind == "SELECT" and "FROM" in statement.upper():
                after = statement.upper().split("FROM", 1)[1].split()
                kind += " " + (after[0].strip('"').lower() if after else "")
            elif kind in ("INSERT", "UPDATE", "DELETE"):
                kind += " " + words[2 if kind != "UPDATE" else 1].strip('"').lower()
            self.statements[kind] += 1
            self.log.append(" ".join(words)[:220])

    def _commit(self, conn):
        if self.on:
            self.commits += 1
            self.log.append("-- COMMIT")

    def measure(self, fn):
        self.statements.clear()
        self.log.clear()
        self.commits = 0
        self.on = True
        try:
            result = fn()
        finally:
            self.on = False
        return result, sum(self.statements.values()), self.commits, dict(self.statements)


def _client(kind: str, work: Path):
    from web import create_app

    db, services = setup_service_db(kind, work, clients=1)
    app = create_app(services=services, TESTING=True)
    return db, app.test_client()


class Client:
    """The test client acting as the bench officer with his bearer token."""

    def __init__(self, http, headers: dict):
        self.http, self.headers, self.n = http, headers, 0

    def start(self) -> dict:
        self.n += 1
        r = self.http.post(
            f"/api/v1/definitions/{PROCESS}/instances",
            json={"data": {"clue_no": f"XS-C-{self.n}", "unit": UNIT}},
            headers=self.headers,
        )
        assert r.status_code == 201, r.get_data(as_text=True)[:400]
        return r.get_json()

    def detail(self, instance_id: int) -> dict:
        r = self.http.get(f"/api/v1/instances/{instance_id}", headers=self.headers)
        assert r.status_code == 200, r.get_data(as_text=True)[:400]
        return r.get_json()


def _kinds(counted: Counted) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counted.statements.items(), key=lambda kv: -kv[1]))


def measure(kind: str, work: Path, rounds: int, per_round: int, profile: int, verbose: bool) -> None:
    from web import create_app

    db, services = setup_service_db(kind, work, clients=1)
    client = Client(create_app(services=services, TESTING=True).test_client(), api_headers(USER))
    counted = Counted(db.engine)
    for _ in range(5):  # warm: caches, prepared statements, the first instance's numbering
        client.detail(client.start()["id"])
    body, s_count, s_commits, _ = counted.measure(client.start)
    start_kinds, start_log = _kinds(counted), list(counted.log)
    _, d_count, d_commits, _ = counted.measure(lambda: client.detail(body["id"]))
    print(
        f"== {kind}: start {s_count} statements, {s_commits} commits; detail {d_count} statements, {d_commits} commits"
    )
    print("   start:", start_kinds)
    print("   detail:", _kinds(counted))
    if verbose:
        print("\n".join(f"     S {line}" for line in start_log))
        print("\n".join(f"     D {line}" for line in counted.log))
    starts, details = [], []
    ids = [body["id"]]
    for _ in range(rounds):
        t_s, t_d = [], []
        for _ in range(per_round):
            t0 = time.perf_counter()
            ids.append(client.start()["id"])
            t1 = time.perf_counter()
            client.detail(ids[-2])
            t_s.append(t1 - t0)
            t_d.append(time.perf_counter() - t1)
        starts.append(statistics.median(t_s))
        details.append(statistics.median(t_d))
    print(
        f"   in-process ms (median of {rounds} round medians, {per_round} each): "
        f"start {statistics.median(starts) * 1000:.2f}, detail {statistics.median(details) * 1000:.2f}"
    )
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(profile):
            client.start()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    db.dispose()


def run(kinds: list[str], rounds: int, per_round: int, profile: int, verbose: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix="start-counts-"))
    for kind in kinds:
        measure(kind, work, rounds, per_round, profile, verbose)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kinds", default="sqlite,postgresql")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--per-round", type=int, default=40)
    p.add_argument("--profile", type=int, default=0)
    p.add_argument("--verbose", action="store_true", help="print each statement of one start and one detail")
    a = p.parse_args()
    kinds = [k for k in a.kinds.split(",") if k != "postgresql" or pg_available()]
    run(kinds, a.rounds, a.per_round, a.profile, a.verbose)


if __name__ == "__main__":
    main()
