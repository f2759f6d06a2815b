"""Jurisdiction before registration (管辖), for handed-over clues as for reports (issue 13).

A clue handed over by 巡察, audit or a judicial organ is first routed by 管辖: this level registers it
in full; the upper level's and clues about this organ's own leaders go upward with only a stub kept
(date and letter number, never the content: 检举控告工作规则第15条); another organ's are transferred and
a lower level's forwarded, each within 5 working days of receipt. The walks of paths.py run each
route; these tests read what each one left behind.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.instances import entry
from engine.models import HumanTask, ProcessInstance, TaskSubmission

from .driver import local_date
from .walks import check_walk, walk

STUB_FIELDS = {"forward_date", "letter_no", "recipient", "instruction_recorded", "signature"}


def _done(db) -> dict[str, tuple[HumanTask, dict]]:
    with db.session() as s:
        rows = s.execute(
            select(HumanTask, TaskSubmission)
            .join(TaskSubmission, TaskSubmission.task_id == HumanTask.id)
            .where(TaskSubmission.kind == "final")
        ).all()
        for task, _ in rows:
            s.expunge(task)
        return {task.spec_id: (task, sub.data) for task, sub in rows}


@pytest.mark.parametrize(
    ("name", "route", "sealed"),
    [
        ("handover_upper_level", ["t_upper", "t_upper_send"], True),
        ("handover_own_leader", ["t_own"], True),
        ("handover_other_organ", ["t_transfer"], False),
        ("handover_lower_level", ["t_lower"], False),
    ],
)
def test_each_route_leaves_this_level_without_a_register(db, name, route, sealed):
    w = walk(db, name)
    check_walk(w, name)
    done = _done(db)
    assert "t_screen" in done and "t_register" not in done, sorted(done)
    assert not any(i.process_key == "gt_p5_clue" for i in w.instances()), "a clue was opened at this level"
    screened = local_date(dt.datetime.fromisoformat(done["t_screen"][1]["received_date"] + "T12:00:00+08:00"))
    for step in route:
        task, data = done[step]
        assert task.due_start == screened, f"{step}: the 5 working days run from receipt"
        if sealed:  # only the stub: no content of the clue is kept
            assert set(data) <= STUB_FIELDS, sorted(data)
    # the upper level's clue is the principal leader's to read first; a clue about him never reaches him
    roles = {done[s][0].role for s in route}
    assert ("commission_secretary" in roles) == (name == "handover_upper_level")


def test_paper_handover_registered_by_hand_takes_the_same_route(db):
    """案管室 starts it by hand; the handover instance it starts is its own commission's; 上级交办 reports back."""
    w = walk(db, "paper_handover_upper_assigned_direct_case")
    check_walk(w, "paper_handover_upper_assigned_direct_case")
    loaded = w.repo.loaded(w.version_id)
    assert entry.first_task_roles(loaded, "gt_p5_intake_paper") == {"case_management_office"}
    done = _done(db)
    paper, _ = done["t_paper"]
    assert paper.role == "case_management_office" and paper.completed_by == "gaoyuan"
    with db.session() as s:
        handover = s.scalars(
            select(ProcessInstance).where(ProcessInstance.process_key == "gt_p5_intake_handover")
        ).one()
        paper_instance = s.get(ProcessInstance, paper.instance_id)
        assert handover.owner_unit == paper_instance.owner_unit
    # 直接立案: no 初核 before the case
    assert "t_work" not in done and "t_req" in done
    notice, _ = done["t_notice"]
    assert notice.role == "petition_office" and notice.due_key == "realname_acceptance_notice"
    report, data = done["t_up_report"]
    assert report.role == "case_management_office" and report.due_key == "upper_assigned_report"
    assert data["status_result"].strip()
