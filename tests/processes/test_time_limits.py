"""Every time limit of settings.yaml is attached to an element, from the right starting point (issue 13).

A limit nobody reads is a rule the system silently does not enforce, so a setting no element uses is
an error: the first test lists every deadline and schedule and names the elements that read it
(``dueIn`` of a user task, a timer's ``deadline``/``deadline_from``/``reminder``/``schedule`` call).
The others check due dates on the real engine against dates computed by hand on the 2024 calendar:
春节 (02-10..02-17 off, Sunday 02-18 a make-up working day) and 劳动节 (05-01..05-05 off, Saturday
05-11 a make-up working day), and that a limit runs from the day the rule names (the report's
receipt, the 审理's acceptance), not from whenever a later step happens to open.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml
from lxml import etree

from engine import clock

from .driver import BPMN_FILES, NS, PROCESSES, Walk, local_date
from .paths import BASE

D = dt.date
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CALL = re.compile(r"\b(deadline|deadline_from|reminder|schedule)\(\s*['\"]([a-z0-9_]+)['\"]")

# Settings written for rules the library does not model yet. Each one would be a gap reported to the lead,
# not an exemption: the test fails when one of them becomes used (remove it here) and when any other
# setting is unused, so this list can only shrink. Issue 13 attached the last of them.
NOT_YET_ATTACHED: dict[str, set[str]] = {"deadlines": set(), "schedules": set()}


def _settings() -> dict:
    return yaml.safe_load((PROCESSES / "settings.yaml").read_text(encoding="utf-8"))


def _readers() -> dict[str, set[str]]:
    """settings key -> {"<process>/<element>"} of every element that reads it."""
    readers: dict[str, set[str]] = {}
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            pid = process.get("id")
            for flow_element in process:  # tasks, events (boundary timers too), gateways, flows
                where = f"{pid}/{flow_element.get('id')}"
                for element in flow_element.iter():
                    if not isinstance(element.tag, str):
                        continue
                    if element.tag == f"{{{SPIFF}}}property" and element.get("name") == "dueIn":
                        readers.setdefault(element.get("value"), set()).add(where)
                    for key in CALL.findall(element.text or ""):
                        readers.setdefault(key[1], set()).add(where)
    return readers


def test_every_time_limit_in_settings_is_read_by_an_element():
    settings, readers = _settings(), _readers()
    for section in ("deadlines", "schedules"):
        keys = set(settings[section])
        unused = sorted(k for k in keys - set(readers) if k not in NOT_YET_ATTACHED[section])
        assert not unused, f"{section} no element reads: {unused}"
        now_used = sorted(NOT_YET_ATTACHED[section] & set(readers))
        assert not now_used, f"{section} now attached, remove from NOT_YET_ATTACHED: {now_used}"
        assert NOT_YET_ATTACHED[section] <= keys, "NOT_YET_ATTACHED names a setting that does not exist"
    # and every key an element reads is a setting (deploy refuses it too; here with the element named)
    known = set(settings["deadlines"]) | set(settings["schedules"])
    assert not {k: v for k, v in readers.items() if k not in known}


def test_limits_are_attached_where_the_rule_says():
    """The elements issue 13 names, each reading its limit (and its starting point)."""
    readers = _readers()
    expected = {
        "hearing": {"gt_p5_hearing/t_hearing", "gt_p5_hearing/t_report"},
        "rectification_report": {"gt_p7_supervise/t_report"},
        "handover_feedback": {"gt_p5_clue/t_src_fb"},
        "rectification_item_grace": {"gt_p7_item/b_due", "gt_p7_item/b_due2"},
        "realname_acceptance_notice": {"gt_p5_intake_report/t_notice"},
    }
    for key, elements in expected.items():
        assert elements <= readers.get(key, set()), f"{key}: read by {sorted(readers.get(key, ()))}"
    due_from = {}
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for task in root.iterfind(".//bpmn:userTask", NS):
            props = {p.get("name"): p.get("value") for p in task.iter(f"{{{SPIFF}}}property")}
            if props.get("dueFrom"):
                due_from[f"{root.find('bpmn:process', NS).get('id')}/{task.get('id')}"] = props["dueFrom"]
    assert due_from["gt_p5_hearing/t_report"] == "hearing_started"  # not restarted at the report
    assert due_from["gt_p7_supervise/t_report"] == "feedback_date"  # two months from 反馈
    assert due_from["gt_p5_clue/t_src_fb"] == "received_date"  # from the handover


def _intake(db, frozen, **values) -> Walk:
    w = Walk(db, frozen, values={**BASE, **values})
    w.__enter__()
    return w


def test_transfer_to_another_organ_across_spring_festival(db):
    """Received Thursday 2024-02-08: 5 working days are 02-09, Sunday 02-18 (make-up), 02-19, 02-20, 02-21."""
    with clock.frozen(dt.datetime(2024, 2, 8, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(db, frozen, jurisdiction="other_organ", received_date="2024-02-08")
        try:
            w.start("gt_p5_intake_report", {}, actor="zhoujing")
            task = w.until("t_other")
        finally:
            w.__exit__(None, None, None)
    assert task.due_key == "transfer_other_organ"
    assert local_date(task.due_at) == D(2024, 2, 21)
    assert local_date(task.reminder_at) == D(2024, 2, 19)  # 2 working days before: 02-20, 02-19


def test_transfer_to_lower_level_due_on_a_make_up_saturday(db):
    """Received Monday 2024-05-06: 5 working days are 05-07 … 05-10 and Saturday 05-11 (make-up)."""
    with clock.frozen(dt.datetime(2024, 5, 6, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(db, frozen, jurisdiction="lower_level", received_date="2024-05-06")
        try:
            w.start("gt_p5_intake_report", {}, actor="zhoujing")
            task = w.until("t_lower")
        finally:
            w.__exit__(None, None, None)
    assert local_date(task.due_at) == D(2024, 5, 11)
    assert local_date(task.reminder_at) == D(2024, 5, 9)


def test_hearing_month_runs_from_acceptance_not_from_the_report(db):
    """审理 accepted Friday 2024-01-19: one month is Monday 02-19 (across 春节, counted in calendar months);
    the 审理报告 opened on 02-07 keeps that due date instead of a new month (03-07)."""
    with clock.frozen(dt.datetime(2024, 1, 2, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(
            db,
            frozen,
            disposal_method="chubu_heshi",
            verify_result="file_case",
            hearing_accept="accept",
            hearing_finding="proceed",
            four_forms="second",
        )
        try:
            w.start("gt_p5_intake_report", {}, actor="zhoujing")
            w.until("t_accept", max_steps=300)  # the clue's 承办登记 comes first
            w.complete("t_accept")
            w.until("t_accept", max_steps=300)  # the 审理室's acceptance
            assert w.task("t_accept", "gt_p5_hearing") and clock.now() < dt.datetime(2024, 1, 19, tzinfo=clock.LOCAL_TZ)
            w.at(2024, 1, 19)
            w.complete("t_accept")
            hearing = w.task("t_hearing")
            w.at(2024, 2, 7)
            w.complete("t_hearing")
            report = w.task("t_report")
        finally:
            w.__exit__(None, None, None)
    assert hearing.due_key == report.due_key == "hearing"
    assert local_date(hearing.due_at) == D(2024, 2, 19)
    assert local_date(report.due_at) == D(2024, 2, 19)


def test_detention_runs_three_calendar_months_from_its_start_and_its_extension_from_the_expiry(db):
    """留置 from Sunday 2024-02-11 (春节): three months end on Saturday 05-11, a 调休 working day, so it stays;
    the extension runs from that expiry: 08-11 is a Sunday, so the limit moves to Monday 08-12."""
    with clock.frozen(dt.datetime(2024, 1, 2, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(
            db,
            frozen,
            values={
                **BASE,
                "disposal_method": "chubu_heshi",
                "verify_result": "file_case",
                "detention_proposed": True,
                "detention_start": "2024-02-11",
                "detention_extended": True,
            },
            expire={"b_det"},
        )
        with w:
            w.start("gt_p5_intake_report", {}, actor="zhoujing")
            detained = w.until("t_invest_det", max_steps=300)
            extended = w.until("t_invest_det2", max_steps=50)
    assert detained.due_key == "detention" and local_date(detained.due_at) == D(2024, 5, 11)
    assert extended.due_key == "detention_extension" and local_date(extended.due_at) == D(2024, 8, 12)
    # the boundary timer fired at the end of 05-11, not three months after the task opened
    assert clock.now() > dt.datetime(2024, 5, 11, tzinfo=clock.LOCAL_TZ)


def test_delegated_talk_materials_five_working_days_across_spring_festival(db):
    """The talk done Thursday 2024-02-08: 5 working days are 02-09, Sunday 02-18 (make-up), 02-19, 02-20, 02-21."""
    with clock.frozen(dt.datetime(2024, 1, 22, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(
            db,
            frozen,
            disposal_method="tanhua_hanxun",
            lower_party_leader=True,
            inquiry_mode="delegated_talk",
            inquiry_result="close",
        )
        try:
            w.start("gt_p5_intake_report", {}, actor="zhoujing")
            w.until("t_deleg", max_steps=300)
            w.at(2024, 2, 8)
            w.complete("t_deleg")
            materials = w.task("t_deleg_mat")
        finally:
            w.__exit__(None, None, None)
    assert materials.due_key == "delegated_talk_materials"
    assert local_date(materials.due_at) == D(2024, 2, 21)


def _appeal(db, applied: str) -> list[str]:
    with clock.frozen(dt.datetime(2024, 2, 20, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(
            db,
            frozen,
            appeal_type="admin_reexam",
            decision_received="2024-01-19",
            applied_date=applied,
            original_staff=["heping"],
        )
        try:
            w.start("gt_p5_appeal", {}, actor="xuqing")
            w.complete("t_reg")
            return [t.spec_id for t in w.tasks("t_re") + w.tasks("t_late")]
        finally:
            w.__exit__(None, None, None)


def test_reexam_application_month_from_receipt_of_the_decision(db):
    """Decision received Friday 2024-01-19: the month ends Monday 02-19 (across 春节); applied that day is in
    time, a day later is late and goes to the 不予受理 step."""
    assert _appeal(db, "2024-02-19") == ["t_re"]


def test_reexam_application_a_day_late_is_not_accepted_silently(db):
    assert _appeal(db, "2024-02-20") == ["t_late"]


def test_safety_incident_report_is_not_deferred_by_the_holiday(db):
    """An accident on Saturday 2024-02-10 (初一): reported by the end of Sunday 02-11, not after 春节 (02-18)."""
    with clock.frozen(dt.datetime(2024, 2, 10, 22, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = _intake(db, frozen, incident_date="2024-02-10")
        try:
            w.start("gt_p5_safety", {}, actor="wujun")
            w.complete("t_incident")
            report = w.task("t_report")
        finally:
            w.__exit__(None, None, None)
    assert report.due_key == "safety_incident_report"
    assert local_date(report.due_at) == D(2024, 2, 11)
