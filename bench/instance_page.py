"""Issue 16's evidence for the cockpit's instance page: the reads of the three use cases it called
(``show_instance``, ``show_diagram``, ``reassign_choices``) against its one read (engine/instances/
oversight.py ``oversee_instance``), interleaved in one process on the province data set's real engine
instances (bench/province.py, quick size by default), overseen by a provincial manager.

Reported per page: SQL statements and transactions (counted with SQLAlchemy's cursor and ``begin``
events, exact on any machine), and the median and 90th percentile of in-process time over interleaved
rounds (the machine is shared: compare the two, not the absolute figures). The three use cases are run
as before the change: the version's drawing is dropped before each (engine/instances/drawing.py), so
their diagram reads the BPMN file and parses it as it did.

    python -m bench.instance_page [--full] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from engine.access.principal import load_principal
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.errors import EngineError
from engine.instances import drawing
from engine.instances import operations as ops
from engine.instances.oversight import oversee_instance

from . import province


def _counted(engine: Any, read: Callable[[int], None], shown: list[int]) -> tuple[float, float]:
    """SQL statements and transactions per page of ``read`` over the ``shown`` instances."""
    counted = {"statements": 0, "transactions": 0}

    def statement(*_: object) -> None:
        counted["statements"] += 1

    def begin(*_: object) -> None:
        counted["transactions"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        for instance_id in shown:
            read(instance_id)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)
    return counted["statements"] / len(shown), counted["transactions"] / len(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the full province (100k instances) instead of quick")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    db, services, org, marker = province.ensure_province(not args.full, Path(tempfile.mkdtemp()))
    reveal = Reveal(Sealer("bench"))
    provincial = next(
        u for u in org.users if any(m[0].startswith("p_") and m[1] in province.MANAGER_ROLES for m in u["memberships"])
    )
    with db.session() as s:
        boss = load_principal(s, provincial["username"])
    shown = []
    for instance_id in marker["real_instances"]:
        try:
            oversee_instance(services, boss, instance_id, reveal=reveal)
        except EngineError:
            continue
        shown.append(instance_id)

    def three(instance_id: int) -> None:
        drawing.forget()
        ops.show_instance(services, boss, instance_id, reveal=reveal, oversight=True)
        ops.show_diagram(services, boss, instance_id, oversight=True)
        ops.reassign_choices(services, boss, instance_id)

    def one(instance_id: int) -> None:
        oversee_instance(services, boss, instance_id, reveal=reveal)

    reads: dict[str, Callable[[int], None]] = {"three use cases": three, "oversee_instance": one}
    print(f"{len(shown)} real instances overseen by {boss.username}")
    for name, read in reads.items():
        statements, transactions = _counted(db.engine, read, shown)
        print(f"{name}: {statements:.1f} statements, {transactions:.1f} transactions per page")
    times: dict[str, list[float]] = {name: [] for name in reads}
    for _ in range(args.rounds):
        for name, read in reads.items():
            started = time.perf_counter()
            for instance_id in shown:
                read(instance_id)
            times[name].append((time.perf_counter() - started) / len(shown) * 1000)
    for name, samples in times.items():
        ordered = sorted(samples)
        print(
            f"{name}: median {statistics.median(ordered):.1f} ms, "
            f"p90 {ordered[int(0.9 * (len(ordered) - 1))]:.1f} ms per page"
        )


if __name__ == "__main__":
    main()
