"""The actions officers expect of a Chinese 审批 system beyond 提交 (issue 15): 退回, 撤回, 转办, 委派,
抄送/传阅, 催办.

Each is one use case, (services, principal, plain data) → plain result, for the task page and the API
alike. Each asks the one gate first (engine/access/authz.py: the person may see and act on the task;
engine/access/visibility.py: the person may see the case), takes a reason where the practice asks for one
(the 批示 of a 退回, the note of a 催办), runs in one transaction and leaves one audit event naming what
was before and what is after.

- **退回**: whoever may complete an open task of the handling commission's lanes (not an outside lane's:
  被反映人, 被监督党组织, X职能部门 answer what is addressed to them) returns the case to a step already
  done in this instance (one the open task descends from), with his 批示. SpiffWorkflow resets to that step
  (engine/runtime/rewind.py); the step reopens for its earlier holder, with what he submitted then as a
  draft, and a fresh time limit; the open tasks below it are cancelled.
- **撤回**: the person who completed the instance's last step takes it back while nobody has acted on
  what it opened (claimed, saved a draft or completed); his step reopens for him, as he left it.
- **转办**: the holder hands the task over to a colleague entitled to it (its role in one of its units, not
  kept out by the case's separation of duties or recusal: engine/access/duties.py), with a reason.
- **委派**: the holder lends it to such a colleague, who drafts it and hands it back (交还); only the owner
  completes it (engine/tasks/delegation.py).
- **抄送/传阅**: whoever reads the whole case file sends it for reading to people who read the whole file
  too (need-to-know: engine/access/need_to_know.py), never to anyone else; each copy is 待阅 until its
  reader opens it (已阅).
- **批量移交**: when a person leaves his post, a leader of his units hands all the open work he holds there
  to a successor (each task checked like a 转办; what the successor may not do goes back to its pool).
- **催办**: a manager (the cockpit roles: 书记, 分管领导, 案管室, 党风政风室) or a leader of the task's units
  who may see the case urges the holder of an open task, with a note; the holder sees it on the task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import duties, need_to_know, visibility
from engine.access.authz import candidate_units, in_pool, require_can_complete
from engine.access.denials import record_denial
from engine.access.principal import Principal, load_principal
from engine.cockpit.access import cockpit_roles
from engine.cockpit.scope import commission_scope
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import (
    AuditEvent,
    CaseCopy,
    HumanTask,
    Membership,
    ProcessInstance,
    TaskCandidate,
    TaskDelegation,
    TaskSubmission,
    TaskUrge,
    User,
)
from engine.runtime import rewind
from engine.services import Services
from engine.tasks import delegation, sealed_echo
from engine.tasks import inbox as inbox_q
from engine.tasks.operations import _visible_task, display_names, reading_scope

REASON_MAX = 2000


@dataclass(frozen=True)
class DoneStep:
    """A finished step of the instance the open task may be returned to."""

    task_id: int
    name: str
    completed_by: str | None
    completed_by_name: str
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class Reopened:
    """The row of the step that reopened, and who holds it (None: back in its units' pool)."""

    task_id: int
    assignee: str | None


@dataclass(frozen=True)
class Urge:
    urged_by: str
    urged_by_name: str
    urged_at: dt.datetime
    note: str


@dataclass(frozen=True)
class Person:
    username: str
    name: str


@dataclass(frozen=True)
class Copy:
    id: int
    instance_id: int
    title: str | None
    sender: str
    sender_name: str
    note: str | None
    sent_at: dt.datetime
    read_at: dt.datetime | None


@dataclass(frozen=True)
class TaskActions:
    """What the person may do on this task beyond 提交, and what the page shows about it."""

    return_to: tuple[DoneStep, ...]
    may_withdraw: bool
    may_urge: bool
    urges: tuple[Urge, ...]
    hand_to: tuple[Person, ...] = ()  # 转办 / 委派: colleagues entitled to the task
    delegated_to: Person | None = None  # the open 委派 (the owner sees to whom; the delegate hands back)
    may_give_back: bool = False
    copy_to: tuple[Person, ...] = ()  # 抄送: people entitled to read the whole case


def _reason(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field} is required", fields={field: "请填写理由（批示）"})
    if len(text) > REASON_MAX or "\x00" in text:
        raise ValidationError(f"{field} is too long", fields={field: f"不超过{REASON_MAX}字"})
    return text


def _instance(s: Session, instance_id: int) -> ProcessInstance:
    row = s.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} not found", instance=instance_id)
    return row


def _done_rows(s: Session, instance_id: int, uuids: list[str]) -> list[HumanTask]:
    if not uuids:
        return []
    return list(
        s.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == instance_id,
                HumanTask.task_uuid.in_(uuids),
                HumanTask.status == "completed",
            )
            .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        )
    )


# --------------------------------------------------------------------------- 退回
def _handling_lane(services: Services, row: ProcessInstance, task: HumanTask) -> bool:
    """The task is the handling commission's (its lane reads the whole file), not an outside lane's.

    An outside lane (被反映人, 被监督党组织, X职能部门 …) answers what is addressed to it; sending the
    case back through the commission's own steps is not its decision.
    """
    loaded = services.definitions.loaded(row.version_id)
    scope = loaded.task_meta(task.process_key, task.spec_id).get("reads_scope") or loaded.roles.reads(task.role)
    return bool(scope != need_to_know.READS_ADDRESSED and not task.personal)


def _returnable(services: Services, s: Session, task: HumanTask) -> list[HumanTask]:
    row = _instance(s, task.instance_id)
    if row.status != "running" or task.status != "ready" or not _handling_lane(services, row, task):
        return []
    steps = rewind.reopenable(services.runtime, row, task.task_uuid)
    return _done_rows(s, task.instance_id, list(steps))


def _acting(s: Session, principal: Principal, task_id: int) -> HumanTask:
    task = _visible_task(s, principal, task_id)
    require_can_complete(principal, task, duties.bars(s, task))
    return task


def return_task(
    services: Services, principal: Principal, task_id: int, target_task_id: int | None, reason: str | None
) -> Reopened:
    """退回: the person who may complete the open task sends the case back to a step already done."""
    with services.db.session() as s:
        task = _acting(s, principal, task_id)
        if not _handling_lane(services, _instance(s, task.instance_id), task):
            raise Forbidden(
                "a step addressed to an outside lane answers what it is asked; it does not return the case",
                task=task_id,
                rule="return_outside_lane",
            )
        text = _reason(reason, "reason")
        sealed_echo.refuse_in_notes(services, s, principal, task_id, task.instance_id, {"reason": text})
        if not target_task_id:
            raise ValidationError("choose the step to return to", fields={"target": "请选择退回到的环节"})
        target = next((t for t in _returnable(services, s, task) if t.id == target_task_id), None)
        if target is None:
            raise ValidationError(
                "the case can be returned only to a step already done on its way to this one",
                fields={"target": "只能退回到本案已办理的前序环节"},
                task=task_id,
            )
        row = _instance(s, task.instance_id)
        outcome = rewind.reopen(
            services.runtime,
            s,
            row,
            target.task_uuid,
            principal,
            action="task_returned",
            detail={
                "from_task": task.id,
                "from_step": task.spec_id,
                "from_assignee": task.assignee,
                "to_step": target.spec_id,
                "to_completed_task": target.id,
                "to_assignee": target.completed_by,
                "reason": text,
            },
        )
        reopened = _settle(s, outcome.created_tasks, target, principal)
    services.runtime.after_commit(outcome)
    return reopened


def _settle(s: Session, created: list[int], earlier: HumanTask, principal: Principal) -> Reopened:
    """The reopened step goes back to its earlier holder (if he may still do it), his submission as a draft."""
    rows = [s.get(HumanTask, i) for i in created]
    new = next((t for t in rows if t is not None and t.spec_id == earlier.spec_id), None)
    if new is None:
        raise Conflict("the step did not reopen", task=earlier.id)
    holder = earlier.completed_by
    if holder:
        try:
            person = load_principal(s, holder)
        except NotFound:  # the account is gone: the step goes back to its units' pool
            person = None
        if person is not None and in_pool(person, new) and holder not in duties.bars(s, new):
            new.assignee = holder
    final = s.scalar(
        select(TaskSubmission)
        .where(TaskSubmission.task_id == earlier.id, TaskSubmission.kind == "final")
        .order_by(TaskSubmission.id.desc())
        .limit(1)
    )
    if final is not None:
        s.add(
            TaskSubmission(
                task_id=new.id,
                instance_id=new.instance_id,
                kind="draft",
                data=dict(final.data),
                sealed=final.sealed,
                submitted_by=final.submitted_by,
                submitted_at=clock.now(),
            )
        )
    s.flush()
    audit.record(
        s,
        "task_reopened",
        actor=principal.username,
        instance_id=new.instance_id,
        task_id=new.id,
        earlier_task=earlier.id,
        assignee=new.assignee,
    )
    return Reopened(task_id=new.id, assignee=new.assignee)


# --------------------------------------------------------------------------- 撤回
def _withdrawable(services: Services, s: Session, principal: Principal, done: HumanTask) -> bool:
    """The person completed the instance's last step and nobody has acted on what it opened."""
    if done.status != "completed" or done.completed_by != principal.username:
        return False
    row = _instance(s, done.instance_id)
    if row.status != "running":
        return False
    later = s.scalar(
        select(func.count())
        .select_from(HumanTask)
        .where(
            HumanTask.instance_id == done.instance_id,
            HumanTask.status == "completed",
            HumanTask.completed_at >= done.completed_at,  # one at the same moment counts as later
            HumanTask.id != done.id,
        )
    )
    if later:
        return False
    open_rows = list(
        s.scalars(select(HumanTask).where(HumanTask.instance_id == done.instance_id, HumanTask.status == "ready"))
    )
    below = [t for t in open_rows if done.task_uuid in rewind.reopenable(services.runtime, row, t.task_uuid)]
    if not below:
        return False
    drafted = s.scalar(
        select(func.count())
        .select_from(TaskSubmission)
        .where(TaskSubmission.task_id.in_([t.id for t in below]), TaskSubmission.kind == "draft")
    )
    if drafted:
        return False
    acted = s.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.task_id.in_([t.id for t in below]), AuditEvent.action.in_(("claimed", "draft_saved")))
    )
    return not acted


def withdraw_task(services: Services, principal: Principal, task_id: int, reason: str | None = None) -> Reopened:
    """撤回: the sender of the instance's last completion takes it back before the next person acts."""
    with services.db.session() as s:
        done = s.get(HumanTask, task_id)
        if done is None or done.completed_by != principal.username:
            raise NotFound(f"task {task_id} not found", task=task_id)
        if not _withdrawable(services, s, principal, done):
            raise Conflict(
                "the next step has been taken up (claimed, drafted or done) or the case moved on: "
                "it can no longer be withdrawn",
                task=task_id,
                rule="withdraw_after_next_acted",
            )
        sealed_echo.refuse_in_notes(services, s, principal, task_id, done.instance_id, {"reason": reason})
        row = _instance(s, done.instance_id)
        outcome = rewind.reopen(
            services.runtime,
            s,
            row,
            done.task_uuid,
            principal,
            action="task_withdrawn",
            detail={"withdrawn_task": done.id, "step": done.spec_id, "reason": (reason or "").strip() or None},
        )
        reopened = _settle(s, outcome.created_tasks, done, principal)
    services.runtime.after_commit(outcome)
    return reopened


# --------------------------------------------------------------------------- 转办, 委派
def _holder(s: Session, principal: Principal, task_id: int) -> HumanTask:
    """The open task the person holds (claimed or addressed to him), which he may hand on."""
    task = _acting(s, principal, task_id)
    if task.assignee != principal.username:
        raise Forbidden("only the person holding the task may hand it on; claim it first", task=task_id)
    if task.personal:
        raise Forbidden(
            f"task {task_id} is addressed to one person and cannot be handed to another",
            task=task_id,
            rule="addressed_to_one_person",
        )
    if delegation.open_delegation(s, task_id) is not None:
        raise Conflict("the task is delegated; it must be handed back first", task=task_id)
    return task


def _entitled(services: Services, s: Session, principal: Principal, task: HumanTask, to_username: str) -> Principal:
    """The colleague may do the task: its role in one of its units, not kept out by the case."""
    to_username = (to_username or "").strip()
    if not to_username:
        raise ValidationError("choose a colleague", fields={"assignee": "请选择承办人"}, task=task.id)
    if to_username == principal.username:
        raise ValidationError("that is the holder himself", fields={"assignee": "不能转给本人"}, task=task.id)
    try:
        target = load_principal(s, to_username)
    except NotFound:
        target = None
    if target is None or not in_pool(target, task):
        raise ValidationError(
            f"{to_username} does not hold the task's role in its unit",
            fields={"assignee": "该人员不承担本环节的职责"},
            task=task.id,
        )
    bar = duties.bars(s, task).get(to_username)
    if bar is not None:
        record_denial(services, bar.rule, actor=principal.username, task_id=task.id, assignee=to_username)
        raise ValidationError(
            f"{to_username} may not be given this task ({bar.rule})",
            fields={"assignee": f"{target.display_name or to_username}：{bar.why}"},
            task=task.id,
            rule=bar.rule,
        )
    return target


def transfer_task(services: Services, principal: Principal, task_id: int, to_username: str, reason: str | None) -> None:
    """转办: the holder hands the task over for good to a colleague entitled to it."""
    with services.db.session() as s:
        task = _holder(s, principal, task_id)
        target = _entitled(services, s, principal, task, to_username)
        text = _reason(reason, "reason")
        sealed_echo.refuse_in_notes(services, s, principal, task_id, task.instance_id, {"reason": text})
        task.assignee = target.username
        audit.record(
            s,
            "task_transferred",
            actor=principal.username,
            instance_id=task.instance_id,
            task_id=task.id,
            previous=principal.username,
            assignee=target.username,
            reason=text,
        )


def delegate_task(services: Services, principal: Principal, task_id: int, to_username: str, note: str | None) -> None:
    """委派: the holder lends the task to a colleague entitled to it, who drafts it and hands it back."""
    with services.db.session() as s:
        task = _holder(s, principal, task_id)
        target = _entitled(services, s, principal, task, to_username)
        text = _reason(note, "reason")
        sealed_echo.refuse_in_notes(services, s, principal, task_id, task.instance_id, {"reason": text})
        s.add(
            TaskDelegation(
                task_id=task.id,
                instance_id=task.instance_id,
                owner=principal.username,
                delegate=target.username,
                note=text,
            )
        )
        task.assignee = target.username
        audit.record(
            s,
            "task_delegated",
            actor=principal.username,
            instance_id=task.instance_id,
            task_id=task.id,
            owner=principal.username,
            delegate=target.username,
            note=text,
        )


def give_back_task(services: Services, principal: Principal, task_id: int) -> None:
    """交还: the delegate hands the task (with his draft) back to its owner."""
    with services.db.session() as s:
        task = _visible_task(s, principal, task_id)
        lent = delegation.open_delegation(s, task_id)
        if lent is None or lent.delegate != principal.username or task.status != "ready":
            raise Conflict("the task is not delegated to you", task=task_id)
        lent.returned_at = clock.now()
        task.assignee = lent.owner
        audit.record(
            s,
            "task_given_back",
            actor=principal.username,
            instance_id=task.instance_id,
            task_id=task.id,
            owner=lent.owner,
            delegate=principal.username,
        )


def _hand_candidates(s: Session, principal: Principal, task: HumanTask) -> tuple[Person, ...]:
    people = inbox_q.eligible_assignees(s, task, duties.bars(s, task))
    return tuple(Person(u, n) for u, n in people if u != principal.username)


@dataclass(frozen=True)
class Handover:
    """What a 批量移交 did: tasks given to the successor, and tasks put back in their units' pool
    (the successor may not do them: another role or unit, or the case keeps him out)."""

    handed: tuple[int, ...]
    pooled: tuple[int, ...]


def require_may_hand_over(principal: Principal) -> None:
    """批量移交 is a unit leader's (the page's form too); administrators move no case work (三员分立)."""
    if principal.admin_kind or not principal.leader_of:
        raise Forbidden("only a unit's leader hands over its work", rule="handover_not_leader")


def hand_over_all(
    services: Services, principal: Principal, from_username: str, to_username: str, reason: str | None
) -> Handover:
    """批量移交: when a person leaves his post, a leader of his units moves all the open work he holds in
    those units to a successor; what the successor may not do goes back to its units' pool."""
    require_may_hand_over(principal)
    from_username, to_username = (from_username or "").strip(), (to_username or "").strip()
    with services.db.session() as s:
        text = _reason(reason, "reason")
        if not from_username or not to_username or from_username == to_username:
            raise ValidationError("name two different people", fields={"to_username": "请选择接替人员"})
        rows = [
            t
            for t in s.scalars(
                select(HumanTask).where(HumanTask.assignee == from_username, HumanTask.status == "ready")
            )
            if principal.leader_of & candidate_units(t) and not t.personal
        ]
        if not rows:
            raise Forbidden("no open task of that person in the units you lead", rule="handover_not_leader")
        try:
            successor: Principal | None = load_principal(s, to_username)
        except NotFound:
            successor = None
        if successor is None:
            raise ValidationError(f"no user {to_username}", fields={"to_username": "没有该人员"})
        handed, pooled = [], []
        for task in rows:
            if in_pool(successor, task) and to_username not in duties.bars(s, task):
                task.assignee = to_username
                handed.append(task.id)
            else:
                task.assignee = None
                pooled.append(task.id)
            lent = delegation.open_delegation(s, task.id)
            if lent is not None:
                lent.returned_at = clock.now()
        audit.record(
            s,
            "work_handed_over",
            actor=principal.username,
            previous=from_username,
            assignee=to_username,
            handed=handed,
            pooled=pooled or None,
            reason=text,
        )
        return Handover(tuple(handed), tuple(pooled))


# --------------------------------------------------------------------------- 抄送/传阅, 待阅
def _reads_file(services: Services, s: Session, person: Principal, row: ProcessInstance) -> bool:
    return reading_scope(s, services, person, row.id, row.version_id).whole and not person.admin_kind


def _copy_candidates(services: Services, s: Session, principal: Principal, row: ProcessInstance) -> tuple[Person, ...]:
    """People who read the whole file of the case: those who hold or held one of its tasks in a lane that
    reads the file, and the leaders of its units (the need-to-know gate decides each one)."""
    units = {
        c
        for (c,) in s.execute(
            select(TaskCandidate.unit_code)
            .join(HumanTask, HumanTask.id == TaskCandidate.task_id)
            .where(HumanTask.instance_id == row.id)
        )
    }
    names = s.execute(
        select(User.username, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_code.in_(units), User.active.is_(True), User.admin_kind.is_(None))
        .distinct()
        .order_by(User.username)
    ).all()
    found = []
    for username, name in names:
        if username == principal.username:
            continue
        if _reads_file(services, s, load_principal(s, username), row):
            found.append(Person(username, name))
    return tuple(found)


def copy_case(
    services: Services, principal: Principal, task_id: int, readers: list[str], note: str | None
) -> list[int]:
    """抄送/传阅: send the case of this task for reading to people who may read its whole file."""
    with services.db.session() as s:
        task = _visible_task(s, principal, task_id)
        row = _instance(s, task.instance_id)
        if not _reads_file(services, s, principal, row):
            raise Forbidden("only someone who reads the whole case may send it for reading", task=task_id)
        wanted = [r.strip() for r in readers if r and r.strip()]
        if not wanted:
            raise ValidationError("choose who reads it", fields={"readers": "请选择抄送人"}, task=task_id)
        for username in wanted:
            try:
                person = load_principal(s, username)
            except NotFound:
                person = None
            if person is None or not _reads_file(services, s, person, row):
                record_denial(services, "copy_not_entitled", actor=principal.username, task_id=task_id, reader=username)
                raise ValidationError(
                    f"{username} may not read this case",
                    fields={"readers": f"{username}：无权阅知本案，不能抄送"},
                    task=task_id,
                )
        text = (note or "").strip() or None
        if text is not None and len(text) > REASON_MAX:
            raise ValidationError("note too long", fields={"note": f"不超过{REASON_MAX}字"})
        sealed_echo.refuse_in_notes(services, s, principal, task_id, row.id, {"note": text})
        sent = []
        for username in dict.fromkeys(wanted):
            copy = CaseCopy(instance_id=row.id, task_id=task.id, sender=principal.username, reader=username, note=text)
            s.add(copy)
            s.flush()
            sent.append(copy.id)
            audit.record(
                s,
                "case_copied",
                actor=principal.username,
                instance_id=row.id,
                task_id=task.id,
                reader=username,
                copy_id=copy.id,
            )
        return sent


def copies(services: Services, principal: Principal, *, unread_only: bool = False) -> list[Copy]:
    """The person's 待阅 (and 已阅) copies, newest first; a copy of a case he can no longer read is left out."""
    if principal.admin_kind:  # 三员分立: administrators read no case, so none is ever sent to them
        raise Forbidden("administrators read no case", rule="sanyuan_no_cases")
    with services.db.session() as s:
        stmt = select(CaseCopy, ProcessInstance.title).join(ProcessInstance, ProcessInstance.id == CaseCopy.instance_id)
        stmt = stmt.where(CaseCopy.reader == principal.username)
        if unread_only:
            stmt = stmt.where(CaseCopy.read_at.is_(None))
        rows = s.execute(stmt.order_by(CaseCopy.sent_at.desc(), CaseCopy.id.desc()).limit(200)).all()
        names = display_names(s, [c.sender for c, _ in rows])
        return [
            Copy(c.id, c.instance_id, title, c.sender, names.get(c.sender, c.sender), c.note, c.sent_at, c.read_at)
            for c, title in rows
            if visibility.can_read_instance_data(s, principal, c.instance_id)
        ]


def unread_copies(services: Services, principal: Principal) -> int:
    with services.db.reading() as s:
        return count_unread_copies(s, principal)


def count_unread_copies(s: Session, principal: Principal) -> int:
    """How many copies sent to the person he has not opened (the inbox's 待阅 badge)."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(CaseCopy)
            .where(CaseCopy.reader == principal.username, CaseCopy.read_at.is_(None))
        )
        or 0
    )


def read_copy(services: Services, principal: Principal, copy_id: int) -> int:
    """已阅: the reader opens the copy; returns the instance to show."""
    with services.db.session() as s:
        copy = s.get(CaseCopy, copy_id)
        if copy is None or copy.reader != principal.username:
            raise NotFound(f"copy {copy_id} not found", copy=copy_id)
        if copy.read_at is None:
            copy.read_at = clock.now()
            audit.record(s, "copy_read", actor=principal.username, instance_id=copy.instance_id, copy_id=copy.id)
        return copy.instance_id


# --------------------------------------------------------------------------- 催办
def _may_urge(services: Services, s: Session, principal: Principal, task: HumanTask) -> bool:
    if task.status != "ready" or principal.is_system or principal.admin_kind:
        return False
    if task.assignee == principal.username or in_pool(principal, task):
        return False  # one does not urge work one holds or may take oneself
    managers = cockpit_roles(services.config)
    if not (principal.roles & managers or principal.leader_of & candidate_units(task)):
        return False
    oversee = commission_scope(s, principal, managers)
    return visibility.can_see_instance(s, principal, task.instance_id, oversee=oversee)


def urge_task(services: Services, principal: Principal, task_id: int, note: str | None) -> None:
    """催办: a leader or the 案管室 asks the holder of an open task to hurry, with a note."""
    with services.db.session() as s:
        task = s.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found", task=task_id)
        if not _may_urge(services, s, principal, task):
            if task.status != "ready":
                raise Conflict(f"task {task_id} is already {task.status}", task=task_id, status=task.status)
            record_denial(services, "urge_not_permitted", actor=principal.username, task_id=task_id)
            raise Forbidden("only a leader or the 案管室 who may see the case may urge its tasks", task=task_id)
        text = _reason(note, "note")
        sealed_echo.refuse_in_notes(services, s, principal, task_id, task.instance_id, {"note": text})
        s.add(TaskUrge(task_id=task.id, instance_id=task.instance_id, urged_by=principal.username, note=text))
        audit.record(
            s,
            "task_urged",
            actor=principal.username,
            instance_id=task.instance_id,
            task_id=task.id,
            assignee=task.assignee,
            note=text,
        )


def urgeable_tasks(services: Services, principal: Principal, instance_id: int) -> list[int]:
    """The open tasks of the instance the person may urge (the instance page offers 催办 on them: a
    manager may not open a task of another role, but may urge it)."""
    with services.db.session() as s:
        rows = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
        ).all()
        return [t.id for t in rows if _may_urge(services, s, principal, t)]


def urged_tasks(services: Services, task_ids: list[int]) -> frozenset[int]:
    """Which of these open tasks (an inbox page's) were urged: the inbox marks them."""
    if not task_ids:
        return frozenset()
    with services.db.reading() as s:
        return urged_among(s, task_ids)


def urged_among(s: Session, task_ids: list[int]) -> frozenset[int]:
    """:func:`urged_tasks` inside the caller's session (the inbox screen's); no statement for no task."""
    if not task_ids:
        return frozenset()
    return frozenset(s.scalars(select(TaskUrge.task_id).where(TaskUrge.task_id.in_(task_ids)).distinct()))


def urges(s: Session, task_id: int) -> tuple[Urge, ...]:
    rows = list(s.scalars(select(TaskUrge).where(TaskUrge.task_id == task_id).order_by(TaskUrge.urged_at.desc())))
    names = display_names(s, [r.urged_by for r in rows])
    return tuple(Urge(r.urged_by, names.get(r.urged_by, r.urged_by), r.urged_at, r.note) for r in rows)


# --------------------------------------------------------------------------- what the page offers
def task_actions(services: Services, principal: Principal, task_id: int) -> TaskActions:
    """The actions the person may take on the task, for its page and the API (the same questions the
    use cases above ask before they act)."""
    with services.db.session() as s:
        own = s.get(HumanTask, task_id)
        # the person who completed a step reads it in his 已办 (his own completion, to withdraw)
        mine = own is not None and own.status == "completed" and own.completed_by == principal.username
        task = own if mine and own is not None else _visible_task(s, principal, task_id)
        steps: list[DoneStep] = []
        if task.status == "ready":
            try:
                require_can_complete(principal, task, duties.bars(s, task))
                rows = _returnable(services, s, task)
            except (Forbidden, Conflict):
                rows = []
            names = display_names(s, [r.completed_by for r in rows])
            steps = [
                DoneStep(
                    r.id, r.name, r.completed_by, names.get(r.completed_by or "", r.completed_by or ""), r.completed_at
                )
                for r in rows
            ]
        lent = delegation.open_delegation(s, task.id) if task.status == "ready" else None
        holds = task.status == "ready" and task.assignee == principal.username and not task.personal
        row = _instance(s, task.instance_id)
        reads = _reads_file(services, s, principal, row)
        return TaskActions(
            return_to=tuple(steps),
            may_withdraw=_withdrawable(services, s, principal, task),
            may_urge=_may_urge(services, s, principal, task),
            urges=urges(s, task.id),
            hand_to=_hand_candidates(s, principal, task) if holds and lent is None else (),
            delegated_to=Person(lent.delegate, display_names(s, [lent.delegate]).get(lent.delegate, lent.delegate))
            if lent is not None
            else None,
            may_give_back=lent is not None and lent.delegate == principal.username,
            copy_to=_copy_candidates(services, s, principal, row) if reads and task.status == "ready" else (),
        )
