"""The cockpit's use cases, one per page: (services, principal, plain filters) → plain data.

Each one authorizes first (the cockpit's figures: administrators and the cockpit roles, ``access``; the
notifications: every signed-in person, their own only), cleans its filters, and reads or writes in one
transaction. Every figure counts the instances of the manager's commission and those under it only
(``scope``). The web pages and the JSON API call these and nothing else, so they cannot disagree.

The five figure pages (overview, deadlines, durations, metrics, heatmap) are read from snapshots the worker
keeps (``snapshots``): the ``*_dated`` use cases authorize and compute the scope exactly as before, then
read the snapshot of that scope and cleaned query, with when it was computed; ``fresh`` asks for a
recompute now (the 刷新 button, bounded by the snapshot's minimum age). The plain ones return the figures
alone, for the exports and the callers that need no date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy.orm import Session

from engine.access.principal import Principal
from engine.audit import trail as audit
from engine.errors import ValidationError
from engine.services import Services
from engine.tasks.inbox import DUE_SOON_WORKDAYS  # the inbox's window, so both show the same due state

from . import export as exports
from . import figures, heatmap, metrics, notifications, snapshots
from .access import cockpit_roles, may_use_cockpit, require_cockpit
from .figures import Deadlines, Durations, FailedPage, Overview
from .notifications import NoticePage
from .scope import commission_scope
from .snapshots import Dated
from .stalled import StalledTask, stalled_tasks

FAILED_PER_PAGE = 50
NOTICES_PER_PAGE = 20
T = TypeVar("T")
MAX_KEY = 120  # process keys are at most this long; a longer filter matches nothing anyway


def may_open_cockpit(services: Services, principal: Principal) -> bool:
    """Whether to offer the cockpit at all (the navigation bar); every page checks again."""
    return may_use_cockpit(principal, cockpit_roles(services.config))


def _authorize(services: Services, principal: Principal) -> None:
    require_cockpit(principal, cockpit_roles(services.config))


def _scope(services: Services, s: Session, principal: Principal) -> figures.Scope:
    """The commissions whose instances this manager's figures count (scope.py)."""
    return commission_scope(s, principal, cockpit_roles(services.config))


def _page(value: int) -> int:
    return max(1, value)


# --------------------------------------------------------------------------- the cockpit's pages
def _dated(
    services: Services, principal: Principal, result: type[T], params: Mapping[str, object], fresh: bool
) -> Dated[T]:
    """Authorized already: the scope as every page computes it, then its snapshot (snapshots.read_as)."""
    with services.db.session() as s:
        scope = _scope(services, s, principal)
    return snapshots.read_as(services.db, services.config, result, scope, params, fresh=fresh)


def overview_dated(
    services: Services, principal: Principal, *, soon_workdays: int = DUE_SOON_WORKDAYS, fresh: bool = False
) -> Dated[Overview]:
    """The front page: running instances by stage, mechanism and platform, overdue and due-soon counts."""
    _authorize(services, principal)
    return _dated(services, principal, Overview, {"soon": max(0, soon_workdays)}, fresh)


def overview(services: Services, principal: Principal, *, soon_workdays: int = DUE_SOON_WORKDAYS) -> Overview:
    return overview_dated(services, principal, soon_workdays=soon_workdays).data


def deadlines_dated(
    services: Services, principal: Principal, *, soon_workdays: int = DUE_SOON_WORKDAYS, fresh: bool = False
) -> Dated[Deadlines]:
    """Overdue and due-soon tasks by unit and role, with the latest escalations."""
    _authorize(services, principal)
    return _dated(services, principal, Deadlines, {"soon": max(0, soon_workdays)}, fresh)


def deadlines(services: Services, principal: Principal, *, soon_workdays: int = DUE_SOON_WORKDAYS) -> Deadlines:
    return deadlines_dated(services, principal, soon_workdays=soon_workdays).data


def durations_dated(
    services: Services,
    principal: Principal,
    *,
    process_key: str | None = None,
    sample_limit: int = 20000,
    fresh: bool = False,
) -> Dated[Durations]:
    """How long steps, stages and whole processes take, for one process or all; ``process_names`` are the choices."""
    _authorize(services, principal)
    key = (process_key or "").strip()[:MAX_KEY] or None
    return _dated(services, principal, Durations, {"process": key, "sample": max(1, sample_limit)}, fresh)


def durations(
    services: Services, principal: Principal, *, process_key: str | None = None, sample_limit: int = 20000
) -> Durations:
    return durations_dated(services, principal, process_key=process_key, sample_limit=sample_limit).data


def metrics_dated(
    services: Services,
    principal: Principal,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    base_from: str | None = None,
    base_to: str | None = None,
    slice_by: str | None = None,
    fresh: bool = False,
) -> Dated[metrics.Metrics]:
    """Outcome metrics over a period against the previous period of the same length, or a chosen
    baseline period (engine/cockpit/metrics.py); a bad date, period or slice is a 422 naming the field."""
    _authorize(services, principal)
    query = metrics.MetricsQuery.parse(
        date_from=date_from, date_to=date_to, base_from=base_from, base_to=base_to, slice_by=slice_by
    )
    return _dated(services, principal, metrics.Metrics, query.params(), fresh)


def outcome_metrics(
    services: Services,
    principal: Principal,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    base_from: str | None = None,
    base_to: str | None = None,
    slice_by: str | None = None,
) -> metrics.Metrics:
    return metrics_dated(
        services,
        principal,
        date_from=date_from,
        date_to=date_to,
        base_from=base_from,
        base_to=base_to,
        slice_by=slice_by,
    ).data


def heatmap_dated(
    services: Services,
    principal: Principal,
    *,
    process_key: str | None,
    date_from: str | None = None,
    date_to: str | None = None,
    fresh: bool = False,
) -> Dated[heatmap.Heatmap]:
    """A process's diagram with the median time each of its steps took over a period (the metrics
    page's period by default: the six months to today); an unknown process or a bad date is a 422."""
    _authorize(services, principal)
    key = (process_key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise ValidationError("请选择流程", fields={"process": "请选择流程"})
    query = metrics.MetricsQuery.parse(date_from=date_from, date_to=date_to)
    params = {"process": key, "date_from": query.period.start.isoformat(), "date_to": query.period.end.isoformat()}
    return _dated(services, principal, heatmap.Heatmap, params, fresh)


def duration_heatmap(
    services: Services,
    principal: Principal,
    *,
    process_key: str | None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> heatmap.Heatmap:
    return heatmap_dated(services, principal, process_key=process_key, date_from=date_from, date_to=date_to).data


def failed(services: Services, principal: Principal, *, page: int = 1, per_page: int = FAILED_PER_PAGE) -> FailedPage:
    """Instances stopped in error, with the element and message, and whether this person may retry them."""
    _authorize(services, principal)
    with services.db.session() as s:
        data = figures.failed(s, scope=_scope(services, s, principal), page=_page(page), per_page=max(1, per_page))
    return dataclasses.replace(data, may_retry=True)


def export_tables(
    services: Services,
    principal: Principal,
    export: exports.Export,
    fmt: str,
    *,
    params: Mapping[str, str] | None = None,
) -> bytes:
    """A cockpit page's tables as a CSV or XLSX file, audited as an export (who took which page, with
    which filters and period, how many rows) in the same transaction. ``params`` are the page's query
    parameters as given (language-independent, for the audit trail; at most 20, each cut to 120 characters). The tables come from this module's
    use cases, each of which authorized and scoped them; the export checks the cockpit rule again."""
    _authorize(services, principal)
    if fmt not in exports.FORMATS:
        raise ValidationError("未知的导出格式", fields={"format": "应为 csv 或 xlsx"})
    data = exports.render(export, fmt)
    with services.db.session() as s:
        audit.record(
            s,
            "cockpit_exported",
            actor=principal.username,
            page=export.name,
            format=fmt,
            rows=export.row_count,
            filters=dict(export.lines),
            params={str(k)[:40]: str(v)[:120] for k, v in list((params or {}).items())[:20]},
        )
    return data


def stalled(services: Services, principal: Principal) -> list[StalledTask]:
    """Open tasks of the manager's commissions that no active account can act on (a case must not stall)."""
    _authorize(services, principal)
    with services.db.session() as s:
        return stalled_tasks(s, scope=_scope(services, s, principal))


# --------------------------------------------------------------------------- notifications (everyone, their own)
def unread_notifications(services: Services, principal: Principal) -> int:
    """The bell's count, on every page: one read, in autocommit on PostgreSQL (``Database.reading``)."""
    with services.db.reading() as s:
        return notifications.unread_count(s, principal)


def list_notifications(
    services: Services,
    principal: Principal,
    *,
    unread_only: bool = False,
    page: int = 1,
    per_page: int = NOTICES_PER_PAGE,
) -> NoticePage:
    with services.db.session() as s:
        return notifications.listing(s, principal, unread_only=unread_only, page=_page(page), per_page=max(1, per_page))


def mark_notification_read(services: Services, principal: Principal, notification_id: int) -> bool:
    """NotFound for no such notification, Forbidden for another person's; False when it was read already."""
    with services.db.session() as s:
        return notifications.mark_read(s, principal, notification_id)


def mark_all_notifications_read(services: Services, principal: Principal) -> int:
    with services.db.session() as s:
        return notifications.mark_all_read(s, principal)
