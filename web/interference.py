"""The interference register's pages (干预登记): recording an approach on a case, a case's entries, the
register of the 案管室 and 干部监督室 with its filters and CSV ledger, one entry and its follow-up.

Each view calls one use case of engine/interference/operations.py, where who may do what is decided
(the officers of a case record and read it; the offices keep their commission's register); a refusal
comes back as ``NotVisible``/``Forbidden``, a 403 page with an ``access_denied`` audit event.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engine.errors import Conflict, ValidationError
from engine.interference import operations as interference
from engine.interference.register import RegisterFilter

from .security import principal, services, unit_names
from .usecases import on_page

bp = Blueprint("interference", __name__)

KINDS = {"enquire": _l("打听案情"), "ask_after": _l("过问案件"), "plead": _l("说情干预"), "other": _l("其他")}
CHANNELS = {"in_person": _l("当面"), "phone": _l("电话"), "message": _l("短信"), "other": _l("其他")}
STATES = {"recorded": _l("待签收"), "received": _l("已签收"), "opinion": _l("已提出处理意见")}
FOLLOW_UPS = {"received": _l("签收"), "opinion": _l("处理意见")}
# The error summary names each field as its form labels it.
FIELD_LABELS = {
    "intervener_name": _l("干预人姓名"),
    "intervener_post": _l("职务及单位"),
    "kind": _l("干预类型"),
    "channel": _l("方式"),
    "occurred_at": _l("发生时间"),
    "content": _l("打听、过问或说情的内容"),
    "response": _l("本人如何回应"),
    "recorder_unit": _l("登记单位"),
    "corrects": _l("更正的登记编号"),
    "note": _l("处理意见"),
    "action": _l("处理方式"),
    "date_from": _l("发生日期自"),
    "date_to": _l("至"),
    "unit": _l("登记单位"),
    "page": _l("页码"),
    "per_page": _l("每页条数"),
}
# The form's own controls, not fields of an entry.
PAGE_CONTROLS = ("csrf_token", "task")


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    """The navigation's register link, only for the offices that keep it."""
    allowed = current_user.is_authenticated and interference.may_keep_register(services(), current_user.principal)
    return {"interference_allowed": allowed}


def _labels() -> dict[str, Any]:
    return {
        "kinds": KINDS,
        "channels": CHANNELS,
        "states": STATES,
        "follow_ups": FOLLOW_UPS,
        "field_labels": FIELD_LABELS,
    }


def _task_id() -> int | None:
    """The task page the form was opened from, to return to it (digits only)."""
    raw = request.values.get("task", "")
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


# --------------------------------------------------------------------------- recording, a case's entries
def _form(instance_id: int, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, status=200):
    form = on_page(interference.recording_form, services(), principal(), instance_id)
    page = render_template(
        "interference/record.html",
        form=form,
        case=form.case,
        values=values or {},
        errors=errors or {},
        task_id=_task_id(),
        **_labels(),
    )
    return page, status


@bp.get("/instances/<int:instance_id>/interference/new")
@login_required
def new(instance_id: int):
    return _form(instance_id, values={"corrects": request.args.get("corrects", "")[:9]})


@bp.post("/instances/<int:instance_id>/interference")
@login_required
def record(instance_id: int):
    posted = {k: v for k, v in request.form.items() if k not in PAGE_CONTROLS}
    try:
        done = on_page(interference.record_interference, services(), principal(), instance_id, posted)
    except ValidationError as exc:
        return _form(instance_id, values=posted, errors=dict(exc.fields), status=422)
    flash(_("干预情况已登记（第 %(id)s 号），已报送案件监督管理室和干部监督室。", id=done.entry.id), "success")
    task_id = _task_id()
    if task_id is not None:
        return redirect(url_for("tasks.task", task_id=task_id))
    return redirect(url_for("interference.case", instance_id=instance_id))


@bp.get("/instances/<int:instance_id>/interference")
@login_required
def case(instance_id: int):
    listed = on_page(interference.case_entries, services(), principal(), instance_id)
    return render_template("interference/case.html", listed=listed, case=listed.case, **_labels())


# --------------------------------------------------------------------------- the register
@bp.get("/interference")
@login_required
def register():
    try:
        f = RegisterFilter.parse(request.args)
        errors: dict[str, str] = {}
    except ValidationError as exc:
        f, errors = RegisterFilter(), dict(exc.fields)
    page = interference.register(services(), principal(), f)
    return render_template(
        "interference/register.html", page=page, f=f, errors=errors, params=f.params(), **_labels()
    ), (422 if errors else 200)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: a leading = + - @ (or tab, CR) is quoted as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(value: Any) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value is not None else ""


@bp.get("/interference/export.csv")
@login_required
def export():
    f = RegisterFilter.parse(request.args)  # a bad filter is a 422 page (the engine names the field)
    rows = interference.export_register(services(), principal(), f)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets read the Chinese text as UTF-8
    writer = csv.writer(out)
    writer.writerow(
        [
            _("编号"),
            _("案件编号"),
            _("流程"),
            _("发生时间"),
            _("类型"),
            _("方式"),
            _("干预人"),
            _("职务及单位"),
            _("登记单位"),
            _("登记人"),
            _("登记时间"),
            _("更正第几号"),
            _("状态"),
            _("签收时间"),
            _("处理意见时间"),
        ]
    )
    units = unit_names()
    for e in rows:
        received = next((u.acted_at for u in e.follow_ups if u.action == "received"), None)
        opinion = next((u.acted_at for u in reversed(e.follow_ups) if u.action == "opinion"), None)
        writer.writerow(
            [
                _cell(v)
                for v in (
                    e.id,
                    e.business_key,
                    e.process_name,
                    _when(e.occurred_at),
                    KINDS.get(e.kind, e.kind),
                    CHANNELS.get(e.channel, e.channel),
                    e.intervener_name,
                    e.intervener_post,
                    units.get(e.recorder_unit, e.recorder_unit),
                    e.recorder_name,
                    _when(e.recorded_at),
                    e.corrects_id,
                    STATES.get(e.state, e.state),
                    _when(received),
                    _when(opinion),
                )
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="interference-register.csv"'},
    )


# --------------------------------------------------------------------------- one entry, its follow-up
@bp.get("/interference/<int:entry_id>")
@login_required
def entry(entry_id: int):
    shown = on_page(interference.show_entry, services(), principal(), entry_id)
    return render_template("interference/entry.html", shown=shown, e=shown.entry, errors={}, **_labels())


@bp.post("/interference/<int:entry_id>/follow-up")
@login_required
def follow_up(entry_id: int):
    action = request.form.get("action", "")
    try:
        on_page(interference.follow_up, services(), principal(), entry_id, action, request.form.get("note"))
    except ValidationError as exc:
        shown = on_page(interference.show_entry, services(), principal(), entry_id)
        page = render_template(
            "interference/entry.html", shown=shown, e=shown.entry, errors=dict(exc.fields), **_labels()
        )
        return page, 422
    except Conflict:
        flash(_("本室已签收过该登记。"), "warning")
        return redirect(url_for("interference.entry", entry_id=entry_id))
    flash(_("已签收。") if action == "received" else _("处理意见已记录。"), "success")
    return redirect(url_for("interference.entry", entry_id=entry_id))
