"""The tables Guantong keeps. Everything a person looks for is a column, never buried in engine state.

- organisation: units, the links the rules define between them, users and their role memberships;
- definitions: an immutable, content-hashed version per deploy, with its files and parsed specs;
- runtime: instances (engine state without the spec), a denormalised ``human_task`` table the inboxes
  query without loading any workflow, message subscriptions and form submissions;
- audit: an append-only event log written in the same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.clock import now
from engine.db import Base, JSONType, StatusWord, UTCDateTime


# --------------------------------------------------------------------------- organisation
class Unit(Base):
    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A commission's 机关代字 for the 文号 it issues (GB/T 9704 发文字号), e.g. 青纪; engine/numbering.
    doc_prefix: Mapped[str | None] = mapped_column(String(20))


class UnitLink(Base):
    """A relation the rules define: 室 links 组 and 地, a 派驻组 covers units, a zone groups townships."""

    __tablename__ = "unit_link"
    __table_args__ = (UniqueConstraint("kind", "from_code", "to_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    from_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), index=True)
    to_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), index=True)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 三员分立: None for everyone who works on cases; "system", "security" or "audit" for the three
    # administrators (engine/access/sanyuan.py). One column, so one account is at most one of them.
    admin_kind: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    # An initial password (set by an administrator or a seed file) must be replaced at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "unit_code", "role_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), index=True)
    role_code: Mapped[str] = mapped_column(String(64), index=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")


# --------------------------------------------------------------------------- definitions
class DefinitionVersion(Base):
    """One deploy: the BPMN files, forms, role catalogue and settings, hashed as a whole."""

    __tablename__ = "definition_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    created_by: Mapped[str | None] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(Text)
    specs: Mapped[str] = mapped_column(Text)  # serialized SpiffWorkflow specs, JSON, once per version
    catalogue: Mapped[dict[str, Any]] = mapped_column(JSONType)  # per process: tags, lanes, tasks, messages
    forms: Mapped[dict[str, Any]] = mapped_column(JSONType)
    roles: Mapped[dict[str, Any]] = mapped_column(JSONType)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)

    files: Mapped[list[DefinitionFile]] = relationship(back_populates="version", cascade="all, delete-orphan")


class DefinitionFile(Base):
    __tablename__ = "definition_file"
    __table_args__ = (UniqueConstraint("version_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)

    version: Mapped[DefinitionVersion] = relationship(back_populates="files")


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("version_id", "process_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(120), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # counts content changes of this process
    content_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(20))
    mechanism: Mapped[str | None] = mapped_column(String(10))
    platform: Mapped[str | None] = mapped_column(String(10))
    executable: Mapped[bool] = mapped_column(Boolean, default=True)
    start_kind: Mapped[str] = mapped_column(String(20), default="none")  # none | message | timer
    start_message: Mapped[str | None] = mapped_column(String(120), index=True)
    schedule_key: Mapped[str | None] = mapped_column(String(120))


# --------------------------------------------------------------------------- runtime
class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_status_next_timer", "status", "next_timer_at"),
        Index("ix_instance_key_status", "process_key", "status"),
        # started_by + id: need-to-know's "I started it" answered from the index alone (engine/visibility.py).
        Index("ix_instance_started_by", "started_by", "id"),
        # A parent's children (call activities, linked instances): without it, reading or deleting one
        # parent's children scans every instance (issue 16: the province benchmark's reset took minutes).
        Index("ix_instance_parent", "parent_instance_id"),
        # (owner_unit, id): a manager's instances counted, or joined to their overdue tasks, from the index
        # alone (issue 16). No index leads with updated_at (migration 0018): the planner walked one backwards
        # for a "newest 20" whose rows were few and old, reading every instance (4.7 s for a county), and
        # it made every step's instance update a non-HOT one.
        Index("ix_instance_owner_id", "owner_unit", "id"),
        # A commission's instances of one status, newest activity first: the cockpit's lists take the
        # newest page of each overseen commission from the end of this range (migration 0019). Leading
        # with owner and status, it serves no walk over the whole table; it costs every step's update
        # its HOT-ness (updated_at is indexed), measured and accepted in docs/benchmarks.md, "Issue 16".
        Index("ix_instance_owner_status_updated", "owner_unit", "status", "updated_at", "id"),
        # A commission's overdue instances of one status, counted from one index range (migration 0021;
        # ``open_due_at`` is kept by triggers on human_task: engine/instances/open_due.py).
        Index("ix_instance_owner_status_due", "owner_unit", "status", "open_due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(120))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|suspended|completed|cancelled|error
    stage: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(Text)  # engine state, JSON, spec not included
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    started_by: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    owner_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    # The earliest due time of its open tasks (NULL: none has one), set by the database's triggers on
    # human_task, never by the application (engine/instances/open_due.py): overdue is open_due_at < now.
    open_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # small, visible facts for lists
    # Background work on this instance (timers): which worker holds it, until when, and failed attempts.
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


TASK_STATUSES = ("ready", "completed", "cancelled")


class HumanTask(Base):
    """One row per user task the engine made READY; the inbox reads only this table."""

    __tablename__ = "human_task"
    __table_args__ = (
        # The trailing columns let the inbox and need-to-know read these from the index alone: the
        # instance of each task I hold or completed, and my completed tasks newest first (one page).
        Index("ix_task_assignee_status", "assignee", "status", "instance_id"),
        Index("ix_task_completed_by_status", "completed_by", "status", "completed_at", "id", "instance_id"),
        # Open tasks only (about 5% of the rows): the inbox's pool and team tabs join their candidate
        # units against this instead of reading every task a unit was ever offered.
        Index(
            "ix_task_open_role",
            "role",
            "assignee",
            "id",
            postgresql_where=text("status = 'ready'"),
            sqlite_where=text("status = 'ready'"),
        ),
        # One instance's tasks of a status; with due_at last, also the earliest due time of its open tasks
        # (the open-due triggers, engine/instances/open_due.py) from one short index range (migration 0023).
        Index("ix_task_instance_status", "instance_id", "status", "due_at"),
        Index("ix_task_status_due", "status", "due_at"),
        # Open tasks past their due time and their instances, from the index alone: the instance list's
        # "overdue" filter joins these to the overseen instances (issue 16).
        Index(
            "ix_task_ready_due",
            "due_at",
            "instance_id",
            postgresql_where=text("status = 'ready'"),
            sqlite_where=text("status = 'ready'"),
        ),
        Index("ix_task_status_reminder", "status", "reminder_at"),
        # (status, role) alone is its prefix (migration 0024 dropped that shorter index).
        Index("ix_task_status_role_unscoped", "status", "role", "has_candidates"),
        UniqueConstraint("instance_id", "task_uuid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_uuid: Mapped[str] = mapped_column(String(36))
    spec_id: Mapped[str] = mapped_column(String(120))
    process_key: Mapped[str] = mapped_column(String(120))  # the process the task belongs to (may be a called one)
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(120))
    stage: Mapped[str | None] = mapped_column(String(20))
    mechanism: Mapped[str | None] = mapped_column(String(10))
    platform: Mapped[str | None] = mapped_column(String(10))
    assignee: Mapped[str | None] = mapped_column(String(80))
    # ready|completed|cancelled, compared as words in the SQL (engine/db.py ``StatusWord``: the partial indexes).
    status: Mapped[str] = mapped_column(StatusWord(20, TASK_STATUSES), default="ready")
    separate_from: Mapped[list[str] | None] = mapped_column(JSONType)
    # Steps (``process:step``) whose actual actors in any linked instance of the case may not do this one
    # (the task property ``separateFromSteps``, engine/access/duties.py); copied from the deployed version.
    separate_steps: Mapped[list[str] | None] = mapped_column(JSONType)
    # False: the task names no candidate unit, so every holder of its role may take it. Kept on the row
    # so the inbox finds such tasks through an index instead of proving a NOT EXISTS per open task.
    has_candidates: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # True: a task of a lane outside the handling commission addressed to one named person (the 函询 reply
    # to the letter's recipient, ``assigneeVar`` in an ``addressed`` lane): his alone, never the pool's of
    # his unit and role, and never handed to someone else (engine/access/authz.py).
    personal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_key: Mapped[str | None] = mapped_column(String(120))
    # The day the limit runs from (creation, or a date the process knows): kept so a new calendar
    # arrangement can recompute ``due_at`` and ``reminder_at`` (engine/scheduling/operations.py).
    due_start: Mapped[dt.date | None] = mapped_column(Date)
    reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(80))

    candidates: Mapped[list[TaskCandidate]] = relationship(cascade="all, delete-orphan", lazy="selectin")


@event.listens_for(HumanTask.__table__, "after_create")
def _keep_open_due(_table: object, connection: Any, **_kw: object) -> None:
    """Tables made from the models (tests, ``create_all``) get the triggers migration 0021 installs."""
    from engine.instances.open_due import install

    install(connection)


class TaskCandidate(Base):
    """A unit whose members holding the task's role may claim it."""

    __tablename__ = "human_task_candidate"
    __table_args__ = (
        # (unit_code, task_id): a unit's tasks from the index alone, to join against the open tasks.
        Index("ix_candidate_unit_task", "unit_code", "task_id"),
        # A unit's open tasks alone (issue 19): the inbox's group and team tabs start here, so their cost
        # follows the unit's waiting tasks, not every task it was ever offered nor the role's open tasks
        # province-wide.
        Index(
            "ix_candidate_ready_unit",
            "unit_code",
            "task_id",
            postgresql_where=text("ready"),
            sqlite_where=text("ready = 1"),
        ),
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The task's ``status`` is still ``ready``: set false in the statement that completes or cancels it
    # (engine/runtime/core.py), never true again (a task never returns to ready; a reopened step is a new
    # row). A copy, not the truth: the inbox still tests the task's own status, so a row left true by
    # mistake costs a key lookup, never a wrong answer.
    ready: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class InstanceAccess(Base):
    """Who may find an instance through its tasks' units and roles, kept beside the tasks.

    Derived, never edited by hand: engine/visibility.py writes one row per (candidate unit, role,
    instance) a task grants, plus (``ANY_UNIT``, role, instance) for a task that names no unit, in the
    transaction that creates the task. These facts never change once a task exists (claims, releases
    and completions change who *holds* a task, which the visibility query reads from ``human_task``
    itself), so the rows are only ever added, and removed with their instance. Listing a person's
    instances then reads a few index ranges instead of every task their units were ever offered.
    """

    __tablename__ = "instance_access"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CaseFile(Base):
    """One case (案件): the instances that handle the same clue or case number belong to it.

    Filled by engine/instances/cases.py as instances start or acquire a ``clue_no``/``case_no``;
    separation of duties and the conflict register read which instances are linked from here.
    """

    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), default="")  # the owning commission's unit ('' unknown)
    label: Mapped[str | None] = mapped_column(String(120))  # the first number it was known by
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class CaseReference(Base):
    """A number an instance carries (``clue_no`` / ``case_no``, or its ``parent`` instance's case)."""

    __tablename__ = "case_reference"
    __table_args__ = (
        Index("ix_case_reference_lookup", "scope", "kind", "value"),
        Index("ix_case_reference_case", "case_id", "instance_id"),
    )

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(120), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), default="")
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class RecusalConflict(Base):
    """回避登记: a declared conflict of one person with one case, and the leader's decision on it.

    Binding while undecided or decided ``replace``: the person is kept out of every task of the case's
    linked instances (engine/access/duties.py). ``keep`` records that the leader kept him, with a reason.
    """

    __tablename__ = "recusal_conflict"
    __table_args__ = (Index("ix_recusal_instance_user", "instance_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(Integer)  # the step it was declared in, if any
    username: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # kinship | former_post | host_unit | witness | other
    reason: Mapped[str] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(80))
    self_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    decision: Mapped[str | None] = mapped_column(String(10))  # None (undecided) | keep | replace
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TaskSubmission(Base):
    """The whole form a person submitted (or saved as a draft); only marked fields reach the engine."""

    __tablename__ = "task_submission"
    __table_args__ = (Index("ix_submission_task_kind", "task_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="final")  # final | draft
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sealed: Mapped[str | None] = mapped_column(Text)  # encrypted confidential fields
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class MessageSubscription(Base):
    """An instance waiting for a message, found by name and correlation key without loading state."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_subscription_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(120))
    correlation_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class PendingMessage(Base):
    """A message that arrived before its receiver waited; kept until it is delivered or expires."""

    __tablename__ = "pending_message"
    __table_args__ = (
        Index("ix_pending_lookup", "message_name", "correlation_key", "status"),
        Index("ix_pending_status_retry", "status", "retry_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_name: Mapped[str] = mapped_column(String(120))
    correlation_key: Mapped[str | None] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sent_by: Mapped[str | None] = mapped_column(String(80))
    source_instance_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting|delivered|expired|failed
    delivered_to: Mapped[int | None] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class ScheduleRun(Base):
    """One row per (process, period) a timer start fired for: the unique key makes it once across workers."""

    __tablename__ = "schedule_run"
    __table_args__ = (UniqueConstraint("process_key", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(120))
    schedule_key: Mapped[str] = mapped_column(String(120))
    period: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    fired_by: Mapped[str | None] = mapped_column(String(80))
    instance_id: Mapped[int | None] = mapped_column(Integer)


# --------------------------------------------------------------------------- working-day calendar
class WorkCalendarEntry(Base):
    """One year's holiday arrangement as an administrator entered it (国务院办公厅 notice).

    Never updated: entering a year again adds a row, the latest row of a year wins and the older ones
    stay as its history. ``official`` False marks a provisional arrangement (a draft before the notice),
    whose due dates are still shown as estimated."""

    __tablename__ = "work_calendar"
    __table_args__ = (Index("ix_work_calendar_year_id", "year", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    official: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_no: Mapped[str | None] = mapped_column(String(120))
    notice_date: Mapped[dt.date | None] = mapped_column(Date)
    holidays: Mapped[list[str]] = mapped_column(JSONType, default=list)  # ISO dates, sorted
    workdays: Mapped[list[str]] = mapped_column(JSONType, default=list)  # 调休 make-up working days, ISO dates
    source: Mapped[str | None] = mapped_column(String(200))  # "form", "import: 2027.yaml"
    comment: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


# --------------------------------------------------------------------------- audit
class AuditEvent(Base):
    """Append-only: who did what, when, to which instance/task; written with the change itself.

    ``nonce``, ``key_id`` and ``mac`` are written with the event (its keyed digest); ``seq`` and ``chain``
    are filled once, later, by the sealer, which links events in commit order (engine/audit/chain.py).
    A trigger refuses every other UPDATE and every DELETE (engine/audit/guard.py).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_instance_at", "instance_id", "at"),
        # The sealer's work list: only the few events not yet linked, so the index stays tiny.
        Index("ix_audit_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    actor: Mapped[str | None] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)  # a copy of an event cannot pass as another
    key_id: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chain: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(AuditEvent.__table__, "after_create")
def _guard_audit_rows(_table: object, connection: Any, **_kw: object) -> None:
    """Tables made from the models (tests, ``create_all``) get the same triggers as migrated ones."""
    from engine.audit.guard import install

    install(connection)


class AuditCheck(Base):
    """One run of ``guantong audit verify`` (or the worker's): what it found, kept for the cockpit's banner."""

    __tablename__ = "audit_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[int] = mapped_column(Integer)
    head_seq: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str | None] = mapped_column(String(20))
    event_id: Mapped[int | None] = mapped_column(Integer)
    event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    action: Mapped[str | None] = mapped_column(String(40))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------- records around tasks
class Attachment(Base):
    """A document uploaded to an instance (or one task of it), encrypted in a file outside the database.

    ``storage_name`` names the file (random, so nothing about the content shows on disk) and ``key_id``
    the data key that encrypted it (engine/tasks/attachments.py); rows from before encryption have
    neither and point at a plain file named by its hash until ``guantong keys rotate`` encrypts it. A
    confidential attachment's ``filename`` holds only a placeholder; its real name is in ``name_sealed``.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    storage_name: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16))
    name_sealed: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored, and it can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A signed-in browser: the cookie carries only a random id whose SHA-256 is ``token_hash``.

    Sign-out, a password change or reset and disabling the account set ``revoked_at``; a session idle
    too long or past its absolute lifetime is ended the same way the first time it is presented.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    remote: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class SignInLock(Base):
    """Failed sign-ins per account name, shared by every worker: ``failures`` since ``window_start``,
    and the moment the lock set after too many ends. Kept for unknown names too, so a lock says
    nothing about whether an account exists."""

    __tablename__ = "sign_in_lock"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PasswordHistory(Base):
    """The argon2 hashes of a person's recent passwords (never the passwords), so none is reused."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Notification(Base):
    """A reminder, an escalation or a hand-over notice for a person or for a unit's role holders."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "username", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # reminder | escalation | overdue | info
    username: Mapped[str | None] = mapped_column(String(80))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    role_code: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NotificationRead(Base):
    """One person's reading of a notice sent to a unit's role: each holder has his own read state (issue 15),
    so a colleague opening the office's reminder does not hide it from the others."""

    __tablename__ = "notification_read"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class TaskConsultation(Base):
    """A 加签 (issue 15): the approver holding an open approval step asks one more person's opinion before he
    decides; the step cannot be completed until the opinion is given (engine/tasks/consultation.py)."""

    __tablename__ = "task_consultation"
    __table_args__ = (Index("ix_task_consultation_task", "task_id", "answered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    asked_by: Mapped[str] = mapped_column(String(80))
    asked: Mapped[str] = mapped_column(String(80), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --------------------------------------------------------------------------- the interference register (三个规定)
class InterferenceEntry(Base):
    """One instance of someone enquiring about a case, asking after it or pleading on someone's behalf
    (打听案情、过问案件、说情干预), as the officer who received it recorded it.

    Append-only: never updated or deleted (a trigger refuses it, engine/interference/guard.py); a
    correction is a new entry naming the one it corrects (``corrects_id``). ``commission`` is the
    commission whose 案管室 and 干部监督室 keep the entry: the recording officer's own.
    """

    __tablename__ = "interference_entry"
    __table_args__ = (Index("ix_interference_commission_occurred", "commission", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(120))  # the case's number when it was recorded
    commission: Mapped[str] = mapped_column(String(64))
    recorder_unit: Mapped[str] = mapped_column(String(64))
    intervener_name: Mapped[str] = mapped_column(String(120))
    intervener_post: Mapped[str | None] = mapped_column(String(200))  # post and unit, free text
    kind: Mapped[str] = mapped_column(String(20))  # enquire | ask_after | plead | other
    channel: Mapped[str] = mapped_column(String(20))  # in_person | phone | message | other
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(Text)  # what was asked or requested
    response: Mapped[str] = mapped_column(Text)  # how the officer responded
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("interference_entry.id"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class InterferenceFollowUp(Base):
    """What the 案管室 or 干部监督室 did with an entry: signed for it (``received``) or gave its
    handling opinion (``opinion``), by whom and when. Append-only, like the entries."""

    __tablename__ = "interference_followup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("interference_entry.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # received | opinion
    note: Mapped[str | None] = mapped_column(Text)
    office_unit: Mapped[str] = mapped_column(String(64))
    acted_by: Mapped[str] = mapped_column(String(80))
    acted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


@event.listens_for(InterferenceFollowUp.__table__, "after_create")
def _guard_interference_rows(_table: object, connection: Any, **_kw: object) -> None:
    """Tables made from the models get the migration's append-only triggers (both tables exist by now)."""
    from engine.interference.guard import install

    install(connection)


# --------------------------------------------------------------------------- second person's approval
class ApprovalRequest(Base):
    """A change that takes effect only when a second, different, authorised person approves it (三员分立):
    granting a reveal role, deploying a process version. ``payload`` holds what to do, as plain data;
    ``result`` what approving it did (the membership, the version). Pending while ``decision`` is NULL."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_pending", "decision", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # reveal_grant | deploy
    summary: Mapped[str] = mapped_column(String(300))  # what a list shows: the user, unit and role; the file
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    requested_by: Mapped[str] = mapped_column(String(80), index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(10))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


# --------------------------------------------------------------------------- numbers the system issues
class NumberSequence(Base):
    """One counter per owning commission, sequence (processes/settings.yaml ``numbering``) and year.

    ``last_value`` is the last number issued; it is raised by one UPDATE in the completion's transaction
    (engine/numbering/sequences.py), so a rolled-back completion takes its number back with it."""

    __tablename__ = "number_sequence"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class IssuedNumber(Base):
    """The ledger of issued numbers (发文登记): which step of which instance got which number, by whom."""

    __tablename__ = "issued_number"
    __table_args__ = (
        UniqueConstraint("scope", "sequence", "year", "value", name="uq_issued_number_scope_sequence_year_value"),
        Index("ix_issued_number_instance_field", "instance_id", "spec_id", "field"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(Integer)
    spec_id: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(120))
    issued_by: Mapped[str] = mapped_column(String(80))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


# --------------------------------------------------------------------------- notifications sent out
class UserContact(Base):
    """Where a person receives notices outside the system (e-mail, mobile), from the organisation file."""

    __tablename__ = "user_contact"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(30))


class TaskNotice(Base):
    """A task whose arrival (``arrived``) or hand-over to a person (``assigned``) was notified, so the
    worker notifies each once (engine/notifications/work.py)."""

    __tablename__ = "task_notice"

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True, default="")


class NotificationOutbox(Base):
    """A notification whose outbound deliveries were planned (recipients and channels resolved)."""

    __tablename__ = "notification_outbox"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    planned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class NotificationDelivery(Base):
    """One notification to one person by one channel. ``status`` goes pending → sending → sent | failed;
    a worker claims a row (pending → sending) in its own transaction before sending, so a message goes
    out at most once however many workers run (engine/notifications/outbound.py)."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "username", name="uq_notification_delivery_once"),
        Index("ix_notification_delivery_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))


class TaskUrge(Base):
    """A 催办 on an open task: a leader or 案管室 asks its holder to hurry, with a note (engine/tasks/actions.py).

    Kept per task, never changed: the holder sees it on the task and in the inbox; it stays in the record.
    """

    __tablename__ = "task_urge"
    __table_args__ = (Index("ix_task_urge_task", "task_id", "urged_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    urged_by: Mapped[str] = mapped_column(String(80))
    urged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    note: Mapped[str] = mapped_column(Text)


class TaskDelegation(Base):
    """A 委派: the holder lends an open task to a colleague who may do it and gets it back to decide.

    While ``returned_at`` is empty the delegate holds the task (drafts it) but may not complete it
    (engine/tasks/delegation.py); handing it back returns it to ``owner``.
    """

    __tablename__ = "task_delegation"
    __table_args__ = (Index("ix_task_delegation_task", "task_id", "returned_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(80))
    delegate: Mapped[str] = mapped_column(String(80), index=True)
    note: Mapped[str] = mapped_column(Text)
    delegated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CaseCopy(Base):
    """A 抄送/传阅: a case sent for reading to one person entitled to read it, 待阅 until he opens it."""

    __tablename__ = "case_copy"
    __table_args__ = (Index("ix_case_copy_reader", "reader", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"))
    sender: Mapped[str] = mapped_column(String(80))
    reader: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApprovalPhrase(Base):
    """常用审批意见: a phrase an approver saved for his own opinions (his alone; no case data)."""

    __tablename__ = "approval_phrase"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class CockpitSnapshot(Base):
    """One cockpit page's figures for one scope and one cleaned query, kept by the worker (issue 16;
    engine/cockpit/snapshots.py says why). ``scope_hash`` is the SHA-256 of ``scope`` (the sorted commission
    codes, or ``all``), which is kept whole and compared on every read, so two scopes never share a row."""

    __tablename__ = "cockpit_snapshot"
    __table_args__ = (
        UniqueConstraint("kind", "scope_hash", "params"),
        Index("ix_cockpit_snapshot_computed", "computed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    scope_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(String(400))  # canonical JSON of the cleaned query
    version: Mapped[int] = mapped_column(Integer)  # snapshots.FORMAT_VERSION the payload was written with
    payload: Mapped[str] = mapped_column(Text)  # JSON text
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    compute_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    last_read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
