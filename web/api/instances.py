"""Instances the caller may see: the list and one instance, from engine/instances/operations.py.

Three tiers, each decided in the engine: finding an instance (its starter, anyone who could see one of
its tasks, administrators), reading what its steps recorded (not the starter alone), and seeing
confidential fields (a reveal role, through the one reveal-and-audit gate). What a tier does not allow
is left out of the response, not masked, so a client cannot mistake a placeholder for data.
"""

from __future__ import annotations

from engine.instances import operations as instances
from engine.instances.queries import InstanceFilter

from .. import diagram
from ..usecases import reveal, soon
from .action_schemas import InstanceActionSchema, ReassignRequestSchema
from .common import documents, principal, services
from .diagram_schemas import InstanceDiagramSchema
from .parsing import Blueprint
from .schemas import InstanceDetailSchema, InstancePageSchema, InstanceQuerySchema

blp = Blueprint("Instances", __name__, description="Process instances the caller may see")

ID = "<int(min=1, max=2147483647):instance_id>"
TASK = "<int(min=1, max=2147483647):task_id>"
ACTION = "<any(retry, suspend, resume, cancel):action>"


def _summary(r: instances.InstanceRow) -> dict:
    return {
        "id": r.id,
        "process_key": r.process_key,
        "process_name": r.process_name,
        "title": r.title,
        "business_key": r.business_key,
        "status": r.status,
        "stage": r.stage,
        "version": r.version,
        "revision": r.revision,
        "owner_unit": r.owner_unit,
        "started_by": r.started_by,
        "started_at": r.started_at,
        "updated_at": r.updated_at,
        "completed_at": r.completed_at,
        "overdue": r.overdue,
    }


@blp.route("/instances", methods=["GET"])
@blp.arguments(InstanceQuerySchema, location="query")
@blp.response(200, InstancePageSchema)
@documents(blp, 401, 422)
def list_instances(args):
    """Instances the caller may see, newest activity first, filtered and paginated."""
    f = InstanceFilter(
        status=args.get("status"),
        stage=args.get("stage"),
        process_key=args.get("definition"),
        unit=args.get("unit"),
        business_key=args.get("business_key"),
        overdue=args.get("overdue"),
        page=args["page"],
        per_page=args["per_page"],
    )
    page = instances.list_instances(services(), principal(), f)
    return {
        "items": [_summary(r) for r in page.rows],
        "total": page.total,
        "page": f.page,
        "per_page": f.per_page,
        "pages": page.pages,
    }


@blp.route(f"/instances/{ID}", methods=["GET"])
@blp.response(200, InstanceDetailSchema)
@documents(blp, 401, 403, 404)
def get_instance(instance_id: int):
    """One instance: status, version, current tasks, history and the records the caller may read."""
    return instance_detail(instance_id)


@blp.route(f"/instances/{ID}/diagram", methods=["GET"])
@blp.response(200, InstanceDiagramSchema)
@documents(blp, 401, 404)
def get_instance_diagram(instance_id: int):
    """The instance on its diagram: the deployed BPMN, per element its markers (completed, active, waiting,
    overdue, failed) and who held it, when, how long, its due time; the sequence flows taken. Cut to what
    the caller may learn of the instance (``level``)."""
    return diagram.as_json(instances.show_diagram(services(), principal(), instance_id, soon_workdays=soon()))


@blp.route(f"/instances/{ID}/{ACTION}", methods=["POST"])
@blp.arguments(InstanceActionSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def act(args, instance_id: int, action: str):
    """Retry, suspend, resume or cancel (terminate) an instance, with a reason: the overseers of the
    commission that owns it (the cockpit roles), never an administrator; audited with the reason."""
    instances.act_on_instance(services(), principal(), instance_id, action, reason=args["reason"])
    return None


@blp.route(f"/instances/{ID}/tasks/{TASK}/reassign", methods=["POST"])
@blp.arguments(ReassignRequestSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def reassign(args, instance_id: int, task_id: int):
    """An overseer hands one of the instance's open tasks to someone holding its role in its units, with a
    reason; audited with it."""
    instances.reassign_on_instance(
        services(), principal(), instance_id, task_id, args["assignee"], reason=args["reason"]
    )
    return None


def instance_detail(instance_id: int) -> dict:
    return detail_body(
        instances.show_instance(
            services(), principal(), instance_id, reveal=reveal(), soon_workdays=soon(), channel="api", for_page=False
        )
    )


def detail_body(d: instances.InstanceDetail) -> dict:
    """The API's instance detail (``InstanceDetailSchema``) of what the engine let the caller see: the
    reply of ``GET /instances/{id}`` and of a start alike."""
    may_read, records = d.may_read, d.records
    # Who handles a matter is itself need-to-know: a reader of status only sees no names.
    current = [
        {
            "id": t.id,
            "name": t.name,
            "lane": t.lane,
            "role": t.role,
            "units": list(t.units),
            "assignee": t.assignee if may_read else None,
            "due_at": t.due_at,
            "visible": t.visible,
        }
        for t in d.current
    ]
    history = []
    for t in d.finished:
        entry = {
            "task_id": t.id,
            "name": t.name,
            "lane": t.lane,
            "status": t.status,
            "completed_by": t.completed_by if may_read else None,
            "completed_at": t.completed_at,
        }
        if t.id in records:  # only the records the caller may read (engine/access/need_to_know.py)
            entry["data"] = records[t.id]
        history.append(entry)
    detail = {
        **_summary(d.instance),
        "current_tasks": current,
        "history": history,
        "data_visible": may_read,
        "data_scope": d.reads,
        "confidential_withheld": d.confidential_withheld,
        "linked_instances": [
            {
                "relation": link.relation,
                "id": link.id,
                "process_key": link.process_key,
                "process_name": link.process_name,
                "title": link.title,
                "business_key": link.business_key,
                "status": link.status,
                "stage": link.stage,
                "started_at": link.started_at,
            }
            for link in d.linked
        ],
    }
    if records:
        detail["data"] = d.data
    return detail
