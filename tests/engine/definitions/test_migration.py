"""Moving running instances to a later version (engine/definitions/migration.py): a dry run lists what
would move and what is refused and why; a compatible instance moves and its next step completes on the
new version; one whose current step was removed is refused and left untouched; audited; designers only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.definitions import migration
from engine.errors import Forbidden, ValidationError
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine.definitions.test_operations import ADMIN, DESIGNER, OFFICER, _stored, deploy_file, services  # noqa: F401

FILE = "clue_simple.bpmn"
KEY = "gt_test_clue"


def _without_register(xml: str) -> str:
    """Version 2: 登记线索 removed (the flow starts at 提出处置意见), 审批处置意见 renamed."""
    xml = re.sub(r'<bpmn:userTask id="register".*?</bpmn:userTask>', "", xml, flags=re.S)
    xml = xml.replace("<bpmn:flowNodeRef>register</bpmn:flowNodeRef>", "")
    xml = re.sub(r'<bpmn:sequenceFlow id="f2"[^>]*/>', "", xml)
    xml = re.sub(
        r'<bpmn:sequenceFlow id="f1"[^>]*/>', '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="propose"/>', xml
    )
    xml = re.sub(
        r'<bpmndi:BPMN(Shape|Edge) id="[^"]*" bpmnElement="(register|f2)">.*?</bpmndi:BPMN(Shape|Edge)>',
        "",
        xml,
        flags=re.S,
    )
    xml = xml.replace("<bpmn:incoming>f2</bpmn:incoming>", "<bpmn:incoming>f1</bpmn:incoming>")
    return xml.replace('name="审批处置意见"', 'name="审批处置意见（新版）"')


@pytest.fixture
def two_versions(services):  # noqa: F811
    at_register = services.runtime.start(KEY)
    at_propose = services.runtime.start(KEY)
    services.runtime.complete_task(
        at_propose.created_tasks[0], actor=SYSTEM_PRINCIPAL, data={"clue_no": "XS-1", "handling_unit": "qh_jc2"}
    )
    v2 = deploy_file(services, DESIGNER, FILE, _without_register(_stored(services)))
    assert v2.created and v2.version_id == 2
    return at_register.instance_id, at_propose.instance_id


def _row(services, instance_id):  # noqa: F811
    with services.db.session() as s:
        row = s.get(ProcessInstance, instance_id)
        return row.version_id, row.lock_version, row.state


def test_dry_run_lists_what_moves_and_what_is_refused_and_changes_nothing(services, two_versions):  # noqa: F811
    at_register, at_propose = two_versions
    before = _row(services, at_register), _row(services, at_propose)
    plan = migration.plan_migration(services, DESIGNER, KEY, 1, 2)
    assert [c.instance_id for c in plan.moves] == [at_propose]
    assert plan.moves[0].steps == ("propose", "propose_late")
    (refused,) = plan.refused
    assert (refused.instance_id, refused.code, refused.element) == (at_register, "step_removed", "register")
    assert "register" in refused.reason
    assert (_row(services, at_register), _row(services, at_propose)) == before


def test_a_compatible_instance_moves_and_continues_on_the_new_version(services, two_versions):  # noqa: F811
    at_register, at_propose = two_versions
    untouched = _row(services, at_register)
    result = migration.migrate(services, DESIGNER, KEY, 1, 2, [at_register, at_propose])
    assert result.moved == (at_propose,)
    assert [(c.instance_id, c.code) for c in result.refused] == [(at_register, "step_removed")]
    assert _row(services, at_register) == untouched  # refused: left exactly as it was
    assert _row(services, at_propose)[0] == 2
    with services.db.session() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == at_propose, HumanTask.status == "ready"))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "instance_migrated"))
        assert task.spec_id == "propose"
        assert event.instance_id == at_propose and event.actor == DESIGNER.username
        assert (event.detail["from_version"], event.detail["to_version"]) == (1, 2)
        task_id = task.id
    # the open step is completed on version 2: the next one is version 2's 审批处置意见（新版）
    outcome = services.runtime.complete_task(task_id, actor=SYSTEM_PRINCIPAL, data={"disposal": "zancun"})
    with services.db.session() as s:
        assert s.get(HumanTask, outcome.created_tasks[0]).name == "审批处置意见（新版）"
    # moved once: it is no longer on version 1
    again = migration.migrate(services, DESIGNER, KEY, 1, 2, [at_propose])
    assert again.moved == () and again.refused[0].code == "not_on_version"


def test_only_designers_migrate_and_only_forwards(services, two_versions):  # noqa: F811
    with pytest.raises(Forbidden):
        migration.plan_migration(services, OFFICER, KEY, 1, 2)
    with pytest.raises(Forbidden):
        migration.migrate(services, OFFICER, KEY, 1, 2, [two_versions[1]])
    with pytest.raises(ValidationError):
        migration.plan_migration(services, ADMIN, KEY, 2, 1)
    with pytest.raises(ValidationError):
        migration.migrate(services, ADMIN, KEY, 1, 2, [])
