"""Seed the demo county: import its organisation and start a handful of instances, advanced a few steps
by the ``Autopilot`` so that every main role has something in its inbox (``guantong demo``)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import func, select

from demo.autopilot import Autopilot
from engine import audit, clock
from engine.access.principal import load_principal
from engine.errors import EngineError
from engine.models import ProcessInstance
from engine.organisation.directory import import_organisation, load_file

log = logging.getLogger(__name__)


# (process id, business key, start data, username who starts it); kept for callers that add their own.
DEMO_INSTANCES: list[tuple[str, str | None, dict, str]] = []


def _no_progress(what: str, done: int, total: int) -> None:
    return None


def seed_demo(services, organisation: str | Path, *, with_instances: bool = True, progress=_no_progress) -> dict:
    """Import the organisation, then start and advance the demo instances; ``progress(what, done, total)``
    is told of each step (``guantong demo`` draws it as bars)."""
    progress("organisation", 0, 1)
    data = load_file(organisation)
    with services.db.session() as session:
        latest = services.definitions.latest_version_id(session)
        known_roles = None
        if latest is not None:
            known_roles = set(services.definitions.loaded(latest).roles.roles)
        counts = import_organisation(session, data, known_roles=known_roles)
        audit.record(session, "organisation_imported", actor="system", **counts)
        existing = session.scalar(select(func.count()).select_from(ProcessInstance))
    progress("organisation", 1, 1)
    started = []
    if with_instances and not existing:
        for index, (process_key, business_key, start_data, username) in enumerate(DEMO_INSTANCES):
            progress("instances", index, len(DEMO_INSTANCES))
            try:
                with services.db.session() as session:
                    actor = load_principal(session, username)
                outcome = services.runtime.start(process_key, actor=actor, business_key=business_key, data=start_data)
                started.append(outcome.instance_id)
            except EngineError as exc:
                log.warning("demo instance %s not started: %s", process_key, exc)
        progress("instances", len(DEMO_INSTANCES), len(DEMO_INSTANCES))
        if latest is not None:
            try:
                started.extend(seed_demo_instances(services, progress=progress))
            except EngineError as exc:
                log.warning("demo instances not (fully) advanced: %s", exc)
    return {**counts, "instances_started": len(started)}


# What the demo officers enter when a story does not say otherwise (the demo county's codes and people).
DEMO_VALUES = {
    "clue_no": "XS-2024-0156",
    "host_unit": "qh_nmj_dz",
    "handling_unit": "qh_jc2",
    "resident_unit": "qh_pz3",
    "township_unit": "qh_tl",
    "supervision_unit": "qh_jc2",
    "real_name": False,
    "jurisdiction": "this_level",
    "source_category": "xuncha_yijiao",
    "cadre_authority": "other",
    "secretary_approval_required": False,
    "needs_secretary_approval": False,
    "lower_party_leader": False,
    "joint_mode": "shizudi",
    "township_conflict": False,
    "verify_team": ["wangfang", "chenhao"],
    "investigator_users": ["wujun"],
    "hearing_users": ["heping", "xuqing"],
    "task_no": "RW-2024-07",
    "task_nos": ["RW-2024-07"],
    "plan_no": "JH-2024-01",
    "problem_no": "WT-2024-031",
    "rectification_no": "ZG-2024-009",
    "office_units": ["qh_jc2"],
    "resident_units": ["qh_pz3"],
    "x_units": ["qh_sjj"],
    "township_units": ["qh_tl"],
    "scope_units": ["qh_nmj_dz"],
    "target_unit": "qh_nmj_dz",
    "nominee_covered_units": ["qh_yy_dw"],
    "nominee_resident_unit": "qh_pz5",
    "has_conflict": False,
    "force_mode": "inspection",
    "ledger_items": ["ZG-17", "ZG-18"],
    "item_due_dates": {"ZG-17": "2024-09-30", "ZG-18": "2024-10-31"},
    "source_type": "inspection",
    "four_forms": "first",
    "reported_person": {"name": "多吉", "unit": "县农牧水利和科技局草原站", "position": "站长", "rank": "gu"},
}


def _in_process(process_key: str, role: str | None = None):
    def check(ready):
        return any(t.process_key == process_key and (role is None or t.role == role) for t in ready)

    return check


def seed_demo_instances(services, *, values: dict | None = None, progress=_no_progress) -> list[int]:
    """Start the demo stories and advance each a few steps, so every main role finds work in its inbox.

    - 信访室: a new 检举控告 waits for its initial screening (周静, 李红);
    - 第二监督检查室 (王芳): clue XS-2024-0156 handed over by the 巡察办, routed and approved, waiting for
      the office to register it and decide on 室组地 joint handling;
    - 巡察办: an inspection round (监督任务 RW-2024-07) waiting for the team-leader proposal;
    - 农牧局党组: a rectification list from the 巡察 feedback, waiting for its rectification plan;
    - 党风政风监督室 and the offices: the May 月例会, waiting for the launch and the data submissions.
    """
    pilot = Autopilot(services.runtime, values={**DEMO_VALUES, **(values or {})}, wait_timers=False)
    started: list[int] = []
    told = [0]

    def story(label, begin, until, max_steps=40):
        progress("stories", told[0], STORIES)
        told[0] += 1
        pilot.roots = set()  # each story works only its own instances
        try:
            begin()
            pilot.run(until=until, max_steps=max_steps)
        except EngineError as exc:
            log.warning("demo story %s stopped early: %s", label, exc)
        started.extend(sorted(pilot.roots))

    story("信访受理", lambda: pilot.start("gt_p5_intake_report", {}, actor="zhoujing"), "t_screen")
    story(
        "巡察移交线索",
        lambda: pilot.send(
            "gt_msg_clue_handover",
            "XCB〔2024〕7号",
            {"source_category": "xuncha_yijiao", "transfer_doc_no": "XCB〔2024〕7号"},
        ),
        "t_accept",
    )
    story(
        "巡察轮次",
        lambda: pilot.send("gt_msg_supervision_task", "RW-2024-07", {"task_no": "RW-2024-07", "plan_no": "JH-2024-01"}),
        _in_process("gt_l2_inspection", "inspection_office"),
    )
    story(
        "整改方案",
        lambda: pilot.send(
            "gt_msg_rectification_needed",
            "ZG-2024-009",
            {
                "source_type": "inspection",
                "host_unit": "qh_nmj_dz",
                "supervision_unit": "qh_jc2",
                "rectification_no": "ZG-2024-009",
            },
        ),
        _in_process("gt_p6_plan", "supervised_party_org"),
    )

    def monthly_meeting():  # as the scheduler does on the 5th: start, then the start timer fires
        pilot.start(
            "gt_p2_info",
            {
                "scheduled_at": (clock.now() - dt.timedelta(minutes=1)).isoformat(),
                "period": clock.today().strftime("%Y-%m"),
            },
            business_key=f"gt_p2_info:{clock.today().strftime('%Y-%m')}",
        )
        services.runtime.fire_due_timers()

    story("月例会", monthly_meeting, "t_launch")
    progress("stories", told[0], STORIES)
    return started


STORIES = 5  # the stories seed_demo_instances tells
