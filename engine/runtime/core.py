"""Running instances: start, complete, claim, cancel, suspend, fire timers, deliver messages.

Each public method is one state change and one database transaction: the instance's engine state, its
human-task rows, message subscriptions, the outbox of thrown messages and the audit events commit
together or not at all. Engine work happens before the first write; the write is guarded by the
instance's ``lock_version`` so that of two people completing the same task exactly one succeeds and
the other gets a ``Conflict`` with nothing changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeAlias, cast
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from engine import audit, clock
from engine import db as database
from engine.access import duties, visibility
from engine.access.authz import TaskView, can_see, require_can_claim, require_can_complete, require_can_reassign
from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.db import Database
from engine.definitions.repository import DefinitionRepository, LoadedVersion
from engine.errors import Conflict, EngineError, Forbidden, NotFound, NotVisible, ProcessError, ValidationError
from engine.forms.data import check_process_data
from engine.instances import cases
from engine.models import (
    CaseReference,
    HumanTask,
    MessageSubscription,
    PendingMessage,
    ProcessDefinition,
    ProcessInstance,
    RecusalConflict,
    TaskCandidate,
    TaskConsultation,
    TaskDelegation,
    TaskSubmission,
)
from engine.organisation.directory import commission_of, owner_units, owner_vars
from engine.prepared import Prepared
from engine.recusal import register
from engine.runtime import addressing, instance_lock, pg_writes, state
from engine.scheduling.deadlines import start_day

log = logging.getLogger(__name__)

# An instance as the runtime writes it: a loaded ORM row, or the plain view the completion path reads
# (``_read_for_completion``: no ORM identity map on the hot path).
InstanceView: TypeAlias = "ProcessInstance | SimpleNamespace"

# Statements on the completion path, built once: building a statement per call (values(), cache keys)
# costs more than executing it. They run on the session's connection, inside its transaction.
# (A declarative model's ``__table__`` is typed as a plain FromClause: cast once, to the Table it is.
# Likewise ``Session.execute`` is typed to return a Result; an UPDATE's is a CursorResult, whose
# ``rowcount`` the guarded writes below read: they cast to it, as SQLAlchemy's documentation does.)
_T, _I = cast(Table, HumanTask.__table__), cast(Table, ProcessInstance.__table__)
_S, _C = cast(Table, TaskSubmission.__table__), cast(Table, TaskCandidate.__table__)
_SUB = cast(Table, MessageSubscription.__table__)
_D = cast(Table, TaskDelegation.__table__)
_CONSULT = cast(Table, TaskConsultation.__table__)
# The instance's case references, and those of the same cases (the case's linked instances, as
# engine/instances/cases.py ``linked_clause``), correlated to the task read.
_REF = cast(Table, CaseReference.__table__)
_RC = cast(Table, RecusalConflict.__table__)
_COLON = literal_column("':'", String)


class _Joined(FunctionElement[str]):
    """Texts joined by ``;`` across rows: ``string_agg`` (PostgreSQL), ``group_concat`` (SQLite), with the
    separator written into the statement (``func.aggregate_strings`` passes it as a parameter rendered
    into the SQL on every execution)."""

    type = String()
    inherit_cache = True


@compiles(_Joined)
def _joined_default(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ';')"


@compiles(_Joined, "sqlite")
def _joined_sqlite(element: _Joined, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ';')"


_MINE, _OTHER = _REF.alias("mine"), _REF.alias("other")


def _in_case(table: Table, *conditions: Any) -> ColumnElement[bool]:
    """Whether ``table`` holds a row meeting ``conditions`` for the task's instance or an instance of
    the same case, correlated to the completion's read of the task.

    Two EXISTS joined by OR, not one EXISTS over ``instance_id = … OR instance_id IN (…)``: PostgreSQL
    cannot use the ``instance_id`` index for that OR and scanned the whole table instead, for every
    completion (task_submission on the province database: 0.9 million rows, 360 ms of the read, which
    took 0.6 ms written this way; issue 19)."""
    linked = (
        select(_OTHER.c.instance_id)
        .join(_MINE, _MINE.c.case_id == _OTHER.c.case_id)
        .where(_MINE.c.instance_id == _T.c.instance_id)
        .correlate(_T)
    )
    own = select(table.c.id).where(*conditions, table.c.instance_id == _T.c.instance_id).exists()
    in_linked = select(table.c.id).where(*conditions, table.c.instance_id.in_(linked)).exists()
    return or_(own, in_linked)


_OTHER_TASK = _T.alias("other_task")
_READ_FOR_COMPLETION = Prepared(
    select(
        _T.c.id,
        _T.c.instance_id,
        _T.c.task_uuid,
        _T.c.spec_id,
        _T.c.name,
        _T.c.role,
        _T.c.assignee,
        _T.c.status,
        _T.c.separate_from,
        _T.c.separate_steps,
        _T.c.completed_by,
        _T.c.lane,
        _T.c.form_key,
        _T.c.process_key.label("t_process_key"),
        _T.c.business_key.label("t_business_key"),
        _T.c.stage.label("t_stage"),
        _T.c.mechanism,
        _T.c.platform,
        _T.c.created_at,
        _T.c.due_at,
        _T.c.reminder_at,
        select(_S.c.id).where(_S.c.task_id == _T.c.id, _S.c.kind == "draft").exists().label("has_draft"),
        _I.c.status.label("i_status"),
        _I.c.lock_version,
        _I.c.version_id,
        _I.c.process_key,
        _I.c.business_key,
        _I.c.title,
        _I.c.summary,
        _I.c.state,
        _I.c.stage,
        _I.c.next_timer_at,
        _I.c.completed_at,
        _I.c.updated_at,
        _C.c.unit_code,
        # The delegate of the task's open delegation (委派), for the use case's rule that a delegate
        # drafts and the owner decides (engine/tasks/delegation.py): read here, not in a read of its own.
        select(_D.c.delegate)
        .where(_D.c.task_id == _T.c.id, _D.c.returned_at.is_(None))
        .order_by(_D.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("delegate"),
        # Whether an opinion its approver asked for (加签) is still unanswered: the use case reads who is
        # awaited only then (engine/tasks/consultation.py), so a step without 加签 costs no read of its own.
        select(_CONSULT.c.id)
        .where(_CONSULT.c.task_id == _T.c.id, _CONSULT.c.answered_at.is_(None))
        .exists()
        .label("awaits_opinion"),
        # Whether the case (the instance and the instances linked to it) holds any sealed record: without
        # one, free text cannot repeat a sealed value of the case, and the check opens nothing
        # (engine/tasks/sealed_echo.py ``check``'s ``case_sealed``).
        _in_case(_S, _S.c.kind == "final", _S.c.sealed.is_not(None)).label("case_sealed"),
        # Whether a binding 回避 conflict is registered in the case (engine/access/duties.py
        # ``conflicts_in_case``, the same rows): only then are the conflicts read, for the check and the
        # addressing of the tasks the step opens.
        _in_case(_RC, or_(_RC.c.decision.is_(None), _RC.c.decision == "replace")).label("case_conflicts"),
        # The numbers the instance carries already (engine/instances/cases.py ``note``), each as
        # ``kind:length:value`` (the length makes the text unambiguous whatever a value holds): the write
        # then records a case link only when the step brought a number not among them (``_noted``).
        select(_Joined(_REF.c.kind + _COLON + cast_(func.length(_REF.c.value), String) + _COLON + _REF.c.value))
        .where(_REF.c.instance_id == _T.c.instance_id)
        .scalar_subquery()
        .label("case_refs"),
        # Whether the instance has open task rows beside this one, and message subscriptions: without
        # them the step's sync reads neither back (``_sync``'s ``others_open``, ``subscribed``). Only a
        # step of the instance adds either, and it moves ``lock_version``, which the hold checks against
        # the value read here in the same snapshot (instance_lock.py), so "none" stays true until commit.
        select(_OTHER_TASK.c.id)
        .where(
            _OTHER_TASK.c.instance_id == _T.c.instance_id,
            _OTHER_TASK.c.status == "ready",
            _OTHER_TASK.c.id != _T.c.id,
        )
        .exists()
        .label("others_open"),
        select(_SUB.c.id).where(_SUB.c.instance_id == _T.c.instance_id).exists().label("subscribed"),
    )
    .join(_I, _I.c.id == _T.c.instance_id)
    .outerjoin(_C, _C.c.task_id == _T.c.id)  # a row per candidate unit (a task has one or two)
    .where(_T.c.id == bindparam("task_id"))
)
_GUARDED_UPDATE = Prepared(
    _I.update()
    .where(_I.c.id == bindparam("_id"), _I.c.lock_version == bindparam("_expected"))
    .values(
        state=bindparam("state"),
        updated_at=bindparam("updated_at"),
        business_key=bindparam("business_key"),
        title=bindparam("title"),
        next_timer_at=bindparam("next_timer_at"),
        status=bindparam("status"),
        completed_at=bindparam("completed_at"),
        stage=bindparam("stage"),
        lock_version=bindparam("lock_version"),
    )
)
_COMPLETE_TASK = Prepared(
    _T.update()
    .where(_T.c.id == bindparam("_id"), _T.c.status == "ready")
    .values(
        status="completed",
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("completed_by"),
        assignee=bindparam("assignee"),
    )
)
# The task's candidate rows leave the units' open index (``ix_candidate_ready_unit``) with the task: the
# inbox's group and team tabs start from it (engine/tasks/inbox.py). Only a task that names units has any.
_CLOSE_CANDIDATES = Prepared(
    _C.update().where(_C.c.task_id == bindparam("_id"), _C.c.ready.is_(True)).values(ready=False)
)
_DELETE_DRAFTS = _S.delete().where(_S.c.task_id == bindparam("task_id"), _S.c.kind == "draft")
_READY_ROWS = Prepared(
    select(_T.c.id, _T.c.task_uuid, _T.c.assignee, _T.c.name).where(
        _T.c.instance_id == bindparam("instance_id"), _T.c.status == "ready"
    )
)
# The portable writes of a new task (SQLite; PostgreSQL folds them into one, engine/runtime/pg_writes.py),
# every column named so that a value ``_human_task`` adds and this list forgets is refused, not dropped.
_INSERT_TASK = Prepared(_T.insert().values({c: bindparam(c) for c in pg_writes.TASK_COLUMNS}).returning(_T.c.id))
_INSERT_CANDIDATE = Prepared(
    _C.insert().values(task_id=bindparam("task_id"), unit_code=bindparam("unit_code"), ready=True)
)
_INSERT_SUBMISSION = Prepared(_S.insert().values({c: bindparam(c) for c in pg_writes.SUBMISSION_COLUMNS}))
_SUBSCRIPTIONS = select(_SUB.c.id, _SUB.c.message_name, _SUB.c.correlation_key).where(
    _SUB.c.instance_id == bindparam("instance_id")
)
clock.install()

ACTIVE = ("running",)
# SpiffWorkflow's task iterators stop at depth 1000 and then report a live instance as finished.
# Refuse any step that takes a live task near that depth: long-lived cycles must be new instances.
MAX_TASK_DEPTH = 900


def _noted(encoded: str | None) -> frozenset[tuple[str, str]]:
    """The ``(kind, value)`` pairs of ``_READ_FOR_COMPLETION``'s ``case_refs`` (``kind:length:value`` joined
    by ``;``)."""
    found: set[tuple[str, str]] = set()
    text, i = encoded or "", 0
    while i < len(text):
        colon = text.index(":", i)
        length_end = text.index(":", colon + 1)
        start = length_end + 1
        end = start + int(text[colon + 1 : length_end])
        found.add((text[i:colon], text[start:end]))
        i = end + 1
    return frozenset(found)


@dataclass
class PendingCompletion:
    """A task its person may complete, read by ``begin_completion``: plain views of the task and its
    instance, the ``lock_version`` the write expects, and the instance's deployed version."""

    task: SimpleNamespace
    instance: SimpleNamespace
    expected: int
    loaded: LoadedVersion
    # The binding 回避 conflicts of the instance's case as read for the check (duties.conflicts_in_case):
    # the tasks the step opens are addressed with them, unless the step changed them (see ``_sync``).
    conflicts: Mapping[str, str] | None = None


@dataclass
class ReadyTask:
    uuid: str
    spec_id: str
    process_key: str
    meta: dict[str, Any]
    data: dict[str, Any]


@dataclass
class Outcome:
    """What one state change produced, for callers that want to show or route it."""

    instance_id: int
    status: str
    created_tasks: list[int] = field(default_factory=list)
    messages_out: list[int] = field(default_factory=list)
    subscribed: bool = False  # the instance started waiting for a message (a pending one may match)
    # Filled by complete_task, so a caller can answer without reading again: the completed task and
    # its instance as they were committed, and (id, name, lane) of each task the step opened.
    task: SimpleNamespace | None = None
    instance: SimpleNamespace | None = None
    next_tasks: list[tuple[int, str, str | None]] = field(default_factory=list)
    # (id, name) of the instance's open tasks the acting person holds once the change is written (the
    # ones it opened and gave him included): engine/tasks/next_step.py offers him the next one.
    held: list[tuple[int, str]] = field(default_factory=list)
    # Filled by a start (``fresh``): the task rows it inserted as written, (id, values, candidate units),
    # and whether the new instance stands alone (no source, in no case with another instance), so its
    # reply shows the instance without reading back what the same transaction has just written.
    inserted: list[tuple[int, dict[str, Any], list[str]]] = field(default_factory=list)
    alone: bool = False


def _require_visible(actor: Principal, task: TaskView) -> None:
    """A task outside the person's need to know is refused as if it did not exist (NotVisible, 404),
    before anything about its state (claimed, completed) is said."""
    if not can_see(actor, task):
        raise NotVisible(
            f"task {task.id} is not for your role or unit",
            reason="task_not_visible",
            task=task.id,
            instance=task.instance_id,
        )


def _element(exc: Exception) -> str | None:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) if task is not None else None
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)


def _process_error(exc: Exception) -> ProcessError:
    element = _element(exc)
    reason = str(exc)
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner) not in reason:
        reason = f"{reason}: {inner}"
    return ProcessError(f"process step {element or '?'} failed: {reason}", element=element)


MAX_AUTOMATIC_STEPS = 2000


def run_engine(
    workflow: BpmnWorkflow, compact: bool = True, passes: int = 4, max_steps: int = MAX_AUTOMATIC_STEPS
) -> list[Any]:
    """Run automatic steps until only human work or waiting events remain; returns the ready and waiting
    tasks it found last (the write that follows reuses them: ``Runtime._guarded_write``'s ``live``).

    ``do_engine_steps`` refreshes timers last, so a timer that has just fired leaves its task READY
    until the next pass; and its iterators stop at tree depth 1000, which a long automatic loop reaches
    within one pass. So we pass again (compacting finished history in between, which lowers the depth)
    until nothing automatic is left; a process still busy after ``passes`` passes has a runaway loop
    and is refused, naming the step, rather than saved half-way; so is one that runs more than
    ``max_steps`` automatic steps in a single state change.
    """
    steps = 0

    def count(task: Any) -> None:
        nonlocal steps
        steps += 1
        if steps > max_steps:
            raise ProcessError(
                f"more than {max_steps} automatic steps in one go (at {task.task_spec.bpmn_id}); "
                f"an unbounded loop must be bounded or split into new instances",
                element=task.task_spec.bpmn_id,
            )

    try:
        for _ in range(passes):
            workflow.do_engine_steps(did_complete_task=count)
            if compact:
                state.compact(workflow)
            live = _live_tasks(workflow)
            if not _pending_automatic(live):
                return live
        else:
            stuck = _pending_automatic(_live_tasks(workflow))
            element = stuck[0].task_spec.bpmn_id if stuck else None
            raise ProcessError(
                f"automatic steps did not settle (at {element}); an unbounded loop must be "
                f"bounded or split into new instances",
                element=element,
            )
    except (SpiffWorkflowException, WorkflowException) as exc:
        raise _process_error(exc) from exc
    except EngineError:
        raise
    except Exception as exc:  # an expression failed in the sandbox
        raise _process_error(exc) from exc


def _without(data: dict[str, Any], names: Any) -> dict[str, Any]:
    """``data`` without the keys in ``names`` (a message payload without the owner variables)."""
    return {k: v for k, v in data.items() if k not in names}


def _owning_commission(session: Session, loaded: LoadedVersion, data: dict[str, Any], actor: Principal) -> str | None:
    """The commission that owns an instance started without one named (the engine's own callers: the
    demo, tests, benchmarks): the commission of the units its owner variables name (``commission_unit``
    first), else the starting person's one commission. Use cases name it themselves (``owner_unit``)."""
    names = owner_vars(loaded.roles.roles)
    for var in sorted(names, key=lambda v: (v != "commission_unit", v)):
        value = data.get(var)
        for unit in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
            if isinstance(unit, str) and (found := commission_of(session, unit)) is not None:
                return found
    if actor.is_system:
        return None
    commissions = {c for u in actor.units if (c := commission_of(session, u)) is not None}
    return commissions.pop() if len(commissions) == 1 else None


def _live_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The workflow's ready and waiting tasks at every depth: one walk of the task tree."""
    live: list[Any] = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING, max_depth=10**6)
    return live


def _pending_automatic(live: list[Any]) -> list[Any]:
    return [t for t in live if t.state == TaskState.READY and not t.task_spec.manual]


def _require_operator(actor: Principal, instance_id: int) -> None:
    """Retry, suspend, resume, cancel: the engine, or a person the application layer authorised (the
    commission's overseers, ``engine.instances.operations.instance_action``). An administrator never:
    stopping or resuming a case is a decision about the case, not about the system (三员分立)."""
    if actor.is_system:
        return
    if actor.admin_kind or not actor.roles:
        raise Forbidden("only the commission's overseers may change an instance's state", instance=instance_id)


def _reason_detail(reason: str | None) -> dict[str, Any]:
    """The audit detail of a manager's reason, absent when none was given (the engine's own actions)."""
    return {"reason": reason} if reason else {}


class Runtime:
    def __init__(
        self,
        db: Database,
        repository: DefinitionRepository | None = None,
        message_ttl: dt.timedelta = dt.timedelta(days=30),
        compact_history: bool = True,
    ):
        self.db = db
        self.compact_history = compact_history
        self.repo = repository or DefinitionRepository(db)
        self.message_ttl = message_ttl

    # ================================================================== start
    def start(
        self,
        process_key: str,
        *,
        actor: Principal = SYSTEM_PRINCIPAL,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
        parent_instance_id: int | None = None,
        owner_unit: str | None = None,
        _session: Session | None = None,
        definition: ProcessDefinition | None = None,
    ) -> Outcome:
        """``definition``: the latest definition of ``process_key`` when the caller has just read it in
        ``_session`` (the start use case, to authorize the start): not read a second time."""
        data = check_process_data(dict(data or {}), what="start data")
        with self._session(_session) as session:
            if definition is None or definition.process_key != process_key:
                definition = self.repo.latest_definition(session, process_key)
            if not definition.executable:
                raise Forbidden(
                    f"process '{process_key}' is not startable on its own (it is called by others)", process=process_key
                )
            outcome = self._start(session, definition, actor, business_key, data, parent_instance_id, owner_unit)
        if _session is None:
            self.after_commit(outcome)
        return outcome

    def _start(
        self,
        session: Session,
        definition: ProcessDefinition,
        actor: Principal,
        business_key: str | None,
        data: dict[str, Any],
        parent_instance_id: int | None,
        owner_unit: str | None,
        start_event: BpmnEvent | None = None,
    ) -> Outcome:
        loaded = self.repo.loaded(definition.version_id)
        meta = loaded.catalogue[definition.process_key]
        if owner_unit is None:
            owner_unit = _owning_commission(session, loaded, data, actor)
        workflow = BpmnWorkflow(
            loaded.spec(definition.process_key),
            loaded.subprocess_specs(definition.process_key),
            script_engine=loaded.script_engine,
        )
        start_task = workflow.task_tree
        start_task.data.update(data)
        for child in workflow.get_tasks(state=TaskState.READY):
            child.data.update(data)
        if business_key is None and meta.get("business_key_var"):
            value = data.get(meta["business_key_var"])
            business_key = str(value) if value not in (None, "") else None
        try:
            if start_event is not None:
                run_engine(workflow, self.compact_history)
                workflow.send_event(start_event)
            run_engine(workflow, self.compact_history)
        except WorkflowException as exc:
            raise _process_error(exc) from exc
        now = clock.now()
        row = ProcessInstance(
            definition_id=definition.id,
            version_id=definition.version_id,
            process_key=definition.process_key,
            business_key=business_key,
            title=f"{definition.name}" + (f" · {business_key}" if business_key else ""),
            status="running",
            stage=definition.stage,
            state="",
            lock_version=1,
            started_by=actor.username,
            started_at=now,
            updated_at=now,
            parent_instance_id=parent_instance_id,
            owner_unit=owner_unit,
            summary={
                "process_name": definition.name,
                "stage": definition.stage,
                "mechanism": definition.mechanism,
                "platform": definition.platform,
            },
        )
        live = self._apply_snapshot(row, loaded, workflow)
        session.add(row)
        session.flush()
        audit.record(
            session,
            "started",
            actor=actor.username,
            instance_id=row.id,
            version_id=row.version_id,
            process=definition.process_key,
            business_key=business_key,
            data_digest=audit.digest(data),
        )
        outcome = Outcome(instance_id=row.id, status=row.status)
        self._sync(
            session, row, loaded, workflow, outcome, actor, parent_instance_id=parent_instance_id, live=live, fresh=True
        )
        return outcome

    # ================================================================== complete
    def complete_task(
        self,
        task_id: int,
        *,
        actor: Principal,
        data: dict[str, Any] | None = None,
        record: dict[str, Any] | None = None,
        sealed: str | None = None,
    ) -> Outcome:
        """Complete a human task with ``data`` (small process values) and keep ``record`` (the whole form).

        For callers whose data is already process data (the demo, tests, benchmarks); a person's form goes
        through ``engine.tasks.operations.submit_task``, which calls the two halves below itself inside
        its own transaction. Raises Conflict when the task was completed or the instance moved on
        meanwhile; nothing changes.
        """
        data = check_process_data(dict(data or {}), what="task data")
        with self.db.session() as session:
            pending = self.begin_completion(session, task_id, actor)
            outcome = self.finish_completion(session, pending, actor=actor, data=data, record=record, sealed=sealed)
        self.after_commit(outcome)
        return outcome

    def begin_completion(self, session: Session, task_id: int, actor: Principal) -> PendingCompletion:
        """Read the task and its instance (one joined read) and check the person may complete it now.

        Refusals come in the order a person meets them: not found, not theirs, already done or claimed,
        instance not running. The caller then checks its form and calls ``finish_completion`` in the same
        transaction, and ``after_commit`` once that transaction has committed.
        """
        task, row = self._read_for_completion(session, task_id, actor)
        _require_visible(actor, task)
        conflicts = None
        bars = duties.NO_BARS
        if not actor.is_system:
            conflicts = duties.conflicts_in_case(session, task.instance_id) if task.case_conflicts else {}
            bars = duties.bars(session, task, conflicts=conflicts)
        require_can_complete(actor, task, bars)
        if row.status != "running":
            raise Conflict(f"instance {row.id} is {row.status}", instance=row.id, status=row.status)
        # Busy or moved on: 409 now, not after running the engine and queueing for the row (instance_lock.py).
        instance_lock.hold(session, row.id, row.lock_version, task.id)
        return PendingCompletion(
            task=task,
            instance=row,
            expected=row.lock_version,
            loaded=self.repo.loaded(row.version_id),
            conflicts=conflicts,
        )

    def finish_completion(
        self,
        session: Session,
        pending: PendingCompletion,
        *,
        actor: Principal,
        data: dict[str, Any],
        record: dict[str, Any] | None = None,
        sealed: str | None = None,
    ) -> Outcome:
        """Run the engine past the task and write everything it produced, guarded by ``lock_version``.

        ``data`` must already be checked process data (``check_process_data``). This is the hot path:
        the engine, then a handful of prebuilt Core statements on the session's connection.
        """
        task, row, expected, loaded = pending.task, pending.instance, pending.expected, pending.loaded
        workflow = self._load(row, loaded)
        spiff_task = workflow.get_task_from_id(UUID(task.task_uuid))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict(f"task {task.id} is no longer waiting for input", task=task.id)
        # A form that enters the conflict register (回避声明, the leader's decision) needs the data before it.
        register_form = (loaded.forms.get(task.form_key) or {}) if task.form_key else {}
        before = dict(spiff_task.data) if register_form.get("x-recusal") else None
        spiff_task.data.update(data)
        try:
            spiff_task.run()
        except (SpiffWorkflowException, WorkflowException) as exc:
            raise _process_error(exc) from exc
        live = run_engine(workflow, self.compact_history)
        now = clock.now()
        live = self._guarded_write(session, row, expected, loaded, workflow, live=live)
        conn = session.connection()
        completion = {
            "_id": task.id,
            "completed_at": now,
            "completed_by": actor.username,
            "assignee": task.assignee or actor.username,
        }
        submission = {
            "task_id": task.id,
            "instance_id": row.id,
            "kind": "final",
            "data": record if record is not None else data,
            "sealed": sealed,
            "submitted_by": actor.username,
            "submitted_at": now,
        }
        one_statement = database.folds_writes(conn)
        if one_statement:
            completed = pg_writes.COMPLETE_AND_RECORD(
                conn, pg_writes.complete_and_record_params(completion, submission)
            ).rowcount
        else:
            completed = _COMPLETE_TASK(conn, completion).rowcount
        if completed != 1:
            raise Conflict(f"task {task.id} was completed by someone else", task=task.id)
        if task.candidate_units:
            _CLOSE_CANDIDATES(conn, {"_id": task.id})
        if task.has_draft:
            conn.execute(_DELETE_DRAFTS, {"task_id": task.id})
        if before is not None:
            register.after_form(
                session,
                register_form,
                instance_id=row.id,
                task_id=task.id,
                actor=actor.username,
                submitted=record if record is not None else data,
                before=before,
            )
        if not one_statement:
            _INSERT_SUBMISSION(conn, submission)
        audit.record(
            session,
            "completed",
            actor=actor.username,
            instance_id=row.id,
            task_id=task.id,
            task=task.spec_id,
            task_name=task.name,
            data_digest=audit.digest(record or data),
        )
        outcome = Outcome(instance_id=row.id, status=row.status)
        self._sync(
            session,
            row,
            loaded,
            workflow,
            outcome,
            actor,
            completed_uuid=task.task_uuid,
            # A 回避 form just written may have added a conflict: then the new tasks read them afresh.
            conflicts=pending.conflicts if before is None else None,
            live=live,
            noted=pending.task.case_refs,
            others_open=pending.task.others_open,
            subscribed=pending.instance.subscribed,
        )
        task.status, task.completed_at, task.completed_by = "completed", now, actor.username
        task.assignee = task.assignee or actor.username
        outcome.task, outcome.instance = task, row
        return outcome

    @staticmethod
    def _read_for_completion(
        session: Session, task_id: int, actor: Principal
    ) -> tuple[SimpleNamespace, SimpleNamespace]:
        """The task and its instance in one read, as plain views (no ORM identity map on the hot path)."""
        conn = session.connection()
        rows = _READ_FOR_COMPLETION(conn, {"task_id": task_id}).all()
        if not rows:
            raise NotFound(f"task {task_id} not found", task=task_id)
        found = rows[0]
        units = sorted(r.unit_code for r in rows if r.unit_code is not None)
        task = SimpleNamespace(
            id=found.id,
            instance_id=found.instance_id,
            task_uuid=found.task_uuid,
            spec_id=found.spec_id,
            name=found.name,
            role=found.role,
            assignee=found.assignee,
            status=found.status,
            separate_from=found.separate_from,
            separate_steps=found.separate_steps,
            completed_by=found.completed_by,
            candidate_units=units,
            has_draft=found.has_draft,
            lane=found.lane,
            form_key=found.form_key,
            process_key=found.t_process_key,
            business_key=found.t_business_key,
            stage=found.t_stage,
            mechanism=found.mechanism,
            platform=found.platform,
            created_at=found.created_at,
            due_at=found.due_at,
            reminder_at=found.reminder_at,
            completed_at=None,
            delegate=found.delegate,
            awaits_opinion=found.awaits_opinion,
            case_sealed=found.case_sealed,
            case_conflicts=found.case_conflicts,
            case_refs=_noted(found.case_refs),
            others_open=bool(found.others_open),
        )
        row = SimpleNamespace(
            id=found.instance_id,
            status=found.i_status,
            lock_version=found.lock_version,
            version_id=found.version_id,
            process_key=found.process_key,
            business_key=found.business_key,
            title=found.title,
            summary=found.summary,
            state=found.state,
            stage=found.stage,
            next_timer_at=found.next_timer_at,
            completed_at=found.completed_at,
            updated_at=found.updated_at,
            subscribed=bool(found.subscribed),
        )
        return task, row

    # ================================================================== claim / reassign
    def claim(self, task_id: int, *, actor: Principal, session: Session | None = None) -> None:
        with self._session(session) as session:
            task = self._task(session, task_id)
            _require_visible(actor, task)
            require_can_claim(actor, task, duties.bars(session, task))
            res = cast(
                CursorResult[Any],
                session.execute(
                    update(HumanTask)
                    .where(
                        HumanTask.id == task_id,
                        HumanTask.status == "ready",
                        (HumanTask.assignee.is_(None)) | (HumanTask.assignee == actor.username),
                    )
                    .values(assignee=actor.username)
                    .execution_options(synchronize_session=False)
                ),
            )
            if res.rowcount != 1:
                raise Conflict(f"task {task_id} was claimed by someone else", task=task_id)
            audit.record(session, "claimed", actor=actor.username, instance_id=task.instance_id, task_id=task_id)

    def unclaim(self, task_id: int, *, actor: Principal, session: Session | None = None) -> None:
        with self._session(session) as session:
            task = self._task(session, task_id)
            _require_visible(actor, task)
            if task.status != "ready":
                raise Conflict(f"task {task_id} is already {task.status}", task=task_id)
            if task.personal:
                raise Forbidden(
                    f"task {task_id} is addressed to {task.assignee} alone and cannot be released",
                    task=task_id,
                    rule="addressed_to_one_person",
                )
            if task.assignee != actor.username and not (actor.leader_of or actor.is_system):
                raise Forbidden("only the assignee or a unit leader may release a task", task=task_id)
            if task.assignee != actor.username:
                require_can_reassign(actor, task)
            session.execute(
                update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.status == "ready")
                .values(assignee=None)
                .execution_options(synchronize_session=False)
            )
            audit.record(
                session,
                "unclaimed",
                actor=actor.username,
                instance_id=task.instance_id,
                task_id=task_id,
                previous=task.assignee,
            )

    def reassign(
        self,
        task_id: int,
        *,
        actor: Principal,
        to_username: str,
        session: Session | None = None,
        reason: str | None = None,
        overseer: bool = False,
    ) -> None:
        """Hand a task to someone in its pool. ``overseer``: the application layer has authorised the
        person as an overseer of the instance's commission (engine/instances/operations.py), in place of
        the task unit's leader; it is then a decision about the case like suspending it (no administrator)."""
        from engine.access.authz import in_pool, require_reassignable
        from engine.access.principal import load_principal

        with self._session(session) as session:
            task = self._task(session, task_id)
            if overseer:
                _require_operator(actor, task.instance_id)
                require_reassignable(task)
            else:
                _require_visible(actor, task)
                require_can_reassign(actor, task)
            target = load_principal(session, to_username)
            if not in_pool(target, task):
                raise ValidationError(
                    f"{to_username} does not hold the task's role in its unit",
                    fields={"assignee": "not eligible for this task"},
                )
            bar = duties.bars(session, task).get(to_username)
            if bar is not None:
                raise ValidationError(
                    f"{to_username} may not be given this task ({bar.rule})",
                    fields={"assignee": f"{target.display_name or to_username}：{bar.why}"},
                    task=task_id,
                    rule=bar.rule,
                    assignee=to_username,
                )
            session.execute(
                update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.status == "ready")
                .values(assignee=to_username)
                .execution_options(synchronize_session=False)
            )
            audit.record(
                session,
                "reassigned",
                actor=actor.username,
                instance_id=task.instance_id,
                task_id=task_id,
                previous=task.assignee,
                assignee=to_username,
                **_reason_detail(reason),
            )

    # ================================================================== lifecycle
    def cancel(self, instance_id: int, *, actor: Principal, reason: str | None = None) -> None:
        self._set_status(
            instance_id, actor, "cancelled", "cancelled", reason, allowed=("running", "suspended", "error")
        )

    def suspend(self, instance_id: int, *, actor: Principal, reason: str | None = None) -> None:
        self._set_status(instance_id, actor, "suspended", "suspended", reason, allowed=("running",))

    def resume(self, instance_id: int, *, actor: Principal, reason: str | None = None) -> None:
        self._set_status(instance_id, actor, "running", "resumed", reason, allowed=("suspended",))

    def _set_status(
        self,
        instance_id: int,
        actor: Principal,
        status: str,
        action: str,
        reason: str | None,
        allowed: tuple[str, ...],
    ) -> None:
        _require_operator(actor, instance_id)
        with self.db.session() as session:
            row = self._instance(session, instance_id)
            if row.status not in allowed:
                raise Conflict(f"instance {instance_id} is {row.status}", instance=instance_id, status=row.status)
            values = {"status": status, "lock_version": row.lock_version + 1, "updated_at": clock.now()}
            if status == "cancelled":
                values["completed_at"] = clock.now()
                loaded = self.repo.loaded(row.version_id)
                workflow = self._load(row, loaded)
                workflow.cancel()
                values["state"] = state.dump(workflow).decode()
                values["next_timer_at"] = None
                session.execute(
                    update(TaskCandidate)
                    .where(
                        TaskCandidate.task_id.in_(
                            select(HumanTask.id).where(
                                HumanTask.instance_id == instance_id, HumanTask.status == "ready"
                            )
                        ),
                        TaskCandidate.ready.is_(True),
                    )
                    .values(ready=False)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(HumanTask)
                    .where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
                    .values(status="cancelled")
                    .execution_options(synchronize_session=False)
                )
                session.execute(_SUB.delete().where(MessageSubscription.instance_id == instance_id))
            res = cast(
                CursorResult[Any],
                session.execute(
                    update(ProcessInstance)
                    .where(ProcessInstance.id == instance_id, ProcessInstance.lock_version == row.lock_version)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ),
            )
            if res.rowcount != 1:
                raise Conflict(f"instance {instance_id} changed meanwhile; try again", instance=instance_id)
            audit.record(session, action, actor=actor.username, instance_id=instance_id, reason=reason)

    # ================================================================== timers
    def retime_deadline_timers(
        self, session: Session, instance_id: int, moved: dict[str, tuple[str, dt.datetime, dt.datetime]]
    ) -> list[str]:
        """Re-arm the timers that watch a task's limit after its due moment moved (a new calendar year).

        ``moved`` maps a task's ``task_uuid`` to (its ``due_key``, the old due moment, the new one). A
        timer is re-armed when it waits beside that task (a boundary event of it), reads
        ``deadline('<due_key>')`` and holds the old moment: exactly what ``_human_task`` computed from the
        same rule, so a timer armed otherwise is left alone. Written in the caller's transaction, guarded on
        the instance's ``lock_version``. Returns the re-armed timers' BPMN ids."""
        row = self._instance(session, instance_id)
        if row.status not in ("running", "suspended"):
            return []
        loaded = self.repo.loaded(row.version_id)
        workflow = self._load(row, loaded)
        rearmed = []
        for task in workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition) or task.parent is None:
                continue
            match = _DEADLINE_CALL.fullmatch(str(definition.expression or "").strip())
            value = task._get_internal_data("event_value")
            if match is None or not isinstance(value, str):
                continue
            for sibling in task.parent.children:
                due_key, before, after = moved.get(str(sibling.id), (None, None, None))
                if due_key != match.group(2) or before is None or after is None:
                    continue
                try:
                    armed = TimerEventDefinition.get_datetime(value)
                except (TypeError, ValueError):
                    continue
                if armed == before:
                    task._set_internal_data(event_value=after.astimezone(clock.LOCAL_TZ).isoformat())
                    rearmed.append(task.task_spec.bpmn_id)
                break
        if rearmed:
            self._guarded_write(session, row, row.lock_version, loaded, workflow)
        return rearmed

    def due_timer_instances(self, session: Session, now: dt.datetime, limit: int = 100) -> list[int]:
        return list(
            session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now)
                .order_by(ProcessInstance.next_timer_at)
                .limit(limit)
            )
        )

    def lease_due_instances(
        self, owner: str, *, limit: int = 50, lease: dt.timedelta = dt.timedelta(seconds=60)
    ) -> list[int]:
        """Take a lease on instances whose timers are due, so that no other worker fires them meanwhile.

        On PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED``, so workers on any number
        of machines take disjoint batches without waiting on each other. A lease that expires (its worker
        died) makes the instance available again; the state write itself is guarded by ``lock_version``,
        so a late worker can never apply a step twice.
        """
        now = clock.now()
        free = (ProcessInstance.lease_until.is_(None)) | (ProcessInstance.lease_until < now)
        due = (
            select(ProcessInstance.id)
            .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now, free)
            .order_by(ProcessInstance.next_timer_at)
            .limit(limit)
        )
        with self.db.session() as session:
            if self.db.dialect == "postgresql":
                ids = session.scalars(
                    update(ProcessInstance)
                    .where(ProcessInstance.id.in_(due.with_for_update(skip_locked=True).scalar_subquery()))
                    .values(lease_owner=owner, lease_until=now + lease)
                    .returning(ProcessInstance.id)
                    .execution_options(synchronize_session=False)
                ).all()
                return sorted(ids)
            taken = []
            for instance_id in session.scalars(due).all():
                res = cast(
                    CursorResult[Any],
                    session.execute(
                        update(ProcessInstance)
                        .where(ProcessInstance.id == instance_id, free)
                        .values(lease_owner=owner, lease_until=now + lease)
                        .execution_options(synchronize_session=False)
                    ),
                )
                if res.rowcount == 1:
                    taken.append(instance_id)
            return taken

    def release_leases(self, owner: str, instance_ids: list[int]) -> int:
        """Give back leases a stopping worker holds but will not use."""
        if not instance_ids:
            return 0
        with self.db.session() as session:
            res = cast(
                CursorResult[Any],
                session.execute(
                    update(ProcessInstance)
                    .where(ProcessInstance.id.in_(instance_ids), ProcessInstance.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None)
                    .execution_options(synchronize_session=False)
                ),
            )
            return res.rowcount

    def fire_timers(
        self, instance_id: int, *, actor: Principal = SYSTEM_PRINCIPAL, lease_owner: str | None = None
    ) -> Outcome | None:
        """Advance one instance whose timer is due. Returns None if there was nothing (left) to do."""
        with self.db.session() as session:
            row = self._instance(session, instance_id)
            now = clock.now()
            if row.status != "running" or row.next_timer_at is None or row.next_timer_at > now:
                return None
            if lease_owner is not None and row.lease_owner != lease_owner:
                return None  # our lease expired and another worker took the instance
            expected = row.lock_version
            loaded = self.repo.loaded(row.version_id)
            workflow = self._load(row, loaded)
            waiting_before = {str(t.id) for t in workflow.get_tasks(state=TaskState.WAITING)}
            run_engine(workflow, self.compact_history)
            fired = [
                t
                for t in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY)
                if str(t.id) in waiting_before
                and isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
            ]
            self._guarded_write(
                session,
                row,
                expected,
                loaded,
                workflow,
                extra={"lease_owner": None, "lease_until": None, "attempts": 0},
            )
            audit.record(
                session,
                "timer_fired",
                actor=actor.username,
                instance_id=row.id,
                timers=[t.task_spec.bpmn_id for t in fired] or None,
                due=row.next_timer_at.isoformat() if row.next_timer_at else None,
                worker=lease_owner,
            )
            outcome = Outcome(instance_id=row.id, status=row.status)
            self._sync(session, row, loaded, workflow, outcome, actor)
        self.after_commit(outcome)
        return outcome

    def record_failure(
        self,
        instance_id: int,
        error: EngineError,
        *,
        max_attempts: int = 5,
        base_delay: dt.timedelta = dt.timedelta(seconds=30),
        worker: str | None = None,
    ) -> str:
        """An automatic step failed: retry later with exponential backoff, then show it as failed."""
        with self.db.session() as session:
            row = self._instance(session, instance_id)
            attempts = (row.attempts or 0) + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "lease_owner": None,
                "lease_until": None,
                "error": {
                    "message": error.message,
                    **error.details,
                    "attempts": attempts,
                    "at": clock.now().isoformat(),
                },
            }
            if attempts >= max_attempts:
                values.update(status="error", lock_version=row.lock_version + 1)
                outcome = "failed"
            else:
                values["next_timer_at"] = clock.now() + base_delay * (2 ** (attempts - 1))
                outcome = "retry"
            session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == instance_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            audit.record(
                session,
                "step_failed" if outcome == "retry" else "instance_failed",
                actor=SYSTEM_PRINCIPAL.username,
                instance_id=instance_id,
                error=error.message,
                element=error.details.get("element"),
                attempts=attempts,
                worker=worker,
            )
        return outcome

    def retry(self, instance_id: int, *, actor: Principal, reason: str | None = None) -> None:
        """Put a failed instance back to work (after the designer fixed the cause or the data)."""
        _require_operator(actor, instance_id)
        with self.db.session() as session:
            row = self._instance(session, instance_id)
            if row.status != "error":
                raise Conflict(f"instance {instance_id} is {row.status}, not failed", instance=instance_id)
            session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == instance_id, ProcessInstance.lock_version == row.lock_version)
                .values(
                    status="running",
                    attempts=0,
                    error=None,
                    next_timer_at=clock.now(),
                    lock_version=row.lock_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            audit.record(
                session,
                "retried",
                actor=actor.username,
                instance_id=instance_id,
                **_reason_detail(reason),
            )

    def fire_due_timers(self, limit: int = 100, *, owner: str = "inline") -> int:
        """Fire every due timer now (tests and single-process use; the worker adds leases and retries)."""
        fired = 0
        for instance_id in self.lease_due_instances(owner, limit=limit):
            try:
                if self.fire_timers(instance_id, lease_owner=owner) is not None:
                    fired += 1
            except Conflict:
                continue
            except EngineError as exc:
                self.record_failure(instance_id, exc, worker=owner)
        return fired

    # ================================================================== messages
    def send_message(
        self,
        name: str,
        correlation_key: str | None,
        payload: dict[str, Any] | None = None,
        *,
        actor: Principal = SYSTEM_PRINCIPAL,
    ) -> dict[str, Any]:
        """Deliver to waiting instances, else start a process that starts on it, else keep it pending."""
        payload = check_process_data(dict(payload or {}), what="message payload")
        with self.db.session() as session:
            message = PendingMessage(
                message_name=name,
                correlation_key=correlation_key,
                payload=payload,
                sent_by=actor.username,
                received_at=clock.now(),
                expires_at=clock.now() + self.message_ttl,
                status="waiting",
            )
            session.add(message)
            session.flush()
            audit.record(
                session,
                "message_received",
                actor=actor.username,
                message=name,
                correlation_key=correlation_key,
                message_id=message.id,
            )
            message_id = message.id
        return self.dispatch_message(message_id, actor=actor)

    def dispatch_message(
        self, message_id: int, *, actor: Principal = SYSTEM_PRINCIPAL, recheck: dt.timedelta = dt.timedelta(minutes=1)
    ) -> dict[str, Any]:
        """Deliver one pending message, or start the process that starts on it, in one transaction.

        The message row is locked first (``SKIP LOCKED`` on PostgreSQL: a message another worker is
        delivering is skipped, not waited for) and marked delivered in the same transaction as the
        receiving instance's step, so a crash delivers it later, never twice. With no receiver yet it
        stays waiting and is looked at again after ``recheck`` (and at once when a receiver subscribes).
        """
        with self.db.session() as session:
            query = select(PendingMessage).where(PendingMessage.id == message_id, PendingMessage.status == "waiting")
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            message = session.scalars(query).first()
            if message is None:
                return {"status": "skipped", "message_id": message_id}
            res = cast(
                CursorResult[Any],
                session.execute(
                    update(PendingMessage)
                    .where(PendingMessage.id == message_id, PendingMessage.status == "waiting")
                    .values(status="delivered")
                    .execution_options(synchronize_session=False)
                ),
            )
            if res.rowcount != 1:
                return {"status": "skipped", "message_id": message_id}
            subscriber = session.scalar(
                select(MessageSubscription.instance_id)
                .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
                .where(
                    MessageSubscription.message_name == message.message_name,
                    MessageSubscription.correlation_key == message.correlation_key,
                    ProcessInstance.status == "running",
                )
                .order_by(MessageSubscription.id)
                .limit(1)
            )
            if subscriber is not None:
                outcome = self._deliver(session, subscriber, message, actor)
                result = {"status": "delivered", "instance_id": outcome.instance_id, "message_id": message_id}
            else:
                starter = self._message_starter(session, message.message_name)
                if starter is None:
                    session.execute(
                        update(PendingMessage)
                        .where(PendingMessage.id == message_id)
                        .values(status="waiting", retry_at=clock.now() + recheck)
                        .execution_options(synchronize_session=False)
                    )
                    return {"status": "pending", "message_id": message_id}
                event = BpmnEvent(MessageEventDefinition(message.message_name), payload=message.payload)
                business_key = message.payload.get("business_key") or message.correlation_key
                commission, owner = self._message_owner(session, starter, message)
                data = {
                    **_without(message.payload, owner_vars(self.repo.loaded(starter.version_id).roles.roles)),
                    **owner,
                }
                outcome = self._start(
                    session,
                    starter,
                    actor,
                    business_key,
                    data,
                    message.source_instance_id,
                    commission,
                    start_event=event,
                )
                result = {"status": "started", "instance_id": outcome.instance_id, "message_id": message_id}
            session.execute(
                update(PendingMessage)
                .where(PendingMessage.id == message_id)
                .values(delivered_to=outcome.instance_id)
                .execution_options(synchronize_session=False)
            )
        self.after_commit(outcome)
        return result

    def record_message_failure(
        self,
        message_id: int,
        error: EngineError,
        *,
        max_attempts: int = 5,
        base_delay: dt.timedelta = dt.timedelta(seconds=30),
    ) -> str:
        with self.db.session() as session:
            message = session.get(PendingMessage, message_id)
            if message is None or message.status != "waiting":
                return "gone"
            message.attempts = (message.attempts or 0) + 1
            message.last_error = str(error)
            if message.attempts >= max_attempts:
                message.status = "failed"
            else:
                message.retry_at = clock.now() + base_delay * (2 ** (message.attempts - 1))
            audit.record(
                session,
                "message_failed" if message.status == "failed" else "message_retry",
                actor=SYSTEM_PRINCIPAL.username,
                message=message.message_name,
                correlation_key=message.correlation_key,
                message_id=message_id,
                error=str(error),
                attempts=message.attempts,
            )
            return message.status

    def _message_owner(
        self, session: Session, starter: ProcessDefinition, message: PendingMessage
    ) -> tuple[str | None, dict[str, str | list[str]]]:
        """The owning commission of an instance a message starts, and its owner variables, from the
        organisation only: a process's message belongs to the sending instance's commission (its
        ``owner_unit``), whatever units its payload names (an assisting department's step cannot route a
        clue to a unit where nobody can act); a person or system sending through the API owns it through
        their commission; with neither, the one commission whose units hold the first task's role."""
        from engine.access.principal import load_principal
        from engine.instances.entry import owning_commission

        loaded = self.repo.loaded(starter.version_id)
        commission = None
        if message.source_instance_id is not None:
            commission = session.scalar(
                select(ProcessInstance.owner_unit).where(ProcessInstance.id == message.source_instance_id)
            ) or owning_commission(session, loaded, starter.process_key, None)  # a sender of no known owner
        else:
            sender = None
            if message.sent_by not in (None, SYSTEM_PRINCIPAL.username):
                try:
                    sender = load_principal(session, message.sent_by)
                except EngineError:  # the sender has since been removed or disabled: fall back to the role
                    sender = None
            commission = owning_commission(session, loaded, starter.process_key, sender)
        if commission is None:
            return None, {}
        return commission, owner_units(session, commission, loaded.roles.roles)

    def _message_starter(self, session: Session, name: str) -> ProcessDefinition | None:
        candidates = session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.start_message == name)
            .order_by(ProcessDefinition.version_id.desc())
        ).all()
        latest = self.repo.latest_version_id(session)
        for definition in candidates:
            if definition.version_id == latest:
                return definition
        return candidates[0] if candidates else None

    def _deliver(self, session: Session, instance_id: int, message: PendingMessage, actor: Principal) -> Outcome:
        row = self._instance(session, instance_id)
        expected = row.lock_version
        loaded = self.repo.loaded(row.version_id)
        workflow = self._load(row, loaded)
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(message.message_name), payload=message.payload))
        except WorkflowException as exc:
            raise Conflict(
                f"instance {instance_id} is no longer waiting for {message.message_name}", instance=instance_id
            ) from exc
        run_engine(workflow, self.compact_history)
        self._guarded_write(session, row, expected, loaded, workflow)
        audit.record(
            session,
            "message_delivered",
            actor=actor.username,
            instance_id=row.id,
            message=message.message_name,
            correlation_key=message.correlation_key,
            message_id=message.id,
        )
        outcome = Outcome(instance_id=row.id, status=row.status)
        self._sync(session, row, loaded, workflow, outcome, actor)
        return outcome

    def after_commit(self, outcome: Outcome) -> None:
        """Route what the change produced at once: thrown messages, and pending ones now awaited."""
        for message_id in list(outcome.messages_out):
            try:
                self.dispatch_message(message_id)
            except EngineError as exc:
                log.warning("message %s not dispatched now (%s); the worker retries it", message_id, exc)
                self.record_message_failure(message_id, exc)
        if not outcome.subscribed:
            return
        with self.db.session() as session:
            waiting = (
                session.execute(
                    select(PendingMessage.id)
                    .join(
                        MessageSubscription,
                        (MessageSubscription.message_name == PendingMessage.message_name)
                        & (MessageSubscription.correlation_key == PendingMessage.correlation_key),
                    )
                    .where(MessageSubscription.instance_id == outcome.instance_id, PendingMessage.status == "waiting")
                )
                .scalars()
                .all()
            )
        for message_id in waiting:
            try:
                self.dispatch_message(message_id)
            except EngineError as exc:
                log.warning("pending message %s not delivered (%s)", message_id, exc)

    # ================================================================== internals
    def _session(self, session: Session | None) -> contextlib.AbstractContextManager[Session]:
        if session is not None:
            from contextlib import nullcontext

            return nullcontext(session)
        return self.db.session()

    @staticmethod
    def _task(session: Session, task_id: int) -> HumanTask:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found", task=task_id)
        return task

    @staticmethod
    def _instance(session: Session, instance_id: int) -> ProcessInstance:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise NotFound(f"instance {instance_id} not found", instance=instance_id)
        return row

    @staticmethod
    def _load(row: InstanceView, loaded: LoadedVersion) -> BpmnWorkflow:
        return state.load(
            row.state, loaded.spec(row.process_key), loaded.subprocess_specs(row.process_key), loaded.script_engine
        )

    def _apply_snapshot(
        self, row: InstanceView, loaded: LoadedVersion, workflow: BpmnWorkflow, live: list[Any] | None = None
    ) -> list[Any]:
        """Bring the row's columns in line with the workflow; returns its ready and waiting tasks (one walk
        of the task tree at every depth, which the rest of the write reuses instead of walking again;
        ``live``: that walk, when ``run_engine`` has just made it on the unchanged workflow)."""
        if live is None:
            live = _live_tasks(workflow)
        for task in live:
            if task.depth >= MAX_TASK_DEPTH:
                raise ProcessError(
                    f"instance of {row.process_key} would grow past {MAX_TASK_DEPTH} nested steps at "
                    f"{task.task_spec.bpmn_id}; a loop this long must start new instances instead",
                    element=task.task_spec.bpmn_id,
                )
        row.state = state.dump(workflow).decode()
        row.updated_at = clock.now()
        row.next_timer_at = self._next_timer(workflow, [t for t in live if t.state == TaskState.WAITING])
        if workflow.is_completed():
            row.status = "completed"
            row.completed_at = clock.now()
            row.next_timer_at = None
        # The business key follows the process's key variable once it is known (a clue handed over under
        # its letter number becomes XS-2024-0156 when 案管室 registers it).
        var = loaded.catalogue.get(row.process_key, {}).get("business_key_var")
        if var:
            for task in [workflow.last_task, *live]:
                value = task.data.get(var) if task is not None else None
                if value not in (None, ""):
                    if str(value) != row.business_key:
                        row.business_key = str(value)
                        row.title = f"{(row.summary or {}).get('process_name') or row.process_key} · {row.business_key}"
                    break
        stages = [
            loaded.task_meta(t.workflow.spec.name, t.task_spec.bpmn_id).get("stage")
            for t in live
            if t.state == TaskState.READY and t.task_spec.manual
        ]
        stages = [s for s in stages if s]
        if stages:
            row.stage = stages[0]
        return live

    def _guarded_write(
        self,
        session: Session,
        row: InstanceView,
        expected: int,
        loaded: LoadedVersion,
        workflow: BpmnWorkflow,
        extra: dict[str, Any] | None = None,
        live: list[Any] | None = None,
    ) -> list[Any]:
        """Write the workflow's state, guarded by ``lock_version``; returns its ready and waiting tasks."""
        live = self._apply_snapshot(row, loaded, workflow, live)
        values = {
            **(extra or {}),
            "state": row.state,
            "updated_at": row.updated_at,
            "business_key": row.business_key,
            "title": row.title,
            "next_timer_at": row.next_timer_at,
            "status": row.status,
            "completed_at": row.completed_at,
            "stage": row.stage,
            "lock_version": expected + 1,
        }
        if isinstance(row, ProcessInstance):
            session.expunge(row)
        if extra:
            written = cast(
                CursorResult[Any],
                session.execute(
                    update(ProcessInstance)
                    .where(ProcessInstance.id == row.id, ProcessInstance.lock_version == expected)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
        else:
            written = _GUARDED_UPDATE(session.connection(), {**values, "_id": row.id, "_expected": expected}).rowcount
        if written != 1:
            raise Conflict(
                f"instance {row.id} was changed by someone else meanwhile; reload and try again", instance=row.id
            )
        row.lock_version = expected + 1
        return live

    @staticmethod
    def _next_timer(workflow: BpmnWorkflow, waiting: list[Any] | None = None) -> dt.datetime | None:
        moments = []
        for task in waiting if waiting is not None else workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):
                value = value.get("next")
            if not value:
                moments.append(clock.now())  # not evaluated yet: look again soon
                continue
            try:
                moments.append(TimerEventDefinition.get_datetime(value) if isinstance(value, str) else value)
            except (TypeError, ValueError):
                moments.append(clock.now())
        return min(moments) if moments else None

    def _sync(
        self,
        session: Session,
        row: InstanceView,
        loaded: LoadedVersion,
        workflow: BpmnWorkflow,
        outcome: Outcome,
        actor: Principal,
        completed_uuid: str | None = None,
        parent_instance_id: int | None = None,
        conflicts: Mapping[str, str] | None = None,
        live: list[Any] | None = None,
        noted: frozenset[tuple[str, str]] | None = None,
        fresh: bool = False,
        others_open: bool = True,
        subscribed: bool = True,
    ) -> None:
        """Bring human-task rows, subscriptions, the outbox and the case links in line with the engine state.

        ``conflicts``: the case's binding 回避 conflicts, when the caller has read them in this transaction
        (the completion's check); they address the new tasks unless the case itself grows here. ``live``:
        the workflow's ready and waiting tasks as ``_guarded_write`` returned them (walked again if None).
        ``noted``: the numbers the instance carried when the caller read it in this transaction (the
        completion's read); when the step brought none beside them, no case link is read or written.
        ``fresh``: the instance was inserted in this transaction (a start): it has no task rows and no
        subscriptions yet, so neither is read back (two round trips fewer per start). ``others_open``,
        ``subscribed``: False when the caller read in this transaction, under its hold on the instance,
        that the instance has no open task row beside ``completed_uuid``'s, or no message subscription
        (the completion's read): then that is not read back either."""
        outcome.status = row.status
        if live is None:
            live = _live_tasks(workflow)
        ready_tasks = [t for t in live if t.state == TaskState.READY]
        # The case this instance belongs to, before its new tasks are opened (engine/instances/cases.py).
        refs, scope = cases.carried(t.data for t in [workflow.last_task, *ready_tasks] if t is not None)
        already = noted is not None and parent_instance_id is None and set(refs.items()) <= noted
        if fresh:
            # Born in this transaction: a 回避 conflict names an existing instance, so none binds it
            # unless it joined a case of other instances (then they are read, as for any case that grew).
            shares = cases.note_fresh(session, row.id, refs, scope, parent_instance_id=parent_instance_id)
            conflicts = None if shares else {}
            outcome.alone = not shares and parent_instance_id is None
        elif (
            (refs or parent_instance_id is not None)
            and not already
            and cases.note_changed(session, row.id, refs, scope, parent_instance_id=parent_instance_id)
        ):
            conflicts = None  # linked to more instances: their conflicts bind this case too
        ready = {str(t.id): t for t in ready_tasks if t.task_spec.manual}
        # Only open rows matter (an instance's completed rows grow with its history; reading them would too).
        conn = session.connection()
        existing: dict[str, int] = {}
        for r in _READY_ROWS(conn, {"instance_id": row.id}) if others_open and not fresh else ():
            existing[r.task_uuid] = r.id
            if r.assignee == actor.username and r.task_uuid != completed_uuid and r.task_uuid in ready:
                outcome.held.append((r.id, r.name))
        if completed_uuid is not None:
            existing.pop(completed_uuid, None)
        gone = [tid for uuid, tid in existing.items() if uuid not in ready]
        if gone:
            session.execute(
                update(TaskCandidate)
                .where(TaskCandidate.task_id.in_(gone), TaskCandidate.ready.is_(True))
                .values(ready=False)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(HumanTask)
                .where(HumanTask.id.in_(gone), HumanTask.status == "ready")
                .values(status="cancelled")
                .execution_options(synchronize_session=False)
            )
        now = clock.now()
        one_statement = database.folds_writes(conn)
        ungranted: list[int] = []  # tasks written by the portable statements: their grants follow below
        for uuid, spiff_task in ready.items():
            if uuid in existing:
                continue
            process_key = spiff_task.workflow.spec.name
            meta = loaded.task_meta(process_key, spiff_task.task_spec.bpmn_id)
            values, units = self._human_task(row, loaded, spiff_task, process_key, meta, now)
            given = addressing.address(session, values, units, meta, actor, conflicts=conflicts)
            if one_statement:
                # The row, its candidate units and its grants in one round trip (engine/runtime/pg_writes.py).
                task_id = pg_writes.task_with_grants()(conn, pg_writes.task_params(values, units)).scalar_one()
            else:
                task_id = _INSERT_TASK(conn, values).scalar_one()
                if units:
                    _INSERT_CANDIDATE.many(conn, [{"task_id": task_id, "unit_code": u} for u in units])
                ungranted.append(task_id)
            if values["assignee"] == actor.username:
                outcome.held.append((task_id, values["name"]))
            outcome.created_tasks.append(task_id)
            outcome.next_tasks.append((task_id, values["name"], values["lane"]))
            if fresh:
                outcome.inserted.append((task_id, values, units))
            audit.record(
                session,
                "task_created",
                actor=actor.username,
                instance_id=row.id,
                task_id=task_id,
                task=values["spec_id"],
                role=values["role"],
                units=units or None,
                assignee=values["assignee"],
                due_at=values["due_at"].isoformat() if values["due_at"] else None,
                # given without claiming (engine/runtime/addressing.py): same_person | single_candidate
                given=given,
            )
        # Need-to-know: record what the new tasks' units and roles grant (engine/visibility.py), same transaction.
        visibility.grant_task_access(session, ungranted)
        outcome.subscribed = self._sync_subscriptions(
            session, row, loaded, [t for t in live if t.state == TaskState.WAITING], fresh=fresh or not subscribed
        )
        for event in workflow.get_events():
            if not isinstance(event.event_definition, BaseMessageEventDefinition):
                continue
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            payload = check_process_data(dict(payload), what=f"message {event.event_definition.name}")
            correlation = payload.get("correlation") or row.business_key
            message = PendingMessage(
                message_name=event.event_definition.name,
                correlation_key=str(correlation) if correlation is not None else None,
                payload=payload,
                sent_by=actor.username,
                source_instance_id=row.id,
                received_at=now,
                expires_at=now + self.message_ttl,
                status="waiting",
            )
            session.add(message)
            session.flush()
            outcome.messages_out.append(message.id)
            audit.record(
                session,
                "message_sent",
                actor=actor.username,
                instance_id=row.id,
                message=message.message_name,
                correlation_key=message.correlation_key,
                message_id=message.id,
            )
        if row.status == "completed":
            audit.record(session, "instance_completed", actor=actor.username, instance_id=row.id)

    def _human_task(
        self,
        row: InstanceView,
        loaded: LoadedVersion,
        spiff_task: Any,
        process_key: str,
        meta: dict[str, Any],
        now: dt.datetime,
    ) -> tuple[dict[str, Any], list[str]]:
        data = spiff_task.data
        units = []
        if meta.get("unit_var"):
            value = data.get(meta["unit_var"])
            if isinstance(value, str) and value:
                units = [value]
            elif isinstance(value, list):
                units = [str(v) for v in value if v]
            if not units:
                raise ProcessError(
                    f"task {spiff_task.task_spec.bpmn_id}: data variable '{meta['unit_var']}' names no unit",
                    element=spiff_task.task_spec.bpmn_id,
                    field=meta["unit_var"],
                )
        assignee = None
        if meta.get("assignee_var"):
            assignee = data.get(meta["assignee_var"]) or None
        separate = sorted({str(u) for var in meta.get("separate_from", []) for u in _as_list(data.get(var)) if u})
        due_at = reminder_at = due_start = None
        if meta.get("due_in"):
            start: dt.datetime | dt.date = now
            if meta.get("due_from") and data.get(meta["due_from"]):
                try:  # the limit runs from a date the process knows (receipt of a report, a letter)
                    start = clock.bounded_date(data[meta["due_from"]])
                except ValueError:
                    raise ProcessError(
                        f"task {spiff_task.task_spec.bpmn_id}: '{meta['due_from']}' is not a date "
                        f"between {clock.EARLIEST_DATE.year} and {clock.LATEST_DATE.year}",
                        element=spiff_task.task_spec.bpmn_id,
                        field=meta["due_from"],
                    ) from None
            due_start = start_day(start)
            due_at = loaded.policy.due_at(meta["due_in"], due_start)
            reminder_at = loaded.policy.reminder_at(meta["due_in"], due_start)
        values = dict(
            instance_id=row.id,
            task_uuid=str(spiff_task.id),
            spec_id=spiff_task.task_spec.bpmn_id,
            process_key=process_key,
            business_key=row.business_key,
            name=meta.get("name") or spiff_task.task_spec.bpmn_name or spiff_task.task_spec.bpmn_id,
            lane=meta.get("lane") or spiff_task.task_spec.lane,
            role=meta.get("role"),
            form_key=meta.get("form_key"),
            stage=meta.get("stage"),
            mechanism=meta.get("mechanism"),
            platform=meta.get("platform"),
            assignee=assignee,
            status="ready",
            separate_from=separate or None,
            separate_steps=meta.get("separate_steps") or None,
            created_at=now,
            due_at=due_at,
            due_key=meta.get("due_in"),
            due_start=due_start,
            reminder_at=reminder_at,
            has_candidates=bool(units),
            # A letter addressed to one person is his alone (need-to-know; engine/access/authz.py in_pool).
            personal=bool(assignee and meta.get("reads_scope") == "addressed"),
        )
        return values, list(dict.fromkeys(units))

    def _sync_subscriptions(
        self, session: Session, row: InstanceView, loaded: LoadedVersion, waiting: list[Any], *, fresh: bool = False
    ) -> bool:
        """The instance's message subscriptions in line with its ``waiting`` tasks (a ``fresh`` instance,
        inserted in this transaction, has none to read)."""
        wanted = set()
        for task in waiting:
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, BaseMessageEventDefinition):
                continue
            meta = (
                loaded.catalogue.get(task.workflow.spec.name, {})
                .get("catch_messages", {})
                .get(task.task_spec.bpmn_id, {})
            )
            var = meta.get("correlation_var")
            key = task.data.get(var) if var else row.business_key
            wanted.add((definition.name, str(key) if key is not None else None))
        current = (
            {}
            if fresh
            else {
                (r.message_name, r.correlation_key): r.id
                for r in session.connection().execute(_SUBSCRIPTIONS, {"instance_id": row.id})
            }
        )
        stale = [sid for key, sid in current.items() if key not in wanted]
        if stale:
            session.execute(_SUB.delete().where(MessageSubscription.id.in_(stale)))
        added = wanted - set(current)
        for name, key in added:
            session.add(
                MessageSubscription(instance_id=row.id, message_name=name, correlation_key=key, created_at=clock.now())
            )
        return bool(added)


_DEADLINE_CALL = re.compile(r"""deadline\((['"])([\w.-]+)\1\)""")


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
