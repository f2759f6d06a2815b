"""Overhead over the engine: SpiffWorkflow's own cycle against Guantong completing the same task via the API.

- SpiffWorkflow alone, at its best: the state of an 8-step linear instance is deserialized without
  the spec (kept parsed in memory), one user task is completed, the engine steps, the state is
  serialized. No database, no HTTP. One process per client (the GIL would serialise threads).
- Guantong: ``POST /api/v1/tasks/{id}/complete`` against gunicorn on 127.0.0.1 — HTTP, bearer token,
  authorization, form validation, the same engine cycle, the guarded write, task rows, submission,
  audit, a durable commit, and the response (the completed task and the next one).

Both are counted as completions per second over a fixed time, with 1 and with 4 concurrent clients,
on SQLite and on PostgreSQL; each cell is the median of several rounds.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import clock
from engine.access import tokens
from engine.db import sqlite_synchronous
from engine.runtime import state

from .common import deployed_services, fresh_database, median_ms, p95_ms, pg_available
from .serve import Gunicorn, Http, add_units, add_users, py_spy, run_clients, summarise_profile

PROCESS = "gt_bench_linear"
STEPS = 8
DATA = {"finished": False}
GOAL = 0.3
COMPLETION_MARKERS = (
    "web/api/__init__.py:_bearer",
    "web/api/tasks.py:complete",
    "engine/tasks/operations.py:submit_task",
    "engine/forms/schema.py:validate",
    "engine/runtime/core.py:begin_completion",
    "engine/runtime/core.py:_read_for_completion",
    "engine/runtime/core.py:finish_completion",
    "engine/runtime/state.py:load",
    "engine/runtime/core.py:run_engine",
    "engine/runtime/state.py:dump",
    "engine/runtime/core.py:_apply_snapshot",
    "engine/runtime/core.py:_guarded_write",
    "engine/runtime/core.py:_sync",
    "sqlalchemy/orm/session.py:commit",
    "flask_smorest/response.py:wrapper",
)


# --------------------------------------------------------------------------- SpiffWorkflow alone
def _raw_states(loaded) -> list[bytes]:
    """The instance's state before each of its 8 steps, as SpiffWorkflow keeps it (no compaction)."""
    spec, subs = loaded.spec(PROCESS), loaded.subprocess_specs(PROCESS)
    wf = BpmnWorkflow(spec, subs, script_engine=loaded.script_engine)
    for t in wf.get_tasks(state=TaskState.READY):
        t.data.update({"clue_no": "XS-RAW", "unit": "load_01"})
    wf.do_engine_steps()
    blobs = []
    for _ in range(STEPS):
        blobs.append(state.dump(wf))
        task = next(iter(wf.get_tasks(state=TaskState.READY, manual=True)))
        task.data.update(DATA)
        task.run()
        wf.do_engine_steps()
    assert wf.is_completed()
    return blobs


def _raw_loop(loaded, blobs, duration, ready, go, results):
    spec, subs, engine = loaded.spec(PROCESS), loaded.subprocess_specs(PROCESS), loaded.script_engine
    ready.wait()
    go.wait()
    count, deadline = 0, time.perf_counter() + duration
    while time.perf_counter() < deadline:
        wf = state.load(blobs[count % STEPS], spec, subs, engine)
        task = next(iter(wf.get_tasks(state=TaskState.READY, manual=True)))
        task.data.update(DATA)
        task.run()
        wf.do_engine_steps()
        state.dump(wf)
        count += 1
    results.put(count)


def raw_rate(loaded, blobs, clients: int, duration: float) -> float:
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Barrier(clients + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_raw_loop, args=(loaded, blobs, duration, ready, go, results)) for _ in range(clients)]
    for p in procs:
        p.start()
    ready.wait()
    start = time.perf_counter()
    go.set()
    total = sum(results.get(timeout=duration + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / (time.perf_counter() - start)


# --------------------------------------------------------------------------- Guantong through the API
def setup_service_db(kind: str, work, clients: int = 4):
    db = fresh_database(kind, work)
    services = deployed_services(db, work)
    with db.session() as s:
        add_units(
            s,
            [{"code": "bench_cdi", "name": "基准纪委监委", "kind": "commission"}]
            + [
                {"code": f"load_{c:02d}", "name": f"第{c}监督检查室", "parent": "bench_cdi"}
                for c in range(1, clients + 1)
            ],
        )
        add_users(
            s,
            [
                {
                    "username": f"officer_{c:02d}",
                    "name": f"办理人{c}",
                    "memberships": [(f"load_{c:02d}", "supervision_office", False)],
                }
                for c in range(1, clients + 1)
            ],
        )
    return db, services


def start_instances(services, unit: str, count: int, tag: str) -> list[int]:
    return [
        services.runtime.start(PROCESS, data={"clue_no": f"XS-{tag}-{i}", "unit": unit}).created_tasks[0]
        for i in range(count)
    ]


def floor(db, server: Gunicorn, samples: int) -> dict:
    """What any HTTP service with durable commits pays on this machine before doing any work: one
    keep-alive request to a handler that asks the database one question (``GET /healthz``), and one
    committed single-row update (the transaction a completion ends with). Milliseconds, medians."""
    http = Http(server.port)
    http_times = [http.get("/healthz")[2] for _ in range(samples)]
    http.close()
    commit_times = []
    for _ in range(samples):
        start = time.perf_counter()
        with db.engine.begin() as conn:
            tokens.touch(conn, 1, clock.now())  # the token's one-row update: the smallest durable write
        commit_times.append(time.perf_counter() - start)
    return {"http": median_ms(http_times), "commit": median_ms(commit_times)}


def service_round(
    services, server: Gunicorn, work, clients: int, duration: float, expected_rate: float, tag: str
) -> dict:
    per_client = int(expected_rate * duration * 1.6 / clients / STEPS) + 2
    jobs = []
    for c in range(1, clients + 1):
        unit = f"load_{c:02d}"
        jobs.append(
            {
                "user": f"officer_{c:02d}",
                "unit": unit,
                "first_tasks": start_instances(services, unit, per_client, f"{tag}-{c}"),
            }
        )
    (result,) = run_clients([{"port": server.port, "mode": "chain", "duration": duration, "jobs": jobs}], work)
    done = len(result["done"])
    return {
        "rate": done / result["elapsed"],
        "latencies": result["latencies"],
        "errors": result["errors"],
        "ran_out": result["ran_out"],
        "client_cpu": result["cpu"] / result["elapsed"],
        "done": done,
    }


def run(report, work, quick: bool) -> dict:
    rounds = 1 if quick else 3
    duration = 0.5 if quick else 6.0
    raw_duration = 0.3 if quick else 4.0
    kinds = ["sqlite"] + (["postgresql"] if pg_available() else [])
    client_levels = (1, 4)
    workers = 2 if quick else 4

    results: dict = {}
    profile_md = ""
    for kind in kinds:
        db, services = setup_service_db(kind, work)
        loaded = services.definitions.loaded(1)
        if "raw" not in results:
            blobs = _raw_states(loaded)
            results["raw"] = {
                n: statistics.median(raw_rate(loaded, blobs, n, raw_duration) for _ in range(rounds))
                for n in client_levels
            }
        with Gunicorn(db.url, work, workers=workers) as server:
            results["server"] = server.describe()
            results[(kind, "floor")] = floor(db, server, 50 if quick else 400)
            service_round(services, server, work, 4, 0.3 if quick else 1.5, 400, f"{kind}-warm")  # every worker warm
            for n in client_levels:
                samples = []
                expected = 1000.0  # generous: a round that runs out of work would undercount
                for r in range(rounds):
                    out = service_round(services, server, work, n, duration, expected, f"{kind}-{n}-{r}")
                    expected = max(out["rate"] * 1.3, 20.0)
                    samples.append(out)
                rates = [s["rate"] for s in samples]
                latencies = [x for s in samples for x in s["latencies"]]
                errors: dict = {}
                for s in samples:
                    for k, v in s["errors"].items():
                        errors[k] = errors.get(k, 0) + v
                results[(kind, n)] = {
                    "rate": statistics.median(rates),
                    "min": min(rates),
                    "max": max(rates),
                    "p50": median_ms(latencies) if latencies else float("nan"),
                    "p95": p95_ms(latencies) if latencies else float("nan"),
                    "client_cpu": statistics.median(s["client_cpu"] for s in samples),
                    "errors": errors,
                    "ran_out": any(s["ran_out"] for s in samples),
                }
            if kind == kinds[-1]:
                # The slowest cell per client: one client on the last database, sampled by py-spy.
                prof = work / "profile-overhead.txt"
                with py_spy(server.worker_pids(), prof):
                    service_round(
                        services, server, work, 1, 0.5 if quick else 8.0, results[(kind, 1)]["rate"], f"{kind}-profile"
                    )
                profile_md = summarise_profile(prof, markers=COMPLETION_MARKERS)
                results["profile_db"] = kind
        db.dispose()

    rows, verdicts = [], []
    for kind in kinds:
        for n in client_levels:
            r = results[(kind, n)]
            raw = results["raw"][n]
            ratio = r["rate"] / raw
            verdicts.append(ratio >= GOAL)
            errs = "; ".join(f"{v}× {k}" for k, v in r["errors"].items()) or "none"
            rows.append(
                f"| {kind} | {n} | {raw:.0f} | {r['rate']:.0f} ({r['min']:.0f}–{r['max']:.0f}) | "
                f"**{ratio:.2f}** {'✓' if ratio >= GOAL else '✗'} | {r['p50']:.1f} / {r['p95']:.1f} | "
                f"{100 * r['client_cpu']:.0f}% of a core | {errs}{' (work ran out)' if r['ran_out'] else ''} |"
            )
    met = all(verdicts)
    worst = min(results[(k, n)]["rate"] / results["raw"][n] for k in kinds for n in client_levels)
    raw_ms = 1000 / results["raw"][1]
    floor_rows = []
    for kind in kinds:
        f = results[(kind, "floor")]
        ceiling = 1000 / (f["http"] + f["commit"] + raw_ms)
        floor_rows.append(
            f"| {kind} | {f['http']:.2f} | {f['commit']:.2f} | {raw_ms:.2f} | "
            f"{f['http'] + f['commit'] + raw_ms:.2f} | {ceiling:.0f} | {ceiling / results['raw'][1]:.2f} |"
        )
    report.add(
        "1. Overhead over the engine",
        "\n".join(
            [
                f"Completions per second (median of {rounds} rounds of {duration:g} s; range in brackets). "
                f"Goal: Guantong at least {GOAL} × SpiffWorkflow alone in every cell — "
                f"**{'met' if met else 'MISSED'}** (lowest ratio {worst:.2f}).",
                "",
                "| database | concurrent clients | SpiffWorkflow alone (/s) | Guantong via the API (/s) | ratio | "
                "API latency p50 / p95 (ms) | the client's own CPU | errors |",
                "|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                f"SpiffWorkflow alone: the 8-step linear process (`gt_bench_linear`), state loaded without the spec "
                f"(engine/state.py `load`), one user task completed, `do_engine_steps`, state dumped; {raw_duration:g} s per "
                "round, one process per client, no database. Guantong: "
                f"{results['server']} on 127.0.0.1, each client a thread on one keep-alive connection completing the tasks of its own "
                "instances in a chain (`POST /api/v1/tasks/{id}/complete`, following `next_tasks`), one client process. "
                "The machine has 2 cores, shared by the server, the database and the client: with 4 clients "
                "SpiffWorkflow alone gets both cores to itself while Guantong shares them with PostgreSQL and the "
                "client (its CPU share is in the table). SQLite runs in WAL mode "
                f"with `synchronous={sqlite_synchronous()}` (engine/db.py; "
                + (
                    "the WAL is fsynced at each commit, so commits are durable"
                    if sqlite_synchronous() != "NORMAL"
                    else "GUANTONG_SQLITE_SYNCHRONOUS=NORMAL: no fsync per commit, NOT durable against a power cut"
                )
                + "), PostgreSQL with `synchronous_commit=on` and fsync.",
                "",
                "**The floor under any service on this machine** (one client): a keep-alive HTTP request to a handler "
                "that asks the database one question (`GET /healthz`), plus one durable single-row commit, plus the "
                "engine's own cycle. Its rate is the most an HTTP service doing no work of its own besides could reach; "
                "its ratio to SpiffWorkflow alone bounds what the goal can ask of one client.",
                "",
                "| database | HTTP request (ms) | durable commit (ms) | engine cycle (ms) | sum (ms) | at most (/s) | "
                "ratio at most |",
                "|---|---|---|---|---|---|---|",
                *floor_rows,
                "",
                f"**Profile** (py-spy, {results.get('profile_db', '?')}, 1 client, gunicorn workers):",
                "",
                profile_md,
            ]
        ),
    )
    return results
