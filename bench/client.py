"""A load-generating client process: ``python -m bench.client CONFIG.json``.

Prints ``ready``, waits for the go file, runs its threads until the deadline (or until their work runs
out) and prints one JSON line: completions, latencies, refusals and errors, and its own CPU seconds so
the report can say how much of the 2-core machine the client took.

Modes:
- ``chain``: each thread completes the tasks of its own instances one after another, following
  ``next_tasks`` from each response (the API's whole completion path, no inbox reads);
- ``officers``: each thread is an officer: read his own inbox (我的待办: the steps handed to him), or
  when it is empty the group inbox, pick one task at random and complete it; another officer may have
  taken a group task meanwhile (409, counted), exactly as at work. ``think`` ([low, high] seconds, 0 by
  default): the time he spends on the case file and the form between reading and completing, drawn
  uniformly; without it the officers form a closed loop that measures the machine's capacity.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import threading
import time
from pathlib import Path

from .serve import Http, api_headers

DATA = {"opinion": "已核实，同意。", "finished": False}


def _chain(port: int, job: dict, deadline: float, out: dict) -> None:
    http = Http(port, api_headers(job["user"]))
    pending = list(job["first_tasks"])
    task = pending.pop(0) if pending else None
    data = {**DATA, "unit": job["unit"]}
    while task is not None and time.perf_counter() < deadline:
        try:
            status, body, elapsed = http.post_json(f"/api/v1/tasks/{task}/complete", {"data": data})
        except OSError as exc:
            out["errors"][f"transport: {type(exc).__name__}"] = (
                out["errors"].get(f"transport: {type(exc).__name__}", 0) + 1
            )
            break
        if status != 200:
            key = f"{status}: {body[:200].decode(errors='replace')}"
            out["errors"][key] = out["errors"].get(key, 0) + 1
            task = pending.pop(0) if pending else None
            continue
        out["latencies"].append(elapsed)
        out["done"].append(task)
        nxt = json.loads(body)["next_tasks"]
        task = nxt[0]["id"] if nxt else (pending.pop(0) if pending else None)
    out["ran_out"] = task is None


def _officer(port: int, job: dict, deadline: float, out: dict) -> None:
    http = Http(port, api_headers(job["user"]))
    rng = random.Random(job["seed"])
    data = {**DATA, "unit": job["unit"]}
    low, high = job.get("think") or (0.0, 0.0)
    empty = 0
    while time.perf_counter() < deadline:
        try:
            items: list = []
            failed = False
            for tab in ("mine", "group"):
                status, body, elapsed = http.get(f"/api/v1/tasks?scope={tab}&per_page=20")
                out["list_latencies"].append(elapsed)
                if status != 200:
                    key = f"list {status}: {body[:200].decode(errors='replace')}"
                    out["errors"][key] = out["errors"].get(key, 0) + 1
                    failed = True
                    break
                items = json.loads(body)["items"]
                if items:
                    break
            if failed:
                continue
            if not items:
                empty += 1
                if empty > 20:
                    break
                time.sleep(0.05)
                continue
            empty = 0
            task = rng.choice(items)["id"]
            if high > 0:
                pause = rng.uniform(low, high)
                if time.perf_counter() + pause >= deadline:
                    break
                time.sleep(pause)
            status, body, elapsed = http.post_json(f"/api/v1/tasks/{task}/complete", {"data": data})
        except OSError as exc:
            key = f"transport: {type(exc).__name__}"
            out["errors"][key] = out["errors"].get(key, 0) + 1
            continue
        if status == 200:
            out["latencies"].append(elapsed)
            out["done"].append(task)
        elif status == 409:
            out["conflicts"] += 1
            out["conflict_latencies"].append(elapsed)
        else:
            key = f"{status}: {body[:200].decode(errors='replace')}"
            out["errors"][key] = out["errors"].get(key, 0) + 1


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    port, duration = config["port"], config["duration"]
    target = {"chain": _chain, "officers": _officer}[config["mode"]]
    outs = [
        {
            "latencies": [],
            "list_latencies": [],
            "conflict_latencies": [],
            "done": [],
            "errors": {},
            "conflicts": 0,
            "ran_out": False,
        }
        for _ in config["jobs"]
    ]
    print("ready", flush=True)
    go = Path(config["go"])
    while not go.exists():
        time.sleep(0.002)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    deadline = start + duration
    threads = [
        threading.Thread(target=target, args=(port, job, deadline, out), daemon=True)
        for job, out in zip(config["jobs"], outs, strict=False)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    merged = {
        "elapsed": elapsed,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "latencies": [x for o in outs for x in o["latencies"]],
        "list_latencies": [x for o in outs for x in o["list_latencies"]],
        "conflict_latencies": [x for o in outs for x in o["conflict_latencies"]],
        "done": [x for o in outs for x in o["done"]],
        "conflicts": sum(o["conflicts"] for o in outs),
        "ran_out": any(o["ran_out"] for o in outs),
        "errors": {},
    }
    for o in outs:
        for k, v in o["errors"].items():
            merged["errors"][k] = merged["errors"].get(k, 0) + v
    print(json.dumps(merged), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
