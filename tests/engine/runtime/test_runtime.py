"""The runtime's promises: durable across restarts, one winner in a race, nothing half-written."""

import datetime as dt
import gc
import threading

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL, Principal, load_principal
from engine.definitions.repository import DefinitionRepository
from engine.errors import Conflict, Forbidden, ValidationError
from engine.models import (
    AuditEvent,
    HumanTask,
    Membership,
    MessageSubscription,
    PendingMessage,
    ProcessInstance,
    TaskSubmission,
    Unit,
    User,
)
from engine.runtime.core import Runtime

S = SYSTEM_PRINCIPAL


def _task(db, task_id):
    with db.session() as s:
        return s.get(HumanTask, task_id)


def _instance(db, instance_id):
    with db.session() as s:
        return s.get(ProcessInstance, instance_id)


def _events(db, instance_id, action=None):
    with db.session() as s:
        q = select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return s.scalars(q).all()


def _register(runtime, unit="qh_jc2", clue="XS-2024-0156"):
    start = runtime.start("gt_test_clue")
    outcome = runtime.complete_task(start.created_tasks[0], actor=S, data={"clue_no": clue, "handling_unit": unit})
    return start.instance_id, outcome.created_tasks[0]


def test_restart_safety_complete_drop_reload_continue(db, deployed, frozen_clock):
    runtime = Runtime(db, DefinitionRepository(db))
    instance_id, propose_id = _register(runtime)
    del runtime
    gc.collect()
    # A new process would start from nothing but the database: new repository, new runtime.
    fresh = Runtime(db, DefinitionRepository(db))
    outcome = fresh.complete_task(propose_id, actor=S, data={"disposal": "tanhua_hanxun"})
    approve = _task(db, outcome.created_tasks[0])
    assert approve.name == "审批处置意见" and approve.role == "commission_secretary"
    fresh2 = Runtime(db, DefinitionRepository(db))
    done = fresh2.complete_task(approve.id, actor=S, data={"approved": True})
    assert done.status == "completed"
    row = _instance(db, instance_id)
    assert row.status == "completed" and row.business_key == "XS-2024-0156" and row.completed_at is not None
    assert _events(db, instance_id).count("completed") == 3


def test_human_task_row_carries_role_units_due_date(db, runtime, deployed, frozen_clock):
    _, propose_id = _register(runtime)
    task = _task(db, propose_id)
    assert task.role == "supervision_office" and [c.unit_code for c in task.candidates] == ["qh_jc2"]
    assert task.stage == "dispose" and task.platform == "P5" and task.mechanism == "M2"
    assert task.business_key == "XS-2024-0156"
    # 5 working days from Monday 2024-03-04 is Monday 03-11 (end of day, China time)
    assert task.due_at.astimezone(clock.LOCAL_TZ).date() == dt.date(2024, 3, 11)
    assert task.reminder_at.astimezone(clock.LOCAL_TZ).date() == dt.date(2024, 3, 7)


def _race(db, runtime, task_id, data_a, data_b):
    barrier = threading.Barrier(2)
    results = {}

    def attempt(name, data):
        barrier.wait()
        try:
            runtime.complete_task(task_id, actor=S, data=data)
            results[name] = "ok"
        except Conflict as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=attempt, args=("a", data_a)),
        threading.Thread(target=attempt, args=("b", data_b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("round_", range(3))
def test_two_people_complete_one_task_exactly_one_wins(db, runtime, deployed, frozen_clock, round_):
    instance_id, propose_id = _register(runtime)
    before = _instance(db, instance_id).lock_version
    results = _race(db, runtime, propose_id, {"disposal": "tanhua_hanxun"}, {"disposal": "liaojie"})
    assert sorted(type(v).__name__ if v != "ok" else "ok" for v in results.values()) == ["Conflict", "ok"]
    assert _instance(db, instance_id).lock_version == before + 1
    assert _events(db, instance_id, "completed").count("completed") == 2  # register + exactly one propose
    with db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(TaskSubmission).where(TaskSubmission.task_id == propose_id)) == 1
        )
    loser = next(v for v in results.values() if v != "ok")
    assert loser.status == 409


def test_second_completion_after_the_first_is_a_clear_conflict(db, runtime, deployed):
    _, propose_id = _register(runtime)
    runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    with pytest.raises(Conflict, match="already completed"):
        runtime.complete_task(propose_id, actor=S, data={"disposal": "zancun"})


@pytest.mark.parametrize(
    "bad,field",
    [
        ({"typename": "BpmnWorkflow"}, "typename"),
        ({"nested": {"_private": 1}}, "nested._private"),
        ({"when": dt.date(2024, 3, 4)}, "when"),
        ({"tags": {1, 2}}, "tags"),
        ({"score": float("nan")}, "score"),
    ],
)
def test_bad_task_data_is_refused_naming_the_field_and_changes_nothing(db, runtime, deployed, bad, field):
    instance_id, propose_id = _register(runtime)
    before = _instance(db, instance_id)
    with pytest.raises(ValidationError) as info:
        runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie", **bad})
    assert field in info.value.fields and info.value.status == 422
    after = _instance(db, instance_id)
    assert (after.state, after.lock_version) == (before.state, before.lock_version)
    assert _task(db, propose_id).status == "ready"


def test_oversized_data_is_refused(db, runtime, deployed):
    _, propose_id = _register(runtime)
    with pytest.raises(ValidationError, match="bytes"):
        runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie", "text": "字" * 40000})


def test_gateway_branches(db, runtime, deployed):
    _instance_id, propose_id = _register(runtime)
    outcome = runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    assert outcome.status == "completed" and outcome.created_tasks == []
    _instance_id, propose_id = _register(runtime, clue="XS-2")
    outcome = runtime.complete_task(propose_id, actor=S, data={"disposal": "chubu_heshi"})
    assert _task(db, outcome.created_tasks[0]).spec_id == "approve"


def test_boundary_timer_fires_after_five_working_days_across_a_holiday(db, runtime, deployed):
    with clock.frozen(dt.datetime(2024, 4, 2, 9, 0, tzinfo=clock.LOCAL_TZ)) as c:
        instance_id, propose_id = _register(runtime)
        # Tue 04-02 + 5 working days: 04-03, (清明 04-04..06 off), 04-07 Sun make-up, 04-08, 04-09, 04-10
        assert _task(db, propose_id).due_at.astimezone(clock.LOCAL_TZ).date() == dt.date(2024, 4, 10)
        c.set(dt.datetime(2024, 4, 10, 22, 0, tzinfo=clock.LOCAL_TZ))
        assert runtime.fire_due_timers() == 0
        c.set(dt.datetime(2024, 4, 11, 0, 30, tzinfo=clock.LOCAL_TZ))
        assert runtime.fire_due_timers() == 1
    assert _task(db, propose_id).status == "cancelled"
    with db.session() as s:
        ready = s.scalars(
            select(HumanTask.spec_id).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
        ).all()
    assert ready == ["escalated"]
    assert "timer_fired" in _events(db, instance_id)
    assert _instance(db, instance_id).next_timer_at is None


def test_message_to_a_waiting_instance_and_one_that_arrives_early(db, runtime, deployed):
    waiter = runtime.start("gt_test_waiter", data={"clue_no": "XS-7"})
    with db.session() as s:
        assert s.scalar(select(MessageSubscription.correlation_key)) == "XS-7"
    result = runtime.send_message("handover_result", "XS-7", {"result": "批评教育"})
    assert result == {"status": "delivered", "instance_id": waiter.instance_id, "message_id": result["message_id"]}
    early = runtime.send_message("handover_result", "XS-8", {"result": "予以了结"})
    assert early["status"] == "pending"
    late = runtime.start("gt_test_waiter", data={"clue_no": "XS-8"})
    with db.session() as s:
        msg = s.get(PendingMessage, early["message_id"])
        assert msg.status == "delivered" and msg.delivered_to == late.instance_id
        assert s.scalar(select(HumanTask.spec_id).where(HumanTask.instance_id == late.instance_id)) == "read_result"


def test_thrown_message_reaches_its_receiver_and_message_start(db, runtime, deployed):
    waiter = runtime.start("gt_test_waiter", data={"clue_no": "XS-2024-0156"})
    _instance_id, propose_id = _register(runtime)
    approve = runtime.complete_task(propose_id, actor=S, data={"disposal": "tanhua_hanxun"}).created_tasks[0]
    runtime.complete_task(approve, actor=S, data={"approved": True})
    with db.session() as s:
        ready = s.scalars(
            select(HumanTask.spec_id).where(HumanTask.instance_id == waiter.instance_id, HumanTask.status == "ready")
        ).all()
    assert ready == ["read_result"]
    started = runtime.send_message("clue_handover", "XCB-2024-7", {"source": "巡察办"})
    assert started["status"] == "started"
    row = _instance(db, started["instance_id"])
    assert row.process_key == "gt_test_intake" and row.business_key == "XCB-2024-7"


def _people(db):
    with db.session() as s:
        for code, name in [("qh_jc2", "第二监督检查室"), ("qh_jc1", "第一监督检查室")]:
            s.add(Unit(code=code, name=name, kind="office"))
        s.flush()
        for username, unit, leader in [
            ("wangfang", "qh_jc2", True),
            ("chenhao", "qh_jc2", False),
            ("liuyang", "qh_jc1", True),
        ]:
            user = User(username=username, display_name=username)
            s.add(user)
            s.flush()
            s.add(Membership(user_id=user.id, unit_code=unit, role_code="supervision_office", is_leader=leader))
    with db.session() as s:
        return {u: load_principal(s, u) for u in ("wangfang", "chenhao", "liuyang")}


def test_claim_unclaim_reassign_and_scoping(db, runtime, deployed):
    people = _people(db)
    _, propose_id = _register(runtime)
    with pytest.raises(Forbidden):
        runtime.claim(propose_id, actor=people["liuyang"])  # other office
    with pytest.raises(Forbidden):
        runtime.complete_task(propose_id, actor=people["liuyang"], data={"disposal": "liaojie"})
    runtime.claim(propose_id, actor=people["chenhao"])
    with pytest.raises(Conflict, match="claimed by chenhao"):
        runtime.claim(propose_id, actor=people["wangfang"])
    with pytest.raises(Conflict):
        runtime.complete_task(propose_id, actor=people["wangfang"], data={"disposal": "liaojie"})
    runtime.reassign(propose_id, actor=people["wangfang"], to_username="wangfang")
    assert _task(db, propose_id).assignee == "wangfang"
    with pytest.raises(Forbidden):
        runtime.reassign(propose_id, actor=people["chenhao"], to_username="chenhao")  # not a leader
    with pytest.raises(ValidationError):
        runtime.reassign(propose_id, actor=people["wangfang"], to_username="liuyang")  # wrong unit
    runtime.unclaim(propose_id, actor=people["wangfang"])
    assert _task(db, propose_id).assignee is None
    runtime.complete_task(propose_id, actor=people["chenhao"], data={"disposal": "liaojie"})
    task = _task(db, propose_id)
    assert task.completed_by == "chenhao" and task.assignee == "chenhao"
    actions = _events(db, task.instance_id)
    for action in ("claimed", "reassigned", "unclaimed", "completed"):
        assert action in actions


def test_separation_of_functions(db, runtime, deployed):
    people = _people(db)
    _, propose_id = _register(runtime)
    with db.session() as s:
        s.get(HumanTask, propose_id).separate_from = ["chenhao"]
    with pytest.raises(Forbidden, match="separate"):
        runtime.claim(propose_id, actor=people["chenhao"])
    with pytest.raises(Forbidden, match="separate"):
        runtime.complete_task(propose_id, actor=people["chenhao"], data={"disposal": "liaojie"})


def test_suspend_resume_cancel(db, runtime, deployed):
    admin = Principal(username="gaoyuan", memberships=frozenset({("ags", "case_management_office")}))
    instance_id, propose_id = _register(runtime)
    with pytest.raises(Forbidden):
        runtime.suspend(instance_id, actor=Principal(username="someone"))
    with pytest.raises(Forbidden):  # 三员分立: no administrator decides about a case
        runtime.suspend(instance_id, actor=Principal(username="admin", admin_kind="system"))
    runtime.suspend(instance_id, actor=admin, reason="上级要求暂缓")
    with pytest.raises(Conflict, match="suspended"):
        runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    runtime.resume(instance_id, actor=admin)
    runtime.cancel(instance_id, actor=admin, reason="重复件")
    assert _instance(db, instance_id).status == "cancelled"
    assert _task(db, propose_id).status == "cancelled"
    with pytest.raises(Conflict):
        runtime.cancel(instance_id, actor=admin)
    assert [a for a in _events(db, instance_id) if a in ("suspended", "resumed", "cancelled")] == [
        "suspended",
        "resumed",
        "cancelled",
    ]


def test_audit_trail_is_written_with_each_change(db, runtime, deployed):
    instance_id, propose_id = _register(runtime)
    runtime.complete_task(propose_id, actor=S, data={"disposal": "liaojie"})
    assert _events(db, instance_id) == [
        "started",
        "task_created",
        "completed",
        "task_created",
        "completed",
        "instance_completed",
    ]
    with db.session() as s:
        digest = s.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "completed", AuditEvent.task_id == propose_id)
        )
    assert len(digest["data_digest"]) == 64


def test_long_automatic_loops_run_past_the_engine_depth_limit_and_runaways_are_refused(db, repo, runtime, library):
    from engine.definitions import compile_bundle
    from engine.errors import ProcessError
    from tests.engine.bpmn_templates import loop_process

    bundle = library.with_bpmn("loop.bpmn", loop_process(600).encode())
    bundle = bundle.with_bpmn("loop2.bpmn", loop_process(10**6).encode().replace(b"gt_test_loop", b"gt_test_loop2"))
    repo.deploy(compile_bundle(bundle))
    # 600 rounds is a tree depth of ~1,200: plain SpiffWorkflow stalls at 1,000 and reports the instance
    # finished; compaction between passes keeps the depth low and the loop completes.
    ok = runtime.start("gt_test_loop", data={"i": 0})
    assert len(ok.created_tasks) == 1 and ok.status == "running"
    with pytest.raises(ProcessError, match="unbounded loop") as info:
        runtime.start("gt_test_loop2", data={"i": 0})
    assert info.value.details["element"] in ("count", "gw")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 1


def test_plain_engine_without_compaction_refuses_deep_trees(db, repo, library):
    from engine.definitions import compile_bundle
    from engine.errors import ProcessError
    from tests.engine.bpmn_templates import loop_process

    repo.deploy(compile_bundle(library.with_bpmn("loop.bpmn", loop_process(480).encode())))
    plain = Runtime(db, repo, compact_history=False)
    with pytest.raises(ProcessError, match="new instances"):
        plain.start("gt_test_loop", data={"i": 0})


def test_history_is_compacted_but_the_instance_behaves_the_same(db, repo, runtime, library):
    from engine.definitions import compile_bundle
    from tests.engine.bpmn_templates import loop_process

    repo.deploy(compile_bundle(library.with_bpmn("loop.bpmn", loop_process(300).encode())))
    outcome = runtime.start("gt_test_loop", data={"i": 0})
    with db.session() as s:
        row = s.get(ProcessInstance, outcome.instance_id)
    workflow = runtime._load(row, repo.loaded(row.version_id))
    # 300 rounds made ~600 tasks; the saved state keeps only the live part and a little above it.
    assert len(workflow.tasks) < 12
    ready = [t for t in workflow.get_tasks() if t.task_spec.name == "after"]
    assert ready and ready[0].data["i"] == 300
    done = runtime.complete_task(outcome.created_tasks[0], actor=S, data={"approved": True})
    assert done.status == "completed"


def test_a_thrown_message_is_sent_once_not_kept_in_the_stored_state(db, runtime, deployed):
    """The runtime sends what a step throws in the same transaction as it stores the state; a stored
    copy would be thrown again by every later change of an instance that goes on after throwing."""
    from SpiffWorkflow.bpmn import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    from engine.runtime import state

    instance_id, _ = _register(runtime)
    row = _instance(db, instance_id)
    loaded = runtime.repo.loaded(row.version_id)
    workflow = runtime._load(row, loaded)
    workflow.bpmn_events.append(BpmnEvent(MessageEventDefinition("clue_handover"), payload={"clue_no": "XS-9"}))
    row.state = state.dump(workflow).decode()
    assert len(workflow.get_events()) == 1  # still there for the runtime to send now
    assert runtime._load(row, loaded).get_events() == []  # and not again from the stored state
