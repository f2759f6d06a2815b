"""加签 from the task page, and the opinions asked of the person (issue 15): each form posts to one use case
of engine/tasks/countersign.py, the same the JSON API calls; a refusal comes back as a message."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Conflict, ValidationError
from engine.tasks import countersign

from . import labels
from .security import principal, services
from .usecases import on_page

bp = Blueprint("countersign", __name__)


def _refused(exc: ValidationError | Conflict) -> None:
    fields = exc.details.get("fields") if isinstance(exc, ValidationError) else None
    flash("；".join(str(v) for v in fields.values()) if fields else labels.engine_message(exc), "warning")


@bp.post("/tasks/<int:task_id>/consult")
@login_required
def ask(task_id: int):
    try:
        on_page(
            countersign.ask_opinion,
            services(),
            principal(),
            task_id,
            request.form.get("asked", ""),
            request.form.get("question"),
        )
    except (ValidationError, Conflict) as exc:
        _refused(exc)
    else:
        flash(_("已加签，待其提出意见后再作决定。"), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.get("/opinions")
@login_required
def opinions():
    return render_template("opinions.html", opinions=countersign.asked_of(services(), principal()))


@bp.post("/opinions/<int:consultation_id>")
@login_required
def answer(consultation_id: int):
    try:
        on_page(countersign.give_opinion, services(), principal(), consultation_id, request.form.get("answer"))
    except (ValidationError, Conflict) as exc:
        _refused(exc)
    else:
        flash(_("意见已提出。"), "success")
    return redirect(url_for("countersign.opinions"))
