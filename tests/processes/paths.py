"""The walks: one entry per path through the library, with the data officers would enter.

Each walk starts an entry process (as a person, by a message, or by the scheduler), lets the
``Autopilot`` work every task with the values below (any field not named gets a valid default from
its schema) and ends when nothing is left. ``expire`` names boundary timers that must fire (the
officer misses the limit); ``expect`` names tasks the walk must have gone through; ``refuse`` names approval steps
("process:step") whose approver answers 不同意 the first time, so the drafting step is done again. Together the walks
take every outgoing flow of every exclusive/inclusive gateway and every timer (test_completeness.py).

Data are the demo county's (demo/organisation.yaml): 第二监督检查室 qh_jc2 with 派驻第三组 qh_pz3 and
塔拉镇 qh_tl / 河卡镇 qh_hk; 农牧局党组 qh_nmj_dz; 乡村振兴局党组 qh_xczxj_dz; 县医院党委 qh_yy_dw.
"""

from __future__ import annotations

from demo.autopilot import Seq

# Values every walk starts from (field name -> value); walks override what their path needs.
BASE = {
    "clue_no": "XS-2024-0156",
    "host_unit": "qh_nmj_dz",
    "handling_unit": "qh_jc2",
    "resident_unit": "qh_pz3",
    "township_unit": "qh_tl",
    "supervision_unit": "qh_jc2",
    "real_name": False,
    "jurisdiction": "this_level",
    "source_category": "xinfang_jubao",
    "cadre_authority": "other",
    "lower_party_leader": False,
    "secretary_approval_required": False,
    "needs_secretary_approval": False,
    "joint_mode": "self",
    "verify_team": ["wangfang", "chenhao", "guoxia"],
    "investigator_users": ["wujun"],
    "hearing_users": ["heping", "xuqing"],
    "case_no": "LA-2024-0012",
    "problem_no": "WT-2024-031",
    "rectification_no": "ZG-2024-009",
    "plan_no": "JH-2024-01",
    "task_no": "RW-2024-07",
    "task_nos": ["RW-2024-07", "RW-2024-08"],
    "eco_period": "2024",
    "period": "2024-05",
    "office_units": ["qh_jc1", "qh_jc2"],
    "resident_units": ["qh_pz3", "qh_pz4"],
    "x_units": ["qh_sjj", "qh_czj"],
    "township_units": ["qh_tl"],
    "scope_units": ["qh_nmj_dz", "qh_yy_dw"],
    "target_unit": "qh_nmj_dz",
    "ledger_items": ["ZG-17", "ZG-18"],
    "item_due_dates": {"ZG-17": "2024-09-30", "ZG-18": "2024-10-31"},
    "four_forms": "first",
    "score": 86,
    "amount": 42000,
    # 巡察轮次 (gt_l2_round): 第二巡察组 led by 扎西 (派驻第五组, stationed in 教育局) inspects 农牧局党组
    "round_no": "XC-2024-02",
    "inspection_team_unit": "qh_xcz2",
    "round_leader": "zhaxi",
    "round_members": ["niuli", "zhouping"],
    "political_legal_unit": "qh_zfw",
    "audit_unit": "qh_sjj",
}

REPORT = ("gt_p5_intake_report", {}, "zhoujing")  # 信访室 registers a 检举控告
ROUND = ("gt_l2_round", {}, "hualin")  # 巡察办 starts the year's round
HANDOVER = ("msg", "gt_msg_clue_handover", None)

PATHS: dict[str, dict] = {
    # ------------------------------------------------------------------ P5 受理与管辖分流
    "report_upper_level": dict(
        start=REPORT, values=dict(jurisdiction="upper_level"), expect=["t_upper", "t_upper_send"]
    ),
    "report_own_leader": dict(start=REPORT, values=dict(jurisdiction="own_leader", real_name=True), expect=["t_own"]),
    "report_other_organ": dict(start=REPORT, values=dict(jurisdiction="other_organ"), expect=["t_other"]),
    "report_lower_level": dict(start=REPORT, values=dict(jurisdiction="lower_level"), expect=["t_lower"]),
    "report_close_directly": dict(
        start=REPORT, values=dict(disposal_method="yiyu_liaojie", four_forms="none"), expect=["t_close"]
    ),
    # 实名, 函询, reply overdue → 督办 (boundary timer), 书记审批
    "report_letter_overdue": dict(
        start=REPORT,
        values=dict(
            real_name=True,
            inquiry_mode="letter",
            disposal_method="tanhua_hanxun",
            inquiry_result="close",
            secretary_approval_required=True,
            needs_secretary_approval=True,
            handling_unit="qh_jc1",
            host_unit="qh_xczxj_dz",
            recipient="zhaomou",  # the 函询 letter goes to 赵某 of that unit, who alone gets the reply task
            resident_unit="qh_pz1",
        ),
        expire={"b_overdue"},
        expect=["t_notice", "t_urge", "t_fb"],
    ),
    # 谈话 → first form; delegated talk via the lower party leader, re-inquiry bound → 初核 → 谈话提醒
    "report_zone_joint_reinquiry": dict(
        refuse=[
            "gt_p5_inquiry:t_plan_appr",
            "gt_p5_inquiry:t_rep_appr",
            "gt_p5_inquiry:t_sec",
            "gt_p5_verify:t_county",
        ],
        start=REPORT,
        values=dict(
            joint_mode="zone",
            zone_mode="joint",
            zone_township_units=["qh_tl", "qh_hk", "qh_qj"],
            disposal_method="tanhua_hanxun",
            lower_party_leader=True,
            inquiry_mode="delegated_talk",
            inquiry_result="re_inquiry",
            verify_result="reminder_talk",
        ),
        expect=["t_joint", "t_deleg", "t_remind"],
    ),
    # ------------------------------------------------------------------ P5 移交线索
    "handover_shizudi_talk_first_form": dict(
        start=(
            "msg",
            "gt_msg_clue_handover",
            {"source_category": "xuncha_yijiao", "transfer_doc_no": "XCB〔2024〕7号"},
        ),
        values=dict(
            source_category="xuncha_yijiao",
            joint_mode="shizudi",
            township_conflict=True,
            disposal_method="tanhua_hanxun",
            inquiry_mode="talk",
            inquiry_result="first_form",
        ),
        expect=["t_replace", "t_talk", "t_src_fb"],
    ),
    "handover_zone_cross_hold": dict(
        refuse=["gt_p5_disposal:t_county"],
        start=("msg", "gt_msg_clue_handover", {"source_category": "jiancha_faxian"}),
        values=dict(
            source_category="jiancha_faxian",
            joint_mode="zone",
            zone_mode="cross",
            handling_township_unit="qh_hk",
            disposal_method="chubu_heshi",
            needs_secretary_approval=True,
            lower_party_leader=True,
            verify_result="hold",
            hold_decision="keep",
        ),
        expire={"b_ext"},
        # four reviews without progress: the 分管领导 and (副科级以上) the 书记 decide, with reasons, and the
        # clue is closed with a 了结报告, never by the loop's bound alone
        expect=["t_cross", "t_hold", "t_hold_dec", "t_hold_dec_sec", "t_hold_close"],
    ),
    # 暂存: the officer proposes to close at the first review; the 分管领导 decides to verify instead
    "handover_hold_close_proposed_leader_verifies": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "jiancha_faxian"}),
        values=dict(
            source_category="jiancha_faxian",
            disposal_method="zancun_daicha",
            hold_decision="close",
            hold_final_decision="verify",
            verify_result="close",
        ),
        expect=["t_hold", "t_hold_dec", "t_work"],
    ),
    "handover_audit_hold_verify_case": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "shenji_yijiao"}),
        values=dict(
            source_category="shenji_yijiao",
            disposal_method="zancun_daicha",
            hold_decision="verify",
            verify_result=Seq("hold", "file_case"),
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            four_forms="second",
        ),
        expect=["t_hold", "t_src_fb"],
    ),
    # 移交线索: 管辖 first (the four routes), the full register only for this level's clues
    "handover_other_organ": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "zhifa_sifa"}),
        values=dict(jurisdiction="other_organ"),
        expect=["t_screen", "t_transfer"],
    ),
    "handover_upper_level": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "shenji_yijiao"}),
        values=dict(jurisdiction="upper_level"),
        expect=["t_screen", "t_upper", "t_upper_send"],
    ),
    "handover_own_leader": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "xuncha_yijiao"}),
        values=dict(jurisdiction="own_leader"),
        expect=["t_screen", "t_own"],
    ),
    "handover_lower_level": dict(
        start=("msg", "gt_msg_clue_handover", {"source_category": "zhifa_sifa"}),
        values=dict(jurisdiction="lower_level"),
        expect=["t_screen", "t_lower"],
    ),
    # 案管室 registers a paper handover by hand: an 上级交办 real-name clue whose facts are clear is filed
    # directly (直接立案, no 初核), the reporter is told of its acceptance, the upper level gets the result
    "paper_handover_upper_assigned_direct_case": dict(
        start=("gt_p5_intake_paper", {}, "gaoyuan"),
        values=dict(
            source_category="shangji_jiaoban",
            real_name=True,
            secretary_approval_required=True,
            needs_secretary_approval=True,
            disposal_method="zhijie_lian",
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            four_forms="second",
        ),
        expect=["t_paper", "t_screen", "t_register", "t_notice", "t_req", "t_sc", "t_up_report"],
    ),
    # ------------------------------------------------------------------ 初核 with recusal, 立案 for a 县管 cadre
    "report_verify_recusal_case_county": dict(
        refuse=[
            "gt_p5_case:t_county",
            "gt_p5_case:t_cty",
            "gt_p5_case:t_sec",
            "gt_p5_clue:t_route_appr",
            "gt_p5_clue:t_route_sec",
            "gt_p5_disposal:t_appr",
            "gt_p5_disposal:t_sec",
            "gt_p5_hearing:t_rep_sec",
            "gt_p5_verify:t_rep_appr",
            "gt_p5_verify:t_rep_sec",
        ],
        start=REPORT,
        values=dict(
            real_name=True,
            cadre_authority="county",
            secretary_approval_required=True,
            needs_secretary_approval=True,
            disposal_method="chubu_heshi",
            has_conflict=Seq(True, False, False, False, False, False),
            verify_result="file_case",
            detention_proposed=False,
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=True,
            sanction_post_change_required=False,
            prosecution_transfer=False,
            four_forms="second",
            handling_unit="qh_jc1",
            host_unit="qh_xczxj_dz",
            recipient="zhaomou",  # the 函询 letter goes to 赵某 of that unit, who alone gets the reply task
            resident_unit="qh_pz1",
        ),
        # 王芳 declares a conflict: the leader replaces her (recorded in the register), the new member declares
        per_task={"t_adjust": {"recusal_outcome": "replace", "verify_team": ["chenhao", "guoxia", "liuyang"]}},
        expect=["t_county", "t_adjust"],
    ),
    # 初核: a declared conflict the leader keeps, with his reason; the member stays and signs the report
    "report_verify_recusal_kept": dict(
        start=REPORT,
        values=dict(disposal_method="chubu_heshi", verify_result="close", has_conflict=Seq(True, False, False)),
        per_task={"t_adjust": {"recusal_outcome": "keep", "verify_team": ["wangfang", "chenhao", "guoxia"]}},
        expect=["t_adjust", "t_sign"],
    ),
    # 初核: every new member declares a conflict; after three adjustments the secretary decides (never the
    # loop's bound letting a conflicted member through undecided)
    "report_verify_recusal_bound": dict(
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="close",
            has_conflict=True,
            verify_team=Seq(
                ["guoxia", "liuyang"],
                ["zhaolei", "yangfan"],
                ["wujun", "dawa"],
                ["suonan", "zhaxi"],
                ["suonan", "zhaxi"],
            ),
            recusal_outcome=Seq("replace", "replace", "replace", "keep"),
        ),
        expect=["t_adjust", "t_adjust_sec", "t_sign"],
    ),
    "report_verify_transfer_party_org": dict(
        start=REPORT, values=dict(disposal_method="chubu_heshi", verify_result="transfer_party_org")
    ),
    "report_verify_close": dict(
        # the 初核方案's approvals refuse once (a walk with 回避 would re-plan with a recused member)
        refuse=["gt_p5_verify:t_appr", "gt_p5_verify:t_sec"],
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi", verify_result="close", lower_party_leader=True, cadre_authority="county"
        ),
    ),
    # ------------------------------------------------------------------ 申诉
    "appeal_admin_reexam_review": dict(
        start=("gt_p5_appeal", {}, "xuqing"),
        values=dict(appeal_type="admin_reexam", review_applied=True, original_staff=["heping"]),
    ),
    "appeal_admin_reexam_only": dict(
        start=("gt_p5_appeal", {}, "xuqing"),
        values=dict(appeal_type="admin_reexam", review_applied=False, original_staff=["heping"]),
    ),
    # 复审 applied for after the month from receipt of the decision (监察法第49条): refused, or accepted for a
    # good reason (the deadline is read from the registration, not from when someone opens a step)
    "appeal_admin_reexam_late_refused": dict(
        start=("gt_p5_appeal", {}, "xuqing"),
        values=dict(
            appeal_type="admin_reexam",
            decision_received="2024-01-02",
            applied_date="2024-03-01",
            late_excused=False,
            original_staff=["heping"],
        ),
        expect=["t_late"],
    ),
    "appeal_admin_reexam_late_excused": dict(
        start=("gt_p5_appeal", {}, "xuqing"),
        values=dict(
            appeal_type="admin_reexam",
            decision_received="2024-01-02",
            applied_date="2024-03-01",
            late_excused=True,
            review_applied=False,
            original_staff=["heping"],
        ),
        expect=["t_late", "t_re"],
    ),
    "appeal_party_review": dict(
        start=("gt_p5_appeal", {}, "xuqing"), values=dict(appeal_type="party_review", original_staff=["heping"])
    ),
    # ------------------------------------------------------------------ M1 / P1 goals
    "p1_annual_one_revision": dict(
        refuse=["gt_p1_goal:t_appr", "gt_p1_goal:t_county"],
        start=("gt_p1_goal", {}, "dengqiang"),
        at=(2024, 1, 2),
        values=dict(goal_scope="annual", committee_decision=Seq("revise", "approve"), needs_county_approval=True),
        expect=["t_county", "t_issue"],
    ),
    "m1_next_cycle": dict(
        start=("msg", "gt_msg_next_cycle", {"eco_period": "2024", "correlation": "2024"}),
        at=(2024, 12, 20),
        values=dict(committee_decision="approve", needs_county_approval=False),
        leave={"gt_m2_discover"},
    ),
    "m1_adjust_revise_bound": dict(
        start=("msg", "gt_msg_task_adjust", {"period": "2024-05", "goal_scope": "adjust"}),
        at=(2024, 5, 6),
        values=dict(committee_decision="revise", needs_county_approval=False),
        leave={"gt_m2_discover"},
    ),
    # January: the year's 目标共谋 was not started by an annual 研判 (first year, 研判 late): it starts here
    "m1_yearly_not_started": dict(
        start=("schedule", (2024, 1, 2)),
        at=(2023, 12, 29),
        values=dict(cycle_started=False, committee_decision="approve", needs_county_approval=False),
        leave={"gt_m2_discover"},
        only_process="gt_m1_yearly",
        expect=["t_check", "t_launch"],
    ),
    # ... it was (M3's annual 研判 started M1 in December): nothing is started twice
    "m1_yearly_already_started": dict(
        start=("schedule", (2024, 1, 2)),
        at=(2023, 12, 29),
        values=dict(cycle_started=True),
        only_process="gt_m1_yearly",
        expect=["t_check"],
    ),
    # every half year the 常委会 hears the 派驻组 (each reports in its own task)
    "m1_resident_report_half_year": dict(
        start=("schedule", (2024, 6, 20)),
        at=(2024, 6, 18),
        only_process="gt_m1_resident_report",
        expect=["t_notice", "t_report", "t_sc"],
    ),
    # every quarter the 承办部门 report their closed clues to the 信访室
    "p5_petition_result_quarter": dict(
        start=("schedule", (2024, 7, 15)),
        at=(2024, 7, 12),
        only_process="gt_p5_petition_report",
        expect=["t_call", "t_result", "t_sum"],
    ),
    "m1_quarterly_timer": dict(
        start=("schedule", (2024, 7, 10)),
        at=(2024, 7, 1),
        values=dict(committee_decision="approve"),
        leave={"gt_m2_discover"},
        only_process="gt_m1_quarterly",
    ),
    # ------------------------------------------------------------------ P2 月例会
    "p2_meeting_all_outputs": dict(
        start=("schedule", (2024, 5, 6)),
        at=(2024, 5, 1),
        # 农牧局's 县直机关纪检员 reports to the 派驻组 first
        values=dict(
            risk_alert=True, adjust_tasks=True, clue_found=True, risk_units=["qh_yy_dw"], inspector_units=["qh_nmj"]
        ),
        leave={"gt_m2_risk", "gt_m1_adjust", "gt_p5_intake_handover"},
        only_process="gt_p2_info",
        expect=["t_ui", "t_rg"],
    ),
    "p2_meeting_nothing": dict(
        start=("schedule", (2024, 6, 5)),
        at=(2024, 6, 1),
        only_process="gt_p2_info",
        values=dict(risk_alert=False, adjust_tasks=False, clue_found=False),
    ),
    # ------------------------------------------------------------------ M2: P3 forces, P4 findings, L1–L4
    "m2_inspection_seconded_head_blocked": dict(
        start=("msg", "gt_msg_supervision_task", {"task_no": "RW-2024-07", "plan_no": "JH-2024-01"}),
        at=(2024, 3, 11),
        values=dict(
            force_mode="inspection",
            target_unit="qh_nmj_dz",
            nominee_covered_units=Seq(["qh_nmj_dz"], ["qh_xczxj_dz"]),
            nominee_resident_unit="qh_pz3",
            has_conflict=False,
            needs_corroboration=True,
            problem_disposition="both",
            source_category="xuncha_yijiao",
        ),
        leave={"gt_p5_intake_handover", "gt_m3_rectify"},
    ),
    "m2_inspection_bound_archive": dict(
        refuse=["gt_l2_inspection:t_cty", "gt_l2_inspection:t_lg", "gt_p3_forces:t_appr"],
        start=("msg", "gt_msg_supervision_task", {"task_no": "RW-2024-08"}),
        at=(2024, 3, 11),
        values=dict(
            force_mode="inspection",
            target_unit="qh_nmj_dz",
            nominee_covered_units=["qh_nmj_dz"],
            nominee_resident_unit="qh_pz3",
            has_conflict=False,
            needs_corroboration=False,
            problem_disposition="archive",
        ),
    ),
    "m2_four_plus_x_conflict_clue": dict(
        refuse=["gt_l3_four_plus_x:t_appr"],
        start=("msg", "gt_msg_risk_alert", {"risk_units": ["qh_yy_dw"], "period": "2024-05"}),
        at=(2024, 5, 6),
        values=dict(
            force_mode="four_plus_x",
            x_conflict=True,
            x_replace_unit="qh_sjj",
            needs_corroboration=True,
            problem_disposition="clue",
            source_category="jiancha_faxian",
        ),
        leave={"gt_p5_intake_handover"},
    ),
    "m2_zone_cross_rectification": dict(
        start=("msg", "gt_msg_risk_alert", {"risk_units": ["qh_nmj_dz"]}),
        at=(2024, 5, 6),
        values=dict(
            force_mode="zone",
            zone_mode="cross",
            handling_township_unit="qh_hk",
            needs_corroboration=False,
            problem_disposition="rectification",
        ),
        leave={"gt_m3_rectify"},
    ),
    "m2_zone_joint_archive": dict(
        start=("msg", "gt_msg_risk_alert", {"risk_units": ["qh_nmj_dz"]}),
        at=(2024, 5, 6),
        values=dict(
            force_mode="zone",
            zone_mode="joint",
            zone_township_units=["qh_tl", "qh_hk"],
            needs_corroboration=False,
            problem_disposition="archive",
        ),
    ),
    "m2_shizudi_no_conflict": dict(
        start=("msg", "gt_msg_risk_alert", {"risk_units": ["qh_nmj_dz"]}),
        at=(2024, 5, 6),
        values=dict(
            force_mode="shizudi",
            township_conflict=False,
            x_conflict=False,
            needs_corroboration=False,
            problem_disposition="archive",
        ),
    ),
    # ------------------------------------------------------------------ M3: P6 plan, P7 supervise/items, P8 eco
    "m3_inspection_rectification": dict(
        start=(
            "msg",
            "gt_msg_rectification_needed",
            {"source_type": "inspection", "host_unit": "qh_nmj_dz", "supervision_unit": "qh_jc2"},
        ),
        at=(2024, 7, 15),
        values=dict(
            source_type="inspection",
            plan_adequate=Seq(False, True),
            verify_passed=True,
            score=86,
            eval_grade="jiaohao",
            rect_outcome="partial",
            rect_score=86,
            result_period="2024H2",
        ),
        # the close's result is registered for the 2024H2 political-ecology assessment (P7 → P8)
        expect=["t_pub", "t_eval", "t_close", "t_register"],
    ),
    "m3_eco_poor_overdue_accountability": dict(
        refuse=["gt_p6_plan:t_apr_ld"],
        start=(
            "msg",
            "gt_msg_rectification_needed",
            {"source_type": "eco", "host_unit": "qh_yy_dw", "supervision_unit": "qh_jc1"},
        ),
        at=(2024, 7, 15),
        values=dict(
            source_type="eco",
            host_unit="qh_yy_dw",
            supervision_unit="qh_jc1",
            resident_unit="qh_pz4",
            plan_adequate=False,
            ledger_items=["ZG-17"],
            verify_passed=False,
            eval_grade="cha",
            score=58,
            accountability_needed=True,
        ),
        expire={"b_due", "b_due2"},
        leave={"gt_p5_intake_handover"},
    ),
    "m3_eco_annual": dict(
        refuse=["gt_p8_eco:t_cty", "gt_p8_eco:t_sc"],
        start=("schedule", (2024, 12, 2)),
        at=(2024, 11, 28),
        only_process="gt_m3_eco",
        values=dict(period_type="annual", problem_units=["qh_yy_dw", "qh_nmj_dz"], warning_units=["qh_yy_dw"]),
        leave={"gt_m3_rectify", "gt_m1_goal"},
    ),
    "m3_eco_semiannual_no_problems": dict(
        start=("schedule", (2024, 7, 1)),
        at=(2024, 6, 28),
        only_process="gt_m3_eco",
        values=dict(period_type="semiannual", eco_period="2024H1", problem_units=[], warning_units=[]),
    ),
    # ------------------------------------------------------------------ 立案: 留置, 审理退回, 移送检察
    "case_detention_reinvestigate_prosecution": dict(
        refuse=["gt_p5_hearing:t_re"],
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="file_case",
            detention_proposed=True,
            hearing_accept=Seq("defer", "accept"),
            hearing_finding="reinvestigate",
            county_approval_required=False,
            sanction_post_change_required=True,
            prosecution_transfer=True,
            four_forms="fourth",
            amount=30000,
        ),
        # three returns for re-investigation: the 书记 decides to hear the established facts; the 审理室
        # writes the report the 常委会 needs (never sent to it without one)
        expect=["t_det", "t_supp", "t_re", "t_return_dec", "t_final_report", "t_post", "t_pros"],
    ),
    # 留置 3 months expire: extended once with the upper level's approval, the extension expires too and
    # the person is released; the 监察调查 (a non-member official) then runs a year from the release,
    # expires and is extended by 6 months; after the 1-month 职务变更 limit the 组织部 finishes within
    # the 6-month maximum
    "case_detention_extended_released_investigation_extended": dict(
        start=REPORT,
        values=dict(
            case_type="supervision",
            disposal_method="chubu_heshi",
            verify_result="file_case",
            detention_proposed=True,
            detention_extended=True,
            investigation_extended=True,
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            sanction_post_change_required=True,
            prosecution_transfer=False,
            four_forms="third",
        ),
        expire={"b_det", "b_det2", "b_inv", "b_post"},
        expect=["t_det_ext", "t_release", "t_inv_ext", "t_invest_ext", "t_post_ext"],
    ),
    # 留置 not extended: released when the 3 months end; the 监察调查 year expires and the 书记 ends it
    # on the established facts
    "case_detention_released_investigation_concluded": dict(
        start=REPORT,
        values=dict(
            case_type="supervision",
            disposal_method="chubu_heshi",
            verify_result="file_case",
            detention_proposed=True,
            detention_extended=False,
            investigation_extended=False,
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            four_forms="second",
        ),
        expire={"b_det", "b_inv"},
        expect=["t_det_ext", "t_release", "t_inv_ext", "t_sc"],
    ),
    # 纪律审查 90 days expire: the 书记 extends once (the next 90 days run from the first expiry); when
    # those expire too he may not extend again, the review ends on the established facts; the case ends
    # in a 纪检监察建议书 (以案促改) that starts the unit's rectification
    "case_discipline_review_extended_once": dict(
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="file_case",
            case_type="both",
            review_extended=True,
            hearing_accept="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            four_forms="second",
            case_rectification=True,
            recommendation_no="JJJY〔2024〕3号",
        ),
        expire={"b_rev"},
        expect=["t_rev_ext", "t_sc", "t_recommend"],
        leave={"gt_m3_rectify"},  # the case's 以案促改 starts the rectification (P5 → P6), walked elsewhere
    ),
    # a safety accident during the investigation: the 安全员 registers it, the 书记 reports it up within
    # 24 hours of the accident (both steps due from the accident's date, not from when they open)
    "case_safety_incident_report": dict(
        start=("gt_p5_safety", {}, "wujun"),
        values=dict(incident_date="2024-03-04"),
        expect=["t_incident", "t_report"],
    ),
    # 审理: the transfer deferred three times and still incomplete: the 分管领导 decides (never a forced
    # acceptance); here he accepts with reasons and the hearing goes on
    "case_hearing_deferred_leader_accepts": dict(
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="file_case",
            hearing_accept="defer",
            acceptance_decision="accept",
            hearing_finding="proceed",
            county_approval_required=False,
            four_forms="second",
        ),
        expect=["t_supp", "t_acc_dec", "t_hearing", "t_report", "t_sc"],
    ),
    # ... here he refuses; after the third round the 书记 withdraws the case (撤销案件), no 常委会
    "case_hearing_deferred_refused_withdrawn": dict(
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="file_case",
            hearing_accept="defer",
            acceptance_decision="refuse",
            return_decision="withdraw",
            four_forms="none",
        ),
        expect=["t_acc_dec", "t_return_dec", "t_withdraw"],
    ),
    "case_hearing_refused_then_supplement": dict(
        refuse=["gt_p5_hearing:t_sup"],
        start=REPORT,
        values=dict(
            disposal_method="chubu_heshi",
            verify_result="file_case",
            cadre_authority="county",
            hearing_accept=Seq("refuse", "accept"),
            hearing_finding=Seq("supplement", "proceed"),
            county_approval_required=False,
            four_forms="second",
        ),
    ),
    "m2_four_plus_x_no_conflict": dict(
        start=("msg", "gt_msg_risk_alert", {"risk_units": ["qh_nmj_dz"], "period": "2024-06"}),
        at=(2024, 6, 5),
        values=dict(
            force_mode="four_plus_x", x_conflict=False, needs_corroboration=False, problem_disposition="archive"
        ),
    ),
    # ------------------------------------------------------------------ 巡察轮次 (gt_l2_round)
    # 立行立改 and 直查快办 during the fieldwork; two clues handed over, 选人用人 to 组织部, one department;
    # the P5 instances and the rectification are walked elsewhere (test_scenarios, the next walk)
    "round_fix_fast_handover": dict(
        start=ROUND,
        values=dict(
            fix_now_needed=True,
            fast_track_clues=["XCB〔2024〕ZK1号"],
            handover_clues=["XCB〔2024〕7号", "XCB〔2024〕8号"],
            cadre_issues=True,
            problem_departments=["qh_czj"],
        ),
        expect=["t_fix_now", "t_fast", "t_cadre", "t_dept"],
        leave={"gt_p5_intake_handover", "gt_m3_rectify"},
    ),
    # nothing to fix at once, no clue: the rectification (巡察 source: 五方会审, 公开, 评估 “差” → 回头看) is walked
    "round_plain_rectification_poor": dict(
        refuse=[
            "gt_l2_round:t_lg_hear",
            "gt_l2_round:t_plan_cty",
            "gt_l2_round:t_plan_lg",
            "gt_l2_round:t_team_cty",
            "gt_l2_round:t_team_lg",
            "gt_p6_plan:t_apr_lg",
            "gt_p7_supervise:t_lg",
        ],
        start=ROUND,
        values=dict(
            fix_now_needed=False,
            fast_track_clues=[],
            handover_clues=[],
            cadre_issues=False,
            problem_departments=[],
            plan_adequate=True,
            ledger_items=["ZG-17"],
            verify_passed=True,
            eval_grade="cha",
            score=55,
        ),
        expect=["t_rv_ib", "t_rv_pd", "t_pub", "t_eval", "t_follow"],
        leave={"gt_m1_adjust"},  # the 回头看's outcome starts the next period's task adjustment (P7 → P1)
    ),
    "m3_item_overdue_no_accountability": dict(
        start=(
            "msg",
            "gt_msg_rectification_needed",
            {"source_type": "audit", "host_unit": "qh_nmj_dz", "supervision_unit": "qh_jc2"},
        ),
        at=(2024, 7, 15),
        values=dict(
            source_type="audit",
            plan_adequate=True,
            ledger_items=["ZG-17"],
            verify_passed=True,
            accountability_needed=False,
            eval_grade="hao",
            score=92,
        ),
        expire={"b_due", "b_due2"},
    ),
}

# Two walks whose later path depends on how often a step is asked (Seq values): refusing in them would
# change the path they exist for, so a copy refuses instead and the original walks its own path.
for _name in ("report_zone_joint_reinquiry", "case_hearing_refused_then_supplement"):
    PATHS[f"{_name}_refusing"] = {**PATHS[_name], "refuse": PATHS[_name].pop("refuse")}
