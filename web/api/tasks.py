"""Human tasks: the caller's inbox, one task with its form, claim, release and completion.

The inbox is engine/inbox.py (the web's tabs), the permission checks engine/authz.py, and a submission
goes through engine/forms.py (validate, split into process data / record / confidential) and
engine/sealing.py exactly as a web form does; only the HTML coercion step is skipped, since JSON
arrives typed.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from engine import clock, forms
from engine.access.authz import can_see, require_can_claim, require_can_complete, require_can_reassign
from engine.access.principal import Principal
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import HumanTask, ProcessInstance
from engine.tasks import inbox as inbox_q

from .common import documents, principal, sealer, services
from .schemas import CompleteRequestSchema, CompleteResultSchema, TaskDetailSchema, TaskPageSchema, TaskQuerySchema

blp = Blueprint("Tasks", __name__, description="Human tasks")

ID = "<int(min=1, max=2147483647):task_id>"


def _soon() -> int:
    return current_app.config.get("DUE_SOON_WORKDAYS", inbox_q.DUE_SOON_WORKDAYS)


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
        page=args["page"],
        per_page=args["per_page"],
    )
    with services().db.session() as s:
        page = inbox_q.list_tasks(s, principal(), query, soon_workdays=_soon())
    return {
        "scope": page.query.tab,
        "items": [_item(i) for i in page.items],
        "total": page.total,
        "page": page.query.page,
        "per_page": page.query.per_page,
        "pages": page.pages,
        "counts": page.counts,
    }


def _visible_task(s, task_id: int, p: Principal) -> HumanTask:
    task = s.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found", task=task_id)
    if not can_see(p, task):
        raise Forbidden(f"task {task_id} is not for your role or unit", task=task_id, instance=task.instance_id)
    return task


def _allowed(check, p: Principal, task: HumanTask) -> bool:
    try:
        check(p, task)
    except (Forbidden, Conflict):
        return False
    return True


def task_detail(s, task: HumanTask, p: Principal) -> dict:
    instance = s.execute(
        select(
            ProcessInstance.version_id, ProcessInstance.status, ProcessInstance.title, ProcessInstance.summary
        ).where(ProcessInstance.id == task.instance_id)
    ).one()
    loaded = services().definitions.loaded(instance.version_id)
    meta = loaded.task_meta(task.process_key, task.spec_id)
    schema = forms.load_schema(loaded.forms, task.form_key)
    options = forms.resolve_options(s, schema)
    due = inbox_q.due_info(
        task.due_at, loaded.policy.calendar, reminder_at=task.reminder_at, soon_workdays=_soon(), status=task.status
    )
    ready = task.status == "ready"
    claim = ready and task.assignee is None and _allowed(require_can_claim, p, task)
    unclaim = (
        ready and task.assignee is not None and (task.assignee == p.username or _allowed(require_can_reassign, p, task))
    )
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "name": task.name,
        "process_key": task.process_key,
        "process_name": (instance.summary or {}).get("process_name") or task.process_key,
        "business_key": task.business_key,
        "title": instance.title,
        "lane": task.lane,
        "role": task.role,
        "units": sorted(c.unit_code for c in task.candidates),
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
        "claimable": claim,
        "form_key": task.form_key,
        "form": schema,
        "options": {name: [{"value": v, "label": label} for v, label in choices] for name, choices in options.items()},
        "instructions": meta.get("instructions") or "",
        "actions": {
            "claim": claim,
            "unclaim": unclaim,
            "complete": ready and instance.status == "running" and _allowed(require_can_complete, p, task),
        },
        "instance_status": instance.status,
    }


@blp.route(f"/tasks/{ID}", methods=["GET"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404)
def get_task(task_id: int):
    """One task with its form's JSON Schema and what the caller may do with it."""
    p = principal()
    with services().db.session() as s:
        return task_detail(s, _visible_task(s, task_id, p), p)


def _change_hands(task_id: int, change) -> dict:
    """Claim or release: a task the caller may not see is refused (404/403) before the engine's own rule
    is asked, so the answer never tells whether someone else holds it; then the task as it now stands."""
    p = principal()
    with services().db.session() as s:
        _visible_task(s, task_id, p)
    change(task_id, actor=p)
    with services().db.session() as s:
        return task_detail(s, _visible_task(s, task_id, p), p)


@blp.route(f"/tasks/{ID}/claim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404, 409)
def claim(task_id: int):
    """Take a group task; it leaves the others' ``group`` lists."""
    return _change_hands(task_id, services().runtime.claim)


@blp.route(f"/tasks/{ID}/unclaim", methods=["POST"])
@blp.response(200, TaskDetailSchema)
@documents(blp, 401, 403, 404, 409)
def unclaim(task_id: int):
    """Give a claimed task back to its unit (the assignee, or a leader of the unit)."""
    return _change_hands(task_id, services().runtime.unclaim)


@blp.route(f"/tasks/{ID}/complete", methods=["POST"])
@blp.arguments(CompleteRequestSchema)
@blp.response(200, CompleteResultSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def complete(body, task_id: int):
    """Submit the task's form. Refusals come in the order a person meets them: permission, then the form.

    One transaction: the engine reads the task, checks who may act, then calls ``prepare`` to check the
    form against the task's schema; the reply is built from what the completion committed.
    """
    p = principal()
    svc = services()

    def prepare(s, task, loaded):
        schema = forms.load_schema(loaded.forms, task.form_key)
        data = forms.sign(schema, body["data"], signer=p.display_name or p.username, at=clock.now())
        problems = forms.unknown_fields(schema, data)
        for name, message in forms.validate(schema, data, options=forms.resolve_options(s, schema)).items():
            problems.setdefault(name, message)
        if problems:
            raise ValidationError("表单填写不符合要求", fields=problems, task=task_id)
        process_data, record, confidential = forms.split(schema, data)
        return process_data, record, sealer().seal(confidential)

    outcome = svc.runtime.complete_task(task_id, actor=p, prepare=prepare)
    done, instance = outcome.task, outcome.instance
    due = inbox_q.due_info(
        done.due_at,
        svc.definitions.loaded(instance.version_id).policy.calendar,
        reminder_at=done.reminder_at,
        soon_workdays=_soon(),
        status=done.status,
    )
    detail = {
        "id": done.id,
        "instance_id": done.instance_id,
        "name": done.name,
        "process_key": done.process_key,
        "process_name": (instance.summary or {}).get("process_name") or done.process_key,
        "business_key": done.business_key,
        "title": instance.title,
        "lane": done.lane,
        "role": done.role,
        "units": list(done.candidate_units),
        "assignee": done.assignee,
        "status": done.status,
        "stage": done.stage,
        "mechanism": done.mechanism,
        "platform": done.platform,
        "created_at": done.created_at,
        "due_at": done.due_at,
        "due_state": due.state,
        "workdays_left": due.workdays_left,
        "due_estimated": due.estimated,
        "completed_at": done.completed_at,
        "completed_by": done.completed_by,
        "claimable": False,
        "actions": {"claim": False, "unclaim": False, "complete": False},
    }
    return {
        "task": detail,
        "instance_status": outcome.status,
        "next_tasks": [{"id": i, "name": name, "lane": lane} for i, name, lane in outcome.next_tasks],
    }
