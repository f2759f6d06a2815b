"""The stored requests: opened by the use case that needs a second person (a reveal-role grant in
engine/organisation/operations.py, a studio deploy in engine/definitions/operations.py), decided in
engine/approvals/operations.py. Written inside the caller's transaction, with its audit event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access.principal import Principal
from engine.models import ApprovalRequest

REVEAL_GRANT = "reveal_grant"
DEPLOY = "deploy"
KINDS = (REVEAL_GRANT, DEPLOY)
APPROVED = "approved"
REJECTED = "rejected"


def open_request(s: Session, principal: Principal, kind: str, *, summary: str, payload: dict[str, Any]) -> int:
    """Store a pending request and its ``approval_requested`` event; the request's id."""
    row = ApprovalRequest(kind=kind, summary=summary[:300], payload=payload, requested_by=principal.username)
    s.add(row)
    s.flush()
    audit.record(
        s,
        "approval_requested",
        actor=principal.username,
        request=row.id,
        kind=kind,
        summary=row.summary,
        **_trail(payload),
    )
    return row.id


def _trail(payload: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a request: not the files' contents (they stay in the request), only
    the keys of the forms a deploy carries."""
    kept: dict[str, Any] = {k: v for k, v in payload.items() if k not in ("content", "forms")}
    if payload.get("forms"):
        kept["forms"] = [f.get("form_key") for f in payload["forms"]]
    return kept


def pending_grant(s: Session, user_id: int, unit: str, role: str) -> int | None:
    """The pending reveal-grant request for this person, unit and role, if one is waiting already."""
    for row in s.scalars(
        select(ApprovalRequest).where(ApprovalRequest.kind == REVEAL_GRANT, ApprovalRequest.decision.is_(None))
    ):
        p = row.payload or {}
        if p.get("user_id") == user_id and p.get("unit") == unit and p.get("role") == role:
            return row.id
    return None
