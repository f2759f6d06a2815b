"""Where a web process's memory goes on the province (issue 19: "a web process under 200 MB").

``python -m bench.memory`` serves the pages of section 3 (bench/province.py) to the same 61 people with the
same server (``gunicorn -w 2 -k gthread --threads 2``) and reads each worker's ``/proc/<pid>/status``
(VmRSS resident, VmHWM peak resident) at each stage:

- ``boot``: the workers answered /healthz (the application imported and built);
- ``sign-in``: every reader signed in through the login form (argon2 verifies each password);
- ``pages``: section 3's requests (a warm-up, then ``--rounds`` rounds of up to ``--per-round`` requests per
  page, a page stopping in a round once its requests took ``--budget`` s).

The peak is reset (``/proc/<pid>/clear_refs`` 5) after the sign-ins, so the pages' peak is their own; the
process's peak is the larger of the two. ``--each`` serves each page kind alone, on a fresh server, to its
readers, so each kind's growth is its own. ``--compare LABEL=DIR[,NAME=VALUE]`` serves the source tree DIR too
(e.g. an earlier commit from ``git archive``; empty: this one) with those environment variables, interleaved
run by run with this one, so both see the same machine.
``--heap`` instead runs the pages in this process through Flask's test client and compares tracemalloc's
view of the Python heap with the resident set (what the allocator keeps that Python does not hold).

Everything talks to 127.0.0.1 only; the requests are bounded in number and time.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from . import province as prov
from .common import workdir
from .serve import ROOT, Gunicorn, Http, api_headers, web_login

STAGES = ("boot", "sign-in", "pages")


def _status(pid: int | str = "self") -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def _reset_peak(pid: int) -> None:
    """VmHWM starts again from the present resident set (Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _worst(server: Gunicorn) -> dict[str, float]:
    """The largest resident set and peak over the workers."""
    stats = [_status(pid) for pid in server.worker_pids()]
    return {"rss": max(s["VmRSS"] for s in stats), "peak": max(s["VmHWM"] for s in stats)}


def _setup(work: Path):
    db, services, org, marker = prov.province(False, work)
    with db.engine.connect() as conn:
        snapshots = conn.exec_driver_sql("SELECT count(*) FROM cockpit_snapshot").scalar()
    if not snapshots and services.config.cockpit_snapshots:  # what section 3 reads; kept between runs
        prov.refresh_snapshots(db, services.config, quick=False)
    readers = prov._readers(db, org, 60, random.Random(7), marker["real_instances"])
    return db, readers


def serve_once(db, readers, work: Path, root: Path, env: dict, pages, args) -> dict[str, dict[str, float]]:
    """One server: boot, sign-ins, ``pages`` as section 3 asks them; the worst worker at each stage."""
    askers = {p.name: [r for r in readers if p.path(r, 0) is not None] for p in pages}
    signing = [r for r in readers if any(r in who for who in askers.values())]
    out: dict[str, dict[str, float]] = {}
    with Gunicorn(db.url, work, workers=2, root=root, env=env) as server:
        out["boot"] = _worst(server)
        cookies = {r.username: web_login(server.port, r.username) for r in signing}
        out["sign-in"] = _worst(server)
        for pid in server.worker_pids():
            _reset_peak(pid)
        clients = {
            r.username: (
                Http(server.port, api_headers(r.username)),
                Http(server.port, {"Cookie": cookies[r.username], "Accept": "text/html"}),
            )
            for r in signing
        }
        errors = 0

        def hit(page, reader, i) -> float:
            nonlocal errors
            api, web = clients[reader.username]
            status, _, elapsed = (api if page.kind == "api" else web).get(page.path(reader, i))
            errors += status != 200
            return elapsed

        for i in range(4):  # section 3's warm-up: 2 × workers requests of each page
            for page in pages:
                hit(page, askers[page.name][i % len(askers[page.name])], i)
        for rnd in range(args.rounds):
            spent = {p.name: 0.0 for p in pages}
            for i in range(args.per_round):
                for page in pages:
                    if spent[page.name] > args.budget:
                        continue
                    who = askers[page.name]
                    spent[page.name] += hit(page, who[(i * 7 + rnd) % len(who)], i + rnd)
        out["pages"] = _worst(server)
        out["pages"]["errors"] = errors
    out["process"] = {"peak": max(out["sign-in"]["peak"], out["pages"]["peak"]), "rss": out["pages"]["rss"]}
    return out


def _median(runs: list[dict], stage: str, key: str) -> float:
    return statistics.median(r[stage][key] for r in runs)


def _table(label: str, runs: list[dict]) -> str:
    rows = [
        f"| {label} | "
        + " | ".join(f"{_median(runs, s, 'rss'):.0f} / {_median(runs, s, 'peak'):.0f}" for s in (*STAGES, "process"))
        + " | "
        + ", ".join(f"{r['process']['peak']:.0f}" for r in runs)
        + " |"
    ]
    return "\n".join(rows)


def _tree(spec: str) -> tuple[str, Path, dict]:
    """``LABEL=DIR[,NAME=VALUE...]``: a source tree to serve and the environment to serve it with."""
    label, _, rest = spec.partition("=")
    directory, *settings = rest.split(",")
    return label, Path(directory or ROOT).resolve(), dict(s.split("=", 1) for s in settings)


def main_serve(args, work: Path) -> None:
    db, readers = _setup(work)
    trees = [("this tree", ROOT, {})] + [_tree(spec) for spec in args.compare]
    kinds = [[p] for p in prov.PAGES] if args.each else [prov.PAGES]
    header = "| server | boot | sign-in | pages | process | process peak per run |\n|---|---|---|---|---|---|"
    for pages in kinds:
        runs: dict[str, list[dict]] = {label: [] for label, _, _ in trees}
        for n in range(args.runs):
            for label, root, env in trees if n % 2 == 0 else list(reversed(trees)):  # A/B, then B/A
                result = serve_once(db, readers, work, root, env, pages, args)
                runs[label].append(result)
                print(f"  {label} run {n + 1}: {result}", file=sys.stderr, flush=True)
        title = "all pages (section 3)" if len(pages) > 1 else pages[0].name
        print(f"\n**{title}**: MB resident / peak, worst of the 2 workers, median of {args.runs} runs\n")
        print(header)
        for label, _, _ in trees:
            print(_table(label, runs[label]))
        sys.stdout.flush()


def main_heap(args, work: Path) -> None:
    """Each page kind in this process: resident set and the Python heap (tracemalloc) after each, and the
    ten places holding the most of what the pages left behind."""
    from engine.config import Config
    from engine.services import Services
    from web import create_app

    db, readers = _setup(work)
    before = _status()
    app = create_app(services=Services(Config.from_env(database_url=db.url, instance_dir=work, embedded_worker=False)))
    print(f"boot: {before['VmRSS']:.0f} → {_status()['VmRSS']:.0f} MB resident", flush=True)
    tracemalloc.start(1)  # one frame: its own bookkeeping still shows in the resident set
    from .serve import _CSRF, PASSWORD

    webs, apis = {}, {}
    for r in readers:
        c = app.test_client()
        token = _CSRF.search(c.get("/login").get_data(as_text=True)).group(1)
        resp = c.post("/login", data={"username": r.username, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302, resp.status_code
        webs[r.username] = c
        apis[r.username] = api_headers(r.username)
    gc.collect()
    base = tracemalloc.take_snapshot()
    print(f"signed in: {_status()['VmRSS']:.0f} MB resident, heap {tracemalloc.get_traced_memory()[0] / 2**20:.0f} MB")
    print("| page | resident (MB) | Python heap (MB) | heap peak during the page (MB) |\n|---|---|---|---|")
    for page in prov.PAGES:
        who = [r for r in readers if page.path(r, 0) is not None]
        tracemalloc.reset_peak()
        for i in range(args.per_round):
            r = who[i % len(who)]
            c = webs[r.username]
            resp = (
                c.get(page.path(r, i), headers=apis[r.username])
                if page.kind == "api"
                else c.get(page.path(r, i), headers={"Accept": "text/html"})
            )
            assert resp.status_code == 200, (page.name, resp.status_code)
        now, peak = tracemalloc.get_traced_memory()
        print(f"| {page.name} | {_status()['VmRSS']:.0f} | {now / 2**20:.1f} | {peak / 2**20:.1f} |", flush=True)
    gc.collect()
    after = tracemalloc.take_snapshot()
    print("\nLeft behind by the pages (tracemalloc, by line):\n")
    for stat in after.compare_to(base, "lineno")[:10]:
        frames = [f for f in stat.traceback.format() if "File" in f][-1:]
        print(f"- {stat.size_diff / 1024:.0f} KiB in {stat.count_diff} blocks: {' ← '.join(f.strip() for f in frames)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench.memory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=120)
    parser.add_argument("--budget", type=float, default=12.0, help="seconds per page and round")
    parser.add_argument("--each", action="store_true", help="each page kind alone, on a fresh server")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        help="LABEL=DIR[,NAME=VALUE...]: another source tree (empty DIR: this one) and environment to serve, "
        "interleaved with this one",
    )
    parser.add_argument("--heap", action="store_true", help="in this process: Python heap against resident set")
    args = parser.parse_args(argv)
    work = workdir()
    started = time.perf_counter()
    (main_heap if args.heap else main_serve)(args, work)
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
