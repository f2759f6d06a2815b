"""The officer's inbox, read from the ``human_task`` table alone (no workflow state is ever loaded).

Tabs:
- ``mine``: ready tasks assigned to me;
- ``group``: ready, unclaimed tasks I may claim: my role in one of the task's candidate units (or in
  any unit when it names none);
- ``team``: for unit leaders, every ready task of the units they lead, claimed or not (to reassign);
- ``completed``: tasks I completed.

Filters (stage, mechanism, platform, process, unit, business-key search) and pagination are SQL; the
due state (overdue / due soon / ok) is counted in working days on the version's calendar. The instance
context (what earlier steps recorded) is shown to people who can see one of the instance's tasks, with
confidential fields sealed unless they hold a reveal role.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, exists, false, func, literal, or_, select, true, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import clock
from engine.access import duties
from engine.access.duties import Bar
from engine.access.principal import Principal
from engine.instances import search
from engine.models import (
    DefinitionVersion,
    HumanTask,
    Membership,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    TaskSubmission,
    User,
)
from engine.scheduling.arrangements import BookSource, book_source
from engine.scheduling.workdays import WorkCalendar

TABS = ("mine", "group", "team", "completed")
DUE_SOON_WORKDAYS = 2
MAX_PER_PAGE = 100


@dataclass
class InboxQuery:
    tab: str = "mine"
    stage: str | None = None
    mechanism: str | None = None
    platform: str | None = None
    process_key: str | None = None
    unit: str | None = None
    q: str | None = None  # business key search (substring, case-insensitive)
    instance_id: int | None = None  # one case's tasks: what a client asks for after each completion
    page: int = 1
    per_page: int = 20

    def normalised(self) -> InboxQuery:
        tab = self.tab if self.tab in TABS else "mine"
        page = max(1, int(self.page or 1))
        per_page = min(MAX_PER_PAGE, max(1, int(self.per_page or 20)))

        def clean(v: str | None) -> str | None:
            return (v.strip() or None) if isinstance(v, str) else v

        return InboxQuery(
            tab=tab,
            stage=clean(self.stage),
            mechanism=clean(self.mechanism),
            platform=clean(self.platform),
            process_key=clean(self.process_key),
            unit=clean(self.unit),
            q=clean(self.q),
            instance_id=int(self.instance_id) if self.instance_id else None,
            page=page,
            per_page=per_page,
        )


@dataclass
class DueInfo:
    state: str  # none | ok | due_soon | overdue
    due_at: dt.datetime | None = None
    workdays_left: int | None = None  # working days from today to the due day; negative once overdue
    estimated: bool = False  # 预估: the due day's year has no official arrangement yet


@dataclass
class InboxItem:
    id: int
    instance_id: int
    name: str
    process_key: str
    process_name: str
    business_key: str | None
    title: str | None
    role: str | None
    lane: str | None
    units: list[str]
    assignee: str | None
    status: str
    stage: str | None
    mechanism: str | None
    platform: str | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    due: DueInfo
    claimable: bool = False
    separated: bool = False


@dataclass
class InboxPage:
    query: InboxQuery
    items: list[InboxItem]
    total: int
    counts: dict[str, int]
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, math.ceil(self.total / self.query.per_page))


# --------------------------------------------------------------------------- scoping
# A candidate row of a task still waiting: the predicate of the partial index ``ix_candidate_ready_unit``
# (``ready`` on PostgreSQL, ``ready = 1`` on SQLite; ``= true`` is what both planners match to it). The
# task's own ``status = 'ready'`` is tested beside it, so the flag narrows the rows read, never the answer.
_OPEN_CANDIDATE = TaskCandidate.ready == true()


def pool_row_clause(principal: Principal) -> ColumnElement[bool]:
    """The same condition tested row by row (correlated ``EXISTS``): right when the rows are already few,
    as in one instance's tasks (engine/visibility.py)."""
    clauses = []
    for role in sorted(principal.roles):
        units = sorted(principal.units_for(role))
        in_units = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.unit_code.in_(units))
        clauses.append(
            and_(
                HumanTask.role == role,
                HumanTask.personal.is_(False),  # addressed to one person: no pool (engine.access.authz.in_pool)
                or_(in_units, HumanTask.has_candidates.is_(False)),
            )
        )
    return or_(*clauses) if clauses else false()


def _pool_clause(
    principal: Principal, *pushdown: ColumnElement[bool], unclaimed: ColumnElement[bool] | None = None
) -> ColumnElement[bool]:
    """SQL for 'the person holds the task's role in one of its candidate units (or it names none)'.

    Written as ``id IN (…)`` over a union the database can drive from indexes: the open candidate rows of
    the person's units (``ix_candidate_ready_unit``, partial on ``ready``: the unit's waiting tasks, not
    its history) matched against the tasks of the role by key, and the tasks of their roles that name no
    unit. Before the candidate rows carried ``ready`` the first branch had two bad choices at a province's
    scale: every task the unit was ever offered (7,718 rows for a prefecture's office, 442 open), or the
    role's open tasks province-wide (``ix_task_open_role``: 14,681 entries for a five-person unit with 67
    waiting; issue 19). ``pushdown`` repeats conditions the caller applies anyway
    (``status == 'ready'``) inside the union, so the second branch reads only those tasks instead of
    every task of the role ever created; ``unclaimed`` goes into the second branch only (in the first
    PostgreSQL underestimates the role's unclaimed open tasks twentyfold and may then probe the
    candidate rows once per open task instead of hashing the person's few).
    """
    parts = []
    for role in sorted(principal.roles):
        units = sorted(principal.units_for(role))
        parts.append(
            select(TaskCandidate.task_id)
            .join(HumanTask, HumanTask.id == TaskCandidate.task_id)
            .where(TaskCandidate.unit_code.in_(units), _OPEN_CANDIDATE, HumanTask.role == role, *pushdown)
        )
    if not parts:
        return false()
    no_candidates = HumanTask.has_candidates.is_(False)
    extra = (unclaimed,) if unclaimed is not None else ()
    parts.append(
        select(HumanTask.id).where(HumanTask.role.in_(sorted(principal.roles)), no_candidates, *pushdown, *extra)
    )
    return HumanTask.id.in_(union_all(*parts))


def _led_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL for 'one of the task's candidate units is led by the person', as ``id IN (…)`` over the led
    units' open candidate rows (``ix_candidate_ready_unit``), whose tasks are then looked up by key (the
    caller tests their status). A correlated EXISTS made PostgreSQL visit every task the units were ever
    offered (30 ms for a county leader); the units' rows joined to the open tasks inside the ``IN`` made it
    match them against every open task of the province (52,612 index entries for any leader; for a
    prefecture office's leader 442 key lookups instead, 2,177 buffers where the walk cost over 5,000;
    issue 19)."""
    return HumanTask.id.in_(
        select(TaskCandidate.task_id).where(TaskCandidate.unit_code.in_(sorted(principal.leader_of)), _OPEN_CANDIDATE)
    )


def _tab_clause(principal: Principal, tab: str) -> ColumnElement[bool]:
    """The tab's rule for the person, built once per (person's memberships, tab) and kept.

    Built with SQLAlchemy's operators each time, the clauses cost a third of an inbox read's Python (a
    union per role, every comparison coerced; issue 19) though they change only when the person's
    memberships do. They are a pure function of the name, the (unit, role) pairs and the led units, all
    in the key, so a change of memberships (read afresh on every request) is a new key at once. The kept
    statements are bounded per web process (a few hundred people's, the most recent): statement objects
    are tens of kilobytes, and a province's 5,000 people must not grow a worker past its memory goal."""
    return _tab_clause_of(principal.username, principal.memberships, principal.leader_of, tab)


@functools.lru_cache(maxsize=256)
def _tab_clause_of(
    username: str, memberships: frozenset[tuple[str, str]], leader_of: frozenset[str], tab: str
) -> ColumnElement[bool]:
    return _build_tab_clause(Principal(username=username, memberships=memberships, leader_of=leader_of), tab)


def _build_tab_clause(principal: Principal, tab: str) -> ColumnElement[bool]:
    if tab == "mine":
        return and_(HumanTask.status == "ready", HumanTask.assignee == principal.username)
    if tab == "group":
        ready, unclaimed = HumanTask.status == "ready", HumanTask.assignee.is_(None)
        return and_(ready, unclaimed, _pool_clause(principal, ready, unclaimed=unclaimed))
    if tab == "team":
        if not principal.leader_of:
            return false()
        return and_(HumanTask.status == "ready", _led_clause(principal))
    if tab == "completed":
        return and_(HumanTask.status == "completed", HumanTask.completed_by == principal.username)
    raise ValueError(f"unknown inbox tab {tab!r}")


def _filters(query: InboxQuery) -> list[ColumnElement[bool]]:
    clauses = []
    if query.stage:
        clauses.append(HumanTask.stage == query.stage)
    if query.mechanism:
        clauses.append(HumanTask.mechanism == query.mechanism)
    if query.platform:
        clauses.append(HumanTask.platform == query.platform)
    if query.process_key:
        clauses.append(HumanTask.process_key == query.process_key)
    if query.unit:
        clauses.append(exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.unit_code == query.unit))
    if query.q:
        clauses.append(search.contains(HumanTask.business_key, query.q))
    if query.instance_id:
        clauses.append(HumanTask.instance_id == query.instance_id)
    return clauses


# --------------------------------------------------------------------------- due state
class Calendars:
    """The working-day calendar of each deployed version (its settings' overrides on top of the years'
    entered arrangements), read once."""

    def __init__(self, session: Session):
        self._session = session
        self._by_version: dict[int, WorkCalendar] = {}
        bind = session.get_bind()
        self._book = book_source(bind if isinstance(bind, Engine) else bind.engine)

    def __call__(self, version_id: int | None) -> WorkCalendar:
        if version_id is None:
            return _calendar_for({}, self._book)
        cal = self._by_version.get(version_id)
        if cal is None:
            settings = self._session.scalar(
                select(DefinitionVersion.settings).where(DefinitionVersion.id == version_id)
            )
            overrides = (((settings or {}).get("calendar") or {}).get("overrides")) or {}
            cal = _calendar_for({str(k): v for k, v in overrides.items()}, self._book)
            self._by_version[version_id] = cal
        return cal


_SHARED_CALENDARS: dict[tuple[object, ...], WorkCalendar] = {}


def _calendar_for(overrides: dict[str, str], book: BookSource) -> WorkCalendar:
    """One ``WorkCalendar`` per distinct set of overrides for the whole process, so the days it has
    looked up stay known from one request to the next: counting the working days to a due date two
    years back looks up every day in between (about 7 ms per inbox page of completed tasks when each
    request started from an empty calendar). Keyed by the overrides themselves, not a version id, so
    databases that reuse ids (tests) never share a wrong calendar; and by the database's arrangements
    (``book``), whose changes make the calendar forget what it looked up."""
    key: tuple[object, ...] = (book, *sorted(overrides.items()))
    cal = _SHARED_CALENDARS.get(key)
    if cal is None:
        if len(_SHARED_CALENDARS) >= 64:
            _SHARED_CALENDARS.clear()
        cal = _SHARED_CALENDARS[key] = WorkCalendar(overrides=overrides, book=book)
    return cal


def due_info(
    due_at: dt.datetime | None,
    calendar: WorkCalendar,
    *,
    now: dt.datetime | None = None,
    reminder_at: dt.datetime | None = None,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    status: str = "ready",
) -> DueInfo:
    if due_at is None:
        return DueInfo(state="none")
    now = now or clock.now()
    today = now.astimezone(clock.LOCAL_TZ).date()
    due_day = due_at.astimezone(clock.LOCAL_TZ).date()
    estimated = calendar.estimated(due_day)
    if status != "ready":
        # A finished task has no time left to count: showing "剩 14 个工作日" on it misleads, and counting
        # working days for every step of a long timeline is what made the instance page slow.
        return DueInfo(state="none", due_at=due_at, estimated=estimated)
    left = calendar.workdays_between(today, due_day)
    if now > due_at:
        state = "overdue"
    elif left <= soon_workdays or (reminder_at is not None and now >= reminder_at):
        state = "due_soon"
    else:
        state = "ok"
    return DueInfo(state=state, due_at=due_at, workdays_left=left, estimated=estimated)


# --------------------------------------------------------------------------- queries
_COLUMNS = (
    HumanTask.id,
    HumanTask.instance_id,
    HumanTask.name,
    HumanTask.process_key,
    HumanTask.business_key,
    HumanTask.role,
    HumanTask.lane,
    HumanTask.assignee,
    HumanTask.status,
    HumanTask.stage,
    HumanTask.mechanism,
    HumanTask.platform,
    HumanTask.created_at,
    HumanTask.completed_at,
    HumanTask.due_at,
    HumanTask.reminder_at,
    HumanTask.separate_from,
    HumanTask.separate_steps,
    ProcessInstance.version_id,
    ProcessInstance.title,
    ProcessInstance.summary,
)


# The filters as prebuilt clauses taking their values as bound parameters: with them the inbox's two
# statements are built once per (person, tab, filters present) and kept (``_count_statement``,
# ``_page_statement``), where building them anew cost more Python than running them (issue 19).
_BOUND_FILTERS: dict[str, ColumnElement[bool]] = {
    "stage": HumanTask.stage == bindparam("f_stage"),
    "mechanism": HumanTask.mechanism == bindparam("f_mechanism"),
    "platform": HumanTask.platform == bindparam("f_platform"),
    "process_key": HumanTask.process_key == bindparam("f_process_key"),
    "unit": exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.unit_code == bindparam("f_unit")),
    "q": func.lower(HumanTask.business_key).like(bindparam("f_q"), escape=search.ESCAPE),
    "instance_id": HumanTask.instance_id == bindparam("f_instance_id"),
}


def _bound(query: InboxQuery) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Which filters ``query`` (normalised) applies, and their parameter values; the same conditions as
    ``_filters``."""
    values: dict[str, Any] = {
        "stage": query.stage,
        "mechanism": query.mechanism,
        "platform": query.platform,
        "process_key": query.process_key,
        "unit": query.unit,
        "q": search.pattern(query.q) if query.q else None,
        "instance_id": query.instance_id,
    }
    present = tuple(name for name in _BOUND_FILTERS if values[name])
    return present, {f"f_{name}": values[name] for name in present}


def _person(principal: Principal) -> tuple[str, frozenset[tuple[str, str]], frozenset[str]]:
    """What the inbox's rules read of a person (the key of the kept statements)."""
    return principal.username, principal.memberships, principal.leader_of


@functools.lru_cache(maxsize=128)
def _count_statement(
    person: tuple[str, frozenset[tuple[str, str]], frozenset[str]], present: tuple[str, ...]
) -> Select[Any]:
    filters = [_BOUND_FILTERS[name] for name in present]
    return select(
        *(
            select(func.count())
            .select_from(HumanTask)
            .where(_tab_clause_of(*person, tab), *filters)
            .scalar_subquery()
            .label(tab)
            for tab in TABS
        )
    )


@functools.lru_cache(maxsize=128)
def _page_statement(
    person: tuple[str, frozenset[tuple[str, str]], frozenset[str]], tab: str, present: tuple[str, ...]
) -> Select[Any]:
    where = [_tab_clause_of(*person, tab), *(_BOUND_FILTERS[name] for name in present)]
    stmt = select(*_COLUMNS).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(*where)
    if tab == "completed":
        stmt = stmt.order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    else:
        stmt = stmt.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
    return stmt.offset(bindparam("f_offset", type_=Integer)).limit(bindparam("f_limit", type_=Integer))


def count_tabs(session: Session, principal: Principal, query: InboxQuery | None = None) -> dict[str, int]:
    """How many tasks each tab holds (with the same filters applied).

    One statement with one scalar subquery per tab: a single round trip, and each tab's count still
    planned on its own index (an OR of the tabs, or one aggregate with FILTERs, would make the database
    read the union of the four, every completed task of the person's included). The statement is kept
    per person and filters present; the filters' values are its parameters."""
    present, params = _bound(query.normalised()) if query else ((), {})
    row = session.execute(_count_statement(_person(principal), present), params).one()
    return {tab: getattr(row, tab) or 0 for tab in TABS}


def list_tasks(
    session: Session,
    principal: Principal,
    query: InboxQuery | None = None,
    *,
    calendars: Callable[[int | None], WorkCalendar] | None = None,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    land: bool = False,
) -> InboxPage:
    """One page of a tab with every tab's count (the API's inbox); ``land``: see :func:`landed`."""
    query = (query or InboxQuery()).normalised()
    # The tab badges count every tab with the page's filters; the page's total is its own tab's badge,
    # so the pool (the costly part) is not counted twice.
    counts = count_tabs(session, principal, query)
    if land:
        query = landed(query, counts)
    return _page(session, principal, query, counts, calendars or Calendars(session), soon_workdays)


def landed(query: InboxQuery, counts: Mapping[str, int]) -> InboxQuery:
    """The tab a person lands on who opened the inbox without choosing one: when he holds nothing but his
    units have work he may take (可认领), the pool rather than an empty 我的待办 (issue 15).

    Decided from the badges before any row is read: the counts do not depend on the tab shown, so the
    page is read once, for the tab it will show (the landing used to read 我的待办's page and menus, then
    read everything again for 可认领, on a second connection while the first was still held)."""
    if query.tab == "mine" and not counts.get("mine") and counts.get("group"):
        return dataclasses.replace(query, tab="group")
    return query


def inbox_page(
    session: Session,
    principal: Principal,
    query: InboxQuery | None = None,
    *,
    soon_workdays: int = DUE_SOON_WORKDAYS,
    land: bool = False,
) -> tuple[InboxPage, dict[str, list[Any]]]:
    """The web inbox: one page of a tab, every tab's count and the filter menus' values (``land``: see
    :func:`landed`).

    Without a filter the badges and the menus are read from the same tabs, so one grouped statement
    answers both (``_tab_summary``) instead of proving each tab's rule twice; with a filter the badges
    count the filtered tabs, the menus still offer everything."""
    query = (query or InboxQuery()).normalised()
    counts, keys = _tab_summary(session, principal)
    if _filters(query):
        counts = count_tabs(session, principal, query)
    if land:
        query = landed(query, counts)
    page = _page(session, principal, query, counts, Calendars(session), soon_workdays)
    return page, _choices(session, principal, keys)


def _page(
    session: Session,
    principal: Principal,
    query: InboxQuery,
    counts: dict[str, int],
    calendars: Callable[[int | None], WorkCalendar],
    soon_workdays: int,
) -> InboxPage:
    """The rows of ``query``'s page; ``counts`` are every tab's counts under the same filters."""
    present, params = _bound(query)
    params.update(f_offset=(query.page - 1) * query.per_page, f_limit=query.per_page)
    rows = session.execute(_page_statement(_person(principal), query.tab, present), params).all()
    units = _candidate_units(session, [r.id for r in rows])
    # Kept out by the case (separation by actual actors, recusal): shown, never offered to claim.
    barred = duties.barred_tasks(session, principal.username, [r for r in rows if r.status == "ready"])
    now = clock.now()
    items = []
    for r in rows:
        separated = r.id in barred
        claimable = (
            r.status == "ready"
            and r.assignee is None
            and not separated
            and _in_pool(principal, r.role, units.get(r.id, []))
        )
        items.append(
            InboxItem(
                id=r.id,
                instance_id=r.instance_id,
                name=r.name,
                process_key=r.process_key,
                process_name=(r.summary or {}).get("process_name") or r.process_key,
                business_key=r.business_key,
                title=r.title,
                role=r.role,
                lane=r.lane,
                units=units.get(r.id, []),
                assignee=r.assignee,
                status=r.status,
                stage=r.stage,
                mechanism=r.mechanism,
                platform=r.platform,
                created_at=r.created_at,
                completed_at=r.completed_at,
                due=due_info(
                    r.due_at,
                    calendars(r.version_id),
                    now=now,
                    reminder_at=r.reminder_at,
                    soon_workdays=soon_workdays,
                    status=r.status,
                ),
                claimable=claimable,
                separated=separated,
            )
        )
    return InboxPage(query=query, items=items, total=counts[query.tab], counts=counts)


def _in_pool(principal: Principal, role: str | None, units: list[str]) -> bool:
    if role is None:
        return False
    if not units:
        return principal.holds(role)
    return bool(principal.units_for(role) & set(units))


# Built once: every inbox page asks it.
_CANDIDATE_UNITS = (
    select(TaskCandidate.task_id, TaskCandidate.unit_code)
    .where(TaskCandidate.task_id.in_(bindparam("task_ids", expanding=True)))
    .order_by(TaskCandidate.unit_code)
)


def _candidate_units(session: Session, task_ids: list[int]) -> dict[int, list[str]]:
    if not task_ids:
        return {}
    result: dict[int, list[str]] = {}
    for task_id, unit in session.execute(_CANDIDATE_UNITS, {"task_ids": task_ids}):
        result.setdefault(task_id, []).append(unit)
    return result


_KEYS = (HumanTask.process_key, HumanTask.stage, HumanTask.mechanism, HumanTask.platform)


def _tab_summary(
    session: Session, principal: Principal
) -> tuple[dict[str, int], set[tuple[str, str | None, str | None, str | None]]]:
    """Every tab's count and the (process, stage, mechanism, platform) values among its tasks, unfiltered,
    in one statement: the tabs' selects united, tagged with their tab and grouped. Each select is still
    driven by its own index, where an OR of the four would make the database read every completed task
    to find one person's."""
    counts = dict.fromkeys(TABS, 0)
    keys = set()
    statement = _summary_statement(principal.username, principal.memberships, principal.leader_of)
    for tab, process_key, stage, mechanism, platform, n in session.execute(statement):
        counts[tab] += n
        keys.add((process_key, stage, mechanism, platform))
    return counts, keys


@functools.lru_cache(maxsize=128)
def _summary_statement(
    username: str, memberships: frozenset[tuple[str, str]], leader_of: frozenset[str]
) -> Select[Any]:
    """The tab summary's statement for one person, kept as the tab rules it unites are (``_tab_clause``):
    the union, its subquery and the grouping took 0.3 ms to build on every inbox page (issue 19). Each
    holds about 75 KB beside the tab rules it reuses: the most recent 128 people's are kept (10 MB)."""
    tagged = union_all(
        *(
            select(literal(tab).label("tab"), *_KEYS).where(_tab_clause_of(username, memberships, leader_of, tab))
            for tab in TABS
        )
    ).subquery()
    columns = (tagged.c.tab, tagged.c.process_key, tagged.c.stage, tagged.c.mechanism, tagged.c.platform)
    return select(*columns, func.count()).group_by(*columns)


def filter_choices(session: Session, principal: Principal) -> dict[str, list[Any]]:
    """Values the filter menus offer: the processes, stages and units among the person's visible tasks."""
    return _choices(session, principal, _tab_summary(session, principal)[1])


def _choices(
    session: Session, principal: Principal, keys: set[tuple[str, str | None, str | None, str | None]]
) -> dict[str, list[Any]]:
    """The menus from the distinct (process, stage, mechanism, platform) values of the person's tabs."""
    latest = {}
    for pk, name in session.execute(
        select(ProcessDefinition.process_key, ProcessDefinition.name).order_by(ProcessDefinition.version_id)
    ):
        latest[pk] = name
    units = sorted(principal.units | set(principal.leader_of))
    return {
        "processes": sorted({(pk, latest.get(pk, pk)) for pk, _, _, _ in keys}),
        "stages": sorted({stage for _, stage, _, _ in keys if stage}),
        "mechanisms": sorted({mechanism for _, _, mechanism, _ in keys if mechanism}),
        "platforms": sorted({platform for _, _, _, platform in keys if platform}),
        "units": units,
    }


# --------------------------------------------------------------------------- visibility and context
def can_see_instance(session: Session, principal: Principal, instance_id: int) -> bool:
    """Need-to-know for a whole instance: the SQL rule of ``engine.visibility`` (the API's), so web and
    API agree: its starter and anyone who could see one of its tasks (no administrator). Reading what its
    steps recorded is narrower: ``visibility.can_read_instance_data``."""
    from engine.access.visibility import can_see_instance as visible  # visibility imports this module

    return visible(session, principal, instance_id)


@dataclass
class Step:
    task_id: int
    name: str
    lane: str | None
    form_key: str | None
    submitted_by: str
    submitted_by_name: str
    submitted_at: dt.datetime
    data: dict[str, Any]
    sealed: str | None


_INSTANCE_STEPS = (
    select(TaskSubmission, HumanTask.name, HumanTask.lane, HumanTask.form_key)
    .join(HumanTask, HumanTask.id == TaskSubmission.task_id)
    .where(
        TaskSubmission.instance_id == bindparam("instance_id"),
        TaskSubmission.kind == "final",
        TaskSubmission.task_id != bindparam("before"),
    )
    .order_by(TaskSubmission.submitted_at, TaskSubmission.id)
)


def instance_steps(session: Session, instance_id: int, *, before_task: int | None = None) -> list[Step]:
    """Final submissions of the instance, oldest first (the caller checks ``can_see_instance`` first)."""
    # Built once (the task and instance pages ask it on every view); ``before`` -1 excludes no task.
    rows = session.execute(
        _INSTANCE_STEPS, {"instance_id": instance_id, "before": -1 if before_task is None else before_task}
    ).all()
    names = (
        dict(
            session.execute(
                select(User.username, User.display_name).where(User.username.in_({r[0].submitted_by for r in rows}))
            ).all()
        )
        if rows
        else {}
    )
    return [
        Step(
            task_id=s.task_id,
            name=name,
            lane=lane,
            form_key=form_key,
            submitted_by=s.submitted_by,
            submitted_by_name=names.get(s.submitted_by, s.submitted_by),
            submitted_at=s.submitted_at,
            data=dict(s.data or {}),
            sealed=s.sealed,
        )
        for s, name, lane, form_key in rows
    ]


def latest_draft(session: Session, task_id: int) -> TaskSubmission | None:
    return session.scalar(
        select(TaskSubmission)
        .where(TaskSubmission.task_id == task_id, TaskSubmission.kind == "draft")
        .order_by(TaskSubmission.submitted_at.desc(), TaskSubmission.id.desc())
        .limit(1)
    )


def final_submission(session: Session, task_id: int) -> TaskSubmission | None:
    return session.scalar(_FINAL_SUBMISSION, {"task_id": task_id})


# Built once (the task page asks it for every step it shows).
_FINAL_SUBMISSION = (
    select(TaskSubmission)
    .where(TaskSubmission.task_id == bindparam("task_id"), TaskSubmission.kind == "final")
    .order_by(TaskSubmission.id.desc())
    .limit(1)
)


def eligible_assignees(session: Session, task: HumanTask, bars: Mapping[str, Bar]) -> list[tuple[str, str]]:
    """People a leader may hand the task to: the role in a candidate unit, active, not kept out by the
    case (``bars``: separation by actual actors, recusal; engine/access/duties.py)."""
    units = [c.unit_code for c in task.candidates]
    stmt = (
        select(User.username, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role_code == task.role, User.active.is_(True))
    )
    if units:
        stmt = stmt.where(Membership.unit_code.in_(units))
    excluded = set(bars) | set(task.separate_from or [])
    rows = session.execute(stmt.distinct().order_by(User.username)).all()
    return [(r.username, r.display_name) for r in rows if r.username not in excluded]
