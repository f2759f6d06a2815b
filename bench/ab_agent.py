"""One side of an A/B comparison (bench/ab.py): a long-lived process that imports ONE checkout's code.

Run by path, never as ``-m bench.ab_agent``: ``python /path/to/head/bench/ab_agent.py --root CHECKOUT``.
The checkout's directory goes first on ``sys.path`` (before the shared venv's editable install), so
``engine``, ``web`` and ``bench`` are that commit's. The same file drives the base and the head, and
everything it calls is named the same in both (the bench's own helpers, the app factory, the HTTP
routes); where a module moved between the commits, ``_adapter`` names the one difference. Requests go
through Flask's test client (in process, no sockets): the route, authentication, the use case, the
database, the response — the same request bytes on both sides.

Protocol (JSON lines): the controller writes ``{"cmd": "setup", ...}``, ``{"cmd": "run", "workload": w,
"n": n}``, ``{"cmd": "quit"}``; the agent answers one JSON line each on its real stdout. Anything the
checkout's code prints goes to stderr.

With ``--callgrind`` the agent runs under ``valgrind --tool=callgrind --instr-atstart=no`` and, for a
``count`` command, switches instrumentation on around exactly the calls it is asked to count (client
requests compiled into a tiny shared library, bench/ab.py ``callgrind_lib``), then dumps the counts.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import inspect
import json
import os
import random
import re
import sys
import time
from pathlib import Path

DATA = {"opinion": "已核实，同意。", "finished": False}
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _adapter() -> dict:
    """The only names that moved between the commits compared (engine.worker → engine.scheduling.worker)."""
    try:
        from engine.scheduling.worker import Worker
    except ImportError:  # before the application layer (a38c1db)
        from engine.worker import Worker  # type: ignore[no-redef]
    return {"Worker": Worker}


class Agent:
    def __init__(self, root: Path, work: Path, province_quick: bool):
        self.root, self.work, self.province_quick = root, work, province_quick
        self.adapter = _adapter()
        self.completion: dict[str, dict] = {}
        self.reads: dict | None = None
        self.timers: dict[str, dict] = {}
        self.cg = None

    # ------------------------------------------------------------------ setup
    def setup(self, workloads: list[str]) -> dict:
        from bench.common import deployed_services, fresh_database
        from bench.overhead import setup_service_db

        info: dict = {}
        for kind in ("sqlite", "postgresql"):
            if f"complete_{kind}" in workloads or f"timers_{kind}" in workloads:
                db, services = setup_service_db(kind, self.work, clients=1)
                app = self._app(services)
                client = app.test_client()
                self.completion[kind] = {"db": db, "services": services, "client": client, "pending": []}
                self._warm_completion(kind)
            if f"timers_{kind}" in workloads:
                db = fresh_database(kind, self.work) if kind == "sqlite" else self.completion[kind]["db"]
                services = deployed_services(db, self.work) if kind == "sqlite" else self.completion[kind]["services"]
                self.timers[kind] = {
                    "services": services,
                    "worker": self.adapter["Worker"](services, name="ab", batch=50),
                }
        if {"detail", "inbox_page", "cockpit_instances"} & set(workloads):
            info["province"] = self._setup_reads(sessions=bool({"inbox_page", "cockpit_instances"} & set(workloads)))
        return info

    def _app(self, services):
        from web import create_app

        return create_app(services=services)

    def _setup_reads(self, sessions: bool) -> dict:
        from bench import province
        from bench.serve import PASSWORD, api_headers

        db, services, org, marker = province.province(self.province_quick, self.work)
        count = 4 if self.province_quick else 60
        if "real" in inspect.signature(province._readers).parameters:  # since the cockpit's instance pages
            readers = province._readers(db, org, count, random.Random(7), marker.get("real_instances") or [])
        else:
            readers = province._readers(db, org, count, random.Random(7))
        app = self._app(services)
        details = [(r.username, i) for r in readers for i in r.instances]
        managers = [r.username for r in readers if r.manager]
        web_users = [r.username for r in readers]
        signed_in = {}
        for username in web_users if sessions else ():
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = _CSRF.search(page).group(1)
            resp = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
            if resp.status_code != 302:
                raise RuntimeError(f"login {username}: {resp.status_code}")
            signed_in[username] = client
        self.reads = {
            "api": app.test_client(),
            "headers": {r.username: api_headers(r.username) for r in readers},
            "details": details,
            "managers": managers,
            "web_users": web_users,
            "sessions": signed_in,
            "i": {"detail": 0, "inbox_page": 0, "cockpit_instances": 0},
        }
        # A fingerprint of the data both sides read: equal when both built the same province.
        return {
            "instances": marker.get("instances"),
            "tasks": marker.get("tasks"),
            "readers": len(readers),
            "detail_requests": len(details),
            "detail_ids_sum": sum(i for _, i in details),
            "managers": len(managers),
            "reused": marker.get("reused"),
        }

    # ------------------------------------------------------------------ completion
    def _refill(self, kind: str, count: int) -> None:
        from bench.overhead import start_instances

        state = self.completion[kind]
        state["pending"] += start_instances(state["services"], "load_01", count, f"ab{time.time_ns()}")

    def _next_task(self, kind: str) -> int:
        state = self.completion[kind]
        if not state["pending"]:
            self._refill(kind, 20)
        return state["pending"].pop(0)

    def _complete(self, kind: str, task: int) -> None:
        from bench.serve import api_headers

        state = self.completion[kind]
        resp = state["client"].post(
            f"/api/v1/tasks/{task}/complete",
            json={"data": {**DATA, "unit": "load_01"}},
            headers=api_headers("officer_01"),
        )
        if resp.status_code != 200:
            raise RuntimeError(f"complete {task}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        nxt = resp.get_json()["next_tasks"]
        if nxt:
            state["pending"].insert(0, nxt[0]["id"])

    def _warm_completion(self, kind: str) -> None:
        for _ in range(10):
            self._complete(kind, self._next_task(kind))

    # ------------------------------------------------------------------ reads
    def _read_request(self, workload: str):
        """The next request of a read workload, the same sequence on both sides: (client, path, headers)."""
        r = self.reads
        i = r["i"][workload]
        r["i"][workload] = i + 1
        if workload == "detail":
            user, instance = r["details"][i % len(r["details"])]
            return r["api"], f"/api/v1/instances/{instance}", r["headers"][user]
        if workload == "inbox_page":
            user = r["web_users"][i % len(r["web_users"])]
            return r["sessions"][user], f"/inbox?tab={('mine', 'group', 'completed')[i % 3]}", None
        user = r["managers"][i % len(r["managers"])]
        return r["sessions"][user], "/cockpit/instances", None

    def _read(self, workload: str) -> None:
        client, path, headers = self._read_request(workload)
        resp = client.get(path, headers=headers)
        if resp.status_code != 200:
            raise RuntimeError(f"{path}: {resp.status_code}")

    # ------------------------------------------------------------------ timers
    def _seed_timers(self, kind: str, count: int) -> None:
        from bench.timers import _seed

        _seed(self.timers[kind]["services"], count)

    def _fire_all(self, kind: str) -> int:
        worker = self.timers[kind]["worker"]
        fired = 0
        while True:
            done = worker.fire_timers()
            if not done:
                return fired
            fired += done

    # ------------------------------------------------------------------ measuring
    def op(self, workload: str):
        """A zero-argument callable doing one operation of ``workload`` (its preparation done first)."""
        if workload.startswith("complete_"):
            kind = workload.removeprefix("complete_")
            task = self._next_task(kind)
            return lambda: self._complete(kind, task)
        if workload in ("detail", "inbox_page", "cockpit_instances"):
            client, path, headers = self._read_request(workload)

            def read():
                resp = client.get(path, headers=headers)
                if resp.status_code != 200:
                    raise RuntimeError(f"{path}: {resp.status_code}")

            return read
        raise ValueError(workload)

    def run(self, workload: str, n: int) -> dict:
        """``n`` operations, each timed (wall clock and this process's CPU): per-operation seconds."""
        if workload.startswith("timers_"):
            return self._run_timers(workload.removeprefix("timers_"), n)
        wall, cpu = [], []
        for _ in range(n):
            fn = self.op(workload)
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            t1, c1 = time.perf_counter(), time.process_time()
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
        return {"wall": wall, "cpu": cpu}

    def _run_timers(self, kind: str, n: int) -> dict:
        """``n`` due timers seeded (untimed), then fired by one in-process worker until none is due:
        seconds per timer fired (the batch's time divided by the timers it fired)."""
        self._seed_timers(kind, n)
        c0, t0 = time.process_time(), time.perf_counter()
        fired = self._fire_all(kind)
        t1, c1 = time.perf_counter(), time.process_time()
        if fired != n:
            raise RuntimeError(f"timers: fired {fired} of {n}")
        return {"wall": [(t1 - t0) / n], "cpu": [(c1 - c0) / n], "fired": fired}

    def count(self, workload: str, n: int, warm: int) -> dict:
        """Callgrind: instructions of ``n`` operations (instrumentation on only around the calls)."""
        for _ in range(warm):
            self.op(workload)()
        fns = [self.op(workload) for _ in range(n)]  # preparation (e.g. starting instances) not counted
        gc.collect()
        self.cg.ab_start()
        for fn in fns:
            fn()
        self.cg.ab_stop(workload.encode())
        return {"counted": n}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--province-quick", action="store_true")
    parser.add_argument("--callgrind-lib", type=Path)
    args = parser.parse_args(argv)

    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]
    sys.path.insert(0, str(args.root))
    os.chdir(args.root)
    out = sys.stdout
    sys.stdout = sys.stderr  # the checkout's own prints must not break the protocol

    import engine

    if Path(engine.__file__).resolve().parent.parent != args.root.resolve():
        raise SystemExit(f"engine imported from {engine.__file__}, not {args.root}")

    agent = Agent(args.root, args.work, args.province_quick)
    if args.callgrind_lib:
        agent.cg = ctypes.CDLL(str(args.callgrind_lib))
        agent.cg.ab_stop.argtypes = [ctypes.c_char_p]

    def reply(obj) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    reply({"ready": True, "engine": engine.__file__, "pid": os.getpid()})
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "quit":
                reply({"bye": True})
                return 0
            if msg["cmd"] == "setup":
                reply({"ok": agent.setup(msg["workloads"])})
            elif msg["cmd"] == "run":
                reply({"ok": agent.run(msg["workload"], msg["n"])})
            elif msg["cmd"] == "count":
                reply({"ok": agent.count(msg["workload"], msg["n"], msg.get("warm", 2))})
            else:
                reply({"error": f"unknown command {msg['cmd']}"})
        except Exception as exc:  # reported to the controller, which stops the run
            import traceback

            traceback.print_exc()
            reply({"error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
