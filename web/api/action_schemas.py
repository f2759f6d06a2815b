"""Request bodies of the managers' actions on an instance through the API (web/api/instances.py)."""

from __future__ import annotations

from .schemas import BodySchema, Text

REASON = {"description": "why (audited with the action); an empty reason is refused with a 422 naming the field"}


class InstanceActionSchema(BodySchema):
    reason = Text(required=True, max_length=500, metadata=REASON)


class ReassignRequestSchema(BodySchema):
    assignee = Text(required=True, max_length=80, metadata={"description": "username of the person to hand it to"})
    reason = Text(required=True, max_length=500, metadata=REASON)
