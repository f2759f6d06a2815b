"""The process studio's pages (流程设计): HTTP in, one use case of ``engine.definitions.operations``, HTML or JSON out.

- ``/studio/``: every deployed version (who, when, comment, hash) with its processes and instances;
- ``/studio/versions/<v>``: its processes and BPMN files; each file opens in the bpmn-js viewer with the
  number of ready tasks per element drawn over the diagram, or in the modeler;
- ``/studio/validate`` and ``/studio/deploy`` (POST, CSRF token in the ``X-CSRFToken`` header): the
  latest version with the edited file replaced, checked by the engine; problems come back as
  ``{file, element, reason}`` and the modeler marks the elements. A deploy is a request that takes
  effect when a security administrator approves it (``/admin/approvals``, 三员分立): the answer links
  to it; a file changed by someone else since it was opened is a 409. Both take ``forms``: the forms
  edited in the same session (the form editor's drafts), validated with the diagram and deployed with it
  as one request, one approval and one version;
- ``/studio/diff``: a text diff of one file between two versions.

Who may enter is the engine's rule (``operations.may_design``); a refusal is audited here as
``access_denied`` with the engine's reason. Files without a diagram get a generated layout
(``layout.py``) so they can be viewed and edited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.definitions import operations as ops
from engine.definitions import panel
from engine.definitions.xmlsafe import MAX_BPMN_BYTES
from engine.errors import Conflict, DeployError, Forbidden

from ..security import deny, principal, services
from . import layout, panel_texts

bp = Blueprint("studio", __name__)


def designers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in, and a refusal by the engine becomes an audited 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Forbidden as exc:
            deny(exc.details.get("reason") or "forbidden")

    return login_required(wrapped)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    def studio_allowed() -> bool:
        return current_user.is_authenticated and ops.may_design(services(), current_user.principal)

    return {"studio_allowed": studio_allowed}


# --------------------------------------------------------------------------- pages
@bp.get("/")
@designers_only
def index():
    overview = ops.list_versions(services(), principal())
    return render_template("studio/index.html", overview=overview, latest=overview.latest)


@bp.get("/versions/<int:version_id>")
@designers_only
def version(version_id: int):
    detail = ops.show_version(services(), principal(), version_id)
    return render_template("studio/version.html", detail=detail, v=detail.version, latest=detail.latest)


@bp.get("/versions/<int:version_id>/files/<filename>")
@designers_only
def view(version_id: int, filename: str):
    f = ops.read_file(services(), principal(), version_id, filename)
    return render_template(
        "studio/view.html", f=f, v=f.version, latest=f.latest, generated=not layout.has_diagram(f.content)
    )


@bp.get("/versions/<int:version_id>/xml/<filename>")
@designers_only
def xml(version_id: int, filename: str):
    """The file as stored, with a generated layout when it has none (for bpmn-js)."""
    f = ops.read_file(services(), principal(), version_id, filename)
    content, _generated = layout.ensure_diagram(f.content, filename)
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "no-store"})


@bp.get("/versions/<int:version_id>/forms/<path:form_key>")
@designers_only
def form(version_id: int, form_key: str):
    """A form's JSON Schema as deployed in this version."""
    return jsonify(ops.read_form(services(), principal(), version_id, form_key))


@bp.get("/versions/<int:version_id>/overlay/<filename>")
@designers_only
def overlay(version_id: int, filename: str):
    """Ready human tasks per BPMN element of this file, over the instances running on this version."""
    return jsonify({"elements": ops.overlay(services(), principal(), version_id, filename)})


@bp.get("/edit/<filename>")
@designers_only
def edit(filename: str):
    draft = ops.open_for_edit(services(), principal(), filename, request.args.get("version", type=int))
    return render_template(
        "studio/edit.html",
        draft=draft,
        v=draft.version,
        latest=draft.latest,
        generated=not layout.has_diagram(draft.content),
        # what validation and deploy check against: the latest version's forms, settings and roles
        panel_choices=panel.choices(services(), principal(), draft.latest).as_dict(),
        panel_texts={**panel_texts.texts(), "bpmn": panel_texts.bpmn_texts()},
    )


@bp.get("/diff")
@designers_only
def diff():
    filename = (request.args.get("file") or "")[:255]
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if not filename or a is None or b is None:
        abort(404)
    return render_template("studio/diff.html", diff=ops.diff_file(services(), principal(), filename, a, b))


# --------------------------------------------------------------------------- validate and deploy
def _posted() -> tuple[str, str]:
    return (request.form.get("filename") or "").strip(), request.form.get("xml") or ""


class _BadDrafts(ValueError):
    """The ``forms`` field is not a list of form drafts as studio-forms.js stores them."""


def _form_drafts() -> list[ops.FormEdit]:
    """The forms edited in this session (studio-forms.js keeps them in the tab's sessionStorage and the
    modeler sends them as JSON: ``[{"key", "schema", "base_sha"}]``), deployed with the diagram."""
    raw = request.form.get("forms") or ""
    if not raw.strip():
        return []
    try:
        drafts = json.loads(raw)
    except ValueError as exc:
        raise _BadDrafts(str(exc)) from exc
    if not isinstance(drafts, list) or not all(
        isinstance(d, dict) and all(isinstance(d.get(k, ""), str) for k in ("key", "schema", "base_sha"))
        for d in drafts
    ):
        raise _BadDrafts("not a list of form drafts")
    return [ops.FormEdit(d.get("key", ""), d.get("schema", ""), d.get("base_sha", "")) for d in drafts]


def _bad_drafts():
    return jsonify({"ok": False, "problems": [], "message": _("表单草稿无法读取，请重新打开表单编辑器保存。")}), 422


_USES = {
    "condition": lambda: _("流出条件"),
    "timer": lambda: _("定时器"),
    "dueFrom": lambda: _("时限起算日（dueFrom）"),
    "unitVar": lambda: _("办理单位变量（unitVar）"),
    "assigneeVar": lambda: _("指定办理人变量（assigneeVar）"),
    "preScript": lambda: _("前置脚本"),
    "postScript": lambda: _("后置脚本"),
    "script": lambda: _("脚本"),
    "collection": lambda: _("多实例集合"),
    "cardinality": lambda: _("多实例数量"),
    "payload": lambda: _("消息内容"),
}


def _reason(problem: ops.Problem) -> str:
    """The engine's file checks and flow rules said in the reader's language; other findings as they are."""
    p = dict(problem.params)
    said = {
        "bad_filename": lambda: _("文件名须为字母、数字、下划线、点或连字符，并以 .bpmn 结尾。"),
        "nul": lambda: _("内容不能包含控制字符（NUL）。"),
        "empty": lambda: _("内容为空。"),
        "too_large": lambda: _("文件过大（上限 %(mb)s MB）。", mb=MAX_BPMN_BYTES // (1024 * 1024)),
        "dataflow_unset": lambda: _(
            "%(use)s使用的变量 %(var)s 并非在到达此处的每条路径上都已赋值（没有前面环节的表单字段、脚本、发起数据或消息设置它）：%(src)s",
            use=_USES.get(p.get("use", ""), lambda: p.get("use", ""))(),
            var=p.get("variable", ""),
            src=p.get("source", ""),
        ),
        "dataflow_dead_branch": lambda: _(
            "流向 %(flow)s 永远不会被选中：到达此网关的每条路径上，变量 %(var)s 都仍是 %(value)s，途中没有环节对它作出决定（记录它的环节是否被删除了？）条件：%(src)s",
            flow=p.get("flow", ""),
            var=p.get("variable", ""),
            value=p.get("value", ""),
            src=p.get("source", ""),
        ),
        "start_missing": lambda: _("流程没有开始事件。"),
        "end_missing": lambda: _("流程没有结束事件。"),
        "no_incoming": lambda: _("此元素未连接：没有顺序流指向它。"),
        "no_outgoing": lambda: _("此元素未连接：没有顺序流从它流出。"),
        "implicit_split": lambda: _(
            "此元素有 %(n)s 条流出的顺序流：请用网关分支（不允许隐式分支）。", n=p.get("count", "")
        ),
        "unit_missing": lambda: _("用户任务没有指定办理单位变量（unitVar）。"),
        "due_missing": lambda: _("用户任务既没有办理时限（dueIn），也没有说明不设时限的理由（noDueReason）。"),
    }.get(problem.code or "")
    if said is None:  # a form edited with the diagram: the form editor's own words
        from .forms import FORM_REASONS

        form_said = FORM_REASONS.get(problem.code or "")
        return form_said(p) if form_said else problem.reason
    return said()


def _said(problems: Any) -> list[dict[str, Any]]:
    return [{**p.as_dict(), "reason": _reason(p)} for p in problems]


def _refused(problems: list[ops.Problem] | tuple[ops.Problem, ...], message: str | None = None):
    body: dict[str, Any] = {"ok": False, "problems": _said(problems)}
    if message:
        body["message"] = message
    return jsonify(body), 422


_CHANGE = {"added": lambda: _("新增"), "removed": lambda: _("删除"), "changed": lambda: _("修改")}


def _changes(diff: Any) -> dict[str, Any]:
    """The edited file against the latest version, for the deploy confirmation: counts and each element."""
    return {
        "summary": diff.summary,
        "elements": [
            {
                "id": e.id,
                "name": e.name,
                "kind": e.kind,
                "change": e.change,
                "said": _CHANGE[e.change](),
                "properties": [c.property for c in e.changes],
            }
            for e in diff.elements
        ],
    }


@bp.post("/validate")
@designers_only
def validate():
    filename, content = _posted()
    try:
        drafts = _form_drafts()
    except _BadDrafts:
        return _bad_drafts()
    result = ops.validate_file(services(), principal(), filename, content, drafts)
    if not result.ok:
        return jsonify({"ok": False, "problems": _said(result.problems), "warnings": _said(result.warnings)}), 422
    return jsonify(
        {
            "ok": True,
            "problems": [],
            "warnings": _said(result.warnings),
            "changes": _changes(result.changes),
            "based_on": result.based_on,
            "message": _("校验通过，没有发现问题。")
            if not result.warnings
            else _("校验通过，可以部署；有 %(n)s 条提醒。", n=len(result.warnings)),
        }
    )


@bp.post("/deploy")
@designers_only
def deploy():
    """Ask for the deploy: it takes effect when a security administrator approves it (三员分立)."""
    filename, content = _posted()
    try:
        drafts = _form_drafts()
    except _BadDrafts:
        return _bad_drafts()
    try:
        asked = ops.request_deploy(
            services(),
            principal(),
            filename,
            content,
            base_sha=(request.form.get("base_sha") or "").strip(),
            comment=request.form.get("comment"),
            forms=drafts,
        )
    except DeployError as exc:
        return _refused([ops.Problem.of(p) for p in exc.problems], exc.message)
    except Conflict as exc:
        if exc.details.get("reason") != "stale_base":
            raise
        latest = exc.details.get("version")
        return jsonify(
            {
                "ok": False,
                "conflict": True,
                "version": latest,
                "problems": [],
                "message": _("此文件在您打开后已被他人修改并部署（现为第 %(v)s 版）。请重新打开后再修改。", v=latest)
                if exc.details.get("file") == filename
                else _(
                    "表单 %(f)s 在您打开后已被他人修改并部署（现为第 %(v)s 版）。请重新打开表单后再修改。",
                    f=exc.details.get("file"),
                    v=latest,
                ),
            }
        ), 409
    n = asked.request_id
    return jsonify(
        {
            **({"forms": list(asked.forms)} if asked.forms else {}),  # the form drafts the request carries
            "ok": True,
            "pending": True,
            "request": n,
            "message": f"deploy requested: approval request {n}",
            "text": _("已提交部署申请（第 %(n)s 号），经安全管理员批准后生效。", n=n),
            "url": url_for("approvals.show", request_id=n),
        }
    )
