"""Background work: exactly once across workers and processes, on time across holidays."""

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.definitions import compile_bundle
from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent, HumanTask, Notification, PendingMessage, ProcessInstance, ScheduleRun
from engine.scheduling.worker import Worker
from engine.services import Services
from tests.engine.bpmn_templates import script_process

ROOT = Path(__file__).resolve().parents[3]
S = SYSTEM_PRINCIPAL
LOCAL = clock.LOCAL_TZ


@pytest.fixture
def services(db, repo, runtime, tmp_path):
    from engine.config import Config

    config = Config.from_env(database_url=db.url, instance_dir=tmp_path)
    svc = Services(config, db=db)
    svc.definitions, svc.runtime = repo, runtime
    return svc


def _propose_tasks(runtime, n, clue_prefix="XS"):
    ids = []
    for i in range(n):
        start = runtime.start("gt_test_clue")
        runtime.complete_task(
            start.created_tasks[0], actor=S, data={"clue_no": f"{clue_prefix}-{i}", "handling_unit": "qh_jc2"}
        )
        ids.append(start.instance_id)
    return ids


def _fired_counts(db, ids):
    with db.session() as s:
        rows = s.execute(
            select(AuditEvent.instance_id, func.count())
            .where(AuditEvent.action == "timer_fired", AuditEvent.instance_id.in_(ids))
            .group_by(AuditEvent.instance_id)
        ).all()
    return dict(rows)


def test_two_workers_in_threads_fire_each_timer_once(db, services, deployed):
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)) as c:
        ids = _propose_tasks(services.runtime, 12)
        c.set(dt.datetime(2024, 3, 12, 10, tzinfo=LOCAL))
        workers = [Worker(services, name=f"w{i}", batch=5) for i in range(2)]
        barrier = threading.Barrier(2)

        def drain(worker):
            barrier.wait()
            for _ in range(6):
                worker.fire_timers()

        threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert _fired_counts(db, ids) == dict.fromkeys(ids, 1)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.spec_id == "escalated")) == 12


def _child(db, mode, name, tmp_path):
    env = {
        **os.environ,
        "GUANTONG_DATABASE_URL": db.url,
        "GUANTONG_INSTANCE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.scheduling.worker_child", mode, name],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_processes_fire_timers_and_deliver_messages_exactly_once(db, services, deployed, tmp_path):
    # Instances started "in the past" so that their deadlines are due for workers on the real clock.
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)):
        ids = _propose_tasks(services.runtime, 30)
        waiters = [services.runtime.start("gt_test_waiter", data={"clue_no": f"W-{i}"}).instance_id for i in range(10)]
    with db.session() as s:
        for i in range(10):
            s.add(
                PendingMessage(
                    message_name="handover_result",
                    correlation_key=f"W-{i}",
                    payload={"i": i},
                    status="waiting",
                    received_at=clock.now(),
                    expires_at=clock.now() + dt.timedelta(days=1),
                )
            )
    children = [_child(db, "drain", f"proc{i}", tmp_path) for i in range(3)]
    for child in children:
        _out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    assert _fired_counts(db, ids) == dict.fromkeys(ids, 1)
    with db.session() as s:
        delivered = s.execute(
            select(AuditEvent.instance_id, func.count())
            .where(AuditEvent.action == "message_delivered")
            .group_by(AuditEvent.instance_id)
        ).all()
        assert dict(delivered) == dict.fromkeys(waiters, 1)
        assert (
            s.scalar(select(func.count()).select_from(PendingMessage).where(PendingMessage.status == "delivered")) == 10
        )


def test_worker_killed_mid_step_loses_nothing_and_the_step_runs_once_after_its_lease(db, services, deployed, tmp_path):
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)):
        ids = _propose_tasks(services.runtime, 3)
    with db.session() as s:
        before = {
            r.id: (r.lock_version, r.state)
            for r in s.execute(select(ProcessInstance.id, ProcessInstance.lock_version, ProcessInstance.state))
        }
    child = _child(db, "stall", "doomed", tmp_path)
    assert child.stdout.readline().strip() == "stalled"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with db.session() as s:
        rows = s.execute(
            select(ProcessInstance.id, ProcessInstance.lock_version, ProcessInstance.state, ProcessInstance.lease_owner)
        ).all()
    assert {r.id: (r.lock_version, r.state) for r in rows} == before  # nothing half-applied
    assert {r.lease_owner for r in rows if r.id in ids} == {"doomed"}
    survivor = Worker(services, name="survivor")
    assert survivor.fire_timers() == 0  # leases still held by the dead worker
    with db.session() as s:  # let the leases lapse (they are 60 s; move them into the past)
        s.execute(update(ProcessInstance).values(lease_until=clock.now() - dt.timedelta(seconds=1)))
    assert survivor.fire_timers() == 3
    assert survivor.fire_timers() == 0
    assert _fired_counts(db, ids) == dict.fromkeys(ids, 1)


def test_reminder_then_escalation_across_qingming(db, services, deployed):
    from engine.organisation.directory import import_organisation, load_file

    with db.session() as s:  # 青湖县: the task's 第二监督检查室 and the commission's secretary
        import_organisation(s, load_file(ROOT / "tests" / "fixtures" / "organisation.yaml"))
    worker = Worker(services, name="w")
    with clock.frozen(dt.datetime(2024, 4, 2, 9, tzinfo=LOCAL)) as c:
        _propose_tasks(services.runtime, 1)
        with db.session() as s:
            task = s.scalar(select(HumanTask).where(HumanTask.spec_id == "propose"))
        # due Wed 04-10 (清明 04-04..06 off, Sunday 04-07 worked); reminder 2 working days before: Mon 04-08
        assert task.due_at.astimezone(LOCAL).date() == dt.date(2024, 4, 10)
        assert task.reminder_at.astimezone(LOCAL).date() == dt.date(2024, 4, 8)
        c.set(dt.datetime(2024, 4, 7, 18, tzinfo=LOCAL))
        assert worker.remind_and_escalate() == 0
        c.set(dt.datetime(2024, 4, 8, 9, 30, tzinfo=LOCAL))
        assert worker.remind_and_escalate() == 1
        assert worker.remind_and_escalate() == 0  # once
        c.set(dt.datetime(2024, 4, 11, 8, tzinfo=LOCAL))
        assert worker.remind_and_escalate() == 1
        assert worker.remind_and_escalate() == 0
    with db.session() as s:
        notes = s.execute(
            select(Notification.kind, Notification.role_code, Notification.unit_code).order_by(Notification.id)
        ).all()
    assert notes == [
        ("reminder", "supervision_office", "qh_jc2"),
        ("overdue", "supervision_office", "qh_jc2"),
        ("escalation", "commission_secretary", "qh_cdi"),  # the owning commission's, never every secretary's
    ]


def test_monthly_start_fires_once_per_period_across_workers(db, services, deployed):
    workers = [Worker(services, name=f"w{i}") for i in range(2)]
    with clock.frozen(dt.datetime(2024, 3, 1, 9, tzinfo=LOCAL)) as c:
        # deployed "now"; nothing is due before the first deployment
        with db.session() as s:
            from engine.models import DefinitionVersion

            s.execute(update(DefinitionVersion).values(created_at=clock.now()))
        assert sum(w.start_scheduled() for w in workers) == 0
        c.set(dt.datetime(2024, 3, 5, 9, 1, tzinfo=LOCAL))
        assert sum(w.start_scheduled() for w in workers) == 1
        assert sum(w.start_scheduled() for w in workers) == 0
        # 2024-05-05 is a Sunday after the 劳动节 holiday (05-01..05): the meeting moves to Monday 05-06
        c.set(dt.datetime(2024, 5, 5, 12, tzinfo=LOCAL))
        assert workers[0].start_scheduled() == 1  # April's, caught up
        c.set(dt.datetime(2024, 5, 6, 9, 30, tzinfo=LOCAL))
        assert workers[1].start_scheduled() == 1
    with db.session() as s:
        runs = s.execute(select(ScheduleRun.period, ScheduleRun.due_at).order_by(ScheduleRun.period)).all()
        tasks = s.scalars(select(HumanTask.spec_id).where(HumanTask.status == "ready")).all()
    assert [(p, d.astimezone(LOCAL).date()) for p, d in runs] == [
        ("2024-03", dt.date(2024, 3, 5)),
        ("2024-04", dt.date(2024, 4, 7)),  # 04-05 is 清明; Sunday 04-07 is the make-up working day
        ("2024-05", dt.date(2024, 5, 6)),
    ]
    assert tasks == ["prepare", "prepare", "prepare"]


def test_failed_automatic_step_is_retried_with_backoff_then_shown_failed(db, services, repo, library):
    bundle = library.with_bpmn("fail.bpmn", script_process(script="checked = True", condition="checked").encode())
    # The timer path runs a script that divides by zero.
    text = (
        bundle.bpmn["fail.bpmn"]
        .decode()
        .replace(
            '<bpmn:endEvent id="end_late"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>',
            '<bpmn:scriptTask id="after_late" name="逾期计算"><bpmn:incoming>f_late</bpmn:incoming><bpmn:outgoing>f_l2</bpmn:outgoing>'
            "<bpmn:script>ratio = 1 / divisor</bpmn:script></bpmn:scriptTask>"
            '<bpmn:endEvent id="end_late"><bpmn:incoming>f_l2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="f_l2" sourceRef="after_late" targetRef="end_late"/>',
        )
        .replace('sourceRef="review_late" targetRef="end_late"', 'sourceRef="review_late" targetRef="after_late"')
    )
    repo.deploy(compile_bundle(bundle.with_bpmn("fail.bpmn", text.encode())))
    worker = Worker(services, name="w", max_attempts=3, retry_delay=dt.timedelta(seconds=30))
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)) as c:
        instance_id = services.runtime.start("gt_test_sandbox", data={"divisor": 0}).instance_id
        c.set(dt.datetime(2024, 3, 12, 10, tzinfo=LOCAL))
        assert worker.fire_timers() == 0
        with db.session() as s:
            row = s.get(ProcessInstance, instance_id)
            assert row.status == "running" and row.attempts == 1 and "after_late" in str(row.error)
            assert row.next_timer_at == clock.now() + dt.timedelta(seconds=30)
        c.advance(seconds=31)
        worker.fire_timers()
        c.advance(seconds=61)
        worker.fire_timers()
        with db.session() as s:
            row = s.get(ProcessInstance, instance_id)
            assert row.status == "error" and row.attempts == 3
            # Of no known commission (no organisation here): one notice naming no case and no error value.
            [notice] = s.scalars(select(Notification).where(Notification.kind == "info")).all()
            assert (notice.role_code, notice.unit_code, notice.instance_id) == ("case_management_office", None, None)
            assert "ZeroDivisionError" not in notice.message and "divisor" not in notice.message
        with pytest.raises(Forbidden):
            services.runtime.retry(instance_id, actor=Principal("officer"))
        with pytest.raises(Forbidden):  # 三员分立: no administrator decides about a case
            services.runtime.retry(instance_id, actor=Principal("admin", admin_kind="system"))
        overseer = Principal("gaoyuan", memberships=frozenset({("ags", "case_management_office")}))
        services.runtime.retry(instance_id, actor=overseer)
        with db.session() as s:
            row = s.get(ProcessInstance, instance_id)
            assert row.status == "running" and row.attempts == 0 and row.error is None
        with pytest.raises(Conflict):
            services.runtime.retry(instance_id, actor=overseer)


def test_unreceived_message_expires_and_is_reported(db, services, deployed):
    worker = Worker(services, name="w")
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)) as c:
        result = services.runtime.send_message("handover_result", "NOBODY", {"x": 1})
        assert result["status"] == "pending"
        c.advance(days=31)
        assert worker.expire_messages() == 1
    with db.session() as s:
        assert s.scalar(select(PendingMessage.status)) == "expired"
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "message_expired")) == "message_expired"
        assert "无人接收" in s.scalar(select(Notification.message))


def test_a_stopping_worker_hands_back_the_leases_it_did_not_use(db, services, deployed):
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=LOCAL)) as c:
        ids = _propose_tasks(services.runtime, 3)
        c.set(dt.datetime(2024, 3, 12, 10, tzinfo=LOCAL))
        worker = Worker(services, name="leaving")
        worker.stopping.set()  # SIGTERM arrived
        assert worker.fire_timers() == 0
        with db.session() as s:
            assert s.scalars(select(ProcessInstance.lease_owner).where(ProcessInstance.id.in_(ids))).all() == [None] * 3
        assert Worker(services, name="other").fire_timers() == 3  # no waiting for the leases to lapse


def test_message_retention_is_configurable(tmp_path, monkeypatch):
    from engine.config import Config

    monkeypatch.setenv("GUANTONG_MESSAGE_TTL_DAYS", "7")
    config = Config.from_env(database_url=f"sqlite:///{tmp_path / 'x.db'}", instance_dir=tmp_path)
    assert Services(config).runtime.message_ttl == dt.timedelta(days=7)
