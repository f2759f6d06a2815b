"""退回, 撤回, 转办, 委派, 抄送 and 催办 from the task page, and the 待阅 list (issue 15): each form posts to one use case of
engine/tasks/actions.py, the same the JSON API calls; a refusal comes back as a message on the task page
(a field left empty, a step that cannot be reopened) or as the usual 403/404 page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Conflict, ValidationError
from engine.tasks import actions, phrases

from . import labels
from .security import principal, services
from .usecases import on_page

bp = Blueprint("actions", __name__)


def _refused(exc: ValidationError | Conflict, task_id: int):
    fields = exc.details.get("fields") if isinstance(exc, ValidationError) else None
    message = "；".join(str(v) for v in fields.values()) if fields else labels.engine_message(exc)
    flash(message, "warning")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/return")
@login_required
def return_task(task_id: int):
    try:
        target = int(request.form.get("target") or 0)
    except ValueError:
        target = 0
    try:
        back = on_page(actions.return_task, services(), principal(), task_id, target, request.form.get("reason"))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已退回，所选环节已重新打开。"), "success")
    return redirect(url_for("tasks.inbox", tab="mine", reopened=back.task_id))


@bp.post("/tasks/<int:task_id>/withdraw")
@login_required
def withdraw(task_id: int):
    try:
        back = on_page(actions.withdraw_task, services(), principal(), task_id, request.form.get("reason"))
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已撤回，您的环节已重新打开。"), "success")
    return redirect(url_for("tasks.task", task_id=back.task_id))


@bp.post("/tasks/<int:task_id>/urge")
@login_required
def urge(task_id: int):
    """From the task page or (``next=instance``) the instance page: a manager urges a task of another role,
    which he may not open but may see on the case's page."""
    instance_id = request.form.get("instance", type=int)
    back = (
        redirect(url_for("tasks.instance", instance_id=instance_id))
        if request.form.get("next") == "instance" and instance_id
        else redirect(url_for("tasks.task", task_id=task_id))
    )
    try:
        on_page(actions.urge_task, services(), principal(), task_id, request.form.get("note"))
    except (ValidationError, Conflict) as exc:
        _refused(exc, task_id)
        return back
    flash(_("已催办。"), "success")
    return back


@bp.post("/tasks/<int:task_id>/transfer")
@login_required
def transfer(task_id: int):
    try:
        on_page(
            actions.transfer_task,
            services(),
            principal(),
            task_id,
            request.form.get("assignee", ""),
            request.form.get("reason"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已转办。"), "success")
    return redirect(url_for("tasks.inbox", tab="mine"))


@bp.post("/tasks/<int:task_id>/delegate")
@login_required
def delegate(task_id: int):
    try:
        on_page(
            actions.delegate_task,
            services(),
            principal(),
            task_id,
            request.form.get("assignee", ""),
            request.form.get("reason"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已委派，对方办理后将交还给您。"), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/give-back")
@login_required
def give_back(task_id: int):
    try:
        on_page(actions.give_back_task, services(), principal(), task_id)
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已交还委派人。"), "success")
    return redirect(url_for("tasks.inbox", tab="mine"))


@bp.post("/tasks/<int:task_id>/copies")
@login_required
def copy(task_id: int):
    try:
        on_page(
            actions.copy_case,
            services(),
            principal(),
            task_id,
            request.form.getlist("readers"),
            request.form.get("note"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(exc, task_id)
    flash(_("已抄送。"), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.get("/copies")
@login_required
def copies():
    return render_template("copies.html", copies=actions.copies(services(), principal()))


@bp.post("/copies/<int:copy_id>/read")
@login_required
def read(copy_id: int):
    instance_id = on_page(actions.read_copy, services(), principal(), copy_id)
    return redirect(url_for("tasks.instance", instance_id=instance_id))


@bp.get("/handover")
@login_required
def handover_form():
    on_page(actions.require_may_hand_over, principal())
    return render_template("handover.html", result=None)


@bp.post("/handover")
@login_required
def handover():
    try:
        done = on_page(
            actions.hand_over_all,
            services(),
            principal(),
            request.form.get("from_username", ""),
            request.form.get("to_username", ""),
            request.form.get("reason"),
        )
    except ValidationError as exc:
        fields = exc.details.get("fields") or {}
        flash("；".join(str(v) for v in fields.values()) or labels.engine_message(exc), "warning")
        return render_template("handover.html", result=None), 422
    return render_template("handover.html", result=done)


# --------------------------------------------------------------------------- 常用审批意见
@bp.get("/phrases")
@login_required
def phrase_list():
    return render_template("phrases.html", phrases=on_page(phrases.phrases, services(), principal()))


@bp.post("/phrases")
@login_required
def phrase_add():
    try:
        on_page(phrases.add_phrase, services(), principal(), request.form.get("text"))
    except ValidationError as exc:
        fields = exc.details.get("fields") or {}
        flash("；".join(str(v) for v in fields.values()), "warning")
        return redirect(url_for("actions.phrase_list"))
    flash(_("已保存常用意见。"), "success")
    return redirect(url_for("actions.phrase_list"))


@bp.post("/phrases/<int:phrase_id>/delete")
@login_required
def phrase_delete(phrase_id: int):
    on_page(phrases.delete_phrase, services(), principal(), phrase_id)
    flash(_("已删除常用意见。"), "success")
    return redirect(url_for("actions.phrase_list"))
