"""A 巡察 round end to end (gt_l2_round), on the 2024 calendar of scenario A (regulations-and-practice.md §2, §10 A).

第二巡察组, led by 扎西 (派驻第五组组长, stationed in 教育局), inspects 农牧局党组: the plan with the
consulted bodies, the team (李明, whose 派驻第三组 is stationed in 农牧局, is refused as its leader),
一次一授权, 巡前了解 from five bodies at once, 进驻 on 04-08 for the days settings.yaml gives, 立行立改 and
一 直查快办 clue during the fieldwork, the report, 书记专题会, 反馈 to the leadership and separately to its
secretary, the handover (two clues → two P5 instances, 选人用人 → 组织部, other problems → 财政局) and the
rectification with the 巡察-only steps: 五方会审, 公开 with the exclusions, 成效评估 counted from the end of
the concentrated period. A rectification from another source runs none of them.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import select

from demo.autopilot import FormFillError
from engine import clock
from engine.models import HumanTask, TaskSubmission

from .driver import PROCESSES, Walk, local_date, units
from .paths import BASE

D = dt.date
ROUND_VALUES = dict(
    target_unit="qh_nmj_dz",
    fix_now_needed=True,
    fast_track_clues=["XCB〔2024〕ZK1号"],
    handover_clues=["XCB〔2024〕7号", "XCB〔2024〕8号"],
    cadre_issues=True,
    problem_departments=["qh_czj"],
    rectification_no="ZG-2024-XC02",
    source_type="inspection",
    plan_adequate=True,
    ledger_items=["ZG-17"],
    verify_passed=True,
    eval_grade="jiaohao",
    score=86,
)
HANDOVERS = {"XCB〔2024〕ZK1号", "XCB〔2024〕7号", "XCB〔2024〕8号"}
INSPECTION_ONLY = {
    ("gt_p6_plan", "t_rv_ib"),
    ("gt_p6_plan", "t_rv_pd"),
    ("gt_p7_supervise", "t_review"),
    ("gt_p7_supervise", "t_pub"),
    ("gt_p7_supervise", "t_eval"),
    ("gt_p7_supervise", "t_lg"),
}


@pytest.fixture
def walk(db):
    with clock.frozen(dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen, values={**BASE, **ROUND_VALUES}, leave={"gt_p5_intake_handover"})
        with w:
            yield w


def _ready(w, process_key):
    return {t.spec_id: t for t in w.pilot.ready_tasks() if t.process_key == process_key}


def _record(db, process_key, spec_id):
    with db.session() as s:
        return s.scalar(
            select(TaskSubmission.data)
            .join(HumanTask, HumanTask.id == TaskSubmission.task_id)
            .where(HumanTask.process_key == process_key, HumanTask.spec_id == spec_id, TaskSubmission.kind == "final")
        )


def test_inspection_round_end_to_end(db, walk):
    w = walk
    w.start("gt_l2_round", actor="hualin")
    # 准备: the plan, with 纪委监委 and 组织部 consulted at once (10 working days from Monday 03-04)
    plan = w.task("t_plan")
    assert (plan.role, units(plan)) == ("inspection_office", {"qh_xcb"})
    w.complete("t_plan", actor="hualin", round_no="XC-2024-02")
    consulted = _ready(w, "gt_l2_round")
    assert {k: (t.role, units(t)) for k, t in consulted.items()} == {
        "t_sug_cdi": ("discipline_commission", {"qh_cdi"}),
        "t_sug_od": ("organization_department", {"qh_zzb"}),
    }
    assert {local_date(t.due_at) for t in consulted.values()} == {D(2024, 3, 18)}
    assert w.pilot.eligible(consulted["t_sug_cdi"]) == ["hanwei"]
    w.run(until="t_team")
    # 组建: 李明's 派驻第三组 is stationed in 农牧局, so he may not lead (nor join) the round on it
    team = w.task("t_team")
    with pytest.raises(FormFillError) as refused:
        w.pilot.complete(team, {"round_leader": "liming", "round_members": ["niuli"]}, actor="hualin")
    assert set(refused.value.details["fields"]) == {"round_leader"}
    assert (
        "李明（派驻第三组组长）：所在派驻第三纪检监察组驻在或监督县农牧水利和科技局党组"
        in refused.value.details["fields"]["round_leader"]
    )
    assert w.task("t_team").id == team.id  # nothing moved
    with pytest.raises(FormFillError) as refused:
        w.pilot.complete(team, {"round_members": ["niuli", "liming"]}, actor="hualin")
    assert set(refused.value.details["fields"]) == {"round_members"}
    w.complete("t_team", actor="hualin")  # 扎西 (派驻第五组, 教育局) leads 第二巡察组
    w.complete("t_team_lg", actor="sunjianguo")
    assert w.task("t_team_cty").role == "county_party_committee"
    w.run(until="t_pre_cdi")
    # 巡前了解: five bodies at once, each in its own unit
    briefing = _ready(w, "gt_l2_round")
    assert {k: (t.role, units(t)) for k, t in briefing.items()} == {
        "t_pre_cdi": ("discipline_commission", {"qh_cdi"}),
        "t_pre_od": ("organization_department", {"qh_zzb"}),
        "t_pre_zf": ("political_legal_committee", {"qh_zfw"}),
        "t_pre_sj": ("x_department", {"qh_sjj"}),
        "t_pre_xf": ("petition_office", {"qh_xfs"}),
    }
    assert {t.due_key for t in briefing.values()} == {"inspection_pre_briefing"}
    w.run(until="t_enter")
    # 进驻 04-08 (scenario A); the fieldwork in parallel, all in 第二巡察组
    w.at(2024, 4, 8)
    enter = w.task("t_enter")
    assert (enter.role, units(enter)) == ("inspection_team", {"qh_xcz2"})
    w.complete("t_enter", actor="zhaxi", entry_date="2024-04-08")
    fieldwork = _ready(w, "gt_l2_round")
    assert set(fieldwork) == {"t_talk", "t_docs", "t_visit", "t_petition"}
    assert {frozenset(units(t)) for t in fieldwork.values()} == {frozenset({"qh_xcz2"})}
    for t in fieldwork.values():
        w.pilot.complete(t)
    meeting = w.task("t_meet")
    assert meeting.assignee == "zhaxi"  # the 组长 chairs the 组务会
    w.at(2024, 4, 20)
    w.complete("t_meet")
    # 立行立改 and 直查快办 during the fieldwork
    w.complete("t_fix_notice")
    fix = w.task("t_fix_now")
    assert (fix.role, units(fix), fix.due_key) == ("supervised_party_org", {"qh_nmj_dz"}, "immediate_rectification")
    w.complete("t_fast")
    fast = w.instances("gt_p5_intake_handover")
    assert [i.business_key for i in fast] == ["XCB〔2024〕ZK1号"]
    w.complete("t_fix_now", actor="nmjsj")
    # the team stays until the 进驻 period of settings.yaml runs out, counted from the entry day
    days = yaml.safe_load((PROCESSES / "settings.yaml").read_text(encoding="utf-8"))["deadlines"]["inspection_entry"]
    round_instance = w.instances("gt_l2_round")[0]
    assert local_date(round_instance.next_timer_at) >= D(2024, 4, 8) + dt.timedelta(days=days["days"])
    assert not _ready(w, "gt_l2_round")
    w.run(until="t_report")
    assert clock.today() >= D(2024, 4, 8) + dt.timedelta(days=days["days"])
    report = w.task("t_report")
    assert (report.assignee, report.due_key) == ("zhaxi", "inspection_report")
    w.complete("t_report")
    assert w.task("t_lg_hear").role == "inspection_leading_group"
    w.complete("t_lg_hear", actor="sunjianguo")
    secretary = w.task("t_sec_meet")
    assert (secretary.role, units(secretary)) == ("county_party_committee", {"qh_county_committee"})
    w.complete("t_sec_meet", actor="sunjianguo")
    # 反馈 07-15: to the leadership, and separately to its secretary
    w.at(2024, 7, 15)
    w.complete("t_feedback", feedback_date="2024-07-15")
    receipts = _ready(w, "gt_l2_round")
    assert {k: (t.role, units(t)) for k, t in receipts.items()} == {
        "t_fb_org": ("supervised_party_org", {"qh_nmj_dz"}),
        "t_fb_lead": ("inspected_principal", {"qh_nmj_dz"}),
    }
    assert w.pilot.eligible(receipts["t_fb_lead"]) == ["nmjsj"]
    w.run(until="t_handover")
    # 移交: one P5 instance per clue, 选人用人 to 组织部, other problems to 财政局, and the rectification
    w.complete("t_handover", actor="hualin")
    handovers = w.instances("gt_p5_intake_handover")
    assert {i.business_key for i in handovers} == HANDOVERS and len(handovers) == 3
    with db.session() as s:  # each handed-over clue is first screened for 管辖 by the 案管室
        registers = s.scalars(
            select(HumanTask).where(
                HumanTask.spec_id == "t_screen",
                HumanTask.process_key == "gt_p5_intake_handover",
                HumanTask.status == "ready",
            )
        ).all()
        assert len(registers) == 3
        assert {(t.role, frozenset(c.unit_code for c in t.candidates)) for t in registers} == {
            ("case_management_office", frozenset({"qh_ags"}))
        }
    transfers = _ready(w, "gt_l2_round")
    assert {k: (t.role, units(t), t.due_key) for k, t in transfers.items()} == {
        "t_cadre": ("organization_department", {"qh_zzb"}, "handover_feedback"),
        "t_dept": ("x_department", {"qh_czj"}, "handover_feedback"),
    }
    [rect] = w.instances("gt_m3_rectify")
    assert rect.business_key == "ZG-2024-XC02"
    # 整改: 五方会审, 公开 with the exclusions, 成效评估 within one month after the concentrated period
    w.run(until="t_rv_ib")
    reviews = _ready(w, "gt_p6_plan")
    assert {k: (t.role, units(t)) for k, t in reviews.items()} == {
        "t_rv_so": ("supervision_office", {"qh_jc2"}),
        "t_rv_rg": ("resident_group", {"qh_pz3"}),
        "t_rv_od": ("organization_department", {"qh_zzb"}),
        "t_rv_ib": ("inspection_office", {"qh_xcb"}),
        "t_rv_pd": ("propaganda_department", {"qh_xcbu"}),
    }
    w.run(until="t_report")
    w.at(2024, 9, 15)
    w.complete("t_report", concentrated_end="2024-09-15")
    w.complete("t_review")
    publication = w.task("t_pub")
    assert (publication.role, units(publication)) == ("propaganda_department", {"qh_xcbu"})
    w.complete("t_pub", withheld=["open_case", "secret"])
    evaluation = w.task("t_eval")
    assert (evaluation.due_key, local_date(evaluation.due_at)) == ("rectification_evaluation", D(2024, 10, 15))
    w.run()
    assert _record(db, "gt_p7_supervise", "t_pub")["withheld"] == ["open_case", "secret"]
    assert _record(db, "gt_p7_supervise", "t_eval")["eval_grade"] == "jiaohao"
    done = set(w.done_specs())
    assert done >= INSPECTION_ONLY
    scope = w.pilot.scope()
    assert all(i.status == "completed" for i in w.instances() if i.id in scope)
    assert {i.status for i in w.instances("gt_p5_intake_handover")} == {"running"}  # 案管室 registers them next


def test_a_rectification_from_another_source_skips_the_inspection_steps(db, walk):
    w = walk
    w.pilot.values.update(source_type="audit", supervision_unit="qh_jc2", host_unit="qh_nmj_dz")
    w.at(2024, 7, 15)
    w.send(
        "gt_msg_rectification_needed",
        "ZG-2024-SJ01",
        {"source_type": "audit", "host_unit": "qh_nmj_dz", "supervision_unit": "qh_jc2", "resident_unit": "qh_pz3"},
    )
    w.run(until="t_rv_so")
    assert set(_ready(w, "gt_p6_plan")) == {"t_rv_so", "t_rv_rg", "t_rv_od"}  # no 五方会审
    w.run()
    done = set(w.done_specs())
    assert not INSPECTION_ONLY & done, sorted(INSPECTION_ONLY & done)
    assert ("gt_p7_supervise", "t_review_so") in done and ("gt_p6_plan", "t_apr_ld") in done
    assert all(i.status == "completed" for i in w.instances())


def test_the_entry_period_is_a_setting_within_30_to_70_days_read_by_the_round_timer():
    settings = yaml.safe_load((PROCESSES / "settings.yaml").read_text(encoding="utf-8"))
    entry = settings["deadlines"]["inspection_entry"]
    assert 30 <= entry["days"] <= 70
    bpmn = (PROCESSES / "bpmn" / "gt_l2_round.bpmn").read_text(encoding="utf-8")
    assert "deadline_from('inspection_entry', entry_date)" in bpmn


def test_the_api_refuses_a_seconded_head_for_his_own_host_unit_and_changes_nothing(db, walk, tmp_path):
    """The same refusal reaches an officer through the JSON API: 422 naming the field, the task still open."""
    from demo.autopilot import fill_form
    from engine.access.tokens import issue
    from engine.config import Config
    from engine.forms import resolve_options
    from engine.models import User
    from engine.services import Services
    from web import create_app

    w = walk
    w.start("gt_l2_round", actor="hualin")
    w.run(until="t_team")
    team = w.task("t_team")
    schema = w.pilot.form_schema(team)
    with db.session() as s:
        data = fill_form(schema, {**w.pilot.values, "round_leader": "liming"}, resolve_options(s, schema))
        raw, _ = issue(s, s.scalar(select(User).where(User.username == "hualin")))
    services = Services(Config.from_env(database_url=db.url, instance_dir=tmp_path), db=db)
    app = create_app(services=services, TESTING=True, SECRET_KEY="test-secret-key-for-the-inspection-round")
    resp = app.test_client().post(
        f"/api/v1/tasks/{team.id}/complete",
        json={"data": data},
        headers={"Authorization": f"Bearer {raw}", "Accept": "application/json"},
    )
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert "不得参加对该单位的巡察" in str(body) and "round_leader" in str(body)
    assert w.task("t_team").id == team.id and not w.tasks("t_team_lg")
