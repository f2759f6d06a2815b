"""What officers do with tasks, one function per use case, for the web pages and the JSON API alike.

Each function takes the services, the person and plain arguments, authorizes, validates and works in
one transaction, and returns plain data (frozen dataclasses): no ORM object leaves its session. Both
channels call the same function, so a page and the API give the same answer to the same person; only
the translation of HTTP to arguments and of results to HTML or JSON differs.

Refusals are engine errors: NotFound, NotVisible/Forbidden (with ``task=``/``instance=`` so the
channel can audit the denial), Conflict, ValidationError (``fields``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from engine import audit, clock, forms
from engine.access import duties, need_to_know
from engine.access.authz import TaskView as TaskRow
from engine.access.authz import can_see, require_can_claim, require_can_complete, require_can_reassign
from engine.access.denials import record_denial
from engine.access.need_to_know import ReadScope
from engine.access.principal import Principal
from engine.access.reveal import Read, Reveal, Sealed, read_records
from engine.cockpit import ecology
from engine.errors import Conflict, EngineError, Forbidden, NotFound, NotVisible, ValidationError
from engine.forms import submission
from engine.forms.data import check_process_data
from engine.models import HumanTask, ProcessInstance, TaskSubmission, User
from engine.numbering import sequences as numbering
from engine.organisation.names import unit_names
from engine.services import Services
from engine.tasks import attachments as files
from engine.tasks import consultation, delegation, known, next_step, sealed_echo
from engine.tasks import inbox as inbox_q

DUE_SOON_WORKDAYS = inbox_q.DUE_SOON_WORKDAYS
DEFAULT_LOCALE = "zh_CN"


# --------------------------------------------------------------------------- plain results
@dataclass(frozen=True)
class TaskInfo:
    """A task row as every channel shows it."""

    id: int
    instance_id: int
    name: str
    process_key: str
    business_key: str | None
    lane: str | None
    role: str | None
    units: tuple[str, ...]
    assignee: str | None
    status: str
    stage: str | None
    mechanism: str | None
    platform: str | None
    form_key: str | None
    created_at: dt.datetime | None
    due_at: dt.datetime | None
    due_key: str | None
    reminder_at: dt.datetime | None
    completed_at: dt.datetime | None
    completed_by: str | None

    @classmethod
    def of(cls, task: Any) -> TaskInfo:
        """From an ORM row (``candidates``) or the completion's plain view (``candidate_units``)."""
        units = getattr(task, "candidate_units", None)
        if units is None:
            units = [c.unit_code for c in task.candidates]
        return cls(
            id=task.id,
            instance_id=task.instance_id,
            name=task.name,
            process_key=task.process_key,
            business_key=task.business_key,
            lane=task.lane,
            role=task.role,
            units=tuple(sorted(units)),
            assignee=task.assignee,
            status=task.status,
            stage=task.stage,
            mechanism=task.mechanism,
            platform=task.platform,
            form_key=task.form_key,
            created_at=task.created_at,
            due_at=task.due_at,
            due_key=getattr(task, "due_key", None),
            reminder_at=task.reminder_at,
            completed_at=task.completed_at,
            completed_by=task.completed_by,
        )


@dataclass(frozen=True)
class InstanceHead:
    """The instance a task belongs to, as far as a task page shows it."""

    id: int
    title: str | None
    business_key: str | None
    status: str
    version_id: int
    process_key: str
    process_name: str
    started_at: dt.datetime | None
    started_by: str | None
    completed_at: dt.datetime | None
    summary: dict[str, Any]


@dataclass(frozen=True)
class StepRecord:
    """What one earlier step recorded, as this reader may see it."""

    task_id: int
    name: str
    lane: str | None
    submitted_by: str
    submitted_by_name: str
    submitted_at: dt.datetime
    data: dict[str, Any]  # confidential values only when revealed
    shown: list[forms.ShownValue]
    sealed: bool
    revealed: bool


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    task_id: int | None
    filename: str
    content_type: str
    size: int
    confidential: bool
    uploaded_by: str
    uploaded_at: dt.datetime

    @classmethod
    def of(cls, a: Any) -> AttachmentInfo:
        return cls(
            id=a.id,
            task_id=a.task_id,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            confidential=a.confidential,
            uploaded_by=a.uploaded_by,
            uploaded_at=a.uploaded_at,
        )


@dataclass(frozen=True)
class Draft:
    submitted_by: str
    submitted_at: dt.datetime


@dataclass(frozen=True)
class Allowed:
    """What the person may do with the task now; ``refusal`` says why they may not act."""

    act: bool
    claim: bool
    unclaim: bool
    reassign: bool
    refusal: EngineError | None


@dataclass(frozen=True)
class TaskView:
    task: TaskInfo
    instance: InstanceHead
    meta: dict[str, Any]
    instructions: str
    schema: dict[str, Any]
    options: dict[str, list[tuple[object, str]]]
    fields: list[forms.Field]
    values: dict[str, Any]
    draft: Draft | None
    steps: list[StepRecord]
    own: list[forms.ShownValue] | None
    attachments: list[AttachmentInfo]
    reveal: bool
    allowed: Allowed
    assignees: list[tuple[str, str]]
    due: inbox_q.DueInfo
    people: dict[str, str]
    deadline_rule: str | None
    signer_name: str
    gathered: ecology.Gathered | None = None  # P8: the figures gathered from P2/P5/P7 and their sources


@dataclass(frozen=True)
class Completed:
    """A completion as committed: the task, its instance's status, and the tasks it opened."""

    task: TaskInfo
    instance_id: int
    instance_title: str | None
    process_name: str
    instance_status: str
    due: inbox_q.DueInfo
    next_tasks: list[tuple[int, str, str | None]] = field(default_factory=list)
    # (id, name) of the person's own next task in the same case, if any: the page opens it and the API
    # names it, so nobody goes back to the inbox to look for the step that follows his own (issue 15).
    next_for_you: tuple[int, str] | None = None


@dataclass(frozen=True)
class Download:
    """A file to send: its plain bytes come chunk by chunk from ``chunks`` (decrypted as they are read)."""

    chunks: Iterator[bytes]
    filename: str
    content_type: str
    size: int


# --------------------------------------------------------------------------- inbox
def inbox(
    services: Services,
    principal: Principal,
    query: inbox_q.InboxQuery,
    *,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    with_choices: bool = False,
    land: bool = False,
) -> tuple[inbox_q.InboxPage, dict[str, list[Any]] | None]:
    """A tab of the person's inbox with its counts (and the filter choices the page offers), the API's.

    It only reads: ``Database.reading`` (no BEGIN/COMMIT round trips on PostgreSQL). The web page reads
    the same inbox with what else it shows in one such session (engine/tasks/inbox_screen.py)."""
    with services.db.reading() as s:
        return read_inbox(s, principal, query, soon_workdays=soon_workdays, with_choices=with_choices, land=land)


def read_inbox(
    s: Session,
    principal: Principal,
    query: inbox_q.InboxQuery,
    *,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    with_choices: bool = False,
    land: bool = False,
) -> tuple[inbox_q.InboxPage, dict[str, list[Any]] | None]:
    """:func:`inbox` inside the caller's session, for a use case that reads more beside it.

    ``land``: the person opened the inbox without choosing a tab; when he holds nothing but his units have
    work he may take (可认领), he lands there rather than on an empty 我的待办 (issue 15;
    ``inbox_q.landed``). Every row is scoped to the person by the inbox's own rules (engine/tasks/inbox.py):
    there is nothing to refuse, only less to show."""
    if with_choices:
        return inbox_q.inbox_page(s, principal, query, soon_workdays=soon_workdays, land=land)
    return inbox_q.list_tasks(s, principal, query, soon_workdays=soon_workdays, land=land), None


# --------------------------------------------------------------------------- reading one task
def _visible_task(s: Session, principal: Principal, task_id: int) -> HumanTask:
    task = s.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found", task=task_id)
    if not can_see(principal, task):
        raise NotVisible(
            f"task {task_id} is not for your role or unit",
            reason="task_not_visible",
            task=task_id,
            instance=task.instance_id,
        )
    return task


def person_locale(s: Session, principal: Principal) -> str:
    """The language the person chose for themselves (the page's language switch keeps it)."""
    return s.scalar(select(User.locale).where(User.username == principal.username)) or DEFAULT_LOCALE


def _options(
    s: Session, schema: dict[str, Any], locale: str, instance_id: int | None = None
) -> dict[str, list[tuple[object, str]]]:
    return cast(
        "dict[str, list[tuple[object, str]]]",
        forms.resolve_options(s, schema, locale=locale, instance_id=instance_id),
    )


def display_names(s: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Username → display name of the people a page names (one query)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    return dict(s.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def _refusal(check: Any, principal: Principal, task: Any, *bars: Any) -> EngineError | None:
    try:
        check(principal, task, *bars)
    except (Forbidden, Conflict) as exc:
        return exc
    return None


_HEAD = select(
    ProcessInstance.id,
    ProcessInstance.title,
    ProcessInstance.business_key,
    ProcessInstance.status,
    ProcessInstance.version_id,
    ProcessInstance.process_key,
    ProcessInstance.started_at,
    ProcessInstance.started_by,
    ProcessInstance.completed_at,
    ProcessInstance.summary,
).where(ProcessInstance.id == bindparam("instance_id"))  # built once: every task page reads it


def _head(s: Session, instance_id: int) -> InstanceHead:
    i = s.execute(_HEAD, {"instance_id": instance_id}).one()
    summary = dict(i.summary or {})
    return InstanceHead(
        id=i.id,
        title=i.title,
        business_key=i.business_key,
        status=i.status,
        version_id=i.version_id,
        process_key=i.process_key,
        process_name=summary.get("process_name") or i.process_key,
        started_at=i.started_at,
        started_by=i.started_by,
        completed_at=i.completed_at,
        summary=summary,
    )


def reading_scope(
    s: Session,
    services: Services,
    principal: Principal,
    instance_id: int,
    version_id: int,
    *,
    tasks: Sequence[TaskRow] | None = None,
) -> ReadScope:
    """What the person may read of the instance: the one need-to-know gate (engine/access/need_to_know.py)
    over the declarations of the instance's deployed version (``tasks``: its task rows, if read already)."""
    loaded = services.definitions.loaded(version_id)
    return need_to_know.read_scope(
        s, principal, instance_id, loaded.task_meta, default_scope=loaded.roles.reads, tasks=tasks
    )


def attachment_infos(s: Session, instance_id: int, scope: ReadScope) -> list[AttachmentInfo]:
    """The instance's attachments the person may open (``scope``: the need-to-know gate)."""
    return [
        AttachmentInfo.of(a)
        for a in files.for_instance(s, instance_id)
        if scope.may_open_file(a.task_id, a.uploaded_by)
    ]


def step_records(
    s: Session,
    services: Services,
    principal: Principal,
    reveal: Reveal,
    *,
    instance_id: int,
    version_id: int,
    locale: str,
    scope: ReadScope,
    before_task: int | None = None,
    audit_task: int | None = None,
    channel: str | None = None,
    also: Sequence[Sealed] = (),
) -> tuple[list[StepRecord], list[Read]]:
    """The instance's final submissions the person may read (``scope``: the need-to-know gate; a record
    it admits in part is cut to those fields, its sealed part withheld), oldest first, through the one
    reveal-and-audit gate; ``also`` are further records the same view shows (a draft, the task's own
    result), read in the same pass so the view is audited once."""
    loaded = services.definitions.loaded(version_id)
    steps = []
    for step in inbox_q.instance_steps(s, instance_id, before_task=before_task):
        names = scope.fields(step.task_id, step.submitted_by)
        if names is not False:
            steps.append((step, names if isinstance(names, frozenset) else None))
    read = read_records(
        s,
        principal,
        reveal,
        [
            *(
                Sealed(need_to_know.trim(step.data, names), step.sealed if names is None else None)
                for step, names in steps
            ),
            *also,
        ],
        instance_id=instance_id,
        task_id=audit_task,
        channel=channel,
    )
    result = []
    schemas = [need_to_know.trim_schema(forms.load_schema(loaded.forms, step.form_key), names) for step, names in steps]
    labels = forms.shown_labels(
        s, zip(schemas, (seen.data for seen in read), strict=False), locale=locale, units=unit_names(services)
    )
    for (step, _names), seen, schema, options in zip(steps, read, schemas, labels, strict=False):
        result.append(
            StepRecord(
                task_id=step.task_id,
                name=step.name,
                lane=step.lane,
                submitted_by=step.submitted_by,
                submitted_by_name=step.submitted_by_name,
                submitted_at=step.submitted_at,
                data=seen.data,
                shown=forms.display(
                    schema, seen.data, options=options, sealed_present=seen.sealed, revealed=seen.revealed
                ),
                sealed=seen.sealed,
                revealed=seen.revealed,
            )
        )
    return result, read[len(steps) :]


def show_task(
    services: Services,
    principal: Principal,
    task_id: int,
    *,
    reveal: Reveal,
    locale: str | None = None,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    with_records: bool = True,
    typed: submission.Submitted | None = None,
    channel: str | None = None,
) -> TaskView:
    """Everything a task page and the API's task detail show, for a person who may see the task.

    ``with_records``: read earlier steps, the person's own result and the draft (the page); the API's
    detail shows the form only, so it neither reads nor audits records it would not show. ``typed``:
    what the person just posted, shown again after a refusal instead of the draft. ``locale``: the
    language of option labels, by default the person's own (their profile's).
    """
    with services.db.session() as s:
        row = _visible_task(s, principal, task_id)
        locale = locale or person_locale(s, principal)
        task = TaskInfo.of(row)
        head = _head(s, task.instance_id)
        loaded = services.definitions.loaded(head.version_id)
        meta = loaded.task_meta(task.process_key, row.spec_id)
        schema = forms.load_schema(loaded.forms, task.form_key)
        options = _options(s, schema, locale, instance_id=task.instance_id)
        ready = task.status == "ready"
        bars = duties.bars(s, row) if ready else duties.NO_BARS
        refusal: EngineError | None
        if not ready:
            refusal = Conflict(f"task {task.id} is already {task.status}", task=task.id, status=task.status)
        elif head.status != "running":
            refusal = Conflict(f"instance {head.id} is {head.status}", instance=head.id, status=head.status)
        else:
            refusal = _refusal(require_can_complete, principal, row, bars)
        may_reassign = ready and _refusal(require_can_reassign, principal, row) is None
        allowed = Allowed(
            act=refusal is None,
            claim=ready and row.assignee is None and _refusal(require_can_claim, principal, row, bars) is None,
            unclaim=ready
            and row.assignee is not None
            and not row.personal  # a letter addressed to one person stays his
            and (row.assignee == principal.username or may_reassign),
            reassign=may_reassign,
            refusal=refusal,
        )
        draft = None
        stored = None
        values: dict[str, Any] = {}
        steps: list[StepRecord] = []
        own = None
        attachments: list[AttachmentInfo] = []
        if typed is not None:
            values = submission.as_typed(schema, typed)
        if with_records:
            scope = reading_scope(s, services, principal, task.instance_id, head.version_id)
            stored = inbox_q.latest_draft(s, task.id) if ready else None
            final = inbox_q.final_submission(s, task.id) if task.status == "completed" else None
            if final is not None and not scope.may_read(task.id, final.submitted_by):
                final = None  # a finished step's result is a record like any other
            also = []
            if stored is not None:
                draft = Draft(submitted_by=stored.submitted_by, submitted_at=stored.submitted_at)
                if typed is None:
                    also.append(Sealed(stored.data or {}, stored.sealed, author=stored.submitted_by))
            if final is not None:
                also.append(Sealed(final.data or {}, final.sealed))
            steps, extra = step_records(
                s,
                services,
                principal,
                reveal,
                instance_id=task.instance_id,
                version_id=head.version_id,
                locale=locale,
                scope=scope,
                before_task=task.id,
                audit_task=task.id,
                channel=channel,
                also=also,
            )
            if stored is not None and typed is None:
                values = forms.form_values(schema, extra.pop(0).data)
            elif typed is None and ready and known.asked_once(schema):
                values = forms.form_values(schema, known.facts(s, schema, task.instance_id, scope, before=task.id))
            values.update(numbering.already_issued(s, task.instance_id, row.spec_id))
            if final is not None:
                seen = extra.pop(0)
                own = forms.display(
                    schema, seen.data, options=options, sealed_present=seen.sealed, revealed=seen.revealed
                )
            attachments = attachment_infos(s, task.instance_id, scope)
        gathered = None
        if ready and ecology.fills(task.process_key, row.spec_id):
            gathered = ecology.for_step(
                s, loaded.settings, process_key=task.process_key, spec_id=row.spec_id, instance_id=task.instance_id
            )
            if gathered is not None and typed is None and stored is None:
                values.update(forms.form_values(schema, gathered.values()))
        assignees = inbox_q.eligible_assignees(s, row, bars) if may_reassign else []
        people = display_names(s, (task.assignee, task.completed_by))
    rule = loaded.policy.find(task.due_key)
    return TaskView(
        task=task,
        instance=head,
        meta=dict(meta),
        instructions=meta.get("instructions") or "",
        schema=schema,
        options=options,
        fields=forms.fields(schema, options, values),
        values=values,
        draft=draft,
        steps=steps,
        own=own,
        attachments=attachments,
        reveal=reveal.allows(principal),
        allowed=allowed,
        assignees=assignees,
        due=inbox_q.due_info(
            task.due_at,
            loaded.policy.calendar,
            reminder_at=task.reminder_at,
            soon_workdays=soon_workdays,
            status=task.status,
        ),
        people=people,
        deadline_rule=rule.describe() if rule is not None else None,
        signer_name=principal.display_name or principal.username,
        gathered=gathered,
    )


# --------------------------------------------------------------------------- the form pipeline
def submit_task(
    services: Services,
    principal: Principal,
    task_id: int,
    submitted: submission.Submitted,
    *,
    reveal: Reveal,
    locale: str | None = None,
    soon_workdays: int = DUE_SOON_WORKDAYS,
) -> Completed:
    """Complete a task with a submitted form: the one pipeline of the page and the API.

    In one transaction: authorize (the runtime's read of the task) → read the submission (strings or
    JSON; fields the form does not have are refused) → sign (the signature blocks get the person and
    the server's time) → validate (options resolved from the organisation; free text may not repeat a
    sealed value of the case, engine/tasks/sealed_echo.py) → split into process data,
    record and confidential part → seal → run the engine and write. Nothing changes on a refusal.
    """
    runtime = services.runtime
    caught: dict[str, str] = {}  # free-text fields repeating a sealed value (engine/tasks/sealed_echo.py)
    try:
        with services.db.session() as s:
            pending = runtime.begin_completion(s, task_id, principal)
            delegation.require_not_delegate(pending.task.delegate, task_id, principal)
            if pending.task.awaits_opinion:  # 加签: the opinion asked for comes first (known from the task's read)
                consultation.require_opinions_given(s, task_id)
            schema = forms.load_schema(pending.loaded.forms, pending.task.form_key)
            data, problems = submission.read(schema, submitted)
            problems.update(numbering.typed(schema, data))
            if known.asked_once(schema):  # facts the case knows are not asked again (engine/tasks/known.py)
                scope = reading_scope(s, services, principal, pending.task.instance_id, pending.instance.version_id)
                found = known.facts(s, schema, pending.task.instance_id, scope, before=task_id)
                data = {**{k: v for k, v in found.items() if k not in problems}, **data}
            data = forms.sign(schema, data, signer=principal.display_name or principal.username, at=clock.now())
            if not problems:  # the numbers go back with the transaction if validation refuses the form
                data = numbering.issue(
                    s,
                    pending.loaded.settings,
                    schema,
                    data,
                    instance_id=pending.task.instance_id,
                    task_id=task_id,
                    spec_id=pending.task.spec_id,
                    actor=principal.username,
                )
            options = forms.resolve_options(
                s, schema, locale=locale or DEFAULT_LOCALE, instance_id=pending.task.instance_id
            )
            for name, message in forms.validate(schema, data, options=options).items():
                problems.setdefault(name, message)
            caught = sealed_echo.check(
                s, reveal.sealer, pending.task.instance_id, schema, data, case_sealed=pending.task.case_sealed
            )
            for name, message in caught.items():
                problems.setdefault(name, message)
            adjusted = ecology.review(  # P8: figures gathered from P2/P5/P7 changed only with a reason
                ecology.for_step(
                    s,
                    pending.loaded.settings,
                    process_key=pending.task.process_key,
                    spec_id=pending.task.spec_id,
                    instance_id=pending.task.instance_id,
                ),
                pending.loaded.settings,
                data,
            )
            for name, message in adjusted.problems.items():
                problems.setdefault(name, message)
            if problems:
                raise ValidationError("表单填写不符合要求", fields=problems, task=task_id)
            ecology.record_adjustment(
                s, adjusted, data, actor=principal.username, instance_id=pending.task.instance_id, task_id=task_id
            )
            process_data, record, confidential = forms.split(schema, data)
            process_data = check_process_data(process_data, what="task data")
            outcome = runtime.finish_completion(
                s, pending, actor=principal, data=process_data, record=record, sealed=reveal.sealer.seal(confidential)
            )
            following = next_step.for_person(outcome.held, outcome.created_tasks)
    except ValidationError:
        if caught:
            sealed_echo.record(services, principal, task_id, _instance_of(services, task_id), sorted(caught))
        raise
    runtime.after_commit(outcome)
    done, instance = outcome.task, outcome.instance
    assert done is not None and instance is not None
    return Completed(
        task=TaskInfo.of(done),
        instance_id=instance.id,
        instance_title=instance.title,
        process_name=(instance.summary or {}).get("process_name") or done.process_key,
        instance_status=outcome.status,
        due=inbox_q.due_info(
            done.due_at,
            pending.loaded.policy.calendar,
            reminder_at=done.reminder_at,
            soon_workdays=soon_workdays,
            status=done.status,
        ),
        next_tasks=list(outcome.next_tasks),
        next_for_you=following,
    )


def _instance_of(services: Services, task_id: int) -> int | None:
    with services.db.session() as s:
        return s.scalar(select(HumanTask.instance_id).where(HumanTask.id == task_id))


def save_draft(
    services: Services, principal: Principal, task_id: int, submitted: submission.Submitted, *, reveal: Reveal
) -> None:
    """Keep a half-filled form (it never reaches the engine); confidential values sealed as on completion.

    Values not yet valid are kept as typed; what no database should store (NUL characters, lone
    surrogates, texts over the field's limit) is refused and nothing is saved.
    """
    with services.db.session() as s:
        row = _visible_task(s, principal, task_id)
        require_can_complete(principal, row, duties.bars(s, row))
        version_id = s.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == row.instance_id))
        assert version_id is not None  # a task's instance outlives it (ON DELETE CASCADE)
        schema = forms.load_schema(services.definitions.loaded(version_id).forms, row.form_key)
        data, problems = submission.read(schema, submitted)
        refused = submission.refused_in_draft(problems)
        if refused:
            raise ValidationError("表单填写不符合要求", fields=refused, task=task_id)
        _process, record, confidential = forms.split(schema, submission.draft_record(submitted, data, problems))
        s.execute(delete(TaskSubmission).where(TaskSubmission.task_id == row.id, TaskSubmission.kind == "draft"))
        s.add(
            TaskSubmission(
                task_id=row.id,
                instance_id=row.instance_id,
                kind="draft",
                data=record,
                sealed=reveal.sealer.seal(confidential),
                submitted_by=principal.username,
                submitted_at=clock.now(),
            )
        )
        audit.record(s, "draft_saved", actor=principal.username, instance_id=row.instance_id, task_id=row.id)


# --------------------------------------------------------------------------- who holds the task
def claim_task(services: Services, principal: Principal, task_id: int) -> None:
    """Take a group task. A task the person may not see is refused before the claim rule is asked, so
    the answer never tells whether someone else holds it."""
    with services.db.session() as s:
        _visible_task(s, principal, task_id)
        services.runtime.claim(task_id, actor=principal, session=s)


def unclaim_task(services: Services, principal: Principal, task_id: int) -> None:
    """Give a claimed task back to its units (the assignee, or a leader of the unit)."""
    with services.db.session() as s:
        _visible_task(s, principal, task_id)
        services.runtime.unclaim(task_id, actor=principal, session=s)


def reassign_task(services: Services, principal: Principal, task_id: int, to_username: str) -> None:
    """A unit leader hands the task to someone holding its role in its units (not one kept apart)."""
    to_username = (to_username or "").strip()
    try:
        with services.db.session() as s:
            _visible_task(s, principal, task_id)
            if not to_username:
                raise ValidationError("no one to reassign to", fields={"assignee": "required"}, task=task_id)
            services.runtime.reassign(task_id, actor=principal, to_username=to_username, session=s)
    except ValidationError as exc:
        rule = exc.details.get("rule")
        if rule in (duties.SEPARATION, duties.RECUSAL):
            # Handing the task to someone the case keeps out is an attempt on the rule: kept as evidence.
            record_denial(services, str(rule), actor=principal.username, task_id=task_id, assignee=to_username)
        raise


# --------------------------------------------------------------------------- attachments
def upload_attachment(
    services: Services,
    principal: Principal,
    task_id: int,
    *,
    filename: str,
    stream: BinaryIO,
    confidential: bool = False,
    max_bytes: int = files.MAX_BYTES,
) -> AttachmentInfo:
    """Attach a document to the task's instance; only someone who may act on the task may."""
    with services.db.session() as s:
        row = _visible_task(s, principal, task_id)
        require_can_complete(principal, row, duties.bars(s, row))
        if not filename:
            raise ValidationError("no file", fields={"file": "请选择要上传的文件"}, task=task_id)
        stored = files.store(
            s,
            services.attachments,
            sealer=services.sealer,
            instance_id=row.instance_id,
            task_id=row.id,
            filename=filename,
            stream=stream,
            actor=principal.username,
            confidential=confidential,
            max_bytes=max_bytes,
        )
        return AttachmentInfo.of(stored)


def download_attachment(services: Services, principal: Principal, attachment_id: int, *, reveal: Reveal) -> Download:
    """A file for a reader of the instance's records (a confidential one for reveal roles only),
    with its ``attachment_downloaded`` audit event."""
    with services.db.session() as s:
        row = files.get(s, attachment_id)
        # Attachments are part of what the steps recorded: not for the one who only started the matter,
        # and for a lane that reads what is addressed to it, only the uploads its open task names.
        version_id = s.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == row.instance_id))
        assert version_id is not None  # an attachment's instance outlives it (ON DELETE CASCADE)
        scope = reading_scope(s, services, principal, row.instance_id, version_id)
        if not scope.may_open_file(row.task_id, row.uploaded_by):
            raise NotVisible(
                f"attachment {attachment_id} is outside your need to know",
                reason="instance_not_visible" if scope.kind == "none" else "outside_need_to_know",
                instance=row.instance_id,
                attachment=row.id,
            )
        if row.confidential and not reveal.allows(principal):
            raise NotVisible(
                f"attachment {attachment_id} is confidential",
                reason="confidential_attachment",
                instance=row.instance_id,
                attachment=row.id,
            )
        audit.record(
            s,
            "attachment_downloaded",
            actor=principal.username,
            instance_id=row.instance_id,
            task_id=row.task_id,
            attachment=row.id,
        )
        chunks = files.content(services.attachments, row, services.sealer)
        return Download(
            chunks=chunks,
            filename=files.real_name(row, services.sealer),
            content_type=row.content_type,
            size=row.size,
        )
