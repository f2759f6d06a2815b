"""Scenario C (regulations-and-practice.md §10): one 专项监督 finds four problems, four clues in parallel.

The special supervision of farmland and grassland subsidies (P4 发现问题共证, with 财政局 and 审计局
assisting) corroborates four problems of named people. Each becomes its own clue instance
(``gt_p5_intake_handover``, one ``gt_msg_clue_handover`` per clue): they run side by side in 第三片区
协作区 (乡镇片区协作, the zone lead 才云 包案), each ends on its own, and each records the supervision
that found it as its parent (``parent_instance_id``; no page lists a parent's children yet).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine import clock
from engine.models import HumanTask

from .driver import Walk, units
from .paths import BASE

CLUES = ["ZX-2024-02-1", "ZX-2024-02-2", "ZX-2024-02-3", "ZX-2024-02-4"]


def test_scenario_c_four_clues_in_one_zone_in_parallel(db):
    with clock.frozen(dt.datetime(2024, 5, 6, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(
            db,
            frozen,
            values={
                **BASE,
                "problem_no": "ZX-2024-02",
                "source_category": "jiancha_faxian",
                "needs_corroboration": True,
                "force_mode": "four_plus_x",
                "x_conflict": False,
                "problem_disposition": "clue",
                "clue_refs": CLUES,
                "zone_unit": "qh_zone3",
                "joint_mode": "zone",
                "zone_mode": "cross",
                "handling_township_unit": "qh_hk",
                "disposal_method": "tanhua_hanxun",
                "inquiry_result": "first_form",
                "four_forms": "first",
            },
        )
        with w:
            # the Q2 task of P1 (RW-2024-07) reaches M2: 四类监督+X forces (P3), then P4 finds the problems
            started = w.send(
                "gt_msg_supervision_task", "RW-2024-07", {"task_no": "RW-2024-07", "plan_no": "JH-2024-01"}
            )
            assert started["status"] == "started"
            parent = started["instance_id"]
            w.run(until="t_screen", max_steps=200)
            children = w.instances("gt_p5_intake_handover")
            # four instances, one per clue, all started by the one supervision and all waiting at once
            assert len(children) == 4 and {i.parent_instance_id for i in children} == {parent}
            screens = w.tasks("t_screen")
            assert len(screens) == 4 and {s.instance_id for s in screens} == {i.id for i in children}
            assert all(units(s) == {"qh_ags"} for s in screens)
            # the third clue is worked to its end while the other three wait: they do not depend on each other
            third = next(i for i in children if i.id == sorted(c.id for c in children)[2])
            w.pilot.roots = {third.id}
            w.run(max_steps=200)
            statuses = {i.id: i.status for i in w.instances("gt_p5_intake_handover")}
            assert statuses[third.id] == "completed"
            assert [statuses[i.id] for i in children if i.id != third.id] == ["running"] * 3

            # then the rest, each through the zone's cross-handling
            w.pilot.roots = {i.id for i in children}
            w.run(max_steps=600)
    assert {i.status for i in w.instances("gt_p5_intake_handover")} == {"completed"}
    with db.session() as s:
        cross = s.scalars(select(HumanTask).where(HumanTask.spec_id == "t_cross")).all()
        assert len({t.instance_id for t in cross}) == 4  # every clue handled in the zone, 交叉办理
        zone_units = {
            u for t in s.scalars(select(HumanTask).where(HumanTask.process_key == "gt_l4_zone")) for u in units(t)
        }
        assert "qh_zone3" in zone_units
