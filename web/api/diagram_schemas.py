"""OpenAPI schemas of the instance diagram (``GET /api/v1/instances/<id>/diagram``, built by web/diagram.py) and
of the linked instances in the instance detail."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from engine.instances.diagram import MARKERS

ISO = {"description": "ISO 8601 time with offset"}


class DiagramVisitSchema(ma.Schema):
    task_id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ready", "completed", "cancelled")))
    holder = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "who held or completed the step; null unless the caller may read the whole file "
            "or oversees the instance"
        },
    )
    holder_name = fields.String(allow_none=True, required=True)
    started_at = fields.String(required=True, metadata=ISO)
    finished_at = fields.String(allow_none=True, required=True, metadata=ISO)
    seconds = fields.Integer(allow_none=True, required=True, metadata={"description": "held for (until now if open)"})
    workdays = fields.Integer(allow_none=True, required=True, metadata={"description": "the same in working days"})
    due_at = fields.String(allow_none=True, required=True, metadata=ISO)
    due_state = fields.String(required=True, validate=validate.OneOf(("none", "ok", "due_soon", "overdue")))
    due_estimated = fields.Boolean(required=True)
    late = fields.Boolean(required=True, metadata={"description": "finished after, or still open past, its due time"})


class DiagramElementSchema(ma.Schema):
    markers = fields.List(fields.String(validate=validate.OneOf(MARKERS)), required=True)
    waiting_until = fields.String(allow_none=True, required=True, metadata=ISO)
    error = fields.String(allow_none=True, required=True)
    visits = fields.List(fields.Nested(DiagramVisitSchema), required=True)


class InstanceDiagramSchema(ma.Schema):
    instance_id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    version = fields.Integer(required=True)
    filename = fields.String(required=True)
    level = fields.String(
        required=True,
        validate=validate.OneOf(("full", "status", "addressed")),
        metadata={
            "description": "what the caller may learn: full (names, path, failures), status (markers and "
            "path without names), addressed (only the caller's own steps and those whose records it reads)"
        },
    )
    xml = fields.String(required=True, metadata={"description": "the BPMN file of the instance's deployed version"})
    path = fields.List(fields.String(), required=True, metadata={"description": "ids of the sequence flows taken"})
    elements = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(DiagramElementSchema),
        required=True,
        metadata={"description": "per BPMN element id: its markers and who held it, when, how long, its due time"},
    )


class InstanceLinkSchema(ma.Schema):
    """One instance linked to the one shown (engine/instances/links.py); only those the caller may find."""

    relation = fields.String(
        required=True,
        validate=validate.OneOf(("source", "started", "case")),
        metadata={
            "description": "source: it started this instance by a message (a handover); started: this "
            "instance started it; case: another instance of the same case (clue and case numbers)"
        },
    )
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    process_name = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    business_key = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    stage = fields.String(allow_none=True, required=True)
    started_at = fields.AwareDateTime(required=True)
