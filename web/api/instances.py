"""Instances the caller may see (engine/visibility.py): lists in SQL, one instance with its history.

Three tiers, each decided in the engine: finding an instance (its starter, anyone who could see one of
its tasks, administrators), reading what its steps recorded (not the starter alone), and seeing
confidential fields (a reveal role, engine/sealing.py). What a tier does not allow is left out of the
response, not masked, so a client cannot mistake a placeholder for data.
"""

from __future__ import annotations

import math

from flask_smorest import Blueprint
from sqlalchemy import exists, func, or_, select

from engine import audit, clock
from engine.access import visibility
from engine.access.authz import can_see
from engine.access.principal import Principal
from engine.errors import Forbidden, NotFound
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate
from engine.tasks import inbox as inbox_q

from .common import can_reveal, documents, principal, sealer, services
from .schemas import InstanceDetailSchema, InstancePageSchema, InstanceQuerySchema

blp = Blueprint("Instances", __name__, description="Process instances the caller may see")

ID = "<int(min=1, max=2147483647):instance_id>"


def _overdue(now):
    return exists(
        select(HumanTask.id).where(
            HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready", HumanTask.due_at < now
        )
    )


def _columns(now):
    return (
        ProcessInstance.id,
        ProcessInstance.process_key,
        ProcessInstance.title,
        ProcessInstance.business_key,
        ProcessInstance.status,
        ProcessInstance.stage,
        ProcessInstance.version_id,
        ProcessInstance.owner_unit,
        ProcessInstance.started_by,
        ProcessInstance.started_at,
        ProcessInstance.updated_at,
        ProcessInstance.completed_at,
        ProcessInstance.summary,
        ProcessDefinition.revision,
        ProcessDefinition.name.label("definition_name"),
        _overdue(now).label("overdue"),
    )


def _summary(r) -> dict:
    return {
        "id": r.id,
        "process_key": r.process_key,
        "process_name": (r.summary or {}).get("process_name") or r.definition_name or r.process_key,
        "title": r.title,
        "business_key": r.business_key,
        "status": r.status,
        "stage": r.stage,
        "version": r.version_id,
        "revision": r.revision,
        "owner_unit": r.owner_unit,
        "started_by": r.started_by,
        "started_at": r.started_at,
        "updated_at": r.updated_at,
        "completed_at": r.completed_at,
        "overdue": bool(r.overdue),
    }


@blp.route("/instances", methods=["GET"])
@blp.arguments(InstanceQuerySchema, location="query")
@blp.response(200, InstancePageSchema)
@documents(blp, 401, 422)
def list_instances(args):
    """Instances the caller may see, newest activity first, filtered and paginated."""
    p = principal()
    now = clock.now()
    where = []
    if args.get("status"):
        where.append(ProcessInstance.status == args["status"])
    if args.get("definition"):
        where.append(ProcessInstance.process_key == args["definition"])
    if args.get("stage"):
        where.append(ProcessInstance.stage == args["stage"])
    if args.get("business_key"):
        where.append(ProcessInstance.business_key == args["business_key"])
    if args.get("unit"):
        where.append(
            or_(
                ProcessInstance.owner_unit == args["unit"],
                exists(
                    select(HumanTask.id)
                    .join(TaskCandidate, TaskCandidate.task_id == HumanTask.id)
                    .where(HumanTask.instance_id == ProcessInstance.id, TaskCandidate.unit_code == args["unit"])
                ),
            )
        )
    if "overdue" in args:
        where.append(_overdue(now) if args["overdue"] else ~_overdue(now))
    page, per_page = args["page"], args["per_page"]
    newest_first = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    # The page's ids first, then their columns: the ``overdue`` flag is then asked for the page's rows
    # only, where PostgreSQL would otherwise hash every overdue task of the province (80 ms) to answer it.
    ids = (
        select(ProcessInstance.id)
        .where(visibility.instance_visible_clause(p), *where)
        .order_by(*newest_first)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .subquery()
    )
    with services().db.session() as s:
        total = _count(s, visibility.visible_instance_ids(p), where)
        rows = s.execute(
            select(*_columns(now))
            .join(ids, ids.c.id == ProcessInstance.id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .order_by(*newest_first)
        ).all()
    return {
        "items": [_summary(r) for r in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, math.ceil(total / per_page)),
    }


def _count(s, visible_ids, filters: list) -> int:
    """How many instances the list holds. Without filters on the instances themselves, the ids the person
    may see are counted as they come out of the visibility union, without visiting ``process_instance``
    (which PostgreSQL would otherwise read in full to match them against)."""
    if visible_ids is None:
        stmt = select(func.count()).select_from(ProcessInstance).where(*filters)
    elif filters:
        stmt = select(func.count()).select_from(ProcessInstance).where(ProcessInstance.id.in_(visible_ids), *filters)
    else:
        stmt = select(func.count()).select_from(visible_ids.subquery())
    return s.scalar(stmt) or 0


@blp.route(f"/instances/{ID}", methods=["GET"])
@blp.response(200, InstanceDetailSchema)
@documents(blp, 401, 403, 404)
def get_instance(instance_id: int):
    """One instance: status, version, current tasks, history and the records the caller may read."""
    return instance_detail(instance_id, principal())


def instance_detail(instance_id: int, p: Principal) -> dict:
    now = clock.now()
    with services().db.session() as s:
        row = s.execute(
            select(*_columns(now))
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id == instance_id)
        ).one_or_none()
        if row is None:
            raise NotFound(f"instance {instance_id} not found", instance=instance_id)
        if not visibility.can_see_instance(s, p, instance_id):
            raise Forbidden(f"instance {instance_id} is not within your need to know", instance=instance_id)
        may_read = visibility.can_read_instance_data(s, p, instance_id)
        tasks = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        steps = inbox_q.instance_steps(s, instance_id) if may_read else []
        reveal = can_reveal(p)
        records: dict[int, dict] = {}
        merged: dict = {}
        revealed = withheld = False
        for step in steps:
            data = dict(step.data)
            if step.sealed:
                if reveal:
                    data.update(sealer().open(step.sealed))
                    revealed = True
                else:
                    withheld = True
            records[step.task_id] = data
            merged.update(data)
        if revealed:
            audit.record(s, "confidential_viewed", actor=p.username, instance_id=instance_id, channel="api")
        # Who handles a matter is itself need-to-know: a reader of status only sees no names.
        current = [
            {
                "id": t.id,
                "name": t.name,
                "lane": t.lane,
                "role": t.role,
                "units": sorted(c.unit_code for c in t.candidates),
                "assignee": t.assignee if may_read else None,
                "due_at": t.due_at,
                "visible": can_see(p, t),
            }
            for t in tasks
            if t.status == "ready"
        ]
        finished = sorted(
            (t for t in tasks if t.status != "ready"), key=lambda t: (t.completed_at or t.created_at, t.id)
        )
    history = []
    for t in finished:
        entry = {
            "task_id": t.id,
            "name": t.name,
            "lane": t.lane,
            "status": t.status,
            "completed_by": t.completed_by if may_read else None,
            "completed_at": t.completed_at,
        }
        if may_read and t.id in records:
            entry["data"] = records[t.id]
        history.append(entry)
    detail = {
        **_summary(row),
        "current_tasks": current,
        "history": history,
        "data_visible": may_read,
        "confidential_withheld": withheld,
    }
    if may_read:
        detail["data"] = merged
    return detail
