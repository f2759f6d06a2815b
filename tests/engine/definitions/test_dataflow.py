"""Validation that understands data flow and the structural rules (engine/definitions/dataflow.py, lint.py):
one message per kind of problem, each naming the element (id and name), and the library valid."""

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.definitions import compile_bundle, lint, load_bundle
from engine.definitions import dataflow as df
from engine.errors import DeployError

ROOT = Path(__file__).resolve().parents[3]
FILE = "clue_simple.bpmn"


def _problems(bundle):
    with pytest.raises(DeployError) as info:
        compile_bundle(bundle)
    return info.value.problems


def _replace(bundle, filename, old, new):
    content = bundle.bpmn[filename].decode()
    assert old in content, old
    return bundle.with_bpmn(filename, content.replace(old, new, 1).encode())


def without_inquiry_report(bundle):
    """Issue 17's case: 撰写谈话函询情况报告 deleted from gt_p5_inquiry and the flow re-joined, as a
    designer does in the modeler (its lane reference and diagram shapes go with it)."""
    name = "gt_p5_inquiry.bpmn"
    s = bundle.bpmn[name].decode()
    s, n = re.subn(r'<bpmn:userTask id="t_report".*?</bpmn:userTask>', "", s, flags=re.S)
    assert n == 1
    out = re.search(r'<bpmn:sequenceFlow id="([^"]+)" sourceRef="t_report" targetRef="t_rep_appr"\s*/>', s)
    assert out
    s = s.replace(out.group(0), "").replace('targetRef="t_report"', 'targetRef="t_rep_appr"')
    s = s.replace("<bpmn:flowNodeRef>t_report</bpmn:flowNodeRef>", "")
    s = re.sub(r'<bpmndi:BPMNShape id="[^"]*" bpmnElement="t_report">.*?</bpmndi:BPMNShape>', "", s, flags=re.S)
    s = re.sub(rf'<bpmndi:BPMNEdge id="[^"]*" bpmnElement="{out.group(1)}">.*?</bpmndi:BPMNEdge>', "", s, flags=re.S)
    return bundle.with_bpmn(name, s.encode())


@pytest.fixture(scope="module")
def processes():
    return load_bundle(ROOT / "processes")


def test_the_library_is_valid_and_every_step_says_its_time_limit_or_why_it_has_none(processes):
    """A step with neither dueIn nor noDueReason refuses the deploy (issue 13), so the library has none."""
    compiled = compile_bundle(processes)
    assert compiled.warnings == []


def test_deleting_the_inquiry_report_names_the_gateway_and_the_variable(processes):
    problems = _problems(without_inquiry_report(processes))
    at_gateway = [p for p in problems if p["file"] == "gt_p5_inquiry.bpmn" and p["element"] == "gw_res"]
    assert at_gateway, problems
    assert {p["code"] for p in at_gateway} == {"dataflow_dead_branch"}
    assert {p["params"]["variable"] for p in at_gateway} == {"inquiry_result"}
    assert at_gateway[0]["name"] == "处置建议"
    assert "inquiry_result" in at_gateway[0]["reason"] and "never taken" in at_gateway[0]["reason"]
    # the flows that could never be taken: 再次谈话函询, 第一种形态, 转初核 (the default, 采信了结, stays)
    assert {p["params"]["flow"] for p in at_gateway} == {
        "Flow_gw_res_t_plan",
        "Flow_gw_res_t_ff",
        "Flow_gw_res_e_verify",
    }


def test_a_variable_set_on_one_path_only_is_named_with_its_reader(library):
    """The overdue path leaves 提出处置意见 before its form sets ``disposal``: a task on that path cannot
    take its unit from it."""
    bundle = _replace(
        library,
        FILE,
        '<spiffworkflow:properties><spiffworkflow:property name="noDueReason" value="签收即办"/><spiffworkflow:property name="formKey" value="approve"/></spiffworkflow:properties></bpmn:extensionElements>\n      <bpmn:incoming>f_late</bpmn:incoming>',
        '<spiffworkflow:properties><spiffworkflow:property name="noDueReason" value="签收即办"/><spiffworkflow:property name="formKey" value="approve"/><spiffworkflow:property name="unitVar" value="disposal"/></spiffworkflow:properties></bpmn:extensionElements>\n      <bpmn:incoming>f_late</bpmn:incoming>',
    )
    problems = _problems(bundle)
    assert [(p["element"], p["code"], p["params"]["variable"], p["params"]["use"]) for p in problems] == [
        ("escalated", "dataflow_unset", "disposal", "unitVar")
    ]
    assert problems[0]["name"] == "督办逾期处置" and "'disposal'" in problems[0]["reason"]


def test_a_condition_on_a_field_set_after_the_gateway_is_refused(library):
    bundle = _replace(library, FILE, "disposal == 'liaojie'", "disposal == 'liaojie' and approved == True")
    problems = _problems(bundle)
    assert [(p["element"], p["code"], p["params"]["variable"], p["params"]["use"]) for p in problems] == [
        ("gw_disposal", "dataflow_unset", "approved", "condition")
    ]


def test_a_timer_reading_an_unset_date_is_refused(library):
    bundle = _replace(library, FILE, "deadline('propose')", "deadline_from('propose', disposal)")
    problems = _problems(bundle)
    assert [(p["element"], p["params"]["use"], p["params"]["variable"]) for p in problems] == [
        ("propose_late", "timer", "disposal")
    ]


def test_a_counter_the_start_data_gives_is_not_reported():
    """Nothing else in the process sets ``i``: the starter gives it (the API accepts start data)."""
    assert df.script_reads_and_writes("i = i + 1", df.builtin_names()) == (["i"], {"i": df.UNKNOWN})
    assert df.script_reads_and_writes("n = 0\nm = n + 1", df.builtin_names()) == ([], {"n": 0, "m": df.UNKNOWN})


def test_the_helpers_the_analysis_knows_are_the_ones_expressions_get():
    from engine.scheduling.deadlines import DeadlinePolicy

    policy = DeadlinePolicy({"deadlines": {}})
    assert set(policy.functions({})) == set(df.HELPERS)


LINT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    {body}
  </bpmn:process>
</bpmn:definitions>"""


def _lint(body):
    tree = etree.ElementTree(etree.fromstring(LINT.format(body=body).encode()))
    return {(severity, f.code, f.element) for severity, f in lint.check({"x.bpmn": tree})}


def test_structural_rules_one_message_per_kind():
    assert ("error", "start_missing", "p") in _lint('<bpmn:endEvent id="e"/>')
    assert ("error", "end_missing", "p") in _lint('<bpmn:startEvent id="s"/>')
    found = _lint(
        '<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:task id="b"/><bpmn:task id="c"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="a"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="b" targetRef="e"/>'
    )
    assert found == {
        ("error", "implicit_split", "a"),
        ("error", "no_incoming", "c"),
        ("error", "no_outgoing", "c"),
    }
    task = (
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u"><bpmn:extensionElements><spiffworkflow:properties>'
        '{props}</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u"/><bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e"/>'
    )
    assert _lint(task.format(props="")) == {("warning", "unit_missing", "u"), ("error", "due_missing", "u")}
    reason = '<spiffworkflow:property name="unitVar" value="x"/><spiffworkflow:property name="noDueReason" value="签收即办"/>'
    assert _lint(task.format(props=reason)) == set()


def test_a_disconnected_task_refuses_the_deploy_naming_it(library):
    bundle = _replace(
        library,
        FILE,
        '<bpmn:endEvent id="end_done">',
        '<bpmn:task id="lost" name="孤立环节"/><bpmn:endEvent id="end_done">',
    )
    problems = _problems(bundle)
    assert {(p["element"], p["code"], p["name"]) for p in problems} == {
        ("lost", "no_incoming", "孤立环节"),
        ("lost", "no_outgoing", "孤立环节"),
    }


def test_start_data_the_process_declares_counts_as_set_though_a_later_form_sets_it_again():
    """The benchmark's chain: every step's unit comes from ``unit``, which the starter gives and each
    step's form may change. Undeclared, the first step reads a variable only a later form sets."""
    from bench.fixtures import bench_bundle

    bundle = bench_bundle()
    compile_bundle(bundle)  # declared: startData="clue_no, unit"
    name = "bench_linear.bpmn"
    undeclared = _replace(bundle, name, '<spiffworkflow:property name="startData" value="clue_no, unit"/>', "")
    problems = _problems(undeclared)
    assert any(p["file"] == name and p["element"] == "s1" and p["params"]["variable"] == "unit" for p in problems), (
        problems
    )
