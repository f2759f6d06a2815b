"""Issue 16's evidence for the deadlines page: the HTML of every task (before) against a page of 20 groups
with each group's first five tasks and a link to the group (after, engine/cockpit/deadline_groups.py),
and the biggest group's page.

The figures are the province's own: ``figures.deadlines`` over a province data set already built by
bench/province.py (only read here; the default limit, 2000 tasks, as the snapshot holds). The same page
template renders both: "before" is every group with all its tasks, which is what the page showed.
Reported: HTML size, and the median and 90th percentile of in-process render time over interleaved
rounds (the machine is shared: compare the two, not the absolute figures).

    python -m bench.deadlines_page --url postgresql+psycopg://postgres@127.0.0.1:5432/guantong_bench_province
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from flask import render_template

from bench.common import interleaved
from engine import clock
from engine.cockpit import deadline_groups, figures
from engine.cockpit.snapshots import Dated
from engine.config import Config
from engine.services import Services
from engine.tasks.inbox import DUE_SOON_WORKDAYS
from web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a province database built by bench/province.py (read only)")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    services = Services(Config.from_env(database_url=args.url))
    app = create_app(services=services)
    with services.db.session() as s:
        started = time.perf_counter()
        data = figures.deadlines(s, soon_workdays=DUE_SOON_WORKDAYS)
        computed_ms = (time.perf_counter() - started) * 1000
    tasks = len({i.id for g in data.groups for i in g.items})
    rows = sum(len(g.items) for g in data.groups)
    print(f"{tasks} tasks ({rows} rows in {len(data.groups)} groups) computed in {computed_ms:.0f} ms")
    biggest = max(data.groups, key=lambda g: len(g.items))
    dated = Dated(data, clock.now(), True)

    def page(shown: deadline_groups.DeadlinesPreview) -> Callable[[], str]:
        return lambda: render_template("cockpit/deadlines.html", data=data, shown=shown, as_of=dated)

    everything = deadline_groups.preview(data, per_group=10**9, groups_per_page=10**9)
    cut = deadline_groups.preview(data)
    one = deadline_groups.group_page(data, unit=biggest.unit or "", role=biggest.role or "")
    renders: dict[str, Callable[[], str]] = {
        "before: every task": page(everything),
        "after: 20 groups, 5 tasks each": page(cut),
        "after: one group's page": lambda: render_template(
            "cockpit/deadlines_group.html", data=one, as_of=Dated(one, dated.computed_at, True)
        ),
    }
    with app.test_request_context("/cockpit/deadlines"):
        for name, render in renders.items():
            print(f"{name}: {len(render().encode()) / 1024:.0f} KB")
        timings = interleaved(renders, args.rounds)
    for name, (median, p90) in timings.items():
        print(f"{name}: render median {median:.1f} ms, p90 {p90:.1f} ms")


if __name__ == "__main__":
    main()
