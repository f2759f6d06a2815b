"""Use cases around the audit trail's integrity (application layer, issue 11)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.access.principal import Principal
from engine.audit.verify import last_check
from engine.errors import Forbidden

if TYPE_CHECKING:
    from engine.services import Services

# Who is told about the trail's integrity: those who oversee the commission's work (the cockpit's
# default audience) and the security administrator who answers for the audit trail (安全审计员).
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
    if not (principal.is_admin or principal.roles & WATCHERS):
        raise Forbidden("only overseers see the audit trail's integrity", user=principal.username)
    result = last_check(services.db)
    if result is None:
        return AuditIntegrity(verified=False, ok=True)
    p = result.problem
    if p is None:
        return AuditIntegrity(True, True, result.at, result.checked)
    return AuditIntegrity(True, False, result.at, result.checked, p.kind, p.event_id, p.at, p.action, p.message)
