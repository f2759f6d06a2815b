"""Background work, found by indexed queries on due-time columns and shared safely between workers.

One pass does, in order: due timers (under a lease per instance), pending messages (row-locked per
message), timer starts due this period (once per period through a unique key), reminders and
escalations of human tasks (once each through a guarded update), and expiry of messages nobody
received (reported, never dropped silently), then it seals new audit events into the chain and exports
the chain head now and then (engine/audit/chain.py, heads.py), and last recomputes the cockpit's stale
snapshots within a bounded budget (engine/cockpit/snapshots.py). Any number of workers on any number of machines may run
against one PostgreSQL; a worker killed mid-step leaves its transaction uncommitted and its lease to
expire, so the step runs once, later. ``guantong serve`` runs one in a thread on SQLite.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, clock, planner
from engine.audit import chain, heads
from engine.audit.verify import report_rejected
from engine.cockpit import snapshots
from engine.db import affected
from engine.errors import Conflict, EngineError
from engine.instances import entry
from engine.models import (
    DefinitionVersion,
    HumanTask,
    Membership,
    Notification,
    PendingMessage,
    ProcessDefinition,
    ProcessInstance,
    ScheduleRun,
    TaskCandidate,
    User,
)
from engine.notifications import outbound
from engine.notifications import work as work_notices
from engine.organisation.directory import commission_of, owner_units, roles_held
from engine.scheduling.schedules import Occurrence, latest_due

if TYPE_CHECKING:
    from engine.definitions.repository import LoadedVersion
    from engine.services import Services

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        services: Services,
        *,
        interval: float = 2.0,
        batch: int = 50,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        max_attempts: int = 5,
        retry_delay: dt.timedelta = dt.timedelta(seconds=30),
        report_role: str = "case_management_office",
        name: str | None = None,
        channels: list[outbound.Channel] | None = None,
    ):
        self.services = services
        self.channels = outbound.from_environment() if channels is None else channels
        self.runtime = services.runtime
        self.db = services.db
        self.interval = interval
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.report_role = report_role
        self.id = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()
        self._head_exported: tuple[int, float] | None = None  # (seq, monotonic time) of the last export
        self._defaults_computed: float | None = None  # monotonic time the managers' default pages were looked for
        self._statistics_checked: float | None = None  # monotonic time the tables' statistics were last looked at

    # ------------------------------------------------------------------ one pass
    def run_once(self) -> dict[str, int]:
        return {
            "timers": self.fire_timers(),
            "messages": self.deliver_messages(),
            "starts": self.start_scheduled(),
            "reminders": self.remind_and_escalate(),
            "expired": self.expire_messages(),
            "notices": self.notice_new_work(),
            "outbound": self.send_notifications(),
            "sealed": self.seal_audit(),
            "snapshots": self.refresh_snapshots(),
            "analysed": self.refresh_statistics(),
        }

    def refresh_statistics(self) -> int:
        """Analyse the tables that changed enough since their last ANALYZE, once per
        ``statistics_interval`` (PostgreSQL; engine/planner.py says why)."""
        last = self._statistics_checked
        if last is not None and time.monotonic() - last < self.services.config.statistics_interval:
            return 0
        self._statistics_checked = time.monotonic()
        analysed = planner.analyze_changed(self.db)
        if analysed:
            log.info("planner statistics refreshed: %s", ", ".join(analysed))
        return len(analysed)

    def refresh_snapshots(self) -> int:
        """Recompute the cockpit's stale snapshots, within the pass's bounds (engine/cockpit/snapshots.py);
        the managers' default pages are looked for once per refresh interval only (it reads the roles)."""
        config = self.services.config
        if not config.cockpit_snapshots:
            return 0
        last = self._defaults_computed
        precompute = last is None or time.monotonic() - last >= config.snapshot_refresh_minutes * 60
        report = snapshots.refresh_pass(self.db, config, precompute=precompute)
        if precompute:
            self._defaults_computed = time.monotonic()
        if report.written or report.deleted or report.failed:
            log.info(
                "cockpit snapshots: %d refreshed, %d computed ahead, %d deleted, %d failed in %.1f s",
                report.refreshed,
                report.created,
                report.deleted,
                report.failed,
                report.seconds,
            )
        return report.written

    def notice_new_work(self) -> int:
        """Tell people that work arrived or was handed to them (engine/notifications/work.py)."""
        with self.db.session() as session:
            return work_notices.sweep(session, self._notify_task, batch=self.batch)

    def send_notifications(self) -> int:
        """Plan and send the notifications' outbound deliveries, each at most once (engine/notifications)."""
        with self.db.session() as session:
            outbound.plan(session, self.channels, batch=self.batch)
        return outbound.send_pending(self.db, self.channels, self.id, batch=self.batch)

    def seal_audit(self) -> int:
        """Link the audit events committed since the last pass; export the head when it moved and the
        export interval has passed (a cut tail is then detectable by ``guantong audit verify``)."""
        sealed = chain.seal(self.db)
        if sealed.rejected:
            report_rejected(self.db, sealed.rejected[0])
        current = sealed.head
        config = self.services.config
        if current is not None:
            last = self._head_exported
            due = last is None or time.monotonic() - last[1] >= config.audit_head_interval
            if due and (last is None or current.seq > last[0]):
                heads.append(config.audit_head_file, current)
                self._head_exported = (current.seq, time.monotonic())
        return sealed.count

    def fire_timers(self) -> int:
        fired = 0
        leased = self.runtime.lease_due_instances(self.id, limit=self.batch, lease=self.lease)
        for position, instance_id in enumerate(leased):
            if self.stopping.is_set():
                # Shutting down: hand back what we leased but did not start, so others need not wait.
                self.runtime.release_leases(self.id, leased[position:])
                break
            try:
                if self.runtime.fire_timers(instance_id, lease_owner=self.id) is not None:
                    fired += 1
            except Conflict:
                continue
            except EngineError as exc:
                log.warning("instance %s: timer step failed: %s", instance_id, exc)
                if (
                    self.runtime.record_failure(
                        instance_id, exc, max_attempts=self.max_attempts, base_delay=self.retry_delay, worker=self.id
                    )
                    == "failed"
                ):
                    self._notify_failure(instance_id=instance_id)
        return fired

    def deliver_messages(self) -> int:
        now = clock.now()
        with self.db.session() as session:
            ids = list(
                session.scalars(
                    select(PendingMessage.id)
                    .where(
                        PendingMessage.status == "waiting",
                        (PendingMessage.retry_at.is_(None)) | (PendingMessage.retry_at <= now),
                    )
                    .order_by(PendingMessage.id)
                    .limit(self.batch)
                )
            )
        delivered = 0
        for message_id in ids:
            if self.stopping.is_set():
                break
            try:
                result = self.runtime.dispatch_message(message_id)
                delivered += result.get("status") in ("delivered", "started")
            except Conflict:
                continue
            except EngineError as exc:
                log.warning("message %s: %s", message_id, exc)
                if (
                    self.runtime.record_message_failure(
                        message_id, exc, max_attempts=self.max_attempts, base_delay=self.retry_delay
                    )
                    == "failed"
                ):
                    self._notify_failure(message_id=message_id)
        return delivered

    def expire_messages(self) -> int:
        now = clock.now()
        expired = 0
        with self.db.session() as session:
            rows = session.execute(
                select(
                    PendingMessage.id,
                    PendingMessage.message_name,
                    PendingMessage.correlation_key,
                    PendingMessage.source_instance_id,
                    PendingMessage.sent_by,
                )
                .where(PendingMessage.status == "waiting", PendingMessage.expires_at < now)
                .limit(self.batch)
            ).all()
            for row in rows:
                res = session.execute(
                    update(PendingMessage)
                    .where(PendingMessage.id == row.id, PendingMessage.status == "waiting")
                    .values(status="expired")
                    .execution_options(synchronize_session=False)
                )
                if affected(res):
                    expired += 1
                    audit.record(
                        session,
                        "message_expired",
                        actor="system",
                        message=row.message_name,
                        correlation_key=row.correlation_key,
                        message_id=row.id,
                    )
                    commission = self._message_commission(session, row.source_instance_id, row.sent_by)
                    self._report(
                        session,
                        commission,
                        f"消息“{row.message_name}”（{row.correlation_key or '无关联键'}）在保留期内无人接收，已过期。"
                        if commission
                        else f"消息“{row.message_name}”（编号 {row.id}）在保留期内无人接收，已过期。",
                    )
        return expired

    # ------------------------------------------------------------------ timer starts
    def start_scheduled(self) -> int:
        now = clock.now()
        started = 0
        with self.db.session() as session:
            latest = self.services.definitions.latest_version_id(session)
            if latest is None:
                return 0
            starters = session.execute(
                select(
                    ProcessDefinition.process_key, ProcessDefinition.schedule_key, ProcessDefinition.version_id
                ).where(
                    ProcessDefinition.version_id == latest,
                    ProcessDefinition.start_kind == "timer",
                    ProcessDefinition.executable.is_(True),
                )
            ).all()
        if not starters:
            return 0
        loaded = self.services.definitions.loaded(latest)
        for process_key, schedule_key, _version_id in starters:
            schedule = (loaded.settings.get("schedules") or {}).get(schedule_key or "")
            if not schedule_key or not schedule:
                continue
            occ = latest_due(schedule, now, loaded.policy.calendar)
            first = self._first_deployed(process_key)
            if occ is None or first is None or occ.due_at < first:
                continue
            if self._start_once(process_key, schedule_key, occ, loaded):
                started += 1
        return started

    def _first_deployed(self, process_key: str) -> dt.datetime | None:
        with self.db.session() as session:
            return session.scalar(
                select(func.min(DefinitionVersion.created_at))
                .join(ProcessDefinition, ProcessDefinition.version_id == DefinitionVersion.id)
                .where(ProcessDefinition.process_key == process_key)
            )

    def _start_once(self, process_key: str, schedule_key: str, occ: Occurrence, loaded: LoadedVersion) -> bool:
        with self.db.session() as session:
            exists = session.scalar(
                select(ScheduleRun.id).where(ScheduleRun.process_key == process_key, ScheduleRun.period == occ.period)
            )
            if exists:
                return False
        try:
            with self.db.session() as session:
                run = ScheduleRun(
                    process_key=process_key,
                    schedule_key=schedule_key,
                    period=occ.period,
                    due_at=occ.due_at,
                    fired_at=clock.now(),
                    fired_by=self.id,
                )
                session.add(run)
                session.flush()  # the unique (process, period) key decides between racing workers here
                # Each commission whose offices do the first task holds its own 月例会 / 研判: one instance
                # per commission, owned by it (its units get the tasks), all in this one transaction.
                commissions = entry.owning_commissions(session, loaded, process_key)
                outcomes = []
                owners: list[str | None] = [*commissions] or [None]
                for commission in owners:
                    owner = owner_units(session, commission, loaded.roles.roles) if commission else {}
                    suffix = f":{commission}" if len(commissions) > 1 else ""
                    outcomes.append(
                        self.runtime.start(
                            process_key,
                            business_key=f"{process_key}:{occ.period}{suffix}",
                            owner_unit=commission,
                            data={**owner, "scheduled_at": occ.due_at.isoformat(), "period": occ.period},
                            _session=session,
                        )
                    )
                run.instance_id = outcomes[0].instance_id
        except IntegrityError:
            return False
        for outcome in outcomes:
            self.runtime.after_commit(outcome)
        return True

    # ------------------------------------------------------------------ reminders and escalations
    def remind_and_escalate(self) -> int:
        now = clock.now()
        sent = 0
        with self.db.session() as session:
            due_reminders = session.scalars(
                select(HumanTask)
                .where(HumanTask.status == "ready", HumanTask.reminder_at <= now, HumanTask.reminded_at.is_(None))
                .limit(self.batch)
            ).all()
            for task in due_reminders:
                if self._mark(session, task, "reminded_at", now):
                    sent += 1
                    self._notify_task(
                        session,
                        task,
                        "reminder",
                        f"任务“{task.name}”（{task.business_key or task.instance_id}）将于 "
                        f"{_local(task.due_at)} 到期，请抓紧办理。",
                    )
                    audit.record(session, "reminded", actor="system", instance_id=task.instance_id, task_id=task.id)
            overdue = session.scalars(
                select(HumanTask)
                .where(HumanTask.status == "ready", HumanTask.due_at < now, HumanTask.escalated_at.is_(None))
                .limit(self.batch)
            ).all()
            for task in overdue:
                if not self._mark(session, task, "escalated_at", now):
                    continue
                sent += 1
                escalate_to, escalate_units = self._escalation_role(session, task)
                self._notify_task(
                    session,
                    task,
                    "overdue",
                    f"任务“{task.name}”（{task.business_key or task.instance_id}）已于 {_local(task.due_at)} 逾期。",
                )
                for role, unit in escalate_units:
                    session.add(
                        Notification(
                            kind="escalation",
                            role_code=role,
                            unit_code=unit,
                            task_id=task.id,
                            instance_id=task.instance_id,
                            created_at=now,
                            message=f"督办：任务“{task.name}”（{task.business_key or task.instance_id}）已逾期，请督促办理。",
                        )
                    )
                audit.record(
                    session,
                    "escalated",
                    actor="system",
                    instance_id=task.instance_id,
                    task_id=task.id,
                    escalate_to=escalate_to,
                    due_at=task.due_at.isoformat() if task.due_at else None,
                )
        return sent

    @staticmethod
    def _mark(session: Session, task: HumanTask, column: str, now: dt.datetime) -> bool:
        res = session.execute(
            update(HumanTask)
            .where(HumanTask.id == task.id, getattr(HumanTask, column).is_(None), HumanTask.status == "ready")
            .values({column: now})
            .execution_options(synchronize_session=False)
        )
        return affected(res) == 1

    def _escalation_role(self, session: Session, task: HumanTask) -> tuple[str | None, list[tuple[str | None, str]]]:
        """The role an overdue task escalates to, and the (role, unit) pairs its escalation goes to: the
        units where that role sits in the commission that owns the instance (``owner_unit``), so only that
        commission's 分管领导 or 书记 hear of it; the commission's leaders when no unit of it holds the role;
        nobody when the owner is unknown (the cockpit's deadlines page still shows the task)."""
        if not task.due_key:
            return None, []
        row = session.execute(
            select(ProcessInstance.version_id, ProcessInstance.owner_unit).where(ProcessInstance.id == task.instance_id)
        ).one_or_none()
        if row is None:
            return None, []
        loaded = self.services.definitions.loaded(row.version_id)
        try:
            role = loaded.policy.rule(task.due_key).escalate_to
        except KeyError:
            return None, []
        if not role:
            return None, []
        commission = row.owner_unit or self._task_commission(session, task)
        if commission is None:
            log.warning("task %s: overdue, but its instance has no owning commission to escalate in", task.id)
            return role, []
        units = sorted(roles_held(session, commission).get(role, set()))
        if not units:
            return role, [(None, commission)]
        return role, [(role, unit) for unit in units]

    @staticmethod
    def _task_commission(session: Session, task: HumanTask) -> str | None:
        """The one commission of a task's candidate units (an instance started before owners were kept)."""
        candidates = session.scalars(select(TaskCandidate.unit_code).where(TaskCandidate.task_id == task.id)).all()
        commissions = {c for u in candidates if (c := commission_of(session, u)) is not None}
        return commissions.pop() if len(commissions) == 1 else None

    @staticmethod
    def _notify_task(session: Session, task: HumanTask, kind: str, message: str) -> None:
        """To the assignee; else to the task's role in each of its candidate units (their leaders see it
        too, engine/cockpit/notifications.py); a task naming no unit, to the owning commission's leaders.
        Never to holders of the role elsewhere. The message names the step and the business key only."""
        if task.assignee:
            session.add(
                Notification(
                    kind=kind,
                    username=task.assignee,
                    task_id=task.id,
                    instance_id=task.instance_id,
                    message=message,
                    created_at=clock.now(),
                )
            )
            return
        targets: list[tuple[str | None, str]] = [
            (task.role, unit)
            for unit in session.scalars(select(TaskCandidate.unit_code).where(TaskCandidate.task_id == task.id))
        ]
        if not targets:
            owner = session.scalar(select(ProcessInstance.owner_unit).where(ProcessInstance.id == task.instance_id))
            if owner is None:
                log.warning("task %s names no unit and its instance no owner: %s notice not sent", task.id, kind)
                return
            targets = [(None, owner)]
        for role, unit in targets:
            session.add(
                Notification(
                    kind=kind,
                    unit_code=unit,
                    role_code=role,
                    task_id=task.id,
                    instance_id=task.instance_id,
                    message=message,
                    created_at=clock.now(),
                )
            )

    @staticmethod
    def _message_commission(session: Session, source_instance_id: int | None, sent_by: str | None) -> str | None:
        """The commission a message belongs to: its sending instance's, else its sender's one commission."""
        if source_instance_id is not None:
            return session.scalar(select(ProcessInstance.owner_unit).where(ProcessInstance.id == source_instance_id))
        if not sent_by or sent_by == "system":
            return None
        units = session.scalars(
            select(Membership.unit_code).join(User, User.id == Membership.user_id).where(User.username == sent_by)
        ).all()
        commissions = {c for u in units if (c := commission_of(session, u)) is not None}
        return commissions.pop() if len(commissions) == 1 else None

    def _report(self, session: Session, commission: str | None, message: str, instance_id: int | None = None) -> None:
        """An ``info`` notice for the report role (案管室) of ``commission``, in each of its units holding
        the role; with no commission known, to the role with no unit, and then the message names no case."""
        units: list[str | None] = (
            [*sorted(roles_held(session, commission).get(self.report_role, set()))] if commission else []
        )
        for unit in units or [None]:
            session.add(
                Notification(
                    kind="info",
                    role_code=self.report_role,
                    unit_code=unit,
                    instance_id=instance_id,
                    message=message,
                    created_at=clock.now(),
                )
            )

    def _notify_failure(self, *, instance_id: int | None = None, message_id: int | None = None) -> None:
        """Tell the owning commission's 案管室 an instance or a message keeps failing; the cockpit's failed
        page has the element and the error, the notice only the step's place (never a value)."""
        with self.db.session() as session:
            if instance_id is not None:
                row = session.execute(
                    select(ProcessInstance.owner_unit, ProcessInstance.business_key).where(
                        ProcessInstance.id == instance_id
                    )
                ).one_or_none()
                commission = row.owner_unit if row is not None else None
                key = (row.business_key if row is not None else None) or instance_id
                text = f"流程实例（{key}）的自动步骤多次失败，已停止，请在驾驶舱“失败实例”中处理。"
                if commission:
                    self._report(session, commission, text, instance_id)
                else:  # an instance of no known owner: a notice naming no case, for the role wherever it is
                    self._report(session, None, f"流程实例 {instance_id} 的自动步骤多次失败，已停止。")
            elif message_id is not None:
                msg = session.get(PendingMessage, message_id)
                commission = (
                    self._message_commission(session, msg.source_instance_id, msg.sent_by) if msg is not None else None
                )
                self._report(session, commission, f"消息（编号 {message_id}）多次投递失败。")

    # ------------------------------------------------------------------ loop
    def run(self, once: bool = False) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stopping.set())
        log.info("worker %s started", self.id)
        while not self.stopping.is_set():
            try:
                done = self.run_once()
            except Exception:  # keep the worker alive; the failure is logged with its traceback
                log.exception("worker pass failed")
                done = {}
            if once:
                break
            if not any(done.values()):
                self.stopping.wait(self.interval)
        log.info("worker %s stopped", self.id)


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d") if moment else "?"


def start_background_worker(services: Services, interval: float = 5.0) -> Worker:
    worker = Worker(services, interval=interval, name=f"embedded:{os.getpid()}")
    thread = threading.Thread(target=worker.run, name="guantong-worker", daemon=True)
    thread.start()
    return worker
