"""Deployed processes (latest version) and starting one, from engine/instances/operations.py.

Whether the caller may start a process is ``engine.instances.entry.may_start``: the role of its first
user task's lane, or an administrator; processes that start on a message or a timer are not started
by hand.
"""

from __future__ import annotations

from engine.instances import operations as instances

from ..usecases import reveal, soon
from .common import documents, principal, services
from .instances import detail_body
from .parsing import Blueprint
from .schemas import DefinitionSchema, InstanceDetailSchema, StartRequestSchema

blp = Blueprint("Definitions", __name__, description="Deployed processes")

KEY = "<name:key>"


@blp.route("/definitions", methods=["GET"])
@blp.response(200, DefinitionSchema(many=True))
@documents(blp, 401)
def list_definitions():
    """Processes of the latest deployed version, with whether the caller may start each."""
    return [
        {
            "key": d.key,
            "name": d.name,
            "version": d.version,
            "revision": d.revision,
            "stage": d.stage,
            "mechanism": d.mechanism,
            "platform": d.platform,
            "start_kind": d.start_kind,
            "start_message": d.start_message,
            "start_roles": d.start_roles,
            "startable": d.startable,
        }
        for d in instances.list_definitions(services(), principal())
    ]


@blp.route(f"/definitions/{KEY}/instances", methods=["POST"])
@blp.arguments(StartRequestSchema)
@blp.response(201, InstanceDetailSchema)
@documents(blp, 400, 401, 403, 404, 422)
def start_instance(body, key: str):
    """Start the latest version of a process; the caller becomes its starter and the caller's commission
    its owner (``commission_unit``, ``case_management_unit`` … are filled in from the organisation)."""
    # The reply is the new instance's detail, read in the start's own transaction (one, not two).
    return detail_body(
        instances.start_and_show(
            services(),
            principal(),
            key,
            business_key=body.get("business_key"),
            data=body["data"],
            reveal=reveal(),
            soon_workdays=soon(),
            channel="api",
        )
    )
