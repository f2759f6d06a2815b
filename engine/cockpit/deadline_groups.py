"""The deadlines page in readable pieces: each group's counts with its first few tasks, and one group paged.

At province scale the deadlines snapshot holds up to 2000 tasks; rendering them all made a 275 KB page
that took longer than everything else together, and nobody reads 2000 rows. The front page therefore
shows the groups (unit, role; 20 a page, most overdue first) with their exact overdue and due-soon
counts but only their most overdue tasks, and links to each group's own page; both are cut from the same stored snapshot
(``operations.deadlines_dated``), so neither adds a query per request. The export keeps every row.
Read from the snapshot, a group's tasks are a ``LazyList``: a page decodes only the tasks it shows
(``len`` of a group decodes none), which was most of the page's time at province scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.access.principal import Principal
from engine.services import Services
from engine.tasks.inbox import DUE_SOON_WORKDAYS

from . import operations
from .figures import DeadlineGroup, DeadlineItem, Deadlines, pages_for
from .lazy import LazyList
from .snapshots import Dated

PREVIEW = 5  # tasks shown per group on the front page
PER_PAGE = 50  # tasks per page of one group
GROUPS_PER_PAGE = 20  # groups per page of the front page (a province has hundreds of unit-role pairs)


@dataclass(frozen=True)
class GroupPreview:
    """One group on the front page: the counts are over all its tasks, ``items`` the first ``PREVIEW``."""

    unit: str | None
    role: str | None
    overdue: int
    due_soon: int
    total: int
    items: list[DeadlineItem]


@dataclass(frozen=True)
class DeadlinesPreview:
    groups: list[GroupPreview]  # this page's groups, most overdue first
    source: Deadlines  # totals, truncation, window and escalations, as computed
    group_count: int  # every group
    page: int
    pages: int


@dataclass(frozen=True)
class GroupPage:
    """One page of one group's tasks; ``group`` is None when no group has this unit and role (any more)."""

    unit: str | None
    role: str | None
    group: DeadlineGroup | None
    items: list[DeadlineItem]
    total: int
    page: int
    pages: int
    soon_workdays: int


def key(value: str | None) -> str:
    """A group's unit or role as it travels in a link: the empty string for "not specified"."""
    return value or ""


def preview(
    data: Deadlines, *, page: int = 1, per_group: int | None = None, groups_per_page: int | None = None
) -> DeadlinesPreview:
    """One page of groups with their exact counts, most overdue group first; a group's tasks stay in the
    snapshot's order (earliest due, so most overdue, first). A page past the end is the last."""
    per_group = per_group or PREVIEW
    groups_per_page = groups_per_page or GROUPS_PER_PAGE
    pages = pages_for(len(data.groups), groups_per_page)
    page = min(max(1, page), pages)
    start = (page - 1) * groups_per_page
    groups = [
        GroupPreview(
            unit=g.unit,
            role=g.role,
            overdue=g.overdue,
            due_soon=g.due_soon,
            total=len(g.items),
            items=g.items[:per_group],
        )
        for g in data.groups[start : start + groups_per_page]
    ]
    return DeadlinesPreview(groups=groups, source=data, group_count=len(data.groups), page=page, pages=pages)


def group_page(data: Deadlines, *, unit: str, role: str, page: int = 1, per_page: int | None = None) -> GroupPage:
    """The group whose unit and role match (empty string: not specified); a page past the end is the last."""
    per_page = per_page or PER_PAGE
    found = next((g for g in data.groups if key(g.unit) == unit and key(g.role) == role), None)
    items = found.items if found else LazyList[DeadlineItem]()
    pages = pages_for(len(items), per_page)
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return GroupPage(
        unit=found.unit if found else (unit or None),
        role=found.role if found else (role or None),
        group=found,
        items=items[start : start + per_page],
        total=len(items),
        page=page,
        pages=pages,
        soon_workdays=data.soon_workdays,
    )


def deadlines_preview(
    services: Services, principal: Principal, *, page: int = 1, soon_workdays: int = DUE_SOON_WORKDAYS
) -> Dated[DeadlinesPreview]:
    """The deadlines page: authorized and read as ``operations.deadlines_dated`` (the snapshot), then cut."""
    dated = operations.deadlines_dated(services, principal, soon_workdays=soon_workdays)
    return Dated(preview(dated.data, page=page), dated.computed_at, dated.from_snapshot, dated.compute_ms)


def deadline_group(
    services: Services,
    principal: Principal,
    *,
    unit: str,
    role: str,
    page: int = 1,
    soon_workdays: int = DUE_SOON_WORKDAYS,
) -> Dated[GroupPage]:
    """One group's tasks, paged, from the same snapshot; an unknown group is an empty page, not an error
    (a group disappears when its last task is done, and an old link should say so, not fail)."""
    dated = operations.deadlines_dated(services, principal, soon_workdays=soon_workdays)
    cut = group_page(dated.data, unit=unit.strip()[:120], role=role.strip()[:120], page=page)
    return Dated(cut, dated.computed_at, dated.from_snapshot, dated.compute_ms)
