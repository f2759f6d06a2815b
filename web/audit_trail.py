"""The audit trail page: the audit administrator's (审计管理员), and nobody else's (三员分立).

Newest events first, filtered by action and by actor, with the result of the last ``guantong audit
verify``; one call of engine.audit.operations.audit_trail, which refuses everyone else (the refusal is
the 403 page with its ``access_denied`` event).
"""

from __future__ import annotations

import orjson
from flask import Blueprint, render_template, request
from flask_login import login_required

from engine.access import sanyuan
from engine.audit.operations import audit_trail

from .security import deny, principal, services

bp = Blueprint("audit", __name__)


@bp.before_request
@login_required
def _audit_admin_only() -> None:
    if not principal().is_audit_admin:
        deny(sanyuan.AUDIT_ADMIN_ONLY)


@bp.get("/")
def index() -> str:
    page = audit_trail(
        services(),
        principal(),
        action=request.args.get("action"),
        actor=request.args.get("actor"),
        page=request.args.get("page", 1, type=int) or 1,
    )
    return render_template(
        "audit/trail.html",
        page=page,
        action=request.args.get("action", ""),
        actor=request.args.get("actor", ""),
        as_json=lambda detail: orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode("utf-8"),
    )
