"""The four acceptance scenarios of the domain notes (§10), end to end across processes.

Each scenario moves the frozen clock through the 2024 calendar (清明 04-04..06 off, Sunday 04-07 a
make-up working day), checks who gets each task (role, candidate units, assignee, separation of
functions), the due dates, and the records left behind. Steps the scenario does not describe are
worked by the autopilot with the scenario's values.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from demo.autopilot import FormFillError
from engine import clock
from engine.access import duties
from engine.errors import Forbidden
from engine.models import HumanTask, Notification, PendingMessage, RecusalConflict, TaskSubmission
from engine.scheduling.worker import Worker

from .driver import Seq, Walk, local_date, units
from .paths import BASE
from .walks import _Services

D = dt.date


@pytest.fixture
def scenario_clock():
    with clock.frozen(dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        yield frozen


def _walk(db, frozen, **values):
    w = Walk(db, frozen, values={**BASE, **values})
    w.__enter__()
    return w


def _records(db, spec_id):
    with db.session() as s:
        return [
            r.data
            for r in s.scalars(
                select(TaskSubmission)
                .join(HumanTask, HumanTask.id == TaskSubmission.task_id)
                .where(HumanTask.spec_id == spec_id, TaskSubmission.kind == "final")
                .order_by(TaskSubmission.id)
            )
        ]


# ============================================================================ Scenario B
def _reads_only_the_decision(db, tmp_path, execution):
    from engine.access.principal import load_principal
    from engine.access.reveal import Reveal
    from engine.access.sealing import Sealer
    from engine.config import Config
    from engine.services import Services
    from engine.tasks import operations as task_ops

    config = Config.from_env(database_url=db.url, instance_dir=tmp_path, attachments_dir=tmp_path / "files")
    with db.session() as s:
        secretary = load_principal(s, "xczxsj")
    view = task_ops.show_task(Services(config, db=db), secretary, execution.id, reveal=Reveal(Sealer("scenario-b")))
    others = [(step.name, set(step.data)) for step in view.steps if step.submitted_by != "xczxsj"]
    assert others == [("宣布处分决定并通报所在党委", {"decision_no", "announce_date"})]
    # besides it, only what he wrote himself earlier in the case (his countersignature, his opinion)
    assert {step.name for step in view.steps if step.submitted_by == "xczxsj"} == {
        "所在党委主要负责人签署意见",
        "所在党委反馈意见",
    }


def test_scenario_b_real_name_report_to_sanction_and_appeal(db, scenario_clock, tmp_path):
    """Real-name report → 函询 → denial → 初核 (recusal) → 立案 (县委书记) → 审理 → 处分 → 复审/复核."""
    w = _walk(
        db,
        scenario_clock,
        real_name=True,
        jurisdiction="this_level",
        clue_no="XS-2024-0088",
        cadre_authority="county",
        host_unit="qh_xczxj_dz",
        recipient="zhaomou",
        handling_unit="qh_jc1",
        resident_unit="qh_pz1",
        township_unit="qh_qj",
        secretary_approval_required=True,
        needs_secretary_approval=True,
        disposal_method="tanhua_hanxun",
        inquiry_mode="letter",
        inquiry_result="verify",
        verify_team=["liuyang", "zhaolei", "wujun"],
        has_conflict=False,
        verify_result="file_case",
        detention_proposed=False,
        hearing_accept="accept",
        hearing_finding="proceed",
        county_approval_required=True,
        sanction_post_change_required=False,
        prosecution_transfer=False,
        four_forms="second",
        amount=6000,
    )
    # 1. Intake, Monday 03-04
    w.start("gt_p5_intake_report", actor="zhoujing")
    screen = w.task("t_screen")
    assert screen.role == "petition_office"
    w.complete("t_screen", actor="zhoujing", received_date="2024-03-04")
    w.complete("t_register", actor="zhoujing")
    notice = w.task("t_notice")
    assert (notice.role, notice.due_key) == ("petition_office", "realname_acceptance_notice")
    assert local_date(notice.due_at) == D(2024, 3, 25)  # 15 working days from Monday 03-04
    w.at(2024, 3, 15)
    w.complete("t_notice", actor="lihong")
    # 2. Routing to 第一监督检查室; the 书记 approves (副科级, 县管)
    route = w.task("t_route")
    assert (route.role, units(route)) == ("case_management_office", {"qh_ags"})
    w.complete("t_route", actor="fengli")
    w.complete("t_route_appr", actor="hanwei")
    sec = w.task("t_route_sec")
    assert (sec.role, units(sec)) == ("commission_secretary", {"qh_cdi"})
    w.complete("t_route_sec", actor="machengzhi")
    accept = w.task("t_accept")
    assert units(accept) == {"qh_jc1"}
    with pytest.raises(Forbidden):  # 第二监督检查室 may not take 第一室's clue
        w.pilot.complete(accept, actor="wangfang")
    # 3. 函询: letter 03-20, received 03-21 → reply due 04-12 over 清明 and the 04-07 make-up day
    w.at(2024, 3, 20)
    letter = w.until("t_letter")
    assert units(letter) == {"qh_jc1"}
    assert [s.spec_id for s in w.pilot.steps if s.spec_id == "t_sec"], "函询 of a 副科级 cadre needs the 书记"
    w.complete(
        "t_letter",
        actor="liuyang",
        sent_date="2024-03-20",
        delivered_date="2024-03-21",
        questions="请就是否接受工程承包方宴请、收受礼金及干预项目验收作出说明。",
    )
    reply = w.task("t_reply")
    assert (reply.role, units(reply)) == ("reported_person", {"qh_xczxj_dz"})
    assert reply.assignee == "zhaomou"  # the letter is addressed to him, not to his unit's reported people
    assert local_date(reply.due_at) == D(2024, 4, 12)
    assert local_date(reply.reminder_at) == D(2024, 4, 9)  # 3 working days before
    # the reminder goes to the reported person himself on 04-09, not before (the letter is his alone)
    worker = Worker(_Services(w))
    w.at(2024, 4, 8, 18)
    worker.remind_and_escalate()
    w.at(2024, 4, 9, 10)
    assert worker.remind_and_escalate() >= 1
    with db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.task_id == reply.id)).all()
        assert [(n.kind, n.username, n.unit_code, n.role_code) for n in notes] == [("reminder", "zhaomou", None, None)]
    # no 检举人 data in the letter's record (the reporter's identity is sealed at registration)
    for record in _records(db, "t_letter") + _records(db, "t_register"):
        assert not any(k.startswith("reporter") for k in record), record
    w.at(2024, 4, 10)
    w.complete("t_reply", actor="zhaomou")
    w.complete("t_sign", actor="xczxsj")
    # 4. the 派驻一组 records show a dinner → 初核; one 核查组 member is 赵某's classmate
    w.complete("t_report", inquiry_result="verify")
    w.run(until="t_recusal")
    declarations = w.tasks("t_recusal")
    assert sorted(t.assignee for t in declarations) == ["liuyang", "wujun", "zhaolei"]
    for t in declarations:
        w.pilot.complete(t, {"has_conflict": t.assignee == "zhaolei", "conflict_type": "host_unit"})
    adjust = w.task("t_adjust")
    assert adjust.role == "leader_in_charge"
    with pytest.raises(FormFillError, match="赵磊"):  # the leader cannot keep him without deciding so
        w.complete("t_adjust", recusal_outcome="replace", verify_team=["liuyang", "zhaolei", "wujun"])
    w.complete("t_adjust", recusal_outcome="replace", verify_team=["liuyang", "wujun", "yangfan"])
    # only the new member declares; 赵磊's conflict (his group supervises 乡村振兴局) is decided in the
    # register (replace), with the leader's reason
    assert [t.assignee for t in w.tasks("t_recusal")] == ["yangfan"]
    with db.session() as s:
        [conflict] = s.scalars(select(RecusalConflict)).all()
        assert (conflict.username, conflict.kind) == ("zhaolei", "host_unit")
        assert (conflict.decision, conflict.decided_by) == ("replace", "hanwei")
        assert conflict.self_declared and conflict.decision_reason
    work = w.until("t_work")
    assert work.due_key == "preliminary_verification"
    # 2 months from 04-10 is 06-10, the 端午 holiday: the limit runs to Tuesday 06-11
    assert local_date(work.due_at) == D(2024, 6, 11)
    w.at(2024, 6, 3)
    w.complete("t_work")
    w.complete("t_report")
    signers = w.tasks("t_sign")
    assert sorted(t.assignee for t in signers) == ["liuyang", "wujun", "yangfan"]  # signed by all, not 赵磊
    # 5. 立案: 纪委书记 06-05, 县委书记 06-07 (县管 cadre)
    w.at(2024, 6, 5)
    w.until("t_req")
    w.complete("t_req")
    w.complete("t_sec", actor="machengzhi")
    county = w.task("t_county")
    assert (county.role, units(county)) == ("county_party_committee", {"qh_county_committee"})
    w.at(2024, 6, 7)
    w.complete("t_county", actor="sunjianguo")
    w.at(2024, 6, 11)
    announce = w.task("t_announce")
    assert (announce.role, units(announce)) == ("investigation_office", {"qh_scdc"})
    w.complete("t_announce", actor="yangfan")
    # 6. 审查调查 without 留置; transfer 08-20; 审理 accepts 08-21
    w.at(2024, 8, 20)
    w.until("t_transfer")
    assert not [s for s in w.pilot.steps if s.spec_id == "t_det"]
    w.complete("t_transfer", investigator_users=["yangfan", "wujun"])
    hearing_accept = w.task("t_accept", "gt_p5_hearing")
    assert hearing_accept.role == "hearing_office" and set(hearing_accept.separate_from) == {"yangfan", "wujun"}
    assert "gt_p5_case:t_invest" in hearing_accept.separate_steps  # and whoever really investigated
    assert units(hearing_accept) == {"qh_sl"}
    with pytest.raises(Forbidden):  # 审理 staff ≠ investigators (yangfan also holds no 审理 role)
        w.pilot.complete(hearing_accept, actor="yangfan")
    w.at(2024, 8, 21)
    # 何平 hears the case from acceptance to report; 徐青 stays clear of it for a later 复审
    w.pilot.actors["gt_p5_hearing:t_report"] = "heping"
    w.pilot.complete(hearing_accept, actor="heping")
    work = w.task("t_hearing")
    # 1 month from 08-21 ends Saturday 09-21; a limit ending on a rest day runs to the next working day
    assert local_date(work.due_at) == D(2024, 9, 23)
    w.complete("t_hearing", actor="heping", hearing_users=["heping", "xuqing"])
    w.at(2024, 9, 19)
    w.run(until="t_cty")
    w.complete("t_cty", actor="sunjianguo")
    # 7. 处分 announced 10-10, execution report due 6 months later
    w.at(2024, 10, 10)
    announce = w.until("t_announce")
    assert announce.role == "hearing_office" and announce.process_key == "gt_p5_sanction"
    w.complete("t_announce")
    execution = w.task("t_exec")
    assert execution.role == "supervised_party_org" and units(execution) == {"qh_xczxj_dz"}
    assert (local_date(execution.due_at).year, local_date(execution.due_at).month) == (2025, 4)
    # the party secretary who executes it reads the decision's number and date, not the case file
    _reads_only_the_decision(db, tmp_path, execution)
    w.run(until="t_fb")
    feedback = w.task("t_fb")
    assert feedback.role == "petition_office" and feedback.due_key == "realname_result_feedback"
    assert units(feedback) == {"qh_xfs"}  # the 信访室 that registered the report, not any 信访室
    w.complete("t_fb")
    clue = w.instances("gt_p5_intake_report")[0]
    assert clue.status == "completed" and clue.business_key == "XS-2024-0088"
    assert _records(db, "t_close")[-1]["four_forms"] == "second"
    # 8. Appeal: 复审 of the 政务处分 10-25 → decision due 11-25; then 复核 (2 months)
    w.at(2024, 10, 25)
    appeal = w.start("gt_p5_appeal", actor="xuqing")
    w.complete("t_reg", appeal_type="admin_reexam", case_no="LA-2024-0012", original_staff=["heping"])
    reexam = w.task("t_re")
    assert "heping" in reexam.separate_from  # the 复审 reviewer is not the 审理 staff
    assert local_date(reexam.due_at) == D(2024, 11, 25)  # 复审 decided within 1 month
    # the appeal is linked to the case by its number: who heard the case is found, not only typed
    assert "gt_p5_hearing:t_hearing" in reexam.separate_steps
    with db.session() as s:
        kept_out = duties.bars(s, s.get(HumanTask, reexam.id))
    assert set(kept_out) >= {"heping", "yangfan", "liuyang", "wujun", "zhaolei"}
    assert kept_out["zhaolei"].rule == "recusal" and kept_out["liuyang"].rule == "separation_of_functions"
    with pytest.raises(Forbidden):
        w.pilot.complete(reexam, actor="heping")
    w.pilot.complete(reexam, actor="xuqing")
    assert w.task("t_re_dec").role == "commission_secretary"
    w.run(until="t_rv_app")
    w.at(2024, 11, 20)
    w.complete("t_rv_app", review_applied=True)
    review = w.task("t_rv")
    assert review.due_key == "appeal_review_decision" and local_date(review.due_at) == D(2025, 1, 20)
    w.run()
    assert all(i.status == "completed" for i in w.instances())
    assert appeal in [i.id for i in w.instances("gt_p5_appeal")]
    w.__exit__(None, None, None)


def test_overdue_acceptance_notice_is_escalated(db, scenario_clock):
    """A reminder before the limit, then overdue notice to the office and escalation to 分管领导."""
    w = _walk(db, scenario_clock, real_name=True)
    w.start("gt_p5_intake_report", actor="zhoujing")
    w.complete("t_screen", received_date="2024-03-04")
    w.complete("t_register")
    notice = w.task("t_notice")
    worker = Worker(_Services(w))
    w.at(2024, 3, 20, 10)  # 3 working days before 03-25
    assert worker.remind_and_escalate() >= 1
    w.at(2024, 3, 26, 9)
    worker.remind_and_escalate()
    with db.session() as s:
        notes = {
            (n.kind, n.username, n.unit_code, n.role_code)
            for n in s.scalars(select(Notification).where(Notification.task_id == notice.id))
        }
    # to the 信访室 officer who holds it (the step after her own registration was hers without claiming,
    # issue 15), escalated to the 分管领导 of the commission that owns it (not the whole database)
    assert notes == {
        ("reminder", "zhoujing", None, None),
        ("overdue", "zhoujing", None, None),
        ("escalation", None, "qh_cdi", "leader_in_charge"),
    }
    worker.remind_and_escalate()  # once only
    with db.session() as s:
        assert len(s.scalars(select(Notification).where(Notification.task_id == notice.id)).all()) == 3
    w.__exit__(None, None, None)


# ============================================================================ Scenario A
def test_scenario_a_inspection_clue_shizudi_talk_first_form(db, scenario_clock):
    """巡察 handover → 室组地 (塔拉镇 kinship → 河卡镇) → 谈话 → first form → rectification items."""
    w = _walk(
        db,
        scenario_clock,
        clue_no="XS-2024-0156",
        source_category="xuncha_yijiao",
        host_unit="qh_nmj_dz",
        handling_unit="qh_jc2",
        resident_unit="qh_pz3",
        township_unit="qh_tl",
        joint_mode="shizudi",
        cadre_authority="other",
        secretary_approval_required=False,
        needs_secretary_approval=False,
        disposal_method="tanhua_hanxun",
        inquiry_mode="talk",
        inquiry_result="first_form",
        four_forms="first",
        amount=42000,
    )
    w.at(2024, 5, 30)
    result = w.send(
        "gt_msg_clue_handover",
        "XCB〔2024〕7号",
        {"source_category": "xuncha_yijiao", "transfer_doc_no": "XCB〔2024〕7号"},
    )
    assert result["status"] == "started"
    screen = w.task("t_screen", "gt_p5_intake_handover")  # 管辖 first, then the register
    assert screen.role == "case_management_office"
    w.complete("t_screen", actor="fengli", jurisdiction="this_level")
    register = w.task("t_register")
    assert register.role == "case_management_office"
    w.complete("t_register", actor="fengli", clue_no="XS-2024-0156")
    w.complete("t_route", actor="fengli")
    w.at(2024, 5, 31)
    w.complete("t_route_appr", actor="hanwei")
    assert not w.tasks("t_route_sec")  # not 县管, no 书记
    w.complete("t_accept", actor="wangfang")
    # 室组地: 第二监督检查室 leads with 派驻第三组 and 塔拉镇纪委
    setup = w.task("t_setup")
    assert (setup.role, units(setup)) == ("supervision_office", {"qh_jc2"})
    # 审计局 (an X department) joins the 协查 to provide its 2023 fund audit (§10 A.4)
    w.complete("t_setup", actor="wangfang", resident_unit="qh_pz3", township_unit="qh_tl", l1_x_units=["qh_sjj"])
    declarations = {t.spec_id: t for t in w.pilot.ready_tasks() if t.process_key == "gt_l1_shizudi"}
    assert {k: (t.role, units(t)) for k, t in declarations.items()} == {
        "t_rd_so": ("supervision_office", {"qh_jc2"}),
        "t_rd_rg": ("resident_group", {"qh_pz3"}),
        "t_rd_tw": ("township_commission", {"qh_tl"}),
    }
    w.complete("t_rd_so", actor="wangfang", has_conflict=False)
    w.complete("t_rd_rg", actor="guoxia", has_conflict=False)
    w.complete("t_rd_tw", actor="dawa", has_conflict=True)  # kinship with 多吉
    w.complete("t_review", actor="wangfang", township_conflict=True)
    replace = w.task("t_replace")
    assert replace.role == "leader_in_charge"
    w.complete("t_replace", actor="hanwei", township_unit="qh_hk")  # 交叉: 河卡镇纪委
    new = w.task("t_rd_new")
    assert (new.role, units(new)) == ("township_commission", {"qh_hk"})
    with pytest.raises(Forbidden):  # the 塔拉镇 member is out of the team now
        w.pilot.complete(new, actor="dawa")
    w.complete("t_rd_new", actor="suonan", has_conflict=False)
    assist = {t.spec_id: (t.role, units(t)) for t in w.pilot.ready_tasks() if t.process_key == "gt_l1_shizudi"}
    assert assist == {
        "t_as_rg": ("resident_group", {"qh_pz3"}),
        "t_as_tw": ("township_commission", {"qh_hk"}),
        "t_as_x": ("x_department", {"qh_sjj"}),
    }
    audit_task = w.task("t_as_x")
    assert w.pilot.eligible(audit_task) == ["shenmei"]  # 审计局 only, not 财政局 or the other X departments
    with pytest.raises(Forbidden):
        w.pilot.complete(audit_task, actor="qinfeng")  # 财政局 holds the same role in another unit
    w.complete("t_as_rg", actor="guoxia")
    w.complete("t_as_tw", actor="suonan")
    w.complete("t_as_x", actor="shenmei")
    w.at(2024, 6, 12)
    w.complete("t_meet", actor="wangfang")
    # Disposal: 谈话函询, chain 室主任 → 分管领导 (not 县管: no 书记); approved 06-13
    w.at(2024, 6, 13)
    w.run(until="t_talk")
    assert not [s for s in w.pilot.steps if s.spec_id == "t_sec"], "no 书记 approval for a non-县管 cadre"
    talk = w.task("t_talk")
    assert units(talk) == {"qh_jc2"}
    w.at(2024, 6, 18)
    w.complete("t_talk", actor="wangfang")
    w.at(2024, 7, 5)
    w.run(until="t_ff")
    first = w.task("t_ff")
    assert units(first) == {"qh_jc2"}
    w.complete("t_ff")
    w.run()
    assert all(i.status == "completed" for i in w.instances()), [(i.process_key, i.status) for i in w.instances()]
    # a 巡察 clue closes at the step due half a year from its handover
    assert _records(db, "t_close_ho")[-1]["four_forms"] == "first"
    assert _records(db, "t_register")[-1]["clue_no"] == "XS-2024-0156"
    # started under the 移交函 number, the instance is known by its clue number once 案管室 registers it
    assert w.instances("gt_p5_intake_handover")[0].business_key == "XS-2024-0156"
    assert _records(db, "t_src_fb"), "the 巡察办 is told the result"
    assert not _records(db, "t_fb"), "anonymous: no reporter feedback"
    w.__exit__(None, None, None)


def test_shizudi_without_x_department_has_no_x_assistance(db, scenario_clock):
    """室组地 without an X department: the X 协查 step makes no task (the collection is empty)."""
    w = _walk(db, scenario_clock, source_category="xuncha_yijiao", joint_mode="shizudi", township_conflict=False)
    w.at(2024, 5, 30)
    w.send("gt_msg_clue_handover", "XCB〔2024〕8号", {"source_category": "xuncha_yijiao"})
    w.until("t_setup")
    w.complete("t_setup", actor="wangfang", l1_x_units=[])
    w.run(until="t_as_rg")
    assist = {t.spec_id: units(t) for t in _l1_tasks(w) if t.spec_id.startswith("t_as_")}
    assert assist == {"t_as_rg": {"qh_pz3"}, "t_as_tw": {"qh_tl"}}
    w.complete("t_as_rg")
    w.complete("t_as_tw")
    assert w.task("t_meet").process_key == "gt_l1_shizudi"
    w.__exit__(None, None, None)


# ============================================================================ Scenario C
def test_scenario_c_zone_cross_handling_hold_then_closed(db, scenario_clock):
    """片区协作: zone 3's lead (才云) has 河卡镇纪委 handle a 塔拉镇 clue; 初核 → 暂存 → expires → 了结."""
    w = _walk(
        db,
        scenario_clock,
        clue_no="XS-2024-0211",
        source_category="jiancha_faxian",
        host_unit="qh_nmj_dz",
        handling_unit="qh_jc2",
        township_unit="qh_tl",
        joint_mode="zone",
        zone_mode="cross",
        handling_township_unit="qh_hk",
        disposal_method="chubu_heshi",
        verify_team=["wangfang", "chenhao"],
        has_conflict=False,
        verify_result="hold",
        hold_decision=Seq("keep", "close"),
        four_forms="none",
    )
    w.at(2024, 5, 20)
    w.send("gt_msg_clue_handover", "WT-2024-031", {"source_category": "jiancha_faxian", "problem_no": "WT-2024-031"})
    lead = w.until("t_lead")
    assert (lead.role, units(lead)) == ("zone_lead", {"qh_zone3"})
    assert w.pilot.eligible(lead) == ["caiyun"]
    w.complete("t_lead", actor="caiyun")
    cross = w.task("t_cross")
    assert (cross.role, units(cross)) == ("township_commission", {"qh_hk"})
    with pytest.raises(Forbidden):  # 塔拉镇 does not handle its own township's clue
        w.pilot.complete(cross, actor="dawa")
    w.complete("t_cross", actor="suonan")
    review = w.task("t_review")
    assert review.role == "zone_lead"
    w.run(until="t_hold")
    w.task("t_hold")  # the 暂存 period ran out: periodic review (intermediate timer fired)
    assert ("gt_p5_disposal", "tm_hold") in w.recorder.timers
    w.run()
    assert all(i.status == "completed" for i in w.instances())
    assert [r["hold_decision"] for r in _records(db, "t_hold")] == ["keep", "close"]
    w.__exit__(None, None, None)


# ============================================================================ Scenario D
def test_scenario_d_monthly_meeting_risk_alert_and_eco_feedback(db, scenario_clock):
    """月例会 on the 5th (moved past the 劳动节 holiday), a risk alert on 县医院 → M2; the annual judgement
    sends 县医院 to rectification and starts next year's goal setting (new instances, messages delivered)."""
    w = _walk(
        db,
        scenario_clock,
        risk_alert=True,
        adjust_tasks=False,
        clue_found=False,
        risk_units=["qh_yy_dw"],
        period_type="annual",
        problem_units=["qh_yy_dw"],
        warning_units=["qh_yy_dw"],
    )
    worker = Worker(_Services(w))
    w.at(2024, 5, 5, 10)  # Sunday, inside the 05-01..05 holiday: May's meeting is not due yet
    worker.start_scheduled()
    from engine.models import ScheduleRun

    with db.session() as s:
        runs = {
            r.period: local_date(r.due_at)
            for r in s.scalars(select(ScheduleRun).where(ScheduleRun.process_key == "gt_p2_info"))
        }
    # the scheduler catches up April's meeting, held on the 调休 Sunday 04-07 after 清明 (04-04..06)
    assert runs == {"2024-04": D(2024, 4, 7)}
    w.at(2024, 5, 6, 9)
    worker.start_scheduled()
    meeting = [m for m in w.instances("gt_p2_info") if m.business_key == "2024-05"]
    assert len(meeting) == 1
    w.pilot.roots.add(meeting[0].id)
    w.pilot.leave = {"gt_m2_risk"}
    w.run()
    risk = w.instances("gt_m2_risk")
    assert len(risk) == 1 and risk[0].status == "running"
    with db.session() as s:
        sent = s.scalars(select(PendingMessage).where(PendingMessage.message_name == "gt_msg_risk_alert")).all()
        assert [(m.status, m.payload.get("risk_units")) for m in sent] == [("delivered", ["qh_yy_dw"])]
    assert [(t.spec_id, t.role, t.status) for t in _tasks_of(db, "gt_m2_risk")] == [
        ("t_assign", "conduct_supervision_office", "ready")
    ]
    # December: annual judgement → 县医院 rectification (M3) and next cycle (M1)
    w.at(2024, 12, 2, 9)
    worker.start_scheduled()
    eco = w.instances("gt_m3_eco")
    assert len(eco) == 1
    w.pilot.roots = {eco[0].id}
    w.pilot.leave = {"gt_m3_rectify", "gt_m1_goal"}
    w.run()
    assert w.instances("gt_m3_eco")[0].status == "completed"
    rect = w.instances("gt_m3_rectify")
    assert len(rect) == 1 and rect[0].status == "running"
    assert len(w.instances("gt_m1_goal")) == 1
    w.__exit__(None, None, None)


def test_scenario_d_late_priority_submissions_get_one_reminder(db, scenario_clock):
    """January goal setting (P1): 14 bodies submit priorities (multi-instance); the 2 still open at the
    reminder moment each get exactly one reminder, the 12 submitted in time none (§10 D.1)."""
    w = _walk(db, scenario_clock, plan_no="JH-2024-01")
    w.at(2024, 1, 8, 9)  # Monday
    w.start("gt_p1_goal", actor="dengqiang")
    w.complete(
        "t_launch",
        actor="dengqiang",
        office_units=["qh_jc1", "qh_jc2", "qh_jc3"],
        resident_units=["qh_pz1", "qh_pz2", "qh_pz3", "qh_pz4", "qh_pz5"],
        x_units=["qh_czj", "qh_sjj", "qh_nmj"],
    )
    bodies = {(t.spec_id, frozenset(units(t))): t for t in w.pilot.ready_tasks() if t.process_key == "gt_p1_goal"}
    assert len(bodies) == 14  # 3 offices + 5 resident groups + 巡察办 + 信访室 + 案管室 + 3 X departments
    assert {t.due_key for t in bodies.values()} == {"priority_submission"}
    due = {local_date(t.due_at) for t in bodies.values()}
    reminder = {local_date(t.reminder_at) for t in bodies.values()}
    assert (due, reminder) == ({D(2024, 1, 22)}, {D(2024, 1, 17)})  # 10 working days; reminder 3 before
    late = {k: t for k, t in bodies.items() if k in {("t_rg", frozenset({"qh_pz4"})), ("t_x", frozenset({"qh_nmj"}))}}
    assert len(late) == 2
    w.at(2024, 1, 15)
    for key, t in bodies.items():
        if key not in late:
            w.pilot.complete(t)
    assert {(t.spec_id, frozenset(units(t))) for t in w.pilot.ready_tasks() if t.process_key == "gt_p1_goal"} == set(
        late
    )
    worker = Worker(_Services(w))
    w.at(2024, 1, 16, 18)  # not yet
    assert worker.remind_and_escalate() == 0
    w.at(2024, 1, 17, 10)
    assert worker.remind_and_escalate() == 2
    w.at(2024, 1, 18, 10)
    assert worker.remind_and_escalate() == 0  # once only
    with db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.task_id.in_([t.id for t in bodies.values()]))).all()
        got = sorted((n.task_id, n.kind, n.username or "", n.unit_code or "", n.role_code or "") for n in notes)
    # each late body has one person who may submit: the task was his without claiming (issue 15), and the
    # reminder reaches him by name
    assert got == sorted(
        [
            (late[("t_rg", frozenset({"qh_pz4"}))].id, "reminder", "bailin", "", ""),
            (late[("t_x", frozenset({"qh_nmj"}))].id, "reminder", "dorje", "", ""),
        ]
    )
    for t in late.values():
        w.pilot.complete(t)
    assert w.task("t_draft").process_key == "gt_p1_goal"
    w.__exit__(None, None, None)


def _spec_ids(w):
    return {t.spec_id for t in w.pilot.ready_tasks()}


def _has_task(w, spec_id):
    return spec_id in _spec_ids(w)


def _l1_tasks(w):
    return [t for t in w.pilot.ready_tasks() if t.process_key == "gt_l1_shizudi"]


def _tasks_of(db, process_key):
    with db.session() as s:
        rows = s.scalars(select(HumanTask).where(HumanTask.process_key == process_key).order_by(HumanTask.id)).all()
        for r in rows:
            _ = r.candidates
            s.expunge(r)
    return rows
