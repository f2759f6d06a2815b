"""Use cases around the audit trail: its integrity (application layer, issue 11) and reading it (the audit
administrator's, 三员分立)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.access import sanyuan
from engine.access.principal import Principal
from engine.audit.verify import last_check
from engine.errors import Forbidden
from engine.models import AuditEvent

if TYPE_CHECKING:
    from engine.services import Services

# Who is told about the trail's integrity: those who oversee the commission's work (the cockpit's
# default audience), the holders of the security_admin role and the audit administrator (审计管理员).
WATCHERS = frozenset(
    {
        "commission_secretary",
        "leader_in_charge",
        "case_management_office",
        "conduct_supervision_office",
        "security_admin",
    }
)


@dataclass(frozen=True)
class AuditIntegrity:
    verified: bool  # False: ``guantong audit verify`` never ran on this database
    ok: bool  # the last verification found nothing wrong (True when never verified: nothing to warn of)
    checked_at: dt.datetime | None = None
    checked: int = 0
    kind: str | None = None  # edited, deleted, inserted, reordered, truncated, diverged
    event_id: int | None = None
    event_at: dt.datetime | None = None
    action: str | None = None
    message: str | None = None


def audit_integrity(services: Services, principal: Principal) -> AuditIntegrity:
    """The last verification of the audit trail, for the cockpit's warning banner."""
    if not (principal.is_audit_admin or principal.roles & WATCHERS):
        raise Forbidden("only overseers see the audit trail's integrity", user=principal.username)
    return _integrity(services)


# --------------------------------------------------------------------------- the trail (审计管理员)
TRAIL_PER_PAGE = 50
MAX_FILTER = 80


@dataclass(frozen=True)
class TrailEvent:
    id: int
    at: dt.datetime
    actor: str | None
    action: str
    instance_id: int | None
    task_id: int | None
    version_id: int | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class TrailPage:
    events: tuple[TrailEvent, ...]
    total: int
    page: int
    pages: int
    actions: tuple[str, ...]  # every action recorded, for the filter
    integrity: AuditIntegrity


def audit_trail(
    services: Services,
    principal: Principal,
    *,
    action: str | None = None,
    actor: str | None = None,
    page: int = 1,
    per_page: int = TRAIL_PER_PAGE,
) -> TrailPage:
    """The audit trail, newest first, filtered by action and actor, with the last verification's result.

    The audit administrator's, and only his (三员分立): the system and security administrators whose acts
    it records do not read it, and nobody working on cases does (the trail names who opened which case).
    """
    sanyuan.require_audit_admin(principal)
    action_ = (action or "").strip()[:MAX_FILTER] or None
    actor_ = (actor or "").strip()[:MAX_FILTER] or None
    per_page = max(1, min(per_page, 500))
    where = []
    if action_:
        where.append(AuditEvent.action == action_)
    if actor_:
        where.append(AuditEvent.actor == actor_)
    with services.db.session() as s:
        total = int(s.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0)
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = s.execute(
            select(
                AuditEvent.id,
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.instance_id,
                AuditEvent.task_id,
                AuditEvent.version_id,
                AuditEvent.detail,
            )
            .where(*where)
            .order_by(AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        actions = tuple(s.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    events = tuple(TrailEvent(**{**row._asdict(), "detail": dict(row.detail or {})}) for row in rows)
    return TrailPage(events, total, page, pages, actions, _integrity(services))


def _integrity(services: Services) -> AuditIntegrity:
    result = last_check(services.db)
    if result is None:
        return AuditIntegrity(verified=False, ok=True)
    p = result.problem
    if p is None:
        return AuditIntegrity(True, True, result.at, result.checked)
    return AuditIntegrity(True, False, result.at, result.checked, p.kind, p.event_id, p.at, p.action, p.message)
