"""The studio's form editor (表单设计): a form's JSON Schema edited in the browser with a live preview.

- ``GET /studio/forms/edit?key=<key>``: the editor for one form of the latest version (an unknown key
  is a new form), with the tasks that use it;
- ``POST /studio/forms/check`` (CSRF header): the schema checked as a deploy would (JSON syntax with
  line and column, JSON Schema, the processes that read its fields), the preview rendered by the
  macros of the officers' task page (``_form.html``) and the fields the process reads (x-process);
- ``POST /studio/forms/deploy``: a deploy request for the form, approved by a second person like a
  diagram's (engine/definitions/forms_studio.py).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from engine.definitions import forms_studio
from engine.definitions import operations as ops
from engine.errors import Conflict, DeployError

from ..security import principal, services
from .views import _said, bp, designers_only

FORM_REASONS = {
    "form_json": lambda p: _(
        "不是有效的 JSON：第 %(line)s 行第 %(col)s 列（%(err)s）。",
        line=p.get("line", ""),
        col=p.get("column", ""),
        err=p.get("error", ""),
    ),
    "form_schema": lambda p: _(
        "不是有效的 JSON Schema：位置 %(path)s（%(err)s）。", path=p.get("path", ""), err=p.get("error", "")
    ),
    "form_not_object": lambda p: _("表单必须是 JSON 对象（JSON Schema），其 properties 为字段对象。"),
    "form_too_large": lambda p: _("表单过大（上限 256 KB）。"),
    "form_field_read": lambda p: _(
        "字段 %(f)s 仍被 %(file)s 读取（%(src)s），修改后的表单不再把它写入流程数据（x-process），流程运行到此处将出错。",
        f=p.get("field", ""),
        file=p.get("file", ""),
        src=p.get("source", ""),
    ),
}


def _problems(problems: Any) -> list[dict[str, Any]]:
    said = []
    for p in problems:
        render = FORM_REASONS.get(p.code or "")
        said.append({**p.as_dict(), "reason": render(dict(p.params))} if render else _said([p])[0])
    return said


def _uses(used_by: Any) -> list[dict[str, str]]:
    return [{"process": u.process, "task": u.task, "name": u.name} for u in used_by]


def _posted() -> tuple[str, str]:
    return (request.form.get("key") or "").strip(), request.form.get("schema") or ""


@bp.get("/forms/edit")
@designers_only
def form_edit():
    draft = forms_studio.open_form(services(), principal(), (request.args.get("key") or "").strip())
    return render_template("studio/form_edit.html", draft=draft)


@bp.post("/forms/check")
@designers_only
def form_check():
    key, text = _posted()
    checked = forms_studio.check_form(services(), principal(), key, text, locale=str(get_locale() or "zh_CN"))
    preview = render_template("studio/_form_preview.html", fields=checked.fields) if checked.fields else ""
    return jsonify(
        {
            "ok": checked.ok,
            "problems": _problems(checked.problems),
            "preview": preview,
            "process_fields": list(checked.process_fields),
            "used_by": _uses(checked.used_by),
            "message": _("表单校验通过。") if checked.ok else _("发现以下问题："),
        }
    ), (200 if checked.ok else 422)


@bp.post("/forms/deploy")
@designers_only
def form_deploy():
    key, text = _posted()
    try:
        asked = forms_studio.request_form_deploy(
            services(),
            principal(),
            key,
            text,
            base_sha=(request.form.get("base_sha") or "").strip(),
            comment=request.form.get("comment"),
        )
    except DeployError as exc:
        return jsonify({"ok": False, "problems": _problems([ops.Problem.of(p) for p in exc.problems])}), 422
    except Conflict as exc:
        if exc.details.get("reason") != "stale_base":
            raise
        return jsonify(
            {
                "ok": False,
                "problems": [],
                "message": _(
                    "此表单在您打开后已被他人修改并部署（现为第 %(v)s 版）。请重新打开后再修改。",
                    v=exc.details.get("version"),
                ),
            }
        ), 409
    n = asked.request_id
    return jsonify(
        {
            "ok": True,
            "request": n,
            "text": _("已提交部署申请（第 %(n)s 号），经安全管理员批准后生效。", n=n),
            "url": url_for("approvals.show", request_id=n),
        }
    )
