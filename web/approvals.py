"""Second person's approval pages (三员分立): the requests waiting, one request with its changes, approve,
reject with a reason.

Each view is one call of engine.approvals.operations, which decides who may see and decide what (a
security administrator or the commission's secretary for reveal-role grants, a security administrator
for deploys, never the requester himself); a refusal is the 403 page with its ``access_denied`` event
naming the rule. Forms carry the CSRF token like every other form.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engine.access import sanyuan
from engine.approvals import operations as approvals
from engine.errors import Conflict, DeployError, ValidationError

from . import labels
from .security import deny, principal, services

bp = Blueprint("approvals", __name__)


@bp.app_context_processor
def _nav() -> dict[str, object]:
    def approvals_allowed() -> bool:
        return current_user.is_authenticated and approvals.may_use_approvals(services(), current_user.principal)

    return {"approvals_allowed": approvals_allowed}


@bp.before_request
@login_required
def _approvers_and_requesters_only() -> None:
    if not approvals.may_use_approvals(services(), principal()):
        deny(sanyuan.APPROVALS_ONLY)


@bp.get("/")
def index() -> str:
    page = approvals.list_requests(services(), principal())
    return render_template(
        "admin/approvals.html",
        pending=page.pending,
        decided=page.decided,
        kinds=labels.APPROVAL_KINDS,
        decisions=labels.APPROVAL_DECISIONS,
    )


@bp.get("/<int:request_id>")
def show(request_id: int, errors: dict[str, str] | None = None, status: int = 200):
    detail = approvals.show_request(services(), principal(), request_id)
    return render_template(
        "admin/approval.html",
        item=detail.request,
        diff=detail.diff,
        changes=detail.changes,
        form_diffs=detail.form_diffs,
        refusal=_refusal_text(detail.refusal),
        kinds=labels.APPROVAL_KINDS,
        decisions=labels.APPROVAL_DECISIONS,
        errors=errors or {},
        reason=request.form.get("reason", ""),
    ), status


def _refusal_text(rule: str | None) -> str | None:
    return {
        sanyuan.OWN_REQUEST: _("这是您本人提出的申请，须由另一名有权人员审批。"),
        sanyuan.OWN_GRANT: _("该申请为您本人授予角色，须由另一名有权人员审批。"),
        sanyuan.NOT_AN_APPROVER: _("您无权审批此类申请。"),
    }.get(rule or "")


@bp.post("/<int:request_id>/approve")
def approve(request_id: int) -> Response | tuple[str, int]:
    try:
        done = approvals.approve(services(), principal(), request_id)
    except DeployError as exc:
        flash(_("部署未通过校验，未作任何更改：%(m)s", m=exc.message), "danger")
    except (Conflict, ValidationError) as exc:
        flash(_("无法批准，未作任何更改：%(m)s", m=exc.message), "danger")
    else:
        result = dict(done.result)
        version = result.get("version")
        if version is None:
            flash(_("已批准，已生效。"), "success")
        elif result.get("created"):
            flash(_("已批准，已部署为第 %(v)s 版。", v=version), "success")
        else:
            flash(_("已批准；内容未改变：仍为第 %(v)s 版。", v=version), "info")
    return redirect(url_for("approvals.show", request_id=request_id))


@bp.post("/<int:request_id>/reject")
def reject(request_id: int) -> Response | tuple[str, int]:
    try:
        approvals.reject(services(), principal(), request_id, reason=request.form.get("reason", ""))
    except ValidationError as exc:
        text = _("请填写驳回理由。") if exc.fields.get("reason") == "required" else _("理由过长。")
        return show(request_id, errors={"reason": text}, status=422)
    except Conflict as exc:
        flash(_("无法驳回：%(m)s", m=exc.message), "danger")
    else:
        flash(_("已驳回。"), "success")
    return redirect(url_for("approvals.show", request_id=request_id))
