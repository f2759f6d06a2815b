"""No bounded loop of the library may skip a legal safeguard (issue 13).

Four loops used to end by letting the flow go on once their counter ran out: 初核's recusal loop with a
conflicted member (gw_rec), a 暂存 clue closed after four reviews with no approval and no 了结报告
(gw_hold), 审理室 forced to accept an incomplete transfer after three deferrals (gw_acc), and a case sent
to the 常委会 without a 审理报告 after three returns (gw_hear). Each former exit now ends in a decision
of the competent leader, recorded with his reasons, or in the lawful outcome. These tests walk each
former exit on the real engine and read what was recorded: who decided (his role), the decision and
its reason, and that the step the bound used to skip to comes only after that decision.
"""

from __future__ import annotations

from lxml import etree
from sqlalchemy import select

from engine.models import HumanTask, TaskSubmission

from .driver import BPMN_FILES, NS
from .walks import check_walk, walk


def _decisions(db, spec_id: str) -> list[tuple[HumanTask, dict]]:
    """Each completed ``spec_id`` task with its final submission, in the order they were done."""
    with db.session() as s:
        rows = s.execute(
            select(HumanTask, TaskSubmission)
            .join(TaskSubmission, TaskSubmission.task_id == HumanTask.id)
            .where(HumanTask.spec_id == spec_id, TaskSubmission.kind == "final")
            .order_by(TaskSubmission.id)
        ).all()
        for task, _ in rows:
            s.expunge(task)
        return [(task, sub.data) for task, sub in rows]


def _order(w, spec_id: str, process: str | None = None) -> list[int]:
    """Positions at which ``spec_id`` (of ``process``, if given) completed during the walk."""
    return [i for i, (p, s) in enumerate(w.recorder.completed) if s == spec_id and process in (None, p)]


def _targets(process_id: str, gateway: str) -> set[str]:
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        process = root.find(f"bpmn:process[@id='{process_id}']", NS)
        if process is not None:
            return {
                f.get("targetRef") for f in process.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == gateway
            }
    raise AssertionError(f"no process {process_id}")


def _recorded_with_reason(db, spec_id: str, role: str, field: str, value: str) -> None:
    decisions = _decisions(db, spec_id)
    assert decisions, f"{spec_id} never decided"
    for task, data in decisions:
        assert task.role == role, f"{spec_id} decided by {task.role}, not {role}"
        assert task.completed_by, f"{spec_id}: nobody signed the decision"
        assert data[field] == value, data
        assert len(data["decision_reason"].strip()) >= 2, f"{spec_id}: decision without a reason"
        assert data["signature"]["signer"] and data["signature"]["signed_at"]


def test_former_exits_lead_to_a_decision_not_to_the_next_step():
    """The model itself: no bounded gateway has its old shortcut any more."""
    assert _targets("gt_p5_verify", "gw_rec") == {"t_adjust", "t_adjust_sec", "t_appr"}
    # gw_hold: keep / verify only below the bound; everything else goes to the leader, never to the end
    assert _targets("gt_p5_disposal", "gw_hold") == {"gw_hold_m", "gw_ver_m", "t_hold_dec"}
    assert _targets("gt_p5_disposal", "gw_hold_dec") == {"t_hold_close", "gw_ver_m"}
    # gw_acc: acceptance only when the 审理室 accepted, or the leader decided it
    assert _targets("gt_p5_hearing", "gw_acc") == {"e_refuse", "t_supp", "gw_acc_m", "t_acc_dec"}
    # gw_hear: the 常委会 only after a 审理报告 (the hearing's own, or t_final_report after the 书记's decision)
    # (a return goes back through the 留置/案件性质 gateways to the investigation step of the case's kind)
    assert _targets("gt_p5_case", "gw_hear") == {"gw_inv_m", "t_return_dec", "gw_sc_m"}
    assert _targets("gt_p5_case", "gw_ret_dec") == {"t_withdraw", "t_final_report"}


def test_gw_rec_conflicted_member_after_three_rounds_goes_to_the_secretary(db):
    w = walk(db, "report_verify_recusal_bound")
    check_walk(w, "report_verify_recusal_bound")
    (task, data), *_ = _decisions(db, "t_adjust_sec")
    assert task.role == "commission_secretary"
    assert data["recusal_decision"].strip()
    # the report is signed only after the secretary fixed the team
    assert min(_order(w, "t_sign")) > max(_order(w, "t_adjust_sec"))


def test_gw_hold_four_reviews_end_in_approved_closure_with_a_report(db):
    w = walk(db, "handover_zone_cross_hold")
    check_walk(w, "handover_zone_cross_hold")
    assert len(_order(w, "t_hold")) == 4
    _recorded_with_reason(db, "t_hold_dec", "leader_in_charge", "hold_final_decision", "close")
    # 副科级以上 (needs_secretary_approval): the 书记 approves too
    _recorded_with_reason(db, "t_hold_dec_sec", "commission_secretary", "hold_final_decision", "close")
    [(_, note)] = _decisions(db, "t_hold_close")
    assert note["explanation"].strip() and note["close_reason"]
    assert min(_order(w, "t_hold_close")) > max(_order(w, "t_hold_dec_sec"))


def test_gw_hold_officers_proposal_to_close_needs_the_leader_who_may_order_verification(db):
    w = walk(db, "handover_hold_close_proposed_leader_verifies")
    check_walk(w, "handover_hold_close_proposed_leader_verifies")
    _recorded_with_reason(db, "t_hold_dec", "leader_in_charge", "hold_final_decision", "verify")
    assert not _order(w, "t_hold_close") and not _order(w, "t_hold_dec_sec")
    assert min(_order(w, "t_work")) > max(_order(w, "t_hold_dec"))


def test_gw_acc_three_deferrals_then_the_leader_accepts(db):
    w = walk(db, "case_hearing_deferred_leader_accepts")
    check_walk(w, "case_hearing_deferred_leader_accepts")
    assert len(_order(w, "t_supp")) == 3
    _recorded_with_reason(db, "t_acc_dec", "leader_in_charge", "acceptance_decision", "accept")
    assert min(_order(w, "t_hearing")) > max(_order(w, "t_acc_dec"))


def test_gw_acc_and_gw_hear_leader_refuses_then_the_secretary_withdraws_the_case(db):
    w = walk(db, "case_hearing_deferred_refused_withdrawn")
    check_walk(w, "case_hearing_deferred_refused_withdrawn")
    _recorded_with_reason(db, "t_acc_dec", "leader_in_charge", "acceptance_decision", "refuse")
    _recorded_with_reason(db, "t_return_dec", "commission_secretary", "return_decision", "withdraw")
    assert not _order(w, "t_hearing"), "a refused transfer was heard"
    assert not _order(w, "t_sc"), "a withdrawn case went to the 常委会"
    [(_, withdrawal)] = _decisions(db, "t_withdraw")
    assert withdrawal["notified"] is True and withdrawal["withdraw_ref"]


def test_gw_hear_three_returns_reach_the_committee_only_with_a_hearing_report(db):
    w = walk(db, "case_detention_reinvestigate_prosecution")
    check_walk(w, "case_detention_reinvestigate_prosecution")
    _recorded_with_reason(db, "t_return_dec", "commission_secretary", "return_decision", "hear_established")
    [(report_task, report)] = _decisions(db, "t_final_report")
    assert report_task.role == "hearing_office" and report["signature"]["signer"]
    sc = _order(w, "t_sc")
    assert sc and min(sc) > min(_order(w, "t_final_report")) > max(_order(w, "t_return_dec"))
    # the hearing's own report was never written in this case: every round was sent back
    assert not _order(w, "t_report", "gt_p5_hearing")
