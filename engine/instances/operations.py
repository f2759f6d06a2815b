"""What people do with process instances, one function per use case, for pages and API alike.

Starting one, the processes a person may start, the list of instances, one instance, the managers'
actions on it (retry, suspend, resume, cancel) and messages from other systems. Each function
authorizes, works in one transaction and returns plain data.

One gate decides which instances a person may find (engine/access/visibility.py), for the API,
``/instances/<id>`` and the cockpit alike: need to know (the starter, those who could see one of its
tasks), and for a manager the instances owned by his commission or one under it (engine/cockpit/
scope.py). Records only for those who work on an instance, confidential fields only for reveal roles;
the cockpit (*oversight*) shows metadata (stage, steps, who did what, when), never what a step recorded.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Select, and_, any_, func, not_, or_, select, true, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import CompoundSelect

from engine import clock
from engine.access import duties, visibility
from engine.access.authz import can_see, require_can_complete
from engine.access.denials import record_denial
from engine.access.principal import Principal
from engine.access.reveal import Reveal
from engine.cockpit.access import cockpit_roles, require_cockpit
from engine.cockpit.scope import commission_scope
from engine.errors import Conflict, Forbidden, NotFound, NotVisible, ValidationError
from engine.instances import diagram, drawing, entry, links, queries, rows
from engine.instances.cases import INSTANCE
from engine.instances.queries import InstanceFilter
from engine.instances.rows import InstanceRow
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, TaskSubmission
from engine.organisation import chart
from engine.organisation.directory import owner_units
from engine.runtime import state as engine_state
from engine.services import Services
from engine.tasks import inbox as inbox_q
from engine.tasks.operations import (
    AttachmentInfo,
    StepRecord,
    attachment_infos,
    display_names,
    reading_scope,
    step_records,
)

if TYPE_CHECKING:
    from engine.runtime.core import Outcome

ACTIONS = ("retry", "suspend", "resume", "cancel")
# Access records are not part of "who did what" on the matter itself; nor is the interference register,
# which the cockpit's readers (leaders among them, who may be the ones who intervened) must not see.
TIMELINE_HIDDEN = (
    "access_denied",
    "confidential_viewed",
    "attachment_downloaded",
    "draft_saved",
    "sealed_value_refused",  # a refused attempt to repeat a sealed value (engine/tasks/sealed_echo.py)
    "interference_recorded",
    "interference_followed_up",
)
MAX_KEY = 120  # process keys and business keys (their columns' length)
# What the timeline keeps of an event's detail: step metadata (the failing element, the step's spec id,
# who a task was handed to), and the reason a manager gave for suspending or cancelling the instance
# itself. Never what was recorded or uploaded (file names, digests, data), whatever the event.
TIMELINE_DETAIL = frozenset({"element", "task", "assignee", "role", "units"})
MANAGED = ("suspended", "resumed", "cancelled", "retried", "reassigned")  # the managers' actions, with their reason


def _require_oversight(services: Services, principal: Principal) -> None:
    require_cockpit(principal, cockpit_roles(services.config))


def _oversee(services: Services, s: Session, principal: Principal) -> frozenset[str] | None:
    """The commissions whose instances the person oversees as a manager (empty for anyone else)."""
    return commission_scope(s, principal, cockpit_roles(services.config))


# --------------------------------------------------------------------------- plain results
@dataclass(frozen=True)
class InstancePage:
    filter: InstanceFilter
    rows: list[InstanceRow]
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filter.per_page))


@dataclass(frozen=True)
class TaskLine:
    """One task of an instance, as its history and its current steps show it."""

    id: int
    name: str
    lane: str | None
    role: str | None
    status: str
    units: tuple[str, ...]
    assignee: str | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by: str | None
    due_at: dt.datetime | None
    due: inbox_q.DueInfo
    visible: bool  # the person may open the task
    spec_id: str = ""  # its BPMN element (of ``process_key``, which may be a called process)
    process_key: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    action: str
    actor: str | None
    actor_name: str | None
    task_id: int | None
    task_name: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class InstanceDetail:
    instance: InstanceRow
    tasks: list[TaskLine]
    may_open: bool  # passed the gate: need to know, or a manager of the owning commission (or one above)
    may_read: bool  # may read the whole file: what every step recorded (never in oversight)
    reveal: bool
    steps: list[StepRecord]
    attachments: list[AttachmentInfo]
    confidential_withheld: bool
    timeline: list[TimelineEntry] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    # What the person reads of the records (engine/access/need_to_know.py): ``file`` (all of them),
    # ``addressed`` (what their open task declares, and what they wrote), ``none``.
    reads: str = "none"
    works_on: bool = False  # works on it: ``/instances/<id>`` shows them its records (the cockpit's link)
    linked: list[links.Link] = field(default_factory=list)  # the linked instances the person may find
    # The timer elements the audit trail says fired, where the detail read them with its timeline (the
    # cockpit's): its diagram's ``fired`` without asking again. Not shown, so not compared.
    fired_timers: frozenset[str] | None = field(default=None, repr=False, compare=False)

    @property
    def current(self) -> list[TaskLine]:
        return [t for t in self.tasks if t.status == "ready"]

    @property
    def finished(self) -> list[TaskLine]:
        return sorted(
            (t for t in self.tasks if t.status != "ready"), key=lambda t: (t.completed_at or t.created_at, t.id)
        )

    @property
    def records(self) -> dict[int, dict[str, Any]]:
        return {s.task_id: s.data for s in self.steps}

    @property
    def data(self) -> dict[str, Any]:
        """The steps' records merged, a later step overriding an earlier one."""
        merged: dict[str, Any] = {}
        for step in self.steps:
            merged.update(step.data)
        return merged


@dataclass(frozen=True)
class Definition:
    key: str
    name: str
    version: int
    revision: int
    stage: str | None
    mechanism: str | None
    platform: str | None
    start_kind: str
    start_message: str | None
    start_roles: list[str]
    startable: bool
    business_key_var: str | None


@dataclass(frozen=True)
class Started:
    instance_id: int
    process_name: str
    created_tasks: list[int]
    own_task: int | None  # the first new task the starter may work on at once


# --------------------------------------------------------------------------- list
def list_instances(
    services: Services,
    principal: Principal,
    f: InstanceFilter,
    *,
    oversight: bool = False,
) -> InstancePage:
    """Instances the person may find, newest activity first: need-to-know, and for a manager the instances
    his commission and those under it own (engine/cockpit/scope.py). The cockpit's list (``oversight``)
    is the same list, for the cockpit roles only."""
    if oversight:
        _require_oversight(services, principal)
    now = clock.now()
    where = queries.conditions(f, now)
    newest_first = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    # The page's ids first, then their columns: ``overdue`` and the open-task count are then asked for
    # the page's rows only, where PostgreSQL would otherwise hash every overdue task of the province.
    with services.db.session() as s:
        oversee = _oversee(services, s, principal)
        visible_ids = visibility.visible_instance_ids(principal)
        if oversee and visible_ids is not None:
            ids, total = _overseen_page(s, oversee, visible_ids, f, now)
        else:
            scope = [] if visible_ids is None else [visibility.instance_visible_clause(principal)]
            ids = (
                select(ProcessInstance.id)
                .where(*scope, *where)
                .order_by(*newest_first)
                .offset((f.page - 1) * f.per_page)
                .limit(f.per_page)
                .subquery()
            )
            total = _count(s, visible_ids, where)
        found = s.execute(
            select(*rows.COLUMNS)
            .join(ids, ids.c.id == ProcessInstance.id)
            .join(ProcessDefinition, rows.DEFINITION)
            .order_by(*newest_first),
            {"now": now},
        ).all()
    return InstancePage(filter=f, rows=[rows.row(r) for r in found], total=total)


# Up to this many overseen commissions, a page is merged from one walk per commission; more would make
# one statement of hundreds of parts (SQLite allows 500 in a compound select), so all of them are sorted.
MAX_WALKS = 200
# Unfiltered by status, PostgreSQL walks each commission once per status for the first pages only: the walks
# read up to commissions × statuses × (page × per_page) entries (57 × 5 × 200 for the province's tenth page of
# twenty), and deeper than this sorting the owned instances whole (100,000 for the province) reads fewer.
EVERY_STATUS_KEEP = 200


def _overseen_page(
    s: Session, oversee: Collection[str], visible_ids: Any, f: InstanceFilter, now: dt.datetime
) -> tuple[Any, int]:
    """A manager's page and count: the instances his commissions own, and apart from them those he may
    find by need to know, as two disjoint parts. One condition "owned OR in the need-to-know union" made
    PostgreSQL read every instance of the province (a hashed sub-plan cannot use an index).

    With a status (the cockpit's lists: running by default), the owned part is walked commission by
    commission: the end of each one's range of (owner_unit, status, updated_at, id) holds its newest, so
    the page reads at most a page's worth of rows per commission (57 × 20 for the province) instead of
    sorting its 45,000 running instances; every filter is checked on the rows walked (``overdue`` is the
    instance's own ``open_due_at``, kept by triggers: engine/instances/open_due.py). The walk is the same for a county (one range) as for the
    province and needs no statistics: an equality on the index's two leading columns, and its order.
    The need-to-know part (a few to a few thousand ids) is read once, as rows, for its count and its
    newest; the page is merged from both here. The owned count is read from an index alone: a range of
    (owner_unit, status) per commission, for ``overdue`` of (owner_unit, status, open_due_at). Without a
    status (all of them) PostgreSQL walks each commission once per status present (``_walks``) for the
    first pages (``EVERY_STATUS_KEEP``); deeper pages, and SQLite, a county's database, sort it whole."""
    owned = visibility.overseen_clause(oversee)
    postgres = s.get_bind().dialect.name == "postgresql"
    # PostgreSQL: the need-to-know ids gathered first into an array and the rows looked up by key. As
    # ``id IN (union)`` it hashed the union and read all 100,000 entries of an index to join them (19 ms
    # for a prefecture leader's 1,402 ids; by key 6–13 ms, issue 19).
    known = ProcessInstance.id == any_(func.array(visible_ids.scalar_subquery())) if postgres else None
    apart = and_(
        known if known is not None else ProcessInstance.id.in_(visible_ids),
        or_(ProcessInstance.owner_unit.is_(None), not_(owned)),
    )
    where = queries.conditions(f, now)
    newest = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    keep = f.page * f.per_page
    # The need-to-know part once, as rows: its count and its newest (PostgreSQL read it twice, as a count
    # and in the page, each a hash of the status's whole index range for a county's 1,400 ids).
    beside = s.execute(select(ProcessInstance.id, ProcessInstance.updated_at).where(apart, *where)).all()
    walked: Select[Any] | CompoundSelect[Any]
    if postgres and _walkable(f, where, keep):
        walked = _walks(sorted(oversee), where, keep, every_status=not f.status)
    else:
        walks = [ProcessInstance.owner_unit == unit for unit in sorted(oversee)]
        parts = [
            select(ProcessInstance.id, ProcessInstance.updated_at).where(cond, *conds).order_by(*newest).limit(keep)
            for cond, conds in (
                [(w, where) for w in walks] if f.status and len(walks) <= MAX_WALKS else [(owned, where)]
            )
        ]
        wrapped = [p.subquery() for p in parts]  # SQLite: a part of a UNION takes no ORDER BY / LIMIT of its own
        walked = union_all(*(select(w.c.id, w.c.updated_at) for w in wrapped))
    merged = sorted([*s.execute(walked).all(), *beside], key=lambda r: (r.updated_at, r.id), reverse=True)
    page = [r.id for r in merged[(f.page - 1) * f.per_page : keep]]
    ids = select(ProcessInstance.id).where(ProcessInstance.id.in_(page)).subquery()
    owned_total = s.scalar(select(func.count()).select_from(ProcessInstance).where(owned, *where)) or 0
    return ids, owned_total + len(beside)


def _walkable(f: InstanceFilter, where: list[Any], keep: int) -> bool:
    """Whether PostgreSQL walks the commissions (``_walks``) rather than sorting the owned part whole.

    With a status, always (the cockpit's lists). Without one, only for the unfiltered list's first pages:
    a walk per commission and status stops after ``keep`` matching entries, so a filter that few rows
    pass (a business key, a stage, ``overdue``) makes every walk read its whole range — for the province's
    manager 350–590 ms against 85–260 ms sorted (issue 19)."""
    if f.status:
        return True
    return not where and keep <= EVERY_STATUS_KEEP


def _walks(units: list[str], conditions: list[Any], keep: int, *, every_status: bool = False) -> Select[Any]:
    """PostgreSQL: the newest ``keep`` of each commission as one LATERAL subquery over the list of units.
    A UNION of one part per commission planned in 25–35 ms for the province's 57 (more than it ran);
    this is planned once whatever the number of commissions, and runs as one index range each.

    ``every_status`` (the list unfiltered by status, as the API's default): one walk per commission and
    status, over the statuses present in the table, found by skipping along ``ix_instance_status_next_timer``
    (a handful of index probes, not a scan, and no list of statuses to keep in step with the code). Sorting
    a provincial manager's 100,000 owned instances for the newest 20 took 26 ms (issue 19); the walks
    read at most ``keep`` index entries per commission and status."""
    unit = func.unnest(postgresql.array(units)).table_valued("code").render_derived(name="overseen")
    where = [ProcessInstance.owner_unit == unit.c.code, *conditions]
    source: Any = unit
    if every_status:
        statuses = _present_statuses()
        where.append(ProcessInstance.status == statuses.c.status)
        source = unit.join(statuses, statuses.c.status.is_not(None))
    walk = (
        select(ProcessInstance.id, ProcessInstance.updated_at)
        .where(*where)
        .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
        .limit(keep)
        .lateral("walk")
    )
    return (
        select(walk.c.id, walk.c.updated_at)
        .select_from(source)
        .join(walk, true())
        .order_by(walk.c.updated_at.desc(), walk.c.id.desc())
        .limit(keep)
    )


@functools.lru_cache(maxsize=1)
def _present_statuses() -> Any:
    """The distinct ``process_instance.status`` values, as a recursive CTE that steps from one status to
    the next along the index that leads with it (a loose index scan: one probe per status)."""
    first = ProcessInstance.__table__.alias("first_status")
    following = ProcessInstance.__table__.alias("next_status")
    statuses = select(func.min(first.c.status).label("status")).cte("present_status", recursive=True)
    step = select(
        select(func.min(following.c.status)).where(following.c.status > statuses.c.status).scalar_subquery()
    ).where(statuses.c.status.is_not(None))
    return statuses.union_all(step)


def _count(s: Session, visible_ids: Any, filters: list[Any]) -> int:
    """Without filters on the instances themselves, the ids the person may see are counted as they come
    out of the visibility union, without visiting ``process_instance``."""
    if visible_ids is None:
        stmt = select(func.count()).select_from(ProcessInstance).where(*filters)
    elif filters:
        stmt = select(func.count()).select_from(ProcessInstance).where(ProcessInstance.id.in_(visible_ids), *filters)
    else:
        stmt = select(func.count()).select_from(visible_ids.subquery())
    return s.scalar(stmt) or 0


def process_choices(services: Services) -> list[tuple[str, str]]:
    """(key, name) of every process ever deployed: the list's process menu."""
    with services.db.session() as s:
        return queries.process_choices(s)


# --------------------------------------------------------------------------- one instance
@functools.lru_cache(maxsize=256)
def _gated_row_statement(principal: Principal, oversee: frozenset[str] | None, recorded: bool = False) -> Select[Any]:
    """The instance's row with the gate's two answers (engine/access/visibility.py ``instance_gate``):
    one statement, built once per person (and overseen commissions), run with the instance and ``now``.
    ``recorded``: also whether any step of it has a final record (an indexed probe), so that a detail of
    an instance with none does not ask for its records in a round trip of their own."""
    may_open, works_on = visibility.instance_gate(principal, INSTANCE, oversee=oversee)
    columns = [*rows.COLUMNS, may_open.label("may_open"), works_on.label("works_on")]
    if recorded:
        columns.append(
            select(TaskSubmission.id)
            .where(TaskSubmission.instance_id == INSTANCE, TaskSubmission.kind == "final")
            .exists()
            .label("recorded")
        )
    return select(*columns).join(ProcessDefinition, rows.DEFINITION).where(ProcessInstance.id == INSTANCE)


def _gated_row(
    s: Session,
    principal: Principal,
    instance_id: int,
    now: dt.datetime,
    oversee: frozenset[str] | None,
    *,
    recorded: bool = False,
) -> tuple[InstanceRow, bool, bool]:
    """The instance's row, refused (NotVisible, audited by the caller) unless the person may find it;
    whether they work on it (may read its records: ``can_read_instance_data``); with ``recorded``,
    whether a step of it has a final record (else True: not asked)."""
    found = s.execute(
        _gated_row_statement(principal, oversee, recorded), {"instance_id": instance_id, "now": now}
    ).one_or_none()
    if found is None:
        raise NotFound(f"instance {instance_id} not found", instance=instance_id)
    if not found.may_open:
        raise NotVisible(
            f"instance {instance_id} is not within your need to know",
            reason="instance_not_visible",
            instance=instance_id,
        )
    return rows.row(found), bool(found.works_on), bool(found.recorded) if recorded else True


# The columns of a task as its line, the gates (authz ``can_see``, need_to_know ``scope_of``) and the
# due information read them, with its candidate units joined (a task has one or two): one statement built
# once, plain rows instead of ORM objects and their identity map.
_TASK_ROWS = (
    select(
        HumanTask.id,
        HumanTask.instance_id,
        HumanTask.spec_id,
        HumanTask.process_key,
        HumanTask.name,
        HumanTask.lane,
        HumanTask.role,
        HumanTask.status,
        HumanTask.assignee,
        HumanTask.personal,
        HumanTask.separate_from,
        HumanTask.separate_steps,
        HumanTask.created_at,
        HumanTask.completed_at,
        HumanTask.completed_by,
        HumanTask.due_at,
        HumanTask.reminder_at,
        TaskCandidate.unit_code,
    )
    .outerjoin(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
    .where(HumanTask.instance_id == INSTANCE)
    .order_by(HumanTask.created_at, HumanTask.id, TaskCandidate.unit_code)
)


def _task_rows(s: Session, instance_id: int) -> list[SimpleNamespace]:
    """Every task of the instance with its candidate units (``candidate_units``, sorted), oldest first, as
    plain views: read once per detail, for its lines and for the need-to-know gate."""
    found: list[SimpleNamespace] = []
    for r in s.execute(_TASK_ROWS, {"instance_id": instance_id}):
        if found and found[-1].id == r.id:
            found[-1].candidate_units.append(r.unit_code)
            continue
        view = SimpleNamespace(**r._mapping)
        del view.unit_code
        view.candidate_units = [r.unit_code] if r.unit_code is not None else []
        found.append(view)
    return found


def _inserted_rows(started: Outcome) -> list[SimpleNamespace]:
    """The task rows a start inserted (``Outcome.inserted``), as :func:`_task_rows` would read them back:
    the same columns, oldest first, candidate units sorted; open, so never completed."""
    return [
        SimpleNamespace(
            id=task_id,
            **{name: values[name] for name in _INSERTED_COLUMNS},
            completed_at=None,
            completed_by=None,
            candidate_units=sorted(units),
        )
        for task_id, values, units in sorted(started.inserted, key=lambda t: (t[1]["created_at"], t[0]))
    ]


# The columns of ``_TASK_ROWS`` a start's inserted values hold (the rest: the id, never completed).
_INSERTED_COLUMNS = tuple(
    c.name for c in _TASK_ROWS.selected_columns if c.name not in ("id", "completed_at", "completed_by", "unit_code")
)


def _task_lines(
    principal: Principal, tasks: Sequence[SimpleNamespace], calendar: Any, *, soon_workdays: int, now: dt.datetime
) -> list[TaskLine]:
    return [
        TaskLine(
            id=t.id,
            name=t.name,
            lane=t.lane,
            role=t.role,
            status=t.status,
            units=tuple(t.candidate_units),
            assignee=t.assignee,
            created_at=t.created_at,
            completed_at=t.completed_at,
            completed_by=t.completed_by,
            due_at=t.due_at,
            due=inbox_q.due_info(
                t.due_at, calendar, now=now, reminder_at=t.reminder_at, soon_workdays=soon_workdays, status=t.status
            ),
            visible=can_see(principal, t),
            spec_id=t.spec_id,
            process_key=t.process_key,
        )
        for t in tasks
    ]


class _Timeline(NamedTuple):
    entries: list[TimelineEntry]
    people: dict[str, str]  # display names of its actors and of the caller's ``also``
    fired: frozenset[str] | None  # the timer elements that fired, when every event was read (else None)


def _timeline(
    s: Session, instance_id: int, names: Mapping[int, str], *, limit: int = 500, also: Iterable[str | None] = ()
) -> _Timeline:
    """Events of the instance, oldest first (the latest ``limit``), with people's names resolved, in one
    read of names with those of ``also`` (the page's other people). When fewer than ``limit`` came, they
    are all its events but access records, so they also tell which timers fired (``fired_timers``), which
    the diagram then need not ask for again."""
    events = list(
        s.execute(
            select(AuditEvent.at, AuditEvent.action, AuditEvent.actor, AuditEvent.task_id, AuditEvent.detail)
            .where(AuditEvent.instance_id == instance_id, AuditEvent.action.notin_(TIMELINE_HIDDEN))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        ).all()
    )
    events.reverse()
    people = display_names(s, [*(e.actor for e in events), *((e.detail or {}).get("assignee") for e in events), *also])
    fired = None
    if len(events) < limit:
        fired = frozenset(
            str(t) for e in events if e.action == "timer_fired" for t in (e.detail or {}).get("timers") or []
        )
    entries = [
        TimelineEntry(
            at=e.at,
            action=e.action,
            actor=e.actor,
            actor_name=people.get(e.actor, e.actor) if e.actor else None,
            task_id=e.task_id,
            task_name=names.get(e.task_id) if e.task_id is not None else None,
            detail={
                k: v
                for k, v in (e.detail or {}).items()
                if k in TIMELINE_DETAIL or (k == "reason" and e.action in MANAGED)
            },
        )
        for e in events
    ]
    return _Timeline(entries, people, fired)


def show_instance(
    services: Services,
    principal: Principal,
    instance_id: int,
    *,
    reveal: Reveal,
    oversight: bool = False,
    locale: str = "zh_CN",
    soon_workdays: int = inbox_q.DUE_SOON_WORKDAYS,
    channel: str | None = None,
    for_page: bool = True,
) -> InstanceDetail:
    """One instance for ``/instances/<id>``, ``/cockpit/instances/<id>`` and the API alike.

    ``for_page``: the pages also list the attachments and name the people; the API's detail shows
    neither, so it reads neither (two statements fewer on the API's most frequent read).

    One gate for all three (engine/access/visibility.py ``can_see_instance``): refused
    (``instance_not_visible``, audited by the caller) unless the person may find the instance by need to
    know or oversees it as a manager of the commission that owns it (or of one above). Its records are
    read, through the one reveal-and-audit gate, only by those who work on it, never in the cockpit
    (``oversight``), whose page adds the timeline: step metadata only (``TIMELINE_DETAIL``).
    """
    if oversight:
        _require_oversight(services, principal)
    with services.db.session() as s:
        return _detail(
            s,
            services,
            principal,
            instance_id,
            reveal=reveal,
            oversight=oversight,
            locale=locale,
            soon_workdays=soon_workdays,
            channel=channel,
            for_page=for_page,
        )


def _detail(
    s: Session,
    services: Services,
    principal: Principal,
    instance_id: int,
    *,
    reveal: Reveal,
    oversight: bool,
    locale: str,
    soon_workdays: int,
    channel: str | None,
    for_page: bool,
    started: Outcome | None = None,
) -> InstanceDetail:
    """:func:`show_instance` inside the caller's transaction ``s``: the detail and the start (which shows
    the instance it has just written, before its commit) read it through the same gate and code.

    ``started``: the outcome of the start that inserted the instance in ``s``. The gate is asked as for
    any detail (its row, after the start's writes); what the start has just written is taken from it
    instead of read back: its task rows, no record (none is submitted before a task is completed), and no
    linked instance when it stands alone (``Outcome.alone``)."""
    now = clock.now()
    oversee = _oversee(services, s, principal)
    row, works_on, recorded = _gated_row(s, principal, instance_id, now, oversee, recorded=True)
    task_rows = _inserted_rows(started) if started is not None else _task_rows(s, instance_id)
    return detail_of(
        s,
        services,
        principal,
        row,
        works_on,
        task_rows,
        oversee=oversee,
        reveal=reveal,
        oversight=oversight,
        locale=locale,
        soon_workdays=soon_workdays,
        channel=channel,
        for_page=for_page,
        now=now,
        recorded=recorded,
        started=started,
    )


def detail_of(
    s: Session,
    services: Services,
    principal: Principal,
    row: InstanceRow,
    works_on: bool,
    task_rows: Sequence[SimpleNamespace],
    *,
    oversee: frozenset[str] | None,
    reveal: Reveal,
    oversight: bool,
    locale: str,
    soon_workdays: int,
    channel: str | None,
    for_page: bool,
    now: dt.datetime,
    recorded: bool = True,
    started: Outcome | None = None,
) -> InstanceDetail:
    """The detail of an instance the person has passed the gate for (``_gated_row``), read in the
    caller's transaction: shared by :func:`show_instance` and the cockpit's one read of its page
    (engine/instances/oversight.py), so the page and the API show the same.

    ``recorded``: whether any step has a final record (``_gated_row``'s probe; False saves the records'
    read). ``started``: the outcome of the start that inserted the instance in ``s`` (:func:`_detail`):
    no record yet, and no linked instance when it stands alone (``Outcome.alone``)."""
    instance_id = row.id
    may_open = True  # past the gate
    calendar = services.definitions.loaded(row.version).policy.calendar
    tasks = _task_lines(principal, task_rows, calendar, soon_workdays=soon_workdays, now=now)
    steps: list[StepRecord] = []
    attachments: list[AttachmentInfo] = []
    reads = "none"
    if works_on and not oversight:
        scope = reading_scope(s, services, principal, instance_id, row.version, tasks=task_rows)
        reads = scope.kind
        steps, _ = (
            ([], [])
            if started is not None or not recorded  # nothing recorded yet: no read, nothing to audit
            else step_records(
                s,
                services,
                principal,
                reveal,
                instance_id=instance_id,
                version_id=row.version,
                locale=locale,
                scope=scope,
                channel=channel,
            )
        )
        if for_page:
            attachments = attachment_infos(s, instance_id, scope)
        if not scope.whole:
            # Which other steps there were, and who did them, is part of the file: an addressed lane
            # sees its own tasks and the steps whose records it reads.
            readable = {step.task_id for step in steps}
            tasks = [t for t in tasks if t.visible or t.id in readable]
    may_read = reads == "file"
    related = (
        []
        if started is not None and started.alone
        else links.linked(s, principal, instance_id, parent=row.parent_instance_id, now=now, oversee=oversee)
    )
    named = [row.started_by, *(t.assignee for t in tasks), *(t.completed_by for t in tasks)] if for_page else []
    timeline: list[TimelineEntry] = []
    people: dict[str, str] = {}
    fired: frozenset[str] | None = None
    if oversight:
        timeline, people, fired = _timeline(s, instance_id, {t.id: t.name for t in tasks}, also=named)
    elif named:
        people = display_names(s, named)
    names: dict[str, str] = {}
    if for_page:
        # The page's names (who started it, held its tasks, was handed one), from the one read above.
        for who in [*named, *(e.detail.get("assignee") for e in timeline)]:
            if who and who in people:
                names[who] = people[who]
    return InstanceDetail(
        instance=row,
        tasks=tasks,
        may_open=may_open,
        may_read=may_read,
        reveal=reveal.allows(principal),
        steps=steps,
        attachments=attachments,
        confidential_withheld=any(st.sealed and not st.revealed for st in steps),
        timeline=timeline,
        names=names,
        reads=reads,
        works_on=works_on,
        linked=related,
        fired_timers=fired,
    )


def show_diagram(
    services: Services,
    principal: Principal,
    instance_id: int,
    *,
    oversight: bool = False,
    soon_workdays: int = inbox_q.DUE_SOON_WORKDAYS,
) -> diagram.InstanceDiagram:
    """The instance on its diagram (engine/instances/diagram.py): for ``/instances/<id>``, the cockpit's
    instance page and ``GET /api/v1/instances/<id>/diagram`` alike, through the same gate as
    :func:`show_instance`, and cut to what that gate lets the person learn (``level``): the cockpit's
    overseers and the lanes that read the whole file see everything with names; an outside (addressed)
    lane only its own steps and those whose records it reads; anyone else who may find the instance its
    markers and path without names. Reads no record and opens nothing sealed."""
    if oversight:
        _require_oversight(services, principal)
    now = clock.now()
    with services.db.session() as s:
        row, works_on, _ = _gated_row(s, principal, instance_id, now, _oversee(services, s, principal))
        return diagram_of(
            s,
            services,
            principal,
            row,
            works_on,
            _task_rows(s, instance_id),
            oversight=oversight,
            soon_workdays=soon_workdays,
            now=now,
        )


def diagram_of(
    s: Session,
    services: Services,
    principal: Principal,
    row: InstanceRow,
    works_on: bool,
    task_rows: Sequence[SimpleNamespace],
    *,
    oversight: bool,
    soon_workdays: int,
    now: dt.datetime,
    names: Mapping[str, str] | None = None,
    fired: Collection[str] | None = None,
) -> diagram.InstanceDiagram:
    """The diagram of an instance the person has passed the gate for, read in the caller's transaction
    (shared with the cockpit's one read of its page, engine/instances/oversight.py). What depends on the
    version alone comes from engine/instances/drawing.py. ``names``: display names the caller has read
    already (a superset of the tasks' holders), saving the read of them; ``fired``: the timers the audit
    trail says fired, where the caller has read them (``InstanceDetail.fired_timers``)."""
    instance_id = row.id
    loaded = services.definitions.loaded(row.version)
    tasks = _task_lines(principal, task_rows, loaded.policy.calendar, soon_workdays=soon_workdays, now=now)
    level = diagram.STATUS
    if oversight:
        level = diagram.FULL
    elif works_on:
        scope = reading_scope(s, services, principal, instance_id, row.version, tasks=task_rows)
        if scope.whole:
            level = diagram.FULL
        else:
            level = diagram.ADDRESSED
            readable = set(scope.records)
            tasks = [t for t in tasks if t.visible or t.id in readable]
    drawn = drawing.drawing(s, loaded, row.process_key)
    live: dict[str, set[str]] = {}
    until: dict[str, dt.datetime] = {}
    fired_now: set[str] = set()
    if level != diagram.ADDRESSED:
        stored = s.scalar(select(ProcessInstance.state).where(ProcessInstance.id == instance_id))
        if stored:
            workflow = engine_state.load(
                stored,
                loaded.spec(row.process_key),
                loaded.subprocess_specs(row.process_key),
                loaded.script_engine,
            )
            live, until = diagram.live_states(workflow)
        fired_now = set(fired) if fired is not None else diagram.fired_timers(s, instance_id)
    if level != diagram.FULL:
        names = {}
    elif names is None:
        names = display_names(s, [h for t in tasks for h in (t.assignee, t.completed_by)])
    return diagram.build(
        instance_id=instance_id,
        process_key=row.process_key,
        version_id=row.version,
        filename=drawn.filename,
        xml=drawn.xml,
        level=level,
        graph=drawn.graph,
        calls=drawn.calls,
        tasks=tasks,
        names=names,
        live=live,
        waiting_until=until,
        fired=fired_now,
        error=row.error,
        status=row.status,
        calendar=loaded.policy.calendar,
        now=now,
    )


# --------------------------------------------------------------------------- managers' actions
MAX_REASON = 500


def _reason(reason: str | None) -> str:
    """The reason every managers' action on a case carries into the audit trail (a decision about a case
    is explained where it is recorded); missing → ValidationError naming the field, before any change."""
    text = (reason or "").replace("\x00", "").strip()
    if not text:
        raise ValidationError("a reason is required", fields={"reason": "请填写原因"})
    if len(text) > MAX_REASON:
        raise ValidationError("reason too long", fields={"reason": f"原因不能超过 {MAX_REASON} 个字符"})
    return text


def _require_overseen(services: Services, s: Session, principal: Principal, instance_id: int) -> None:
    if not visibility.can_see_instance(s, principal, instance_id, oversee=_oversee(services, s, principal)):
        raise NotVisible(
            f"instance {instance_id} is not within your need to know",
            reason="instance_not_visible",
            instance=instance_id,
        )


def act_on_instance(
    services: Services,
    principal: Principal,
    instance_id: int,
    action: str,
    *,
    reason: str | None = None,
) -> None:
    """Retry, suspend, resume or cancel: decisions about a case, the overseers' (who open the cockpit) of
    the commission that owns it or one above — never a neighbouring commission's — and never an
    administrator's (三员分立: the runtime refuses them too). Each requires a reason, audited with it."""
    _require_oversight(services, principal)
    if action not in ACTIONS:
        raise NotFound(f"no instance action '{action}'", action=action)
    with services.db.session() as s:
        _require_overseen(services, s, principal, instance_id)
    why = _reason(reason)
    runtime = services.runtime
    if action == "retry":
        runtime.retry(instance_id, actor=principal, reason=why)
    elif action == "suspend":
        runtime.suspend(instance_id, actor=principal, reason=why)
    elif action == "resume":
        runtime.resume(instance_id, actor=principal, reason=why)
    else:
        runtime.cancel(instance_id, actor=principal, reason=why)


def reassign_on_instance(
    services: Services,
    principal: Principal,
    instance_id: int,
    task_id: int,
    to_username: str | None,
    *,
    reason: str | None = None,
) -> None:
    """The cockpit's reassign: an overseer of the instance's commission hands one of its open tasks to
    someone holding its role in its units (not one the case keeps apart: engine/access/duties.py), with a
    reason, audited. The task unit's leader keeps his own reassign on the task page
    (engine/tasks/operations.py ``reassign_task``)."""
    _require_oversight(services, principal)
    to_username = (to_username or "").strip()
    try:
        with services.db.session() as s:
            _require_overseen(services, s, principal, instance_id)
            task = s.get(HumanTask, task_id)
            if task is None or task.instance_id != instance_id:
                raise NotFound(f"task {task_id} is not a task of instance {instance_id}", task=task_id)
            if not to_username:
                raise ValidationError("no one to reassign to", fields={"assignee": "请选择接办人"}, task=task_id)
            why = _reason(reason)
            services.runtime.reassign(
                task_id, actor=principal, to_username=to_username, session=s, reason=why, overseer=True
            )
    except ValidationError as exc:
        rule = exc.details.get("rule")
        if rule in (duties.SEPARATION, duties.RECUSAL):
            # Handing the task to someone the case keeps out is an attempt on the rule: kept as evidence.
            record_denial(services, str(rule), actor=principal.username, task_id=task_id, assignee=to_username)
        raise


def reassign_choices(services: Services, principal: Principal, instance_id: int) -> dict[int, list[tuple[str, str]]]:
    """For the cockpit's reassign form: per open task of the instance (not one addressed to one person),
    who may be given it (its role in its units, active, not kept out by the case)."""
    _require_oversight(services, principal)
    with services.db.session() as s:
        _require_overseen(services, s, principal, instance_id)
        return choices_of(s, instance_id, _task_rows(s, instance_id))


def choices_of(s: Session, instance_id: int, task_rows: Sequence[SimpleNamespace]) -> dict[int, list[tuple[str, str]]]:
    """:func:`reassign_choices` of an instance the person oversees, read in the caller's transaction from
    its task rows (``_task_rows``, which the page has read already). The case's recusal conflicts are
    read once for all its open tasks (they are the case's, not a task's)."""
    open_tasks = [t for t in task_rows if t.status == "ready" and not t.personal]
    if not open_tasks:
        return {}
    conflicts = duties.conflicts_in_case(s, instance_id)
    choices = {}
    for t in open_tasks:
        # What eligible_assignees and bars read of a task (its role, candidate units, the people and steps
        # it is kept apart from), from the plain row instead of the ORM object.
        view = SimpleNamespace(**vars(t), candidates=[SimpleNamespace(unit_code=u) for u in t.candidate_units])
        choices[t.id] = inbox_q.eligible_assignees(s, cast(HumanTask, view), duties.bars(s, view, conflicts=conflicts))
    return choices


# --------------------------------------------------------------------------- starting
def list_definitions(services: Services, principal: Principal) -> list[Definition]:
    """The latest deployed processes, each with whether the person may start it by hand."""
    repo = services.definitions
    with services.db.session() as s:
        rows = repo.latest_definitions(s)
        result = []
        for d in rows:
            loaded = repo.loaded(d.version_id)
            result.append(
                Definition(
                    key=d.process_key,
                    name=d.name,
                    version=d.version_id,
                    revision=d.revision,
                    stage=d.stage,
                    mechanism=d.mechanism,
                    platform=d.platform,
                    start_kind=d.start_kind or "none",
                    start_message=d.start_message,
                    start_roles=sorted(entry.first_task_roles(loaded, d.process_key)),
                    startable=entry.may_start(principal, d, loaded),
                    business_key_var=loaded.catalogue.get(d.process_key, {}).get("business_key_var"),
                )
            )
    return result


def _start(
    services: Services,
    s: Session,
    principal: Principal,
    process_key: str,
    business_key: str | None,
    data: Mapping[str, Any] | None,
) -> tuple[ProcessDefinition, Outcome]:
    """Authorize, validate and start in ``s``: what :func:`start_instance` and :func:`start_and_show`
    share. The definition read to authorize is the one started (not read again by the runtime)."""
    business_key = (business_key or "").strip() or None
    definition = services.definitions.latest_definition(s, process_key[:MAX_KEY])
    loaded = services.definitions.loaded(definition.version_id)
    entry.require_can_start(principal, definition, loaded)
    if business_key is not None and ("\x00" in business_key or len(business_key) > MAX_KEY):
        raise ValidationError(
            "business key refused",
            fields={"business_key": f"业务编号不能超过 {MAX_KEY} 个字符，且不能包含控制字符"},
        )
    entry.refuse_owner_variables(data or {}, loaded.roles.roles)
    # The unit tree once for both (engine/organisation/chart.py): four reads of it fewer per start.
    units = chart.read(s)
    commission = entry.owning_commission(s, loaded, definition.process_key, principal, units)
    owner = owner_units(s, commission, loaded.roles.roles, units) if commission is not None else {}
    outcome = services.runtime.start(
        definition.process_key,
        actor=principal,
        business_key=business_key,
        data={**(data or {}), **owner},
        owner_unit=commission,
        _session=s,
        definition=definition,
    )
    return definition, outcome


def start_instance(
    services: Services,
    principal: Principal,
    process_key: str,
    *,
    business_key: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Started:
    """Start the latest version of a process; the person becomes its starter and their commission its
    owner (``owner_unit``): the commission's standing units receive the tasks. Data naming an owner
    variable is refused (ValidationError naming each field), so no one can route work into another
    commission's offices."""
    with services.db.session() as s:
        definition, outcome = _start(services, s, principal, process_key, business_key, data)
        own = None
        for task in s.scalars(
            select(HumanTask).where(HumanTask.id.in_(outcome.created_tasks or [-1])).order_by(HumanTask.id)
        ):
            try:
                require_can_complete(principal, task, duties.bars(s, task))
            except (Forbidden, Conflict):
                continue
            own = task.id
            break
        name = definition.name
    services.runtime.after_commit(outcome)
    return Started(
        instance_id=outcome.instance_id, process_name=name, created_tasks=list(outcome.created_tasks), own_task=own
    )


def start_and_show(
    services: Services,
    principal: Principal,
    process_key: str,
    *,
    business_key: str | None = None,
    data: Mapping[str, Any] | None = None,
    reveal: Reveal,
    soon_workdays: int = inbox_q.DUE_SOON_WORKDAYS,
    channel: str | None = None,
) -> InstanceDetail:
    """:func:`start_instance` answered with the new instance's detail as :func:`show_instance` gives it
    (the API's reply to a start), read in the start's own transaction: one transaction instead of two,
    and the instance, its tasks and its case read while they are still in hand.

    The detail goes through the gate as any detail does (``_gated_row``: one statement, after the start's
    writes, so it sees the new rows); the starter always passes it (need to know: ``started_by``). Were it
    ever to refuse, the start still stands: it is committed and the refusal raised after the commit, as
    when the detail was read in a transaction of its own."""
    show = functools.partial(
        _detail,
        services=services,
        principal=principal,
        reveal=reveal,
        oversight=False,
        locale="zh_CN",
        soon_workdays=soon_workdays,
        channel=channel,
        for_page=False,
    )
    refused: NotFound | NotVisible | None = None
    detail: InstanceDetail | None = None
    with services.db.session() as s:
        _, outcome = _start(services, s, principal, process_key, business_key, data)
        # A start that threw a message, or waits for one, is routed after its commit (``after_commit``),
        # which may move the instance on: its detail is then read after that, as before.
        settled = not outcome.messages_out and not outcome.subscribed
        if settled:
            try:
                detail = show(s, instance_id=outcome.instance_id, started=outcome)
            except (NotFound, NotVisible) as exc:
                refused = exc
    services.runtime.after_commit(outcome)
    if refused is not None:
        raise refused
    if detail is None:
        with services.db.session() as s:
            detail = show(s, instance_id=outcome.instance_id)
    return detail


# --------------------------------------------------------------------------- messages
def send_message(
    services: Services,
    principal: Principal,
    name: str,
    *,
    correlation: str | None,
    data: Mapping[str, Any],
    senders: Mapping[str, Iterable[str]],
) -> dict[str, Any]:
    """Deliver a message to the instance waiting for it, or start the process that starts on it; kept
    ``pending`` when neither exists yet. A name no deployed process knows is refused (NotFound), so a
    sending system learns of a typo at once; a payload naming owner units is refused (ValidationError):
    the instance it starts belongs to the sender's commission, from the organisation."""
    entry.require_can_send_message(principal, name, senders)
    with services.db.session() as s:
        if not entry.message_is_known(s, services.definitions, name):
            raise NotFound(f"no deployed process waits for or starts on message '{name}'", message_name=name)
        latest = services.definitions.latest_version_id(s)
        if latest is not None:
            entry.refuse_owner_variables(data, services.definitions.loaded(latest).roles.roles, what="message payload")
    result = services.runtime.send_message(name, correlation, dict(data), actor=principal)
    return {"status": result["status"], "message_id": result["message_id"], "instance_id": result.get("instance_id")}
