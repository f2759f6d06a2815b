"""Issue 16's evidence for decoding the deadlines snapshot only as far as a page reads it: the time to read
the stored figure set (``snapshots.loads``) and cut the page from it (engine/cockpit/deadline_groups.py),
on a synthetic province-sized ``Deadlines`` needing no database.

The synthetic set is what ``figures.deadlines`` makes at its limit: 2000 tasks (by default) over a few
hundred unit-role groups of very unequal size (a few units hold most tasks), about one task in eight a
candidate of two units (so in two groups), Chinese titles and business keys. Measured, in interleaved
rounds (the machine is shared: compare the rows, not the absolute figures), median and 90th percentile:

- the front page: ``loads`` then ``preview`` (20 groups, five tasks each);
- the biggest group's second page: ``loads`` then ``group_page`` (50 tasks);
- every task decoded: ``loads`` then every group's items read (what the export pays);
- ``loads`` alone.

    python -m bench.deadlines_decode [--tasks 2000] [--units 70] [--rounds 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable

from bench.common import interleaved
from engine import clock
from engine.cockpit import deadline_groups, figures, snapshots
from engine.cockpit.lazy import LazyList
from engine.tasks.inbox import DueInfo

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
TASKS = ("线索初核", "立案审查", "审理意见", "移送审查起诉", "谈话函询", "问题线索处置", "信访件办理", "整改督办")
ROLES = ("jc_office", "jc_leader", "case_officer", "trial_officer", "supervisor", None)


def synthetic(tasks: int = 2000, units: int = 70, seed: int = 16) -> figures.Deadlines:
    """A province-sized deadlines figure set, grouped and sorted as ``figures.deadlines`` does."""
    rnd = random.Random(seed)
    codes = [f"jc{c:03d}" for c in range(units)]
    weights = [1 / (k + 1) ** 0.8 for k in range(units)]  # a few big units, many small ones
    now = dt.datetime(2026, 11, 30, 9, tzinfo=clock.LOCAL_TZ)
    groups: dict[tuple[str | None, str | None], list[figures.DeadlineItem]] = {}
    for n in range(tasks):
        role = rnd.choice(ROLES)
        chosen = sorted(set(rnd.choices(codes, weights, k=2 if rnd.random() < 0.12 else 1)))
        candidates = chosen if rnd.random() > 0.03 else []  # a few tasks have no candidate unit
        left = rnd.randint(-30, 3)
        due = DueInfo(
            state="overdue" if left < 0 else "due_soon",
            due_at=now + dt.timedelta(days=left, hours=rnd.randint(0, 8)),
            workdays_left=left,
            estimated=rnd.random() < 0.05,
        )
        person = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
        item = figures.DeadlineItem(
            id=100000 + n,
            instance_id=50000 + n,
            name=rnd.choice(TASKS),
            process_key="jw_clue_disposal",
            business_key=f"XS-2026-{rnd.randint(1, 99999):05d}",
            title=f"关于{person}同志涉嫌违纪问题的{rnd.choice(TASKS)}",
            role=role,
            lane=rnd.choice(("承办部门", "审理室", None)),
            assignee=rnd.choice((None, f"u{rnd.randint(1, 900)}")),
            units=candidates,
            due=due,
        )
        for unit in candidates or [None]:
            groups.setdefault((unit, role), []).append(item)
    built = [
        figures.DeadlineGroup(
            unit=unit,
            role=role,
            overdue=sum(i.due.state == "overdue" for i in items),
            due_soon=sum(i.due.state == "due_soon" for i in items),
            items=LazyList(items),
        )
        for (unit, role), items in groups.items()
    ]
    built.sort(key=lambda g: (-g.overdue, -g.due_soon, g.unit or "~", g.role or ""))
    totals = {"overdue": sum(g.overdue for g in built), "due_soon": sum(g.due_soon for g in built)}
    return figures.Deadlines(groups=built, totals=totals, truncated=True, soon_workdays=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--units", type=int, default=70)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    data = synthetic(args.tasks, args.units)
    text = snapshots.dumps("deadlines", data)
    if snapshots.loads("deadlines", text) != data:
        raise SystemExit("the snapshot does not read back equal to the figures")
    biggest = max(data.groups, key=lambda g: len(g.items))
    rows = sum(len(g.items) for g in data.groups)
    print(f"{args.tasks} tasks, {rows} rows in {len(data.groups)} groups; payload {len(text.encode()) / 1024:.0f} KB")

    def every_task() -> None:
        for g in snapshots.loads("deadlines", text).groups:
            list(g.items)

    runs: dict[str, Callable[[], object]] = {
        "front page (loads + preview)": lambda: deadline_groups.preview(snapshots.loads("deadlines", text)),
        "biggest group, page 2 (loads + group_page)": lambda: deadline_groups.group_page(
            snapshots.loads("deadlines", text), unit=biggest.unit or "", role=biggest.role or "", page=2
        ),
        "every task decoded (the export's reading)": every_task,
        "loads alone": lambda: snapshots.loads("deadlines", text),
    }
    for run in runs.values():  # warm the readers' caches
        run()
    for name, (median, p90) in interleaved(runs, args.rounds).items():
        print(f"{name}: median {median:.1f} ms, p90 {p90:.1f} ms")


if __name__ == "__main__":
    main()
