"""Deploy: what is refused (and how it is reported), what is stored once, and version pinning."""

import pytest
from sqlalchemy import func, select

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.definitions import compile_bundle
from engine.errors import DeployError
from engine.models import AuditEvent, DefinitionFile, DefinitionVersion, ProcessDefinition, ProcessInstance
from tests.engine.bpmn_templates import caller_process, script_process

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&lol3;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""


def _problems(bundle):
    with pytest.raises(DeployError) as info:
        compile_bundle(bundle)
    return info.value.problems


def _replace(library, filename, old, new):
    content = library.bpmn[filename].decode()
    assert old in content, old
    return library.with_bpmn(filename, content.replace(old, new).encode())


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entity_attacks_are_refused_before_parsing(library, payload):
    problems = _problems(library.with_bpmn("evil.bpmn", payload))
    assert problems[0]["file"] == "evil.bpmn"
    assert "DOCTYPE" in problems[0]["reason"]


def test_not_well_formed(library):
    problems = _problems(library.with_bpmn("broken.bpmn", b"<bpmn:definitions><oops></bpmn:definitions>"))
    assert problems[0]["file"] == "broken.bpmn" and "well-formed" in problems[0]["reason"]


def test_schema_violation_names_file_and_line(library):
    bundle = _replace(
        library,
        "clue_simple.bpmn",
        '<bpmn:startEvent id="start">',
        '<bpmn:startEvent id="start" bogus="1"><bpmn:notAnElement/>',
    )
    problems = _problems(bundle)
    assert problems[0]["file"] == "clue_simple.bpmn" and "BPMN schema" in problems[0]["reason"]


def test_missing_call_activity_target(library):
    problems = _problems(library.with_bpmn("caller.bpmn", caller_process("gt_nowhere").encode()))
    assert {"file": "caller.bpmn", "element": "call_it"}.items() <= problems[0].items()
    assert "gt_nowhere" in problems[0]["reason"]


def test_exclusive_gateway_needs_a_default(library):
    bundle = _replace(library, "clue_simple.bpmn", 'id="gw_disposal" default="f_default"', 'id="gw_disposal"')
    problems = _problems(bundle)
    assert any(p["element"] == "gw_disposal" and "default" in p["reason"] for p in problems)


def test_expression_that_does_not_compile(library):
    bundle = _replace(library, "clue_simple.bpmn", "disposal == 'liaojie'", "disposal == = 'liaojie'")
    problems = _problems(bundle)
    assert any(p["element"] == "f_close" and "syntax" in p["reason"] for p in problems)


def test_unknown_lane_missing_form_and_unknown_deadline_are_all_reported(library):
    bundle = _replace(library, "clue_simple.bpmn", 'name="案件监督管理室"', 'name="不存在的部门"')
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    content = content.replace(
        'value="approve"/></spiffworkflow:properties></bpmn:extensionElements>\n      <bpmn:incoming>f_default',
        'value="nope"/></spiffworkflow:properties></bpmn:extensionElements>\n      <bpmn:incoming>f_default',
    )
    content = content.replace('name="dueIn" value="propose"', 'name="dueIn" value="no_limit"')
    problems = _problems(bundle.with_bpmn("clue_simple.bpmn", content.encode()))
    reasons = {(p["element"], p["reason"].split(" ")[0]) for p in problems}
    assert ("Lane_cm", "lane") in reasons
    assert any(p["element"] == "approve" and "nope" in p["reason"] for p in problems)
    assert any(p["element"] == "propose" and "no_limit" in p["reason"] for p in problems)


def test_user_task_outside_a_lane(library):
    bundle = _replace(library, "clue_simple.bpmn", "<bpmn:flowNodeRef>register</bpmn:flowNodeRef>", "")
    problems = _problems(bundle)
    assert any(p["element"] == "register" and "lane" in p["reason"] for p in problems)


def test_invalid_form_schema_and_reserved_field(library):
    library.forms["approve"] = {"type": "object", "properties": {"typename": {"type": "string"}, "x": {"type": 5}}}
    problems = _problems(library)
    assert any(p["file"] == "forms/approve.json" and "reserved" in p["reason"] for p in problems)
    assert any(p["file"] == "forms/approve.json" and "JSON Schema" in p["reason"] for p in problems)


def test_refused_deploy_stores_nothing(db, repo, library):
    bundle = library.with_bpmn("caller.bpmn", caller_process("gt_nowhere").encode())
    with pytest.raises(DeployError):
        repo.deploy(compile_bundle(bundle))
    with db.session() as s:
        for model in (DefinitionVersion, DefinitionFile, ProcessDefinition, AuditEvent):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_same_bundle_is_stored_once(db, repo, library):
    first = repo.deploy(compile_bundle(library), actor="designer")
    second = repo.deploy(compile_bundle(library), actor="designer")
    assert first == (first[0], True) and second == (first[0], False)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == 1
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "deployed")) == 1


def test_spec_is_stored_once_per_version_not_per_instance(db, repo, runtime, deployed):
    for _ in range(3):
        runtime.start("gt_test_clue")
    with db.session() as s:
        states = s.scalars(select(ProcessInstance.state)).all()
        specs = s.scalar(select(DefinitionVersion.specs))
    assert all('"spec"' not in st and "task_specs" not in st for st in states)
    assert "task_specs" in specs


def test_running_instance_keeps_its_version(db, repo, runtime, library, deployed):
    old = runtime.start("gt_test_clue")
    changed = _replace(library, "clue_simple.bpmn", 'name="审批处置意见"', 'name="审批处置意见（新版）"')
    new_version, created = repo.deploy(compile_bundle(changed))
    assert created and new_version != deployed
    new = runtime.start("gt_test_clue")
    with db.session() as s:
        assert s.get(ProcessInstance, old.instance_id).version_id == deployed
        assert s.get(ProcessInstance, new.instance_id).version_id == new_version
        revisions = dict(
            s.execute(
                select(ProcessDefinition.version_id, ProcessDefinition.revision).where(
                    ProcessDefinition.process_key == "gt_test_clue"
                )
            ).all()
        )
        unchanged = s.scalars(
            select(ProcessDefinition.revision).where(ProcessDefinition.process_key == "gt_test_waiter")
        ).all()
    assert revisions == {deployed: 1, new_version: 2}
    assert unchanged == [1, 1]
    # The old instance runs to its end on its own version's definition.
    outcome = runtime.complete_task(
        old.created_tasks[0], actor=SYSTEM_PRINCIPAL, data={"clue_no": "XS-1", "handling_unit": "qh_jc2"}
    )
    outcome = runtime.complete_task(outcome.created_tasks[0], actor=SYSTEM_PRINCIPAL, data={"disposal": "zancun"})
    from engine.models import HumanTask

    with db.session() as s:
        assert s.get(HumanTask, outcome.created_tasks[0]).name == "审批处置意见"


def test_called_process_is_resolved_and_recorded(repo, library):
    bundle = library.with_bpmn("sandbox.bpmn", script_process().encode())
    bundle = bundle.with_bpmn("caller.bpmn", caller_process("gt_test_sandbox").encode())
    compiled = compile_bundle(bundle)
    assert compiled.catalogue["gt_test_caller"]["dependencies"] == ["gt_test_sandbox"]
    assert compiled.catalogue["gt_test_caller"]["calls"] == ["gt_test_sandbox"]
