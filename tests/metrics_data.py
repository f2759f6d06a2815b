"""The metrics' seeded data set, shared by the engine, web and browser tests of the outcome metrics.

Clues run through the real library (tests/processes/driver.Walk: the demo county's organisation) with
the clock set at each step that ends a measure; every other step is worked by the autopilot on the same
day. The 2024 calendar: 清明 4–6 April off (Sunday 7 April worked), 劳动节 1–5 May off (Sunday 28 April
and Saturday 11 May worked).

======  =======  =================  =============  ============  =====================  ================
clue    linkage  source             registered     disposal      closed (四种形态)        working days
======  =======  =================  =============  ============  =====================  ================
A       none     信访 (petition)     Mon 1 April    Mon 8 April   Mon 22 April (none)    4 · 10 · 14
B       室组地    巡察 (inspection)   Mon 1 April    Wed 3 April   Mon 6 May (first)      2 · 20 · 22
C       片区协作  审计 (audit)        Mon 8 April    Tue 9 April   Wed 10 April (none)    1 · 1 · 2
N       —        共和县 (neighbour)  Mon 1 April    —             —                      never 青湖县's
======  =======  =================  =============  ============  =====================  ================

(the three working-day figures: registration → disposal, disposal → closure, registration → closure)
"""

from __future__ import annotations

import datetime as dt

from demo.autopilot import Autopilot
from engine import clock
from tests.processes.driver import Walk, timers_by_task
from tests.processes.paths import BASE

TZ = clock.LOCAL_TZ
START = dt.datetime(2024, 3, 29, 10, tzinfo=TZ)
AFTER = (2024, 6, 3)  # where the clock stands once the clues are seeded


def at(frozen, *parts: int) -> None:
    y, m, d, *rest = parts
    frozen.set(dt.datetime(y, m, d, rest[0] if rest else 10, tzinfo=TZ))


def ready(pilot: Autopilot, process_key: str, spec_id: str):
    found = [t for t in pilot.ready_tasks(spec_id) if t.process_key == process_key]
    assert len(found) == 1, [(t.process_key, t.spec_id) for t in pilot.ready_tasks()]
    return found[0]


def run_until(pilot: Autopilot, process_key: str, spec_id: str) -> None:
    pilot.run(until=lambda tasks: any((t.process_key, t.spec_id) == (process_key, spec_id) for t in tasks))


def pilot(walk: Walk, frozen, **values) -> Autopilot:
    """One case's own autopilot (its roots are that case only), never waiting for timers."""
    return Autopilot(
        walk.runtime,
        values={**BASE, **values},
        boundary_timers=timers_by_task(),
        clock_source=frozen,
        wait_timers=False,
    )


def clue(walk, frozen, *, no, source, joint, registered, disposed, closed, four_forms, extra=None):
    """A handed-over clue worked to 办结销号 with the three measured moments set."""
    p = pilot(
        walk,
        frozen,
        clue_no=no,
        source_category=source,
        joint_mode=joint,
        disposal_method="yiyu_liaojie",
        four_forms=four_forms,
        **(extra or {}),
    )
    at(frozen, *registered)
    p.send("gt_msg_clue_handover", no, {"source_category": source})
    run_until(p, "gt_p5_intake_handover", "t_register")  # past the jurisdiction screen (this level)
    p.complete(ready(p, "gt_p5_intake_handover", "t_register"))
    run_until(p, "gt_p5_disposal", "t_appr")
    at(frozen, *disposed)
    p.complete(ready(p, "gt_p5_disposal", "t_appr"))
    # a clue handed over by 巡察 or 审计 closes at the step due half a year from its handover
    close = "t_close_ho" if source in ("xuncha_yijiao", "shenji_yijiao", "zhifa_sifa") else "t_close"
    run_until(p, "gt_p5_clue", close)
    at(frozen, *closed)
    p.complete(ready(p, "gt_p5_clue", close))
    p.run()
    return p


def seed_clues(walk: Walk, frozen) -> None:
    """A, B, C in 青湖县 and N in 共和县 (module docstring); the clock ends at ``AFTER``."""
    clue(
        walk, frozen, no="XS-2024-0001", source="xinfang_jubao", joint="self",
        registered=(2024, 4, 1), disposed=(2024, 4, 8), closed=(2024, 4, 22), four_forms="none",
    )  # fmt: skip
    clue(
        walk, frozen, no="XS-2024-0002", source="xuncha_yijiao", joint="shizudi",
        registered=(2024, 4, 1, 11), disposed=(2024, 4, 3), closed=(2024, 5, 6), four_forms="first",
        extra={"township_conflict": False, "has_conflict": False, "l1_x_units": []},
    )  # fmt: skip
    clue(
        walk, frozen, no="XS-2024-0003", source="shenji_yijiao", joint="zone",
        registered=(2024, 4, 8, 11), disposed=(2024, 4, 9), closed=(2024, 4, 10), four_forms="none",
        extra={"zone_mode": "cross", "handling_township_unit": "qh_hk"},
    )  # fmt: skip
    # 共和县's clue, registered by its own 案管室 (lixin) on the same day as A
    at(frozen, 2024, 4, 1, 15)
    neighbour = pilot(walk, frozen, clue_no="XS-2024-0901", source_category="xinfang_jubao")
    result = walk.runtime.send_message(
        "gt_msg_clue_handover", "XS-2024-0901", {"source_category": "xinfang_jubao"}, actor=neighbour.principal("lixin")
    )
    neighbour.roots.add(result["instance_id"])
    neighbour.complete(ready(neighbour, "gt_p5_intake_handover", "t_screen"), actor="lixin")  # 管辖: this level
    neighbour.complete(ready(neighbour, "gt_p5_intake_handover", "t_register"), actor="lixin")
    at(frozen, *AFTER)
