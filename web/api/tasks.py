"""Human tasks: the caller's inbox, one task with its form, claim, release and completion.

Each operation is one use case of engine/tasks/operations.py, the same the web pages call: a JSON
submission runs the very pipeline a posted form runs (authorize, read, sign, validate, split, seal,
complete), so both channels refuse and accept alike.
"""

from __future__ import annotations

from flask import request

from engine.tasks import inbox as inbox_q
from engine.tasks import operations as tasks

from ..usecases import reveal, soon
from .common import documents, principal, services
from .parsing import Blueprint
from .schemas import CompleteRequestSchema, CompleteResultSchema, TaskDetailSchema, TaskPageSchema, TaskQuerySchema

blp = Blueprint("Tasks", __name__, description="Human tasks")

ID = "<int(min=1, max=2147483647):task_id>"


def _item(item: inbox_q.InboxItem) -> dict:
    return {
        "id": item.id,
        "instance_id": item.instance_id,
        "name": item.name,
        "process_key": item.process_key,
        "process_name": item.process_name,
        "business_key": item.business_key,
        "title": item.title,
        "lane": item.lane,
        "role": item.role,
        "units": list(item.units),
        "assignee": item.assignee,
        "status": item.status,
        "stage": item.stage,
        "mechanism": item.mechanism,
        "platform": item.platform,
        "created_at": item.created_at,
        "due_at": item.due.due_at,
        "due_state": item.due.state,
        "workdays_left": item.due.workdays_left,
        "due_estimated": item.due.estimated,
        "completed_at": item.completed_at,
        "claimable": item.claimable,
    }


@blp.route("/tasks", methods=["GET"])
@blp.arguments(TaskQuerySchema, location="query")
@blp.response(200, TaskPageSchema)
@documents(blp, 401, 422)
def list_tasks(args):
    """The caller's tasks: ``mine`` (claimed), ``group`` (claimable by the caller's role and unit),
    ``team`` (a leader's units) or ``completed`` (by the caller)."""
    query = inbox_q.InboxQuery(
        tab=args["scope"],
        stage=args.get("stage"),
        mechanism=args.get("mechanism"),
        platform=args.get("platform"),
        process_key=args.get("definition"),
        unit=args.get("unit"),
        q=args.get("business_key"),
        instance_id=args.get("instance"),
        page=args["page"],
        per_page=args["per_page"],
    )
    page, _choices = tasks.inbox(services(), principal(), query, soon_workdays=soon())
    return {
        "scope": page.query.tab,
        "items": [_item(i) for i in page.items],
        "total": page.total,
        "page": page.query.page,
        "per_page": page.query.per_page,
        "pages": page.pages,
        "counts": page.counts,
    }


def _summary(task: tasks.TaskInfo, due: inbox_q.DueInfo, *, title: str | None, process_name: str) -> dict:
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "name": task.name,
        "process_key": task.process_key,
        "process_name": process_name,
        "business_key": task.business_key,
        "title": title,
        "lane": task.lane,
        "role": task.role,
        "units": list(task.units),
        "assignee": task.assignee,
        "status": task.status,
        "stage": task.stage,
        "mechanism": task.mechanism,
        "platform": task.platform,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "due_state": due.state,
        "workdays_left": due.workdays_left,
        "due_estimated": due.estimated,
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
    }


def task_detail(view: tasks.TaskView) -> dict:
    may = view.allowed
    return {
        **_summary(view.task, view.due, title=view.instance.title, process_name=view.instance.process_name),
        "claimable": may.claim,
        "form_key": view.task.form_key,
        "form": view.schema,
        "options": {
            name: [{"value": v, "label": label} for v, label in choices] for name, choices in view.options.items()
        },
        "instructions": view.instructions,
        "actions": {"claim": may.claim, "unclaim": may.unclaim, "complete": may.act},
        "instance_status": view.instance.status,
    }


def _show(task_id: int) -> dict:
    view = tasks.show_task(
        services(), principal(), task_id, reveal=reveal(), locale=_locale(), soon_workdays=soon(), with_records=False
    )
    return task_detail(view)


def _locale() -> str | None:
    """Option labels in the language ``Accept-Language`` asks for; without one, the caller's own (as
    on the pages)."""
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    return None if best is None else ("en" if best == "en" else "zh_CN")


@blp.route(f"/tasks/{ID}", methods=["GET"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404)
def get_task(task_id: int):
    """One task with its form's JSON Schema and what the caller may do with it."""
    return _show(task_id)


@blp.route(f"/tasks/{ID}/claim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404, 409)
def claim(task_id: int):
    """Take a group task; it leaves the others' ``group`` lists. A task the caller may not see is
    refused (404/403) before the claim rule is asked, so the answer never tells who holds it."""
    tasks.claim_task(services(), principal(), task_id)
    return _show(task_id)


@blp.route(f"/tasks/{ID}/unclaim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404, 409)
def unclaim(task_id: int):
    """Give a claimed task back to its unit (the assignee, or a leader of the unit)."""
    tasks.unclaim_task(services(), principal(), task_id)
    return _show(task_id)


@blp.route(f"/tasks/{ID}/complete", methods=["POST"])
@blp.arguments(CompleteRequestSchema)
@blp.response(200, CompleteResultSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def complete(body, task_id: int):
    """Submit the task's form. Refusals come in the order a person meets them: permission, then the form
    (fields the form does not have are refused); the reply is built from what the completion committed."""
    done = tasks.submit_task(
        services(), principal(), task_id, body["data"], reveal=reveal(), locale=_locale(), soon_workdays=soon()
    )
    detail = {
        **_summary(done.task, done.due, title=done.instance_title, process_name=done.process_name),
        "claimable": False,
        "actions": {"claim": False, "unclaim": False, "complete": False},
    }
    return {
        "task": detail,
        "instance_status": done.instance_status,
        "next_tasks": [{"id": i, "name": name, "lane": lane} for i, name, lane in done.next_tasks],
        "next_for_you": _next_for_you(done),
    }


def _next_for_you(done: tasks.Completed) -> dict[str, object] | None:
    """The caller's next task in the same case, with its lane when the completion opened it."""
    if done.next_for_you is None:
        return None
    task_id, name = done.next_for_you
    lane = next((lane for i, _n, lane in done.next_tasks if i == task_id), None)
    return {"id": task_id, "name": name, "lane": lane}
