"""engine/instances/diagram.py through ``operations.show_diagram``: the markers of an instance on its
diagram (completed, active, waiting, overdue in working days, failed), the path taken, who held each
step, and what a reader of an outside (addressed) lane may not learn from it."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock
from engine.errors import Forbidden, NotVisible, ProcessError
from engine.instances import operations as instances
from engine.tasks import operations as tasks
from tests.engine.tasks.test_need_to_know import outside  # noqa: F401 - the addressed-lane library
from tests.engine.usecases import REGISTER, REVEAL, ready, registered


def at(year, month, day, hour=10):
    return dt.datetime(year, month, day, hour, 0, tzinfo=clock.LOCAL_TZ)


def test_a_registered_clue_is_active_on_its_proposal_with_the_path_to_it(services, who):
    started, _ = registered(services, who)
    d = instances.show_diagram(services, who("cm2"), started.instance_id)
    assert d.level == "full" and d.process_key == "gt_test_clue" and "<bpmn:process" in d.xml
    assert d.markers("completed") == ["register", "start"]
    assert d.markers("active") == ["propose"]
    assert d.markers("overdue") == d.markers("waiting") == d.markers("failed") == []
    assert d.path == ["f1", "f2"]  # not the gateway's branches: nothing decided yet
    [visit] = d.elements["register"].visits
    assert (visit.holder, visit.holder_name, visit.status) == ("cm1", "冯丽", "completed")
    assert visit.finished_at is not None and visit.seconds is not None and visit.workdays == 0
    [open_visit] = d.elements["propose"].visits
    assert open_visit.holder is None and open_visit.due_at is not None and open_visit.due_state == "ok"


def test_the_path_goes_on_through_the_gateway_the_proposal_took(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    d = instances.show_diagram(services, who("cm2"), started.instance_id)
    assert d.markers("active") == ["approve"]
    assert d.markers("completed") == ["gw_disposal", "propose", "register", "start"]
    assert d.path == ["f1", "f2", "f3", "f_default"]  # f_close (了结) was not taken
    assert d.elements["propose"].visits[0].holder_name == "刘洋"


def test_overdue_is_counted_in_working_days_across_the_national_day_holiday(services, who):
    # Registered on Friday 27 September 2024: 5 working days for the proposal count 29 September (a
    # Sunday worked in exchange, 调休), 30 September, then skip 1–7 October: 8, 9, 10 October.
    with clock.frozen(at(2024, 9, 27)) as frozen:
        started, _ = registered(services, who)
        due = instances.show_diagram(services, who("cm2"), started.instance_id).elements["propose"].visits[0].due_at
        assert due.astimezone(clock.LOCAL_TZ).date() == dt.date(2024, 10, 10)
        frozen.set(at(2024, 10, 9))  # 12 calendar days later, within 5 working days: not overdue
        d = instances.show_diagram(services, who("cm2"), started.instance_id)
        assert d.markers("active") == ["propose"] and d.markers("overdue") == []
        visit = d.elements["propose"].visits[0]
        assert visit.workdays == 4 and not visit.late  # 29, 30 September, 8, 9 October
        frozen.set(at(2024, 10, 11))
        d = instances.show_diagram(services, who("cm2"), started.instance_id)
        assert d.markers("overdue") == ["propose"] and d.markers("active") == ["propose"]
        assert d.elements["propose"].visits[0].late and d.elements["propose"].visits[0].due_state == "overdue"


def test_a_message_catch_event_is_waiting(services, who):
    started = instances.start_instance(services, who("cm1"), "gt_test_waiter", business_key="XS-9")
    d = instances.show_diagram(services, who("cm1"), started.instance_id)
    assert d.markers("waiting") == ["wait_result"]
    assert d.markers("completed") == ["w_start"] and d.path == ["w1"]


def test_the_step_an_instance_failed_on_is_marked_failed(services, who):
    started, _ = registered(services, who)
    failure = ProcessError("process step gw_disposal failed: name 'x' is not defined", element="gw_disposal")
    assert services.runtime.record_failure(started.instance_id, failure, max_attempts=1) == "failed"
    boss = instances.show_diagram(services, who("boss"), started.instance_id, oversight=True)
    assert boss.markers("failed") == ["gw_disposal"] and "not defined" in (boss.elements["gw_disposal"].error or "")
    # Who held each step is the cockpit's metadata: the overseer sees names, never the records.
    assert boss.elements["register"].visits[0].holder_name == "冯丽"


def test_the_diagram_passes_the_instance_gate(services, who):
    started, _ = registered(services, who)
    with pytest.raises(NotVisible) as refused:
        instances.show_diagram(services, who("so2"), started.instance_id)
    assert refused.value.reason == "instance_not_visible"
    with pytest.raises(Forbidden):
        instances.show_diagram(services, who("so1"), started.instance_id, oversight=True)
    with pytest.raises(NotVisible):
        instances.show_diagram(services, who("admin"), started.instance_id)


def test_an_addressed_lane_sees_its_own_step_not_the_path_nor_who_did_the_rest(outside, who):  # noqa: F811
    services = outside
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    tasks.submit_task(services, who("cm1"), started.own_task, dict(REGISTER), reveal=REVEAL)
    so1 = instances.show_diagram(services, who("so1"), started.instance_id)
    # 登记线索's clue number is its brief: the step is there, who registered it is not.
    assert so1.level == "addressed" and so1.path == []
    assert set(so1.elements) == {"register", "propose"}
    assert so1.markers("active") == ["propose"] and so1.markers("completed") == ["register"]
    assert all(v.holder is None and v.holder_name is None for e in so1.elements.values() for v in e.visits)
    tasks.claim_task(services, who("so1"), ready(services, "propose")[0])
    # No longer addressed to so1b: his unit's task is still his to see, the brief's step is not.
    so1b = instances.show_diagram(services, who("so1b"), started.instance_id)
    assert set(so1b.elements) == {"propose"} and so1b.path == []
    assert so1b.elements["propose"].visits[0].holder is None
    file_lane = instances.show_diagram(services, who("cm2"), started.instance_id)
    assert file_lane.level == "full" and file_lane.path == ["f1", "f2"]


CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_caller" targetNamespace="http://guantong.test">
  <bpmn:process id="gt_test_caller" name="测试调用线索处置" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="stage" value="dispose"/>
      <spiffworkflow:property name="platform" value="P5"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="c_start"><bpmn:outgoing>c1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call_clue" name="线索处置" calledElement="gt_test_clue">
      <bpmn:incoming>c1</bpmn:incoming><bpmn:outgoing>c2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:endEvent id="c_end"><bpmn:incoming>c2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="c_start" targetRef="call_clue"/>
    <bpmn:sequenceFlow id="c2" sourceRef="call_clue" targetRef="c_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_steps_of_a_called_process_are_shown_on_its_call_activity(services, who, library):
    from engine.definitions import compile_bundle

    services.definitions.deploy(compile_bundle(library.with_bpmn("caller.bpmn", CALLER.encode())), actor="tester")
    started = services.runtime.start("gt_test_caller", actor=who("cm1"), owner_unit="cdi", data={"clue_no": "XS-9"})
    register = ready(services, "register")[0]
    services.runtime.complete_task(register, actor=who("cm1"), data={**REGISTER, "handling_unit": "jc1"})
    d = instances.show_diagram(services, who("cm2"), started.instance_id)
    assert d.process_key == "gt_test_caller" and d.markers("active") == ["call_clue"]
    assert d.markers("completed") == ["c_start"] and d.path == ["c1"]
    # The called process's steps (登记线索 done, 提出处置意见 open) are the call activity's visits.
    assert [(v.name, v.status) for v in d.elements["call_clue"].visits] == [
        ("登记线索", "completed"),
        ("提出处置意见", "ready"),
    ]
