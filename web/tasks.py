"""The officers' workspace: inbox, task page (form, draft, completion), claim/reassign, attachments.

Every route asks the engine whether the signed-in person may see or act (engine/authz.py,
engine/inbox.py); a refusal is a 403 with an ``access_denied`` audit event.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from engine import audit, clock, forms
from engine.access import visibility
from engine.access.authz import can_see, require_can_complete, require_can_reassign
from engine.errors import Conflict, EngineError, Forbidden, ValidationError
from engine.forms.data import nul_paths
from engine.models import HumanTask, ProcessInstance, User
from engine.tasks import attachments as files
from engine.tasks import inbox as inbox_q

from . import labels
from .security import can_reveal, deny, principal, sealer, select_locale, services

bp = Blueprint("tasks", __name__)

_INSTANCE_COLUMNS = (
    ProcessInstance.id,
    ProcessInstance.title,
    ProcessInstance.business_key,
    ProcessInstance.status,
    ProcessInstance.version_id,
    ProcessInstance.process_key,
    ProcessInstance.started_at,
    ProcessInstance.started_by,
    ProcessInstance.summary,
    ProcessInstance.completed_at,
)


@bp.get("/")
@login_required
def home():
    return redirect(url_for("tasks.inbox"))


# --------------------------------------------------------------------------- inbox
@bp.get("/inbox")
@login_required
def inbox():
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
    with services().db.session() as s:
        result, choices = inbox_q.inbox_page(s, p, query, soon_workdays=current_app.config["DUE_SOON_WORKDAYS"])
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
    return render_template("inbox.html", result=result, choices=choices, params=params, is_leader=bool(p.leader_of))


# --------------------------------------------------------------------------- task page
def _load_task(s, task_id: int) -> HumanTask:
    task = s.get(HumanTask, task_id)
    if task is None:
        abort(404)
    return task


def _visible_task(s, task_id: int) -> HumanTask:
    task = _load_task(s, task_id)
    if not can_see(principal(), task):
        deny("task_not_visible", task_id=task.id, instance_id=task.instance_id, role=task.role)
    return task


def _schema_and_options(s, loaded, form_key):
    schema = forms.load_schema(loaded.forms, form_key)
    return schema, forms.resolve_options(s, schema, locale=select_locale())


def _page_context(s, task: HumanTask, *, values=None, errors=None, notice=None) -> dict:
    p = principal()
    reveal = can_reveal(p)
    inst = s.execute(select(*_INSTANCE_COLUMNS).where(ProcessInstance.id == task.instance_id)).one()
    loaded = services().definitions.loaded(inst.version_id)
    meta = loaded.task_meta(task.process_key, task.spec_id)
    schema, options = _schema_and_options(s, loaded, task.form_key)
    action_block = None
    if task.status == "ready":
        try:
            require_can_complete(p, task)
        except (Forbidden, Conflict) as exc:
            action_block = labels.engine_message(exc)
    else:
        action_block = _("此任务已结束，仅供查阅。")
    draft = inbox_q.latest_draft(s, task.id) if task.status == "ready" else None
    revealed_any = False
    if values is None:
        values = {}
        if draft is not None:
            stored = dict(draft.data or {})
            if draft.sealed and (draft.submitted_by == p.username or reveal):
                stored.update(sealer().open(draft.sealed))
            values = forms.form_values(schema, stored)
    # Earlier steps of the instance: the record, confidential fields only for the reveal roles.
    steps = []
    for step in inbox_q.instance_steps(s, task.instance_id, before_task=task.id):
        step_schema, step_options = _schema_and_options(s, loaded, step.form_key)
        data = dict(step.data)
        if step.sealed and reveal:
            data.update(sealer().open(step.sealed))
            revealed_any = True
        steps.append(
            (
                step,
                forms.display(
                    step_schema, data, options=step_options, sealed_present=bool(step.sealed), revealed=reveal
                ),
            )
        )
    own = None
    if task.status == "completed":
        final = inbox_q.final_submission(s, task.id)
        if final is not None:
            data = dict(final.data or {})
            if final.sealed and reveal:
                data.update(sealer().open(final.sealed))
                revealed_any = True
            own = forms.display(schema, data, options=options, sealed_present=bool(final.sealed), revealed=reveal)
    if revealed_any:
        audit.record(s, "confidential_viewed", actor=p.username, instance_id=task.instance_id, task_id=task.id)
    attachments = files.for_instance(s, task.instance_id)
    assignees = []
    can_reassign = False
    if task.status == "ready":
        try:
            require_can_reassign(p, task)
            can_reassign = True
            assignees = inbox_q.eligible_assignees(s, task)
        except (Forbidden, Conflict):
            pass
    calendar = loaded.policy.calendar
    due = inbox_q.due_info(
        task.due_at,
        calendar,
        reminder_at=task.reminder_at,
        soon_workdays=current_app.config["DUE_SOON_WORKDAYS"],
        status=task.status,
    )
    units = sorted(c.unit_code for c in task.candidates)
    people = dict(
        s.execute(
            select(User.username, User.display_name).where(
                User.username.in_([u for u in (task.assignee, task.completed_by) if u])
            )
        ).all()
    )
    return dict(
        people=people,
        task=task,
        instance=inst,
        meta=meta,
        instructions=meta.get("instructions") or "",
        schema=schema,
        fields=forms.fields(schema, options, values),
        values=values,
        errors=errors or {},
        signer_name=p.display_name or p.username,
        can_act=action_block is None,
        action_block=action_block,
        draft=draft,
        steps=steps,
        own=own,
        attachments=attachments,
        reveal=reveal,
        can_reassign=can_reassign,
        assignees=assignees,
        due=due,
        units=units,
        notice=notice,
        is_assignee=task.assignee == p.username,
        can_claim=(task.status == "ready" and task.assignee is None and action_block is None),
        max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
        allowed_types=sorted(files.ALLOWED),
        deadline_rule=(
            loaded.policy.rules.get(task.due_key).describe()
            if task.due_key and task.due_key in loaded.policy.rules
            else None
        ),
    )


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    with services().db.session() as s:
        row = _visible_task(s, task_id)
        context = _page_context(s, row)
    return render_template("task.html", **context)


def _posted_values(schema: dict) -> dict:
    """What the person typed, as strings, to show the form again unchanged."""
    values = {}
    posted_names = {k: [""] for k in request.form}
    for f in forms.leaves(forms.fields(schema, values=posted_names)):
        posted = [v.replace("\x00", "") for v in request.form.getlist(f.name)]
        values[f.name] = posted if f.widget == "checkboxes" else (posted[-1] if posted else "")
    return values


@bp.post("/tasks/<int:task_id>")
@login_required
def submit(task_id: int):
    p = principal()
    action = request.form.get("action", "complete")
    if action not in ("complete", "draft"):
        abort(400)
    db = services().db
    with db.session() as s:
        row = _visible_task(s, task_id)
        inst_version = s.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == row.instance_id))
        loaded = services().definitions.loaded(inst_version)
        schema, options = _schema_and_options(s, loaded, row.form_key)
        try:
            require_can_complete(p, row)
        except Conflict as exc:
            context = _page_context(s, row, values=_posted_values(schema), notice=labels.engine_message(exc))
            return render_template("task.html", **context), 409
    # PostgreSQL text and JSONB cannot hold NUL: refuse it at the field, as the API does.
    nul_errors = {
        name.replace("\x00", ""): _("不能包含控制字符（NUL）。")
        for name, posted in request.form.lists()
        if "\x00" in name or nul_paths(posted)
    }
    if nul_errors:
        return _rerender(task_id, schema, nul_errors, None, 422)
    data, errors = forms.coerce(schema, request.form.to_dict(flat=False))
    _process, record, confidential = forms.split(schema, data)
    if action == "draft":
        # A draft keeps what could be read; values that are not yet valid stay as typed.
        for name in errors:
            record[name] = request.form.get(name)
        try:
            services().runtime.save_draft(task_id, actor=p, record=record, sealed=sealer().seal(confidential))
        except Conflict as exc:
            return _rerender(task_id, schema, {}, labels.engine_message(exc), 409)
        flash(_("草稿已保存。"), "success")
        return redirect(url_for("tasks.task", task_id=task_id))
    data = forms.sign(schema, data, signer=p.display_name or p.username, at=clock.now())
    for name, message in forms.validate(schema, data, options=options).items():
        errors.setdefault(name, message)
    if errors:
        return _rerender(task_id, schema, errors, None, 422)
    process_data, record, confidential = forms.split(schema, data)
    try:
        outcome = services().runtime.complete_task(
            task_id, actor=p, data=process_data, record=record, sealed=sealer().seal(confidential)
        )
    except Conflict as exc:
        return _rerender(task_id, schema, {}, labels.engine_message(exc), 409)
    except ValidationError as exc:
        fields = {k or "": _("流程数据不符合要求：%(reason)s", reason=v) for k, v in exc.fields.items()}
        return _rerender(task_id, schema, fields, None, 422)
    except EngineError as exc:
        if isinstance(exc, Forbidden):
            raise
        return _rerender(task_id, schema, {}, labels.engine_message(exc), 422)
    if outcome.next_tasks:
        nxt = "；".join(f"{n}（{lane or ''}）" for _id, n, lane in outcome.next_tasks)
        flash(_("已办结。下一步：%(next)s", next=nxt), "success")
    elif outcome.status == "completed":
        flash(_("已办结，流程已完成。"), "success")
    else:
        flash(_("已办结。"), "success")
    return redirect(url_for("tasks.inbox", tab="completed"))


def _rerender(task_id: int, schema: dict, errors: dict, notice: str | None, status: int):
    with services().db.session() as s:
        row = _load_task(s, task_id)
        context = _page_context(s, row, values=_posted_values(schema), errors=errors, notice=notice)
    return render_template("task.html", **context), status


# --------------------------------------------------------------------------- claim, release, reassign
def _back(task_id: int):
    target = request.form.get("next")
    if target == "inbox":
        return redirect(url_for("tasks.inbox", tab=request.form.get("tab") or "mine"))
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/claim")
@login_required
def claim(task_id: int):
    with services().db.session() as s:
        _visible_task(s, task_id)
    try:
        services().runtime.claim(task_id, actor=principal())
    except Conflict as exc:
        flash(labels.engine_message(exc), "warning")
        return redirect(url_for("tasks.inbox", tab="group"))
    flash(_("已认领，任务已移入“我的待办”。"), "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/unclaim")
@login_required
def unclaim(task_id: int):
    with services().db.session() as s:
        _visible_task(s, task_id)
    try:
        services().runtime.unclaim(task_id, actor=principal())
    except Conflict as exc:
        flash(labels.engine_message(exc), "warning")
        return redirect(url_for("tasks.inbox"))
    flash(_("已退回，单位内其他人员可以认领。"), "success")
    return _back(task_id)


@bp.post("/tasks/<int:task_id>/reassign")
@login_required
def reassign(task_id: int):
    with services().db.session() as s:
        _visible_task(s, task_id)
    to_username = (request.form.get("assignee") or "").strip()
    if not to_username:
        flash(_("请选择要转交的人员。"), "danger")
        return redirect(url_for("tasks.task", task_id=task_id))
    try:
        services().runtime.reassign(task_id, actor=principal(), to_username=to_username)
    except (ValidationError, Conflict) as exc:
        message = (
            _("该人员不能办理此任务（角色、单位或职能分离要求不符）。")
            if isinstance(exc, ValidationError)
            else labels.engine_message(exc)
        )
        flash(message, "danger")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash(_("已转交给 %(name)s。", name=to_username), "success")
    return _back(task_id)


# --------------------------------------------------------------------------- attachments
@bp.post("/tasks/<int:task_id>/attachments")
@login_required
def upload(task_id: int):
    p = principal()
    upload_file = request.files.get("file")
    with services().db.session() as s:
        row = _visible_task(s, task_id)
        try:
            require_can_complete(p, row)
        except Conflict as exc:
            flash(labels.engine_message(exc), "warning")
            return redirect(url_for("tasks.task", task_id=task_id))
        if upload_file is None or not upload_file.filename:
            flash(_("请选择要上传的文件。"), "danger")
            return redirect(url_for("tasks.task", task_id=task_id))
        try:
            stored = files.store(
                s,
                services().config.attachments_dir,
                instance_id=row.instance_id,
                task_id=row.id,
                filename=upload_file.filename,
                stream=upload_file.stream,
                actor=p.username,
                confidential=request.form.get("confidential") == "1",
                max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
            )
        except ValidationError as exc:
            s.rollback()
            flash(_("附件未上传：%(reason)s", reason=exc.fields.get("file", exc.message)), "danger")
            return redirect(url_for("tasks.task", task_id=task_id))
        name = stored.filename
    flash(_("附件“%(name)s”已上传。", name=name), "success")
    return redirect(url_for("tasks.task", task_id=task_id) + "#attachments")


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    p = principal()
    with services().db.session() as s:
        row = files.get(s, attachment_id)
        # Attachments are part of what the steps recorded: not for the one who only started the matter.
        if not visibility.can_read_instance_data(s, p, row.instance_id):
            deny("instance_not_visible", instance_id=row.instance_id, attachment=row.id)
        if row.confidential and not can_reveal(p):
            deny("confidential_attachment", instance_id=row.instance_id, attachment=row.id)
        audit.record(
            s,
            "attachment_downloaded",
            actor=p.username,
            instance_id=row.instance_id,
            task_id=row.task_id,
            attachment=row.id,
        )
        path = files.path_for(services().config.attachments_dir, row.sha256)
        filename, content_type = row.filename, row.content_type
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=content_type, as_attachment=True, download_name=filename, max_age=0)


# --------------------------------------------------------------------------- instance context
@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    p = principal()
    reveal = can_reveal(p)
    with services().db.session() as s:
        inst = s.execute(select(*_INSTANCE_COLUMNS).where(ProcessInstance.id == instance_id)).one_or_none()
        if inst is None:
            abort(404)
        if not inbox_q.can_see_instance(s, p, instance_id):
            deny("instance_not_visible", instance_id=instance_id)
        # Seeing an instance (e.g. as its starter) is not reading what its steps recorded (engine/visibility.py).
        may_read = visibility.can_read_instance_data(s, p, instance_id)
        loaded = services().definitions.loaded(inst.version_id)
        tasks = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        steps = []
        revealed_any = False
        for step in inbox_q.instance_steps(s, instance_id) if may_read else []:
            schema, options = _schema_and_options(s, loaded, step.form_key)
            data = dict(step.data)
            if step.sealed and reveal:
                data.update(sealer().open(step.sealed))
                revealed_any = True
            steps.append(
                (step, forms.display(schema, data, options=options, sealed_present=bool(step.sealed), revealed=reveal))
            )
        if revealed_any:
            audit.record(s, "confidential_viewed", actor=p.username, instance_id=instance_id)
        attachments = files.for_instance(s, instance_id) if may_read else []
        visible_tasks = {t.id for t in tasks if can_see(p, t)}
    return render_template(
        "instance.html",
        instance=inst,
        tasks=tasks,
        steps=steps,
        attachments=attachments,
        reveal=reveal,
        visible_tasks=visible_tasks,
        may_read=may_read,
    )
