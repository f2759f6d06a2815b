"""What an ordinary outside client sees: ``requests`` with one keep-alive session per client against the
README's production server (``gunicorn -w 4 -k gthread --threads 2``).

The other sections drive the API with the benchmark's own ``http.client`` loop; an officer's script or an
integration uses an HTTP library. Each client here is its own process (forked, so it shares nothing with
the server) holding one ``requests.Session``, and runs one cycle for a fixed time:

- ``inbox + complete``: ``GET /api/v1/tasks?scope=group&instance=I`` (the caller's inbox, one case), then
  ``POST /api/v1/tasks/{id}/complete`` on the task found — what a client looking for a case's next step does;
- ``complete``: the completion alone, following ``next_tasks`` from each response;
- ``start``: ``POST /api/v1/definitions/gt_bench_linear/instances``;
- ``detail``: ``GET /api/v1/instances/{id}``.

With 1 and with 4 clients, on SQLite and on PostgreSQL, each cell the median over its rounds. Beside them,
the floor under any HTTP service on this machine measured the same way by the same number of clients:
``GET /healthz`` on the same server through ``requests``, one durable one-row commit and SpiffWorkflow's
own cycle for the step (the engine alone, as section 1 runs it). A completion rate is compared with it.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import socket
import statistics
import time

import requests
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import clock
from engine.access import tokens
from engine.db import Database
from engine.models import HumanTask
from engine.runtime import state

from .common import median_ms, p95_ms, pg_available
from .overhead import PROCESS, STEPS, _raw_states, setup_service_db, start_instances
from .serve import Gunicorn, Http, api_headers, py_spy, summarise_profile

CYCLES = ("inbox + complete", "complete", "start", "detail")
# The same completion chain through other clients, one client, in the same rounds: the benchmark's own
# http.client loop (section 1), and a client with Nagle's algorithm on that writes the headers and the
# body apart (what a raw socket or several Java and C clients do): the delayed-ACK case web/quickack.py fixes.
REFERENCES = ("complete via http.client", "complete via a socket, Nagle on, two writes")
CLIENTS = (1, 4)
WORKERS = 4  # the README's production command
DATA = {"opinion": "已核实，同意。", "finished": False}
# Goals of issue 19 (docs/benchmarks.md shows each with its figure and verdict).
GOAL_COMPLETE_MS = {"sqlite": 5.0, "postgresql": 6.0}
GOAL_INBOX_MS = 5.0
GOAL_START_MS = 10.0
GOAL_FLOOR_RATIO = 0.6
GOAL_SCALING = 1.6
# Where the slowest cycle's time goes (py-spy inside the gunicorn workers, inclusive shares).
MARKERS = (
    "web/api/bearer.py:authenticate",
    "web/api/definitions.py:start_instance",
    "engine/instances/operations.py:start_instance",
    "engine/runtime/core.py:start",
    "engine/runtime/core.py:run_engine",
    "engine/runtime/state.py:dump",
    "engine/runtime/core.py:_sync",
    "web/api/instances.py:instance_detail",
    "engine/tasks/operations.py:submit_task",
    "engine/tasks/operations.py:inbox",
    "sqlalchemy/orm/session.py:commit",
    "flask_smorest/response.py:wrapper",
)


# --------------------------------------------------------------------------- one client process
def _session(port: int, user: str):
    session = requests.Session()
    session.headers.update(api_headers(user))
    return session, f"http://127.0.0.1:{port}"


class _TwoWrites:
    """A keep-alive client on a plain socket without ``TCP_NODELAY`` that sends a POST's headers and its
    body in two writes, as many non-Python clients do."""

    def __init__(self, port: int, headers: dict):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.buf = b""

    def post_json(self, path: str, payload) -> tuple[int, bytes, float]:
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{self.headers}\r\n"
        ).encode()
        start = time.perf_counter()
        self.sock.sendall(head)
        self.sock.sendall(body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        status_head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = status_head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        return int(lines[0].split()[1]), rest[:length], time.perf_counter() - start

    def close(self) -> None:
        self.sock.close()


def _timed(call, *args, **kwargs):
    """(status, body, seconds) of one request; status 0 when the connection failed without an answer.

    A server may close an idle keep-alive connection just as the client reuses it (gunicorn's
    ``--keep-alive`` is 2 s): ``requests`` then raises instead of answering. That is an error of the
    cell, counted and shown with the others; the session opens a new connection for the next request.
    """
    start = time.perf_counter()
    try:
        response = call(*args, **kwargs)
        body = response.content
    except requests.ConnectionError as exc:
        return 0, f"connection failed: {type(exc).__name__}".encode(), time.perf_counter() - start
    return response.status_code, body, time.perf_counter() - start


def _client(cycle: str, port: int, job: dict, duration: float, ready, go, results) -> None:
    """One client: its own session, its own instances, one cycle until the deadline."""
    session, base = _session(port, job["user"])
    data = {**DATA, "unit": job["unit"]}
    out = {"ops": {}, "done": 0, "errors": {}}

    def note(op: str, status: int, body: bytes, elapsed: float, ok: int = 200) -> bool:
        if status != ok:
            key = f"{op} {status}: {body[:160].decode(errors='replace')}"
            out["errors"][key] = out["errors"].get(key, 0) + 1
            return False
        out["ops"].setdefault(op, []).append(elapsed)
        return True

    other = None  # the reference clients (REFERENCES) complete through their own connection
    if cycle == REFERENCES[0]:
        other = Http(port, api_headers(job["user"]))
    elif cycle == REFERENCES[1]:
        other = _TwoWrites(port, api_headers(job["user"]))
    pending = list(job["first_tasks"])  # (instance, task) of the client's own instances
    instances = [i for i, _ in pending] or [0]
    ready.wait()
    go.wait()
    start = time.perf_counter()
    deadline = start + duration
    task = None
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        if cycle == "start":
            status, body, elapsed = _timed(
                session.post,
                f"{base}/api/v1/definitions/{PROCESS}/instances",
                json={"data": {"clue_no": f"XS-OUT-{job['user']}-{n}", "unit": job["unit"]}},
            )
            out["done"] += note("start", status, body, elapsed, ok=201)
            continue
        if cycle == "detail":
            status, body, elapsed = _timed(session.get, f"{base}/api/v1/instances/{instances[n % len(instances)]}")
            out["done"] += note("detail", status, body, elapsed)
            continue
        if task is None:
            if not pending:
                out["ran_out"] = True
                break
            instance, task = pending.pop(0)
        if cycle == "inbox + complete":
            status, body, elapsed = _timed(
                session.get, f"{base}/api/v1/tasks", params={"scope": "mine", "instance": instance}
            )
            if not note("inbox", status, body, elapsed):
                task = None
                continue
            items = _json(body)["items"]
            if not items:
                task = None
                continue
            task = items[0]["id"]
        if other is not None:
            status, body, elapsed = other.post_json(f"/api/v1/tasks/{task}/complete", {"data": data})
        else:
            status, body, elapsed = _timed(session.post, f"{base}/api/v1/tasks/{task}/complete", json={"data": data})
        if not note("complete", status, body, elapsed):
            task = None
            continue
        out["done"] += 1
        nxt = _json(body)["next_tasks"]
        task = nxt[0]["id"] if nxt else None
    out["elapsed"] = time.perf_counter() - start
    session.close()
    if other is not None:
        other.close()
    results.put(out)


def _json(body: bytes):
    return json.loads(body)


def _floor_client(port: int, url: str, blobs, loaded, duration: float, ready, go, results) -> None:
    """The floor, one client: ``GET /healthz`` (a request answered after one database question), one
    durable one-row commit, and the engine's cycle for one step, in a loop."""
    session = requests.Session()
    db = Database(url)
    spec, subs, engine = loaded.spec(PROCESS), loaded.subprocess_specs(PROCESS), loaded.script_engine
    ready.wait()
    go.wait()
    count, start = 0, time.perf_counter()
    deadline = start + duration
    errors: dict[str, int] = {}
    while time.perf_counter() < deadline:
        # The body is read, as a client does; a failed request is counted and the loop goes on.
        status, body, _elapsed = _timed(session.get, f"http://127.0.0.1:{port}/healthz")
        if status != 200:
            key = f"healthz {status}: {body[:160].decode(errors='replace')}"
            errors[key] = errors.get(key, 0) + 1
        with db.engine.begin() as conn:
            tokens.touch(conn, 1, clock.now())
        wf = state.load(blobs[count % STEPS], spec, subs, engine)
        task = next(iter(wf.get_tasks(state=TaskState.READY, manual=True)))
        task.data.update(DATA)
        task.run()
        wf.do_engine_steps()
        state.dump(wf)
        count += 1
    elapsed = time.perf_counter() - start
    db.dispose()
    results.put({"done": count, "elapsed": elapsed, "ops": {}, "errors": errors})


def _together(targets: list[tuple], timeout: float) -> list[dict]:
    """Fork one process per (function, args), release them together, return their results."""
    ctx = multiprocessing.get_context("fork")
    ready, go, results = ctx.Barrier(len(targets) + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=fn, args=(*args, ready, go, results)) for fn, args in targets]
    for p in procs:
        p.start()
    ready.wait()
    go.set()
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < len(procs):
        try:
            out.append(results.get(timeout=0.5))
            continue
        except queue.Empty:
            pass
        # A client that died (its traceback is on stderr) never reports: say so now, not after the timeout.
        dead = [p for p in procs if p.exitcode not in (None, 0)]
        if dead or time.monotonic() > deadline:
            for p in procs:
                p.kill()
            what = ", ".join(f"{p.name} exited with {p.exitcode}" for p in dead) or f"no report in {timeout:.0f} s"
            raise RuntimeError(f"a client process failed before reporting: {what}")
    for p in procs:
        p.join()
    return out


# --------------------------------------------------------------------------- the section
def _cell(outs: list[dict]) -> dict:
    ops: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for o in outs:
        for op, xs in o["ops"].items():
            ops.setdefault(op, []).extend(xs)
        for k, v in o["errors"].items():
            errors[k] = errors.get(k, 0) + v
    rate = sum(o["done"] / o["elapsed"] for o in outs if o["elapsed"] > 0)
    return {"rate": rate, "ops": ops, "errors": errors, "ran_out": any(o.get("ran_out") for o in outs)}


def measure(kind: str, work, quick: bool) -> dict:
    rounds = 1 if quick else 3
    duration = 0.2 if quick else 4.0
    db, services = setup_service_db(kind, work, clients=max(CLIENTS))
    loaded = services.definitions.loaded(1)
    blobs = _raw_states(loaded)
    result: dict = {"cells": {}, "floor": {}, "floor_errors": {}}
    with Gunicorn(db.url, work, workers=2 if quick else WORKERS) as server:
        result["server"] = server.describe()
        if not quick:  # warm every worker (imports, caches, connections) before anything is timed
            warm = [
                (_client, ("complete", server.port, _job(services, c, 2, f"{kind}-warm"), 1.5)) for c in range(1, 5)
            ]
            _together(warm, timeout=120)
        for r in range(rounds):  # rounds interleave the cells, so load drifts touch them all alike
            for n in CLIENTS:
                floor = _together(
                    [(_floor_client, (server.port, db.url, blobs, loaded, duration)) for _ in range(n)],
                    timeout=duration + 120,
                )
                result["floor"].setdefault(n, []).append(sum(o["done"] / o["elapsed"] for o in floor))
                for o in floor:
                    for k, v in o["errors"].items():
                        result["floor_errors"][k] = result["floor_errors"].get(k, 0) + v
                for cycle in CYCLES:
                    count = _instances_needed(cycle, n, duration)
                    jobs = [_job(services, c, count, f"{kind}-{r}-{n}-{cycle}") for c in range(1, n + 1)]
                    outs = _together(
                        [(_client, (cycle, server.port, job, duration)) for job in jobs], timeout=duration + 120
                    )
                    result["cells"].setdefault((cycle, n), []).append(_cell(outs))
            for cycle in REFERENCES:
                job = _job(services, 1, _instances_needed(cycle, 1, duration), f"{kind}-{r}-ref")
                outs = _together([(_client, (cycle, server.port, job, duration))], timeout=duration + 120)
                result["cells"].setdefault((cycle, 1), []).append(_cell(outs))
        if kind == "postgresql" or not pg_available():
            # The slowest cycle per request with one client, sampled in the workers.
            slowest = max(
                (c for c in CYCLES if c != "inbox + complete"),
                key=lambda c: statistics.median(
                    x for cell in result["cells"][(c, 1)] for xs in cell["ops"].values() for x in xs
                ),
            )
            prof = work / f"profile-outside-{kind}.txt"
            job = _job(services, 1, _instances_needed(slowest, 1, duration), f"{kind}-profile")
            with py_spy(server.worker_pids(), prof):
                _together([(_client, (slowest, server.port, job, duration))], timeout=duration + 120)
            result["profile"] = (slowest, summarise_profile(prof, markers=MARKERS))
        result["server_errors"] = server.errors()
    db.dispose()
    return result


def _instances_needed(cycle: str, clients: int, duration: float) -> int:
    """Instances to prepare per client so that a cycle does not run out of work (8 steps each, at a
    generous 400 completions per second); a detail reads a few, a start needs none."""
    if cycle == "start":
        return 0
    if cycle == "detail":
        return 5
    return int(400 * duration / clients / STEPS) + 2


def _job(services, c: int, count: int, tag: str) -> dict:
    unit = f"load_{c:02d}"
    tasks = start_instances(services, unit, count, tag)
    with services.db.session() as s:
        instance_of = dict(s.execute(select(HumanTask.id, HumanTask.instance_id).where(HumanTask.id.in_(tasks))).all())
    return {"user": f"officer_{c:02d}", "unit": unit, "first_tasks": [(instance_of[t], t) for t in tasks]}


def summarise(kind: str, res: dict) -> dict:
    """Per cycle and client count: rate (median of rounds), latency p50/p95 per operation (all rounds)."""
    out: dict = {"floor": {n: statistics.median(v) for n, v in res["floor"].items()}}
    out["floor_errors"] = res.get("floor_errors", {})
    if "profile" in res:
        out["profile"] = res["profile"]
    for (cycle, n), cells in res["cells"].items():
        ops: dict[str, list[float]] = {}
        errors: dict[str, int] = {}
        for c in cells:
            for op, xs in c["ops"].items():
                ops.setdefault(op, []).extend(xs)
            for k, v in c["errors"].items():
                errors[k] = errors.get(k, 0) + v
        out[(cycle, n)] = {
            "rate": statistics.median(c["rate"] for c in cells),
            "lat": {op: (median_ms(xs), p95_ms(xs)) for op, xs in ops.items() if xs},
            "errors": errors,
            "ran_out": any(c["ran_out"] for c in cells),
        }
    return out


def run(report, work, quick: bool) -> dict:
    kinds = ["sqlite"] + (["postgresql"] if pg_available() else [])
    results = {kind: summarise(kind, measure(kind, work, quick)) for kind in kinds}
    rows = []
    for kind in kinds:
        s = results[kind]
        for cycle in CYCLES:
            for n in CLIENTS:
                c = s[(cycle, n)]
                lat = " · ".join(f"{op} {p50:.1f} / {p95:.1f}" for op, (p50, p95) in sorted(c["lat"].items()))
                errs = "; ".join(f"{v}× {k}" for k, v in c["errors"].items()) or "none"
                scaling = ""
                if n != CLIENTS[0]:
                    scaling = f"{c['rate'] / s[(cycle, CLIENTS[0])]['rate']:.2f}×"
                rows.append(
                    f"| {kind} | {cycle} | {n} | {c['rate']:.0f} | {scaling or '—'} | {lat or '—'} | "
                    f"{errs}{' (work ran out)' if c['ran_out'] else ''} |"
                )
    refs = []
    for kind in kinds:
        s_ = results[kind]
        base = s_[("complete", 1)]["lat"].get("complete", (float("nan"), 0))[0]
        for cycle in ("complete", *REFERENCES):
            c = s_[(cycle, 1)]
            p50, p95 = c["lat"].get("complete", (float("nan"), float("nan")))
            errs = "; ".join(f"{v}× {k}" for k, v in c["errors"].items()) or "none"
            name = "complete via `requests` (the table above)" if cycle == "complete" else cycle
            refs.append(f"| {kind} | {name} | {c['rate']:.0f} | {p50:.1f} / {p95:.1f} | {p50 / base:.2f} | {errs} |")
    goals = goal_rows(kinds, results)
    text = "\n".join(
        [
            "Each client is its own process with one `requests` keep-alive session (what an officer's script or an "
            f"integration uses), against `gunicorn -w {WORKERS} -k gthread --threads 2` on 127.0.0.1, the README's production command. "
            "Rates are cycles per second summed over the clients (median of the rounds); latencies are the "
            "client's wall clock per request, p50 / p95 in ms over every round. The ratio column is the rate with "
            "4 clients over the rate with 1, in the same run.",
            "",
            "| database | cycle | clients | cycles/s | 4 ÷ 1 | latency p50 / p95 (ms) | errors |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "**The same completion chain through other clients** (1 client, the same rounds): the benchmark's own "
            "`http.client` loop, and a socket client with Nagle's algorithm on that writes a POST's headers and its "
            "body apart, whose body would wait for the server's delayed acknowledgement without web/quickack.py.",
            "",
            "| database | client | completions/s | p50 / p95 (ms) | p50 ÷ requests' p50 | errors |",
            "|---|---|---|---|---|---|",
            *refs,
            "",
            "**Goals** (issue 19), every figure from this run:",
            "",
            "| goal | database | figure | figure ÷ goal (below 1 is better for times, above 1 for rates) | verdict |",
            "|---|---|---|---|---|",
            *goals,
            "",
            "The floor: the same number of client processes, each looping `GET /healthz` through `requests` on the "
            "same server (a request answered after one database question), one durable one-row commit, and "
            "SpiffWorkflow's own cycle for one step of the same process (section 1's engine alone). No HTTP service "
            "that commits a step durably can complete faster on this machine.",
        ]
    )
    for kind in kinds:
        if results[kind]["floor_errors"]:
            errs = "; ".join(f"{v}× {k}" for k, v in results[kind]["floor_errors"].items())
            text += f"\n\nErrors of the floor's requests ({kind}): {errs}."
    for kind in kinds:
        if "profile" in results[kind]:
            cycle, profile = results[kind]["profile"]
            text += (
                f"\n\n**Profile of the slowest path** ({cycle}, 1 client, {kind}; py-spy in the gunicorn workers):\n\n"
            )
            text += profile
    report.add("6. What an outside client sees", text)
    return results


def goal_rows(kinds: list[str], results: dict) -> list[str]:
    rows = []

    def row(goal: str, kind: str, figure: str, ratio: float, met: bool) -> None:
        rows.append(f"| {goal} | {kind} | {figure} | {ratio:.2f} | {'met ✓' if met else '**missed** ✗'} |")

    for kind in kinds:
        s = results[kind]
        p50 = s[("complete", 1)]["lat"].get("complete", (float("nan"),))[0]
        goal = GOAL_COMPLETE_MS[kind]
        row(f"complete, 1 client, p50 ≤ {goal:g} ms", kind, f"{p50:.1f} ms", p50 / goal, p50 <= goal)
        inbox = s[("inbox + complete", 1)]["lat"].get("inbox", (float("nan"),))[0]
        row(
            f"inbox GET (one instance, small database), 1 client, p50 ≤ {GOAL_INBOX_MS:g} ms",
            kind,
            f"{inbox:.1f} ms",
            inbox / GOAL_INBOX_MS,
            inbox <= GOAL_INBOX_MS,
        )
        start = s[("start", 1)]["lat"].get("start", (float("nan"),))[0]
        row(
            f"start, 1 client, p50 ≤ {GOAL_START_MS:g} ms",
            kind,
            f"{start:.1f} ms",
            start / GOAL_START_MS,
            start <= GOAL_START_MS,
        )
        for n in CLIENTS:
            rate, floor = s[("complete", n)]["rate"], s["floor"][n]
            ratio = rate / floor if floor else float("nan")
            row(
                f"completion rate ≥ {GOAL_FLOOR_RATIO} × the floor, {n} client{'s' if n > 1 else ''}",
                kind,
                f"{rate:.0f}/s = {ratio:.2f} × the floor's {floor:.0f}/s",
                ratio / GOAL_FLOOR_RATIO,
                ratio >= GOAL_FLOOR_RATIO,
            )
        scaling = s[("complete", CLIENTS[-1])]["rate"] / s[("complete", CLIENTS[0])]["rate"]
        row(
            f"{CLIENTS[-1]} clients ≥ {GOAL_SCALING} × the rate of 1 (complete)",
            kind,
            f"{scaling:.2f}×",
            scaling / GOAL_SCALING,
            scaling >= GOAL_SCALING,
        )
    return rows
