"""Deployed processes (latest version) and starting one.

Whether the caller may start a process is ``engine.entry.may_start``: the role of its first user task's
lane, or an administrator; processes that start on a message or a timer are not started by hand.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.instances import entry

from .common import documents, principal, services
from .instances import instance_detail
from .schemas import DefinitionSchema, InstanceDetailSchema, StartRequestSchema

blp = Blueprint("Definitions", __name__, description="Deployed processes")

KEY = "<name:key>"


def describe(definition, loaded, p) -> dict:
    return {
        "key": definition.process_key,
        "name": definition.name,
        "version": definition.version_id,
        "revision": definition.revision,
        "stage": definition.stage,
        "mechanism": definition.mechanism,
        "platform": definition.platform,
        "start_kind": definition.start_kind or "none",
        "start_message": definition.start_message,
        "start_roles": sorted(entry.first_task_roles(loaded, definition.process_key)),
        "startable": entry.may_start(p, definition, loaded),
    }


@blp.route("/definitions", methods=["GET"])
@blp.response(200, DefinitionSchema(many=True))
@documents(blp, 401)
def list_definitions():
    """Processes of the latest deployed version, with whether the caller may start each."""
    p = principal()
    svc = services()
    with svc.db.session() as s:
        rows = svc.definitions.latest_definitions(s)
    return [describe(row, svc.definitions.loaded(row.version_id), p) for row in rows]


@blp.route(f"/definitions/{KEY}/instances", methods=["POST"])
@blp.arguments(StartRequestSchema)
@blp.response(201, InstanceDetailSchema)
@documents(blp, 400, 401, 403, 404, 422)
def start_instance(body, key: str):
    """Start the latest version of a process; the caller becomes its starter and the caller's commission
    its owner (``commission_unit``, ``case_management_unit`` … are filled in from the organisation)."""
    p = principal()
    svc = services()
    with svc.db.session() as s:
        definition = svc.definitions.latest_definition(s, key)
        loaded = svc.definitions.loaded(definition.version_id)
        entry.require_can_start(p, definition, loaded)
        # The caller's commission owns the matter: its standing units receive the tasks, whatever the
        # data says, so no caller can route work into another commission's offices.
        owner = entry.owner_data(s, loaded, key, p)
    outcome = svc.runtime.start(
        key, actor=p, business_key=body.get("business_key") or None, data={**body["data"], **owner}
    )
    return instance_detail(outcome.instance_id, p)
