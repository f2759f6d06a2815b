"""The officers' workspace: inbox, task page (form, draft, completion), claim/reassign, attachments.

Each route translates the request into one use case of engine/tasks/operations.py (the same ones the
JSON API calls) and its result into a page; a need-to-know refusal is a 403 with an ``access_denied``
audit event naming the rule.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Conflict, ValidationError
from engine.forms.submission import Posted
from engine.instances import operations as instances
from engine.interference import operations as interference
from engine.recusal import operations as recusals
from engine.tasks import actions as task_actions_q
from engine.tasks import attachments as files
from engine.tasks import countersign, phrases
from engine.tasks import inbox as inbox_q
from engine.tasks import operations as tasks
from engine.tasks.inbox_screen import inbox_screen

from . import diagram, labels
from .security import principal, select_locale, services
from .usecases import on_page, reveal, soon

bp = Blueprint("tasks", __name__)

# Inputs of the task page that are the page's own controls, not fields of the form.
PAGE_CONTROLS = ("csrf_token", "action", "next", "tab")


@bp.get("/")
@login_required
def home():
    return redirect(url_for("tasks.inbox"))


# --------------------------------------------------------------------------- inbox
@bp.get("/inbox")
@login_required
def inbox():
    """The inbox: one use case reads all the page shows (engine/tasks/inbox_screen.py), the navigation
    bar's bell included (``g.unread_notifications``: web/cockpit/views.py then asks nothing again)."""
    p = principal()
    args = request.args
    try:
        page = int(args.get("page", 1))
    except ValueError:
        page = 1
    query = inbox_q.InboxQuery(
        tab=args.get("tab", "mine"),
        stage=args.get("stage"),
        mechanism=args.get("mechanism"),
        platform=args.get("platform"),
        process_key=args.get("process"),
        unit=args.get("unit"),
        q=args.get("q"),
        page=page,
        per_page=current_app.config["INBOX_PER_PAGE"],
    )
    screen = inbox_screen(services(), p, query, soon_workdays=soon(), land="tab" not in args)
    g.unread_notifications = screen.unread_notifications
    result = screen.result
    params = {
        k: v
        for k, v in {
            "tab": result.query.tab,
            "stage": result.query.stage,
            "mechanism": result.query.mechanism,
            "platform": result.query.platform,
            "process": result.query.process_key,
            "unit": result.query.unit,
            "q": result.query.q,
        }.items()
        if v
    }
    return render_template(
        "inbox.html",
        result=result,
        choices=screen.choices,
        params=params,
        is_leader=bool(p.leader_of),
        urged=screen.urged,
        unread_copies=screen.unread_copies,
    )


# --------------------------------------------------------------------------- task page
def _render(task_id: int, *, typed: Posted | None = None, errors=None, notice=None, status: int = 200):
    view = on_page(
        tasks.show_task,
        services(),
        principal(),
        task_id,
        reveal=reveal(),
        locale=select_locale(),
        soon_workdays=soon(),
        typed=typed,
    )
    may = view.allowed
    action_block = None
    if not may.act:
        action_block = (
            _("此任务已结束，仅供查阅。")
            if view.task.status != "ready" or may.refusal is None
            else labels.engine_message(may.refusal)
        )
    page = render_template(
        "task.html",
        view=view,
        task=view.task,
        instance=view.instance,
        meta=view.meta,
        instructions=view.instructions,
        schema=view.schema,
        fields=view.fields,
        values=view.values,
        errors=errors or {},
        signer_name=view.signer_name,
        can_act=may.act,
        action_block=action_block,
        draft=view.draft,
        steps=[(step, step.shown) for step in view.steps],
        own=view.own,
        attachments=view.attachments,
        reveal=view.reveal,
        can_reassign=may.reassign,
        assignees=view.assignees,
        due=view.due,
        units=list(view.task.units),
        people=view.people,
        notice=notice,
        is_assignee=view.task.assignee == principal().username,
        can_claim=may.claim,
        max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
        allowed_types=sorted(files.ALLOWED),
        deadline_rule=view.deadline_rule,
        may_record_interference=interference.may_record(services(), principal(), view.instance.id),
        acts=task_actions_q.task_actions(services(), principal(), task_id),
        consult=countersign.task_view(services(), principal(), task_id),
        phrases=(
            phrases.phrases(services(), principal())
            if may.act and "opinion" in (view.schema.get("properties") or {})
            else []
        ),
    )
    return page, status


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    return _render(task_id)


def _submitted() -> Posted:
    return Posted({name: values for name, values in request.form.lists() if name not in PAGE_CONTROLS})


@bp.post("/tasks/<int:task_id>")
@login_required
def submit(task_id: int):
    action = request.form.get("action", "complete")
    if action not in ("complete", "draft"):
        abort(400)
    submitted = _submitted()
    try:
        if action == "draft":
            on_page(tasks.save_draft, services(), principal(), task_id, submitted, reveal=reveal())
        else:
            done = on_page(
                tasks.submit_task,
                services(),
                principal(),
                task_id,
                submitted,
                reveal=reveal(),
                locale=select_locale(),
                soon_workdays=soon(),
            )
    except ValidationError as exc:
        errors = {name: _field_message(message) for name, message in exc.fields.items()}
        return _render(task_id, typed=submitted, errors=errors, status=422)
    except Conflict as exc:
        return _render(task_id, typed=submitted, notice=labels.engine_message(exc), status=409)
    if action == "draft":
        flash(_("草稿已保存。"), "success")
        return redirect(url_for("tasks.task", task_id=task_id))
    if done.next_tasks:
        nxt = "；".join(f"{n}（{lane or ''}）" for _id, n, lane in done.next_tasks)
        flash(_("已办结。下一步：%(next)s", next=nxt), "success")
    elif done.instance_status == "completed":
        flash(_("已办结，流程已完成。"), "success")
    else:
        flash(_("已办结。"), "success")
    if done.next_for_you is not None:
        # his own next step in the same case: straight to it, no inbox, no claiming (issue 15)
        return redirect(url_for("tasks.task", task_id=done.next_for_you[0]))
    return redirect(url_for("tasks.inbox", tab="completed"))


def _field_message(message: str) -> str:
    """The engine's field messages are Chinese already; the NUL refusal is translated for the page."""
    return _("不能包含控制字符（NUL）。") if message.startswith("不能包含控制字符") else message


# --------------------------------------------------------------------------- claim, release, reassign
def _back(task_id: int):
    target = request.form.get("next")
    if target == "inbox":
        return redirect(url_for("tasks.inbox", tab=request.form.get("tab") or "mine"))
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    try:
        on_page(tasks.claim_task, services(), principal(), task_id)
    except Conflict as exc:
        flash(labels.engine_message(exc), "warning")
        return redirect(url_for("tasks.inbox", tab="group"))
    flash(_("已认领，任务已移入“我的待办”。"), "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    try:
        on_page(tasks.unclaim_task, services(), principal(), task_id)
    except Conflict as exc:
        flash(labels.engine_message(exc), "warning")
        return redirect(url_for("tasks.inbox"))
    flash(_("已退回，单位内其他人员可以认领。"), "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign(task_id: int):
    to_username = (request.form.get("assignee") or "").strip()
    try:
        on_page(tasks.reassign_task, services(), principal(), task_id, to_username)
    except ValidationError as exc:
        if not to_username:
            flash(_("请选择要转交的人员。"), "danger")
        elif exc.details.get("rule"):  # kept out by the case: the reason names the person and the rule
            flash(_("不能转交：%(reason)s", reason=exc.fields.get("assignee", "")), "danger")
        else:
            flash(_("该人员不能办理此任务（角色、单位或职能分离要求不符）。"), "danger")
        return redirect(url_for("tasks.task", task_id=task_id))
    except Conflict as exc:
        flash(labels.engine_message(exc), "danger")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash(_("已转交给 %(name)s。", name=to_username), "success")
    return _back(task_id)


# --------------------------------------------------------------------------- attachments
@bp.post("/tasks/<int:task_id>/attachments")
@login_required
def upload(task_id: int):
    upload_file = request.files.get("file")
    try:
        stored = on_page(
            tasks.upload_attachment,
            services(),
            principal(),
            task_id,
            filename=upload_file.filename if upload_file is not None else "",
            stream=upload_file.stream if upload_file is not None else None,
            confidential=request.form.get("confidential") == "1",
            max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        )
    except Conflict as exc:
        flash(labels.engine_message(exc), "warning")
        return redirect(url_for("tasks.task", task_id=task_id))
    except ValidationError as exc:
        if upload_file is None or not upload_file.filename:
            flash(_("请选择要上传的文件。"), "danger")
        else:
            flash(_("附件未上传：%(reason)s", reason=exc.fields.get("file", exc.message)), "danger")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash(_("附件“%(name)s”已上传。", name=stored.filename), "success")
    return redirect(url_for("tasks.task", task_id=task_id) + "#attachments")


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    found = on_page(tasks.download_attachment, services(), principal(), attachment_id, reveal=reveal())
    response = Response(found.chunks, mimetype=found.content_type, direct_passthrough=True)
    response.content_length = found.size
    response.headers["Content-Disposition"] = _disposition(found.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _disposition(filename: str) -> str:
    """``attachment`` with the name in ASCII for old clients and in full (RFC 6266 ``filename*``)."""
    fallback = "".join(ch for ch in filename if ch.isascii() and ch.isprintable() and ch not in '"\\') or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --------------------------------------------------------------------------- instance context
@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    detail = on_page(
        instances.show_instance,
        services(),
        principal(),
        instance_id,
        reveal=reveal(),
        locale=select_locale(),
        soon_workdays=soon(),
    )
    drawn = instances.show_diagram(services(), principal(), instance_id, soon_workdays=soon())
    return render_template(
        "instance.html",
        diagram=diagram.as_json(drawn, drawable=True),
        linked=detail.linked,
        instance=detail.instance,
        tasks=detail.tasks,
        steps=[(step, step.shown) for step in detail.steps],
        attachments=detail.attachments,
        reveal=detail.reveal,
        visible_tasks={t.id for t in detail.tasks if t.visible},
        may_read=detail.may_read,
        may_record_interference=interference.may_record(services(), principal(), instance_id),
        urgeable=task_actions_q.urgeable_tasks(services(), principal(), instance_id),
    )


# --------------------------------------------------------------------------- the case's conflict register (回避登记)
@bp.get("/instances/<int:instance_id>/recusal")
@login_required
def recusal(instance_id: int):
    found = on_page(recusals.case_register, services(), principal(), instance_id)
    return render_template("recusal.html", register=found)


@bp.post("/instances/<int:instance_id>/recusal")
@login_required
def recusal_declare(instance_id: int):
    try:
        on_page(
            recusals.declare_conflict,
            services(),
            principal(),
            instance_id,
            username=request.form.get("username"),
            kind=request.form.get("kind") or "",
            reason=request.form.get("reason") or "",
        )
    except ValidationError as exc:
        flash(_("未登记：%(reason)s", reason="；".join(exc.fields.values()) or exc.message), "danger")
        return redirect(url_for("tasks.recusal", instance_id=instance_id))
    except Conflict:
        flash(_("该人员已有同类回避登记，等待领导决定。"), "warning")
        return redirect(url_for("tasks.recusal", instance_id=instance_id))
    flash(_("已登记回避情形；领导决定前，该人员不能办理本案事项。"), "success")
    return redirect(url_for("tasks.recusal", instance_id=instance_id))


@bp.post("/recusal/<int:conflict_id>/decision")
@login_required
def recusal_decide(conflict_id: int):
    back = request.form.get("instance_id", type=int)
    try:
        on_page(
            recusals.decide_conflict,
            services(),
            principal(),
            conflict_id,
            decision=request.form.get("decision") or "",
            reason=request.form.get("reason") or "",
        )
    except ValidationError as exc:
        flash(_("未作出决定：%(reason)s", reason="；".join(exc.fields.values()) or exc.message), "danger")
    except Conflict:
        flash(_("该登记已经作出决定。"), "warning")
    else:
        flash(_("已记录回避决定。"), "success")
    if back:
        return redirect(url_for("tasks.recusal", instance_id=back))
    return redirect(url_for("tasks.inbox"))
