"""A case in two linked instances, for the separation and recusal tests (access, instances, web).

The test library's clue (``gt_test_clue``: 案管室 registers, 监督检查室 proposes) plus a review process
(``gt_test_review``, keyed by the case number) whose one step may not be done by whoever proposed the
disposal of the clue: ``separateFromSteps="gt_test_clue:propose"``. The clue instance acquires the case
number LA-1 when its proposal is made; the review instance, started later with the same number, is
linked to it only through ``case_reference``.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.definitions.compiler import compile_bundle
from engine.models import HumanTask
from engine.tasks import operations as tasks
from tests.county import county_services

REVIEW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_review" targetNamespace="http://guantong.test">
  <bpmn:process id="gt_test_review" name="测试复查" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="stage" value="dispose"/>
      <spiffworkflow:property name="platform" value="P5"/>
      <spiffworkflow:property name="businessKey" value="case_no"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="lane" name="监督检查室"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="复查">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="noDueReason" value="签收即办"/><spiffworkflow:property name="formKey" value="approve"/>
        <spiffworkflow:property name="unitVar" value="handling_unit"/>
        <spiffworkflow:property name="separateFromSteps" value="gt_test_clue:propose"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()

REGISTER = {"clue_no": "XS-9", "handling_unit": "jc1", "summary": "反映问题"}


def deploy_with_review(repo, library) -> int:
    library.bpmn["review.bpmn"] = REVIEW
    version_id, _ = repo.deploy(compile_bundle(library), actor="tester")
    return version_id


def linked_services(db, repo, library, tmp_path):
    deploy_with_review(repo, library)
    return county_services(db, tmp_path, "test-secret")


def one(services, spec_id: str, status: str = "ready") -> HumanTask:
    with services.db.session() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == status)).one()
        s.expunge(task)
        return task


def investigated_case(services, who, *, proposer: str = "so1") -> tuple[int, int]:
    """(clue instance, review instance): ``proposer`` made the clue's proposal, the case is LA-1."""
    runtime = services.runtime
    clue = runtime.start("gt_test_clue", actor=who("cm1"), data={"clue_no": "XS-9"}).instance_id
    runtime.complete_task(one(services, "register").id, actor=who("cm1"), data=dict(REGISTER))
    propose = one(services, "propose").id
    tasks.claim_task(services, who(proposer), propose)
    runtime.complete_task(propose, actor=who(proposer), data={"disposal": "chubu_heshi", "case_no": "LA-1"})
    # started by the system (as a message from the clue would): a leader starting it himself would be
    # given its first task at once (engine/runtime/addressing.py), and the tests want it in the pool
    review = runtime.start("gt_test_review", data={"case_no": "LA-1", "handling_unit": "jc1"}).instance_id
    return clue, review
