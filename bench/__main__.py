"""``make bench``: run every benchmark once and write docs/benchmarks.md.

``--quick`` runs each benchmark on tiny inputs in well under a minute, to prove the code still works
(the suite calls it); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from web.cli_progress import Bars, failed, summary

from . import concurrency, history, outside, overhead, province, timers
from .common import Report, workdir

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"  # written by hand from the profiles
BENCHES = {
    "overhead": overhead,
    "history": history,
    "province": province,
    "concurrency": concurrency,
    "timers": timers,
    "outside": outside,
}


def kept_comparisons(text: str) -> list[tuple[str, str]]:
    """The sections ``python -m bench.ab`` comparisons were written into (titles starting "Issue "): a
    comparison of two commits in one run is not remeasured by ``make bench``, so a rerun keeps it."""
    kept, current = [], None
    for line in text.splitlines():
        if line.startswith("## "):
            current = [line[3:], []] if line.startswith("## Issue ") else None
            if current:
                kept.append(current)
        elif current is not None:
            current[1].append(line)
    return [(title, "\n".join(lines).strip()) for title, lines in kept]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--quick", action="store_true", help="tiny inputs: checks the benchmark code works")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default docs/benchmarks.md; quick runs: none)",
    )
    args = parser.parse_args(argv)
    report = Report(quick=args.quick)
    work = workdir()
    started = time.perf_counter()
    selected = [(name, module) for name, module in BENCHES.items() if not args.only or name in args.only]
    timings: list[tuple[str, object]] = []
    # A full run takes about ten minutes: a bar per section on a terminal (web/cli_progress.py, as the long
    # commands of `guantong`), and at the end how long each section took; a failure names its section.
    try:
        with Bars() as bars:
            for i, (name, module) in enumerate(selected):
                bars("sections", i, len(selected))
                began = time.perf_counter()
                try:
                    with bars.step(name):
                        module.run(report, work, args.quick)
                except Exception as exc:
                    failed("make bench", name, exc)
                timings.append((name, f"{time.perf_counter() - began:.0f} s"))
            bars("sections", len(selected), len(selected))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary("benchmarks", timings, err=True)
    output = args.output or (None if args.quick else ROOT / "docs" / "benchmarks.md")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        if not args.quick and not args.only and ANALYSIS.exists():
            report.add("What dominates, and what would fix it", ANALYSIS.read_text(encoding="utf-8").strip())
        if not args.quick and output.exists():
            for title, markdown in kept_comparisons(output.read_text(encoding="utf-8")):
                report.add(title, markdown)
        report.write(output)
        print(f"\nwrote {output}")
    print(f"benchmarks took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
