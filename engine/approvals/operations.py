"""Second person's approval (三员分立): list, read, approve and reject the stored requests.

Two kinds of change wait here (engine/approvals/requests.py opens them):

- ``reveal_grant``: a role that shows reporters' identities, asked for by a security administrator
  (engine/organisation/operations.py ``add_membership``); approved by ANOTHER security administrator or
  by the commission's secretary (``sanyuan.REVEAL_APPROVER_ROLES``), never by the person who would
  receive the role;
- ``deploy``: a file edited in the studio, asked for by a designer (engine/definitions/operations.py
  ``request_deploy``); approved by a security administrator other than the designer.

Nobody decides his own request. Approving applies the change in the same transaction as the decision
and its audit event, with the checks of the original use case run again (a file deployed by someone else
since, a user made an administrator since): if they fail, nothing changes and the request stays pending
for a rejection with a reason. Each refusal is a ``Forbidden`` naming its rule, which the web and the API
record as ``access_denied`` (engine/access/denials.py).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import sanyuan
from engine.access.principal import Principal
from engine.approvals import requests
from engine.definitions import bpmndiff
from engine.definitions import operations as definitions
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import ApprovalRequest, DefinitionFile, DefinitionVersion
from engine.organisation import operations as organisation
from engine.organisation.names import forget
from engine.services import Services

MAX_REASON = 2000
DECIDED_SHOWN = 50  # the most recent decided requests a list shows


@dataclass(frozen=True)
class RequestView:
    id: int
    kind: str
    summary: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision: str | None
    reason: str | None
    may_decide: bool  # this person may approve or reject it now
    details: tuple[tuple[str, str], ...] = ()  # what the request asks, as (field, value) pairs to show
    result: tuple[tuple[str, Any], ...] = ()  # what approving it did (version, created …)


@dataclass(frozen=True)
class RequestDetail:
    request: RequestView
    diff: tuple[str, ...] = ()  # a deploy: the file against the latest version (unified diff)
    changes: tuple[Any, ...] = ()  # a deploy: its elements added, removed, changed (bpmndiff.ElementChange)
    # a deploy of a diagram with the forms edited in the same session: each form's (file, unified diff)
    form_diffs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    refusal: str | None = None  # why this person may not decide it (a rule name), when pending


@dataclass(frozen=True)
class RequestsPage:
    pending: tuple[RequestView, ...]
    decided: tuple[RequestView, ...]


# --------------------------------------------------------------------------- who may
def may_use_approvals(services: Services, principal: Principal) -> bool:
    """The approvals pages: those who decide (security administrators, commission secretaries) and those
    who ask (designers: their own deploys)."""
    return bool(
        principal.is_security_admin
        or principal.is_system
        or principal.roles & sanyuan.REVEAL_APPROVER_ROLES
        or definitions.may_design(services, principal)
    )


def _require_approvals(services: Services, principal: Principal) -> None:
    if not may_use_approvals(services, principal):
        raise Forbidden(
            "only approvers and requesters see approval requests",
            reason=sanyuan.APPROVALS_ONLY,
            rule=sanyuan.APPROVALS_ONLY,
            user=principal.username,
        )


def _may_see(principal: Principal, row: ApprovalRequest) -> bool:
    if principal.is_security_admin or principal.is_system or row.requested_by == principal.username:
        return True
    return row.kind == requests.REVEAL_GRANT and bool(principal.roles & sanyuan.REVEAL_APPROVER_ROLES)


def _refusal(principal: Principal, row: ApprovalRequest) -> str | None:
    """The rule that keeps this person from deciding a pending request, or None when he may."""
    if row.requested_by == principal.username:
        return sanyuan.OWN_REQUEST
    if row.kind == requests.REVEAL_GRANT:
        if (row.payload or {}).get("username") == principal.username:
            return sanyuan.OWN_GRANT
        if principal.is_security_admin or principal.roles & sanyuan.REVEAL_APPROVER_ROLES:
            return None
        return sanyuan.NOT_AN_APPROVER
    return None if principal.is_security_admin else sanyuan.NOT_AN_APPROVER


_REFUSALS = {
    sanyuan.OWN_REQUEST: "nobody approves or rejects his own request",
    sanyuan.OWN_GRANT: "nobody approves or rejects a grant to himself",
    sanyuan.NOT_AN_APPROVER: "you may not decide this kind of request",
}


# --------------------------------------------------------------------------- views
def _details(row: ApprovalRequest) -> tuple[tuple[str, str], ...]:
    p = row.payload or {}
    keys: tuple[str, ...] = ("filename", "based_on", "comment")
    if row.kind == requests.REVEAL_GRANT:
        keys = ("username", "unit", "role", "leader")
    shown = tuple((k, str(p[k])) for k in keys if p.get(k) not in (None, ""))
    if row.kind == requests.DEPLOY and p.get("forms"):  # forms edited in the same session, deployed together
        shown += (("forms", "、".join(f"forms/{f.get('form_key')}.json" for f in p["forms"])),)
    return shown


def _view(principal: Principal, row: ApprovalRequest) -> RequestView:
    return RequestView(
        id=row.id,
        kind=row.kind,
        summary=row.summary,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision=row.decision,
        reason=row.reason,
        may_decide=row.decision is None and _refusal(principal, row) is None,
        details=_details(row),
        result=tuple(sorted((row.result or {}).items())),
    )


def _get(s: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    row = s.get(ApprovalRequest, request_id)
    if row is None or not _may_see(principal, row):
        raise NotFound(f"no approval request {request_id}", request=request_id)
    return row


# --------------------------------------------------------------------------- use cases
def list_requests(services: Services, principal: Principal) -> RequestsPage:
    """The pending requests this person may see (oldest first) and the most recent decided ones."""
    _require_approvals(services, principal)
    with services.db.session() as s:
        pending = s.scalars(
            select(ApprovalRequest).where(ApprovalRequest.decision.is_(None)).order_by(ApprovalRequest.id)
        ).all()
        decided = s.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.decision.is_not(None))
            .order_by(ApprovalRequest.decided_at.desc(), ApprovalRequest.id.desc())
            .limit(DECIDED_SHOWN * 4)
        ).all()
        return RequestsPage(
            pending=tuple(_view(principal, r) for r in pending if _may_see(principal, r)),
            decided=tuple(_view(principal, r) for r in decided if _may_see(principal, r))[:DECIDED_SHOWN],
        )


def show_request(services: Services, principal: Principal, request_id: int) -> RequestDetail:
    """One request; a deploy with its file's changes against the latest version, for the approver to read."""
    _require_approvals(services, principal)
    with services.db.session() as s:
        row = _get(s, principal, request_id)
        diff: tuple[str, ...] = ()
        changes: tuple[Any, ...] = ()
        form_diffs: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if row.kind == requests.DEPLOY:
            diff = _deploy_diff(services, s, row.payload or {})
            changes = _deploy_changes(services, s, row.payload or {})
            form_diffs = _form_diffs(services, s, row.payload or {})
        return RequestDetail(
            request=_view(principal, row),
            diff=diff,
            changes=changes,
            form_diffs=form_diffs,
            refusal=_refusal(principal, row) if row.decision is None else None,
        )


def _deployed_file(services: Services, s: Session, payload: dict[str, Any]) -> tuple[str, int | None, str | None]:
    """(file name, latest version, that version's content of the file) the requested file is read against:
    the diff and the element changes the approver reads compare the same two texts."""
    filename = str(payload.get("filename", ""))
    latest = services.definitions.latest_version_id(s)
    if payload.get("form_key"):
        return filename, latest, _stored_form(s, latest, str(payload["form_key"]))
    if latest is None:
        return filename, None, None
    content = s.scalar(
        select(DefinitionFile.content).where(DefinitionFile.version_id == latest, DefinitionFile.filename == filename)
    )
    return filename, latest, content


def _deploy_diff(services: Services, s: Session, payload: dict[str, Any]) -> tuple[str, ...]:
    filename, latest, before = _deployed_file(services, s, payload)
    return _text_diff(before, str(payload.get("content", "")), filename, latest)


def _form_diffs(services: Services, s: Session, payload: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each form edited with the diagram against the latest version, so the approver reads the whole
    change on one request (a form has no elements: its text diff says it all)."""
    latest = services.definitions.latest_version_id(s)
    diffs = []
    for form in payload.get("forms") or ():
        name = f"forms/{form.get('form_key')}.json"
        before = _stored_form(s, latest, str(form.get("form_key")))
        diffs.append((name, _text_diff(before, str(form.get("content", "")), name, latest)))
    return tuple(diffs)


def _text_diff(before: str | None, after: str, filename: str, latest: int | None) -> tuple[str, ...]:
    return tuple(
        difflib.unified_diff(
            (before or "").splitlines(),
            after.splitlines(),
            fromfile=f"v{latest}/{filename}",
            tofile=f"requested/{filename}",
            lineterm="",
            n=3,
        )
    )


def _stored_form(s: Session, version_id: int | None, key: str) -> str | None:
    """A form of a version as the studio's editor shows it (indented JSON), None when it has none."""
    if version_id is None:
        return None
    forms = s.scalar(select(DefinitionVersion.forms).where(DefinitionVersion.id == version_id)) or {}
    return json.dumps(forms[key], ensure_ascii=False, indent=2) if key in forms else None


def _deploy_changes(services: Services, s: Session, payload: dict[str, Any]) -> tuple[Any, ...]:
    """The requested file against the latest version, element by element, for the approver to read (a
    form has no elements: its text diff says it all)."""
    if payload.get("form_key"):
        return ()
    filename, _latest, before = _deployed_file(services, s, payload)
    return bpmndiff.diff_files(before, str(payload.get("content", "")), filename).elements


def _decidable(s: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    """The request, locked for the decision; refused when decided already or not this person's to decide."""
    row = s.get(ApprovalRequest, request_id, with_for_update=True)
    if row is None or not _may_see(principal, row):
        raise NotFound(f"no approval request {request_id}", request=request_id)
    if row.decision is not None:
        raise Conflict(f"request {request_id} was already {row.decision}", request=request_id, decision=row.decision)
    rule = _refusal(principal, row)
    if rule is not None:
        raise Forbidden(_REFUSALS[rule], reason=rule, rule=rule, request=request_id, user=principal.username)
    return row


def approve(services: Services, principal: Principal, request_id: int) -> RequestView:
    """Approve and apply: the role is granted, or the file deployed, in this transaction."""
    _require_approvals(services, principal)
    with services.db.session() as s:
        row = _decidable(s, principal, request_id)
        approval = {"request": row.id, "requested_by": row.requested_by, "approved_by": principal.username}
        payload = dict(row.payload or {})
        if row.kind == requests.REVEAL_GRANT:
            result = organisation.apply_reveal_grant(s, payload, approval=approval)
        elif row.kind == requests.DEPLOY:
            done = definitions.apply_deploy(services, s, payload, requested_by=row.requested_by, approval=approval)
            result = {"version": done.version_id, "created": done.created, "based_on": done.based_on}
        else:
            raise Conflict(f"request {request_id} is of an unknown kind {row.kind!r}", request=request_id)
        row.decision, row.decided_by, row.decided_at = requests.APPROVED, principal.username, clock.now()
        row.result = result
        audit.record(
            s, "approval_approved", actor=principal.username, request=row.id, kind=row.kind, summary=row.summary
        )
        view = _view(principal, row)
    if view.kind == requests.REVEAL_GRANT:
        forget(services)  # names on pages come from a cache
    return view


def reject(services: Services, principal: Principal, request_id: int, *, reason: str) -> RequestView:
    """Reject with a reason (required: the requester reads it); nothing else changes."""
    _require_approvals(services, principal)
    text = (reason or "").replace("\x00", "").strip()
    if not text:
        raise ValidationError("a rejection needs a reason", {"reason": organisation.REQUIRED})
    if len(text) > MAX_REASON:
        raise ValidationError("the reason is too long", {"reason": organisation.TOO_LONG})
    with services.db.session() as s:
        row = _decidable(s, principal, request_id)
        row.decision, row.decided_by, row.decided_at = requests.REJECTED, principal.username, clock.now()
        row.reason = text
        audit.record(
            s,
            "approval_rejected",
            actor=principal.username,
            request=row.id,
            kind=row.kind,
            summary=row.summary,
            reason=text,
        )
        return _view(principal, row)
