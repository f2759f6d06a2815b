"""Who a new task goes to (engine/runtime/addressing.py) and which open tasks nobody can do (the cockpit).

Issue 15: a case must never wait on a task no account can act on, and an officer should not have to
claim what is plainly his: the task that follows his own step, or a task only he may do. Separation of
duties (``separateFromSteps``) and the conflict register still decide who may not have it.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest
from sqlalchemy import select, update

from engine.cockpit import operations as cockpit
from engine.definitions import load_bundle
from engine.errors import ValidationError
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask, Membership, User
from engine.tasks import operations as tasks
from tests.conftest import FIXTURES
from tests.county import add_neighbours
from tests.engine.usecases import REGISTER, REVEAL, ready

PROPOSE_PROPS = '<spiffworkflow:property name="unitVar" value="handling_unit"/>'
HANDLER = {"type": "string", "title": "承办人", "x-options": "users:supervision_office", "x-process": True}


@pytest.fixture
def library(request):
    """The test library; 提出处置意见 kept apart from whoever registered the clue (separateFromSteps),
    unless the test asks for the ``plain`` one."""
    bundle = load_bundle(FIXTURES / "lib")
    if getattr(request, "param", None) == "plain":
        return bundle
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    extra = '<spiffworkflow:property name="separateFromSteps" value="register"/>'
    return bundle.with_bpmn("clue_simple.bpmn", content.replace(PROPOSE_PROPS, PROPOSE_PROPS + extra).encode())


def _register(services, who, unit: str, by: str = "cm1"):
    started = instances.start_instance(services, who(by), "gt_test_clue", business_key="XS-9")
    tasks.submit_task(services, who(by), started.own_task, {**REGISTER, "handling_unit": unit}, reveal=REVEAL)
    return started.instance_id


def _task(services, spec_id):
    with services.db.session() as s:
        row = s.scalars(select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready")).one()
        s.expunge(row)
        return row


def _give_role(services, username, unit, role="supervision_office"):
    with services.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
        s.add(Membership(user_id=user_id, unit_code=unit, role_code=role))


def test_the_only_person_who_may_do_a_task_gets_it_without_claiming(services, who):
    _register(services, who, "jc2")  # 第二室 has one officer, 王芳 (so2)
    task = _task(services, "propose")
    assert task.assignee == "so2"
    with services.db.session() as s:
        given = s.scalars(select(AuditEvent).where(AuditEvent.action == "task_created", AuditEvent.task_id == task.id))
        assert [e.detail.get("given") for e in given] == ["single_candidate"]
    # he acts at once: no claim
    tasks.submit_task(services, who("so2"), task.id, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)


def test_a_pool_of_several_stays_a_pool(services, who):
    _register(services, who, "jc1")  # 第一室: so1, so1b and their leader
    assert _task(services, "propose").assignee is None


@pytest.mark.parametrize("library", ["plain"], indirect=True)
def test_the_step_that_follows_the_same_persons_own_goes_to_him(library, services, who):
    # cm1 also works in 第二室, beside so2: of the two who may do it, the one whose step opened it gets it
    _give_role(services, "cm1", "jc2")
    _register(services, who, "jc2")
    task = _task(services, "propose")
    assert task.separate_steps is None and task.assignee == "cm1"
    with services.db.session() as s:
        given = s.scalars(select(AuditEvent).where(AuditEvent.action == "task_created", AuditEvent.task_id == task.id))
        assert [e.detail.get("given") for e in given] == ["same_person"]
    # so2 still sees it in his pool's team view but may not take it from him
    assert tasks.show_task(services, who("so2"), task.id, reveal=REVEAL).allowed.claim is False


def test_separation_of_duties_still_holds(services, who):
    # cm1 registered the clue and also works in 第二室: the step kept apart from 登记 is not his
    _give_role(services, "cm1", "jc2")
    _register(services, who, "jc2")
    task = _task(services, "propose")
    assert task.separate_steps == ["gt_test_clue:register"]
    assert task.assignee == "so2"  # the one person left who may do it


def test_a_task_addressed_to_a_name_without_an_account_is_never_opened(db, tmp_path, repo):
    from engine.definitions import compile_bundle
    from tests.county import county_services

    bundle = load_bundle(FIXTURES / "lib")
    register = copy.deepcopy(bundle.forms["register"])
    register["properties"]["handler"] = HANDLER
    bundle = dataclasses.replace(bundle, forms={**bundle.forms, "register": register})
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    extra = '<spiffworkflow:property name="assigneeVar" value="handler"/>'
    bundle = bundle.with_bpmn("clue_simple.bpmn", content.replace(PROPOSE_PROPS, PROPOSE_PROPS + extra).encode())
    repo.deploy(compile_bundle(bundle), actor="tester")
    services = county_services(db, tmp_path, "test-secret")
    from engine.access.principal import load_principal

    with db.session() as s:
        cm1 = load_principal(s, "cm1")
    started = instances.start_instance(services, cm1, "gt_test_clue", business_key="XS-9")
    # the form refuses a typed name, naming the field and the value
    with pytest.raises(ValidationError) as typed:
        tasks.submit_task(services, cm1, started.own_task, {**REGISTER, "handler": "张三"}, reveal=REVEAL)
    assert "张三" in typed.value.fields["handler"] and "承办人" in typed.value.fields["handler"]
    # an account deactivated after the pickers were read: the runtime refuses to open his task
    with db.session() as s:
        s.execute(update(User).where(User.username == "so1").values(active=False))
    with pytest.raises(ValidationError) as refused:
        services.runtime.complete_task(
            started.own_task, actor=cm1, data={"clue_no": "XS-9", "handling_unit": "jc1", "handler": "so1"}
        )
    assert "so1" in refused.value.fields["handler"] and "已停用" in refused.value.fields["handler"]
    assert ready(services, "propose") == [] and ready(services, "register") == [started.own_task]
    # a picked active account gets it, and it is his alone to do
    tasks.submit_task(services, cm1, started.own_task, {**REGISTER, "handler": "so1b"}, reveal=REVEAL)
    assert _task(services, "propose").assignee == "so1b"


def test_the_cockpit_lists_tasks_nobody_can_do_within_the_managers_commissions(services, who):
    add_neighbours(services)
    first = _register(services, who, "jc1")
    _register(services, who, "jc2")  # given to so2 at once
    assert cockpit.stalled(services, who("boss")) == []
    with services.db.session() as s:
        s.execute(update(User).where(User.username.in_(["so1", "so1b", "so1lead", "so2"])).values(active=False))
    rows = cockpit.stalled(services, who("boss"))
    assert {(r.name, r.why, r.assignee) for r in rows} == {
        ("提出处置意见", "no_account", None),
        ("提出处置意见", "inactive_assignee", "so2"),
    }
    assert next(r for r in rows if r.why == "no_account").instance_id == first
    assert {r.units for r in rows} == {("jc1",), ("jc2",)}
    # the prefecture oversees the county; a neighbouring county's manager sees none of it
    assert len(cockpit.stalled(services, who("pref_lead"))) == 2
    assert cockpit.stalled(services, who("nb_boss")) == []
