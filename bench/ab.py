"""Base against head in one run: ``python -m bench.ab --base a38c1db`` (the head is this checkout).

Figures from two ``make bench`` runs cannot say whether a change made something slower on a shared
2-core machine: run-to-run spread is 15–25 %. This compares two commits inside ONE run:

1. The base commit is checked out into a temporary worktree (``git worktree add --detach``); the head
   is this checkout as it is (uncommitted edits included) or ``--head REF``, likewise checked out.
2. One agent process per side (bench/ab_agent.py, run with the checkout's directory first on
   ``sys.path``, the same venv) builds its own databases with its own commit's bench helpers and keeps
   them warm: SQLite and PostgreSQL for completions and timers, the province data set (PostgreSQL) for
   the reads. Each side has its own database names (``…_ab_base``, ``…_ab_head``), so the two never
   share tables whose schema differs.
3. The workloads run INTERLEAVED: for each round and each workload, one side then the other, the order
   swapped every round (AB, BA, AB, …), so the machine's load at any moment weighs on both alike.
   Per workload: each side's median over the rounds' medians, the head/base ratio of each round, their
   median and range, and in how many rounds the head was the slower. CPU time of the agent process is
   reported beside the wall clock: it does not count time spent waiting for the CPU, only work done.
4. ``--callgrind``: one completion and one instance-detail call counted in instructions by
   ``valgrind --tool=callgrind`` on both sides (instrumentation switched on only around the calls
   counted, through client requests in a tiny shared library compiled here). Instruction counts do not
   depend on the machine's load: a noise-free ratio of the Python side's work (the database server's
   work is another process and is not counted).

The databases: BENCH_DATABASE_URL names the PostgreSQL database the names are derived from
(``…/test_x`` → ``…/test_x_ab_base``, ``…/test_x_ab_head``, and their ``_province`` data sets). Run one
comparison at a time per BENCH_DATABASE_URL: each run recreates its sides' completion databases.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENT = Path(__file__).resolve().parent / "ab_agent.py"

WORKLOADS = {
    # name: (operations per round, title)
    "complete_sqlite": (40, "in-process completion, SQLite (`POST /api/v1/tasks/{id}/complete`)"),
    "complete_postgresql": (40, "in-process completion, PostgreSQL"),
    "detail": (60, "instance detail API at province scale (`GET /api/v1/instances/{id}`)"),
    "inbox_page": (30, "inbox page at province scale (`GET /inbox`, tabs mine / group / completed)"),
    "cockpit_instances": (12, "cockpit running instances at province scale (`GET /cockpit/instances`)"),
    "timers_sqlite": (60, "timers fired by one worker, SQLite (per timer)"),
    "timers_postgresql": (60, "timers fired by one worker, PostgreSQL (per timer)"),
}
CALLGRIND_WORKLOADS = ("complete_sqlite", "detail")

_CG_SOURCE = r"""
#include <valgrind/callgrind.h>
void ab_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void ab_stop(const char *label) { CALLGRIND_DUMP_STATS_AT(label); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def pg_base_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/guantong_bench")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


# --------------------------------------------------------------------------- checkouts
def resolve(ref: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def describe(ref: str) -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%h %s", ref], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


class Checkout:
    """A commit checked out into a temporary worktree (removed on exit), or this checkout itself."""

    def __init__(self, ref: str | None, parent: Path, name: str):
        self.ref, self.path, self.added = ref, ROOT, False
        if ref is not None:
            self.sha = resolve(ref)
            self.path = parent / name
            subprocess.run(
                ["git", "worktree", "add", "--detach", "--quiet", str(self.path), self.sha],
                cwd=ROOT,
                check=True,
            )
            self.added = True
            self.label = describe(self.sha)
        else:
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            self.sha = resolve("HEAD")
            self.label = describe("HEAD") + (" + uncommitted edits" if dirty else "")

    def remove(self) -> None:
        if self.added:
            subprocess.run(["git", "worktree", "remove", "--force", str(self.path)], cwd=ROOT, check=False)


# --------------------------------------------------------------------------- agents
class Agent:
    def __init__(
        self,
        side: str,
        checkout: Checkout,
        work: Path,
        province_quick: bool,
        prefix: list[str] | None = None,
        extra: list[str] | None = None,
    ):
        self.side = side
        (work / side).mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV_PROMPT")}
        env.update(
            BENCH_DATABASE_URL=f"{pg_base_url()}_ab_{side}",
            PYTHONHASHSEED="0",
            GUANTONG_SECRET_KEY="guantong-bench-secret-key-not-for-production",
            GUANTONG_EMBEDDED_WORKER="off",
        )
        self.log = open(work / f"{side}.log", "w")  # noqa: SIM115 - closed in close()
        cmd = [*(prefix or []), sys.executable, str(AGENT), "--root", str(checkout.path), "--work", str(work / side)]
        if province_quick:
            cmd.append("--province-quick")
        cmd += extra or []
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, cwd=checkout.path
        )
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.side} agent died; see {self.log.name}")
        msg = json.loads(line)
        if "error" in msg:
            raise RuntimeError(f"{self.side}: {msg['error']} (see {self.log.name})")
        return msg

    def send(self, **msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def call(self, **msg):
        self.send(**msg)
        return self._read()["ok"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send(cmd="quit")
                self.proc.wait(timeout=600)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.log.close()


# --------------------------------------------------------------------------- statistics
@dataclass
class Cell:
    """One workload's samples: per side, a list of rounds, each a list of per-operation seconds."""

    wall: dict[str, list[list[float]]] = field(default_factory=lambda: {"base": [], "head": []})
    cpu: dict[str, list[list[float]]] = field(default_factory=lambda: {"base": [], "head": []})


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def compare(rounds_base: list[list[float]], rounds_head: list[list[float]]) -> dict:
    """Round medians per side, head/base ratio per round (rounds pair up as run back to back)."""
    mb = [statistics.median(r) for r in rounds_base]
    mh = [statistics.median(r) for r in rounds_head]
    ratios = [h / b for h, b in zip(mh, mb, strict=True)]
    pooled_b = [x for r in rounds_base for x in r]
    pooled_h = [x for r in rounds_head for x in r]
    return {
        "base": statistics.median(mb),
        "head": statistics.median(mh),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "head_slower": sum(1 for r in ratios if r > 1),
        "rounds": len(ratios),
        "base_p95": p95(pooled_b),
        "head_p95": p95(pooled_h),
    }


def verdict(c: dict, threshold: float = 0.05) -> str:
    """Worse only when the head was slower in (nearly) every round and by more than ``threshold``."""
    n, k = c["rounds"], c["head_slower"]
    if c["ratio"] > 1 + threshold and k >= n - (n // 6):
        return "**worse**"
    if c["ratio"] < 1 - threshold and k <= n // 6:
        return "better"
    return "no worse (within noise)" if c["ratio"] <= 1 + threshold else "no clear difference"


# --------------------------------------------------------------------------- callgrind
def callgrind_lib(work: Path) -> Path:
    src, lib = work / "ab_callgrind.c", work / "ab_callgrind.so"
    src.write_text(_CG_SOURCE)
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def read_callgrind(out_prefix: Path) -> dict[str, int]:
    """``label → instructions`` from the dumps the client requests wrote (``out.N`` files)."""
    counts: dict[str, int] = {}
    for path in sorted(out_prefix.parent.glob(out_prefix.name + "*")):
        label, total = None, None
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line.split(": ", 3)[-1].strip()
                elif line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        if label and total is not None:
            counts[label] = total
    return counts


def run_callgrind(checkouts: dict[str, Checkout], work: Path, province_quick: bool, n: int) -> dict:
    lib = callgrind_lib(work)
    results: dict[str, dict[str, float]] = {}
    for side, checkout in checkouts.items():
        out = work / f"callgrind-{side}.out"
        prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", "-q"]
        agent = Agent(side, checkout, work / "cg", province_quick, prefix=prefix, extra=["--callgrind-lib", str(lib)])
        try:
            agent.call(cmd="setup", workloads=list(CALLGRIND_WORKLOADS))
            for workload in CALLGRIND_WORKLOADS:
                agent.call(cmd="count", workload=workload, n=n, warm=3)
        finally:
            agent.close()
        counts = read_callgrind(out)
        results[side] = {w: counts[w] / n for w in CALLGRIND_WORKLOADS}
        print(
            f"callgrind {side}: " + ", ".join(f"{w} {v / 1e6:.2f} M instr" for w, v in results[side].items()),
            flush=True,
        )
    return results


# --------------------------------------------------------------------------- report
def load_now() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def markdown(meta: dict, results: dict, callgrind: dict | None) -> str:
    lines = [
        f"Base `{meta['base']}`; head `{meta['head']}`. {meta['rounds']} rounds, each workload run on one side "
        "then the other (order swapped every round), in one run of "
        f"{meta['seconds']:.0f} s; province data set: {meta['province']}.",
        "",
        f"Machine load (`uptime`): before `{meta['load_before']}`; after `{meta['load_after']}`.",
        "",
        "| workload | ops per round | base median (ms) | head median (ms) | head/base (median of rounds) | "
        "range over rounds | head slower in | p95 base / head (ms) | CPU head/base (range) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        w, c = r["wall"], r["cpu"]
        lines.append(
            f"| {WORKLOADS[name][1]} | {r['n']} | {1000 * w['base']:.2f} | {1000 * w['head']:.2f} | "
            f"**{w['ratio']:.2f}** | {w['ratio_min']:.2f}–{w['ratio_max']:.2f} | {w['head_slower']} of {w['rounds']} | "
            f"{1000 * w['base_p95']:.1f} / {1000 * w['head_p95']:.1f} | {c['ratio']:.2f} ({c['ratio_min']:.2f}–"
            f"{c['ratio_max']:.2f}) | {verdict(w)} |"
        )
    if callgrind:
        lines += [
            "",
            f"Instructions per call (valgrind callgrind, the Python process only, mean of {meta['callgrind_n']} calls "
            "after 3 warm-up calls; instrumentation on only around the calls counted; the detail on the "
            f"{meta['callgrind_province']} province data set):",
            "",
            "| call | base (M instructions) | head (M instructions) | head/base |",
            "|---|---|---|---|",
        ]
        for w in CALLGRIND_WORKLOADS:
            b, h = callgrind["base"][w], callgrind["head"][w]
            lines.append(f"| {WORKLOADS[w][1]} | {b / 1e6:.2f} | {h / 1e6:.2f} | **{h / b:.3f}** |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="a38c1db", help="the commit compared against (default a38c1db)")
    parser.add_argument("--head", default=None, help="a commit; default: this checkout as it is")
    parser.add_argument("--rounds", type=int, default=7, help="0: only the instruction counts (--callgrind)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the operations per round")
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append")
    parser.add_argument(
        "--province",
        choices=("full", "quick"),
        default="full",
        help="the province data set (full: 100,000 instances, built once per side and kept)",
    )
    parser.add_argument(
        "--callgrind",
        type=int,
        default=0,
        metavar="N",
        help="also count N calls of each of a completion and an instance detail in valgrind",
    )
    parser.add_argument(
        "--callgrind-province",
        choices=("full", "quick"),
        default="quick",
        help="the data set the counted detail reads (quick: 1,000 instances; the count per call depends on the "
        "instance's rows, not on the tables' size, and valgrind sets up ~50x slower)",
    )
    parser.add_argument("--markdown", type=Path, help="write the report's tables here")
    args = parser.parse_args(argv)

    workloads = args.only or list(WORKLOADS)
    province_quick = args.province == "quick"
    work = Path(tempfile.mkdtemp(prefix="guantong-ab-"))
    started = time.perf_counter()
    checkouts: dict[str, Checkout] = {}
    agents: dict[str, Agent] = {}
    try:
        checkouts["base"] = Checkout(args.base, work, "base")
        checkouts["head"] = Checkout(args.head, work, "head")
        for side, co in checkouts.items():
            print(f"{side}: {co.label} ({co.path})", flush=True)
        load_before = load_now()
        if args.rounds == 0:  # instruction counts only
            workloads = []
        for side in ("base", "head") if workloads else ():
            agents[side] = Agent(side, checkouts[side], work, province_quick)
        for agent in agents.values():  # both set up at once
            agent.send(cmd="setup", workloads=workloads)
        setups = {side: agent._read()["ok"] for side, agent in agents.items()} or {"base": {}, "head": {}}
        print(f"set up: {setups}", flush=True)
        if "province" in setups["base"] and setups["base"]["province"] != setups["head"]["province"]:
            print("WARNING: the two sides' province data sets differ", flush=True)
        cells = {w: Cell() for w in workloads}
        for r in range(args.rounds):
            order = ("base", "head") if r % 2 == 0 else ("head", "base")
            for w in workloads:
                n = max(1, round(WORKLOADS[w][0] * args.scale))
                for side in order:
                    out = agents[side].call(cmd="run", workload=w, n=n)
                    cells[w].wall[side].append(out["wall"])
                    cells[w].cpu[side].append(out["cpu"])
            print(f"round {r + 1}/{args.rounds} done ({time.perf_counter() - started:.0f} s)", flush=True)
            if args.markdown:  # the samples so far survive a run that fails later
                args.markdown.with_suffix(".partial.json").write_text(
                    json.dumps({w: {"wall": c.wall, "cpu": c.cpu} for w, c in cells.items()})
                )
        for agent in agents.values():
            agent.close()
        agents.clear()
        load_after = load_now()
        results = {}
        for w, cell in cells.items():
            results[w] = {
                "n": max(1, round(WORKLOADS[w][0] * args.scale)),
                "wall": compare(cell.wall["base"], cell.wall["head"]),
                "cpu": compare(cell.cpu["base"], cell.cpu["head"]),
            }
        cg_quick = args.callgrind_province == "quick"
        cg = run_callgrind(checkouts, work, cg_quick, args.callgrind) if args.callgrind else None
        meta = {
            "base": checkouts["base"].label,
            "head": checkouts["head"].label,
            "rounds": args.rounds,
            "seconds": time.perf_counter() - started,
            "province": setups["base"].get("province", "not used") if isinstance(setups["base"], dict) else "",
            "load_before": load_before,
            "load_after": load_after,
            "callgrind_n": args.callgrind,
            "callgrind_province": args.callgrind_province,
        }
        text = markdown(meta, results, cg)
        print("\n" + text, flush=True)
        if args.markdown:
            args.markdown.write_text(text + "\n", encoding="utf-8")
            (args.markdown.with_suffix(".json")).write_text(
                json.dumps({"meta": meta, "results": results, "callgrind": cg, "setup": setups}, indent=1)
            )
        return 0
    except BaseException:
        keep = Path(tempfile.mkdtemp(prefix="guantong-ab-logs-"))
        for log in work.rglob("*.log"):
            shutil.copy(log, keep / log.name)
        print(f"failed; the agents' logs are in {keep}", file=sys.stderr)
        raise
    finally:
        for agent in agents.values():
            agent.close()
        for co in checkouts.values():
            co.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
