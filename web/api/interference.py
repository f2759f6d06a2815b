"""The interference register (干预登记): record an approach on a case, a case's entries, the register of
the caller's commission, one entry and the offices' follow-up.

Each operation is one use case of engine/interference/operations.py, the same the web pages call: the
officers who may see a case record on it and those who may read it list its entries; the 案件监督管理室
and 干部监督室 read, and follow up, their own commission's register. The bodies are read by the engine,
which names every field at fault (422 ``details.fields``, in Chinese as on the page) and writes nothing.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from engine.interference import operations as interference
from engine.interference import register as rules
from engine.interference.register import RegisterFilter

from .common import documents, principal, services
from .schemas import BodySchema, PageSchema, QuerySchema, Text

blp = Blueprint("Interference", __name__, description="The interference register (干预登记, the 三个规定)")

INSTANCE = "<int(min=1, max=2147483647):instance_id>"
ENTRY = "<int(min=1, max=2147483647):entry_id>"


# --------------------------------------------------------------------------- shapes
class EntryRequestSchema(BodySchema):
    """Read by the engine; the types here are for the document. ``occurred_at`` is ISO 8601 (Beijing time
    when it has no offset)."""

    intervener_name = Text(required=True, metadata={"description": "who intervened (often not a user here)"})
    intervener_post = Text(allow_none=True, metadata={"description": "their post and unit, free text"})
    kind = Text(
        required=True, metadata={"enum": list(rules.KINDS), "description": "打听案情 / 过问案件 / 说情干预 / 其他"}
    )
    channel = Text(required=True, metadata={"enum": list(rules.CHANNELS), "description": "当面 / 电话 / 短信 / 其他"})
    occurred_at = Text(required=True, metadata={"format": "date-time", "example": "2024-03-04T09:30:00+08:00"})
    content = Text(required=True, metadata={"description": "what was asked or requested"})
    response = Text(required=True, metadata={"description": "how the officer responded"})
    recorder_unit = Text(
        allow_none=True, metadata={"description": "the unit recording it, when the caller has several"}
    )
    corrects = fields.Integer(
        allow_none=True, metadata={"description": "the entry of this case that this one corrects"}
    )


class FollowUpRequestSchema(BodySchema):
    action = Text(required=True, metadata={"enum": list(rules.FOLLOW_UPS), "description": "签收 / 处理意见"})
    note = Text(allow_none=True, metadata={"description": "the opinion (required for `opinion`)"})


class RegisterQuerySchema(QuerySchema):
    date_from = fields.String(metadata={"format": "date", "description": "occurred on or after (Beijing date)"})
    date_to = fields.String(metadata={"format": "date", "description": "occurred on or before (Beijing date)"})
    kind = fields.String(metadata={"enum": list(rules.KINDS)})
    unit = fields.String(metadata={"description": "the recording unit"})
    page = fields.String(metadata={"description": "a positive integer (default 1)"})
    per_page = fields.String(metadata={"description": "1 to 100 (default 20)"})


class FollowUpSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(rules.FOLLOW_UPS))
    note = fields.String(allow_none=True, required=True)
    office_unit = fields.String(required=True)
    acted_by = fields.String(required=True)
    acted_at = fields.AwareDateTime(required=True)


class EntrySchema(ma.Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    business_key = fields.String(allow_none=True, required=True)
    process_name = fields.String(required=True)
    commission = fields.String(required=True, metadata={"description": "the commission whose register keeps it"})
    recorder_unit = fields.String(required=True)
    intervener_name = fields.String(required=True)
    intervener_post = fields.String(allow_none=True, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(rules.KINDS))
    channel = fields.String(required=True, validate=validate.OneOf(rules.CHANNELS))
    occurred_at = fields.AwareDateTime(required=True)
    content = fields.String(required=True)
    response = fields.String(required=True)
    corrects_id = fields.Integer(allow_none=True, required=True)
    corrected_by = fields.List(fields.Integer(), required=True, metadata={"description": "later entries correcting it"})
    recorded_by = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    state = fields.String(required=True, validate=validate.OneOf(tuple(rules.STATE_LABELS)))
    follow_ups = fields.List(fields.Nested(FollowUpSchema), required=True)


class EntryDetailSchema(EntrySchema):
    may_follow_up = fields.Boolean(required=True, metadata={"description": "the caller's office keeps this entry"})


class CaseSchema(ma.Schema):
    instance_id = fields.Integer(required=True)
    business_key = fields.String(allow_none=True, required=True)
    title = fields.String(allow_none=True, required=True)
    process_name = fields.String(required=True)


class CaseEntriesSchema(ma.Schema):
    case = fields.Nested(CaseSchema, required=True)
    items = fields.List(fields.Nested(EntrySchema), required=True)


class RegisterPageSchema(PageSchema):
    items = fields.List(fields.Nested(EntrySchema), required=True)


def _entry(e: interference.Entry) -> dict:
    return {
        "id": e.id,
        "instance_id": e.instance_id,
        "business_key": e.business_key,
        "process_name": e.process_name,
        "commission": e.commission,
        "recorder_unit": e.recorder_unit,
        "intervener_name": e.intervener_name,
        "intervener_post": e.intervener_post,
        "kind": e.kind,
        "channel": e.channel,
        "occurred_at": e.occurred_at,
        "content": e.content,
        "response": e.response,
        "corrects_id": e.corrects_id,
        "corrected_by": list(e.corrected_by),
        "recorded_by": e.recorded_by,
        "recorded_at": e.recorded_at,
        "state": e.state,
        "follow_ups": [
            {
                "action": f.action,
                "note": f.note,
                "office_unit": f.office_unit,
                "acted_by": f.acted_by,
                "acted_at": f.acted_at,
            }
            for f in e.follow_ups
        ],
    }


def _detail(d: interference.EntryDetail) -> dict:
    return {**_entry(d.entry), "may_follow_up": d.may_follow_up}


# --------------------------------------------------------------------------- operations
@blp.route(f"/instances/{INSTANCE}/interference")
class CaseInterference(MethodView):
    """One route for both methods: an id out of range is then a 404 for either, never a 405."""

    @blp.response(200, CaseEntriesSchema)
    @documents(blp, 401, 403, 404)
    def get(self, instance_id: int):
        """The case's interference entries, newest first: for the officers who may read the case."""
        listed = interference.case_entries(services(), principal(), instance_id)
        c = listed.case
        return {
            "case": {
                "instance_id": c.instance_id,
                "business_key": c.business_key,
                "title": c.title,
                "process_name": c.process_name,
            },
            "items": [_entry(e) for e in listed.entries],
        }

    @blp.arguments(EntryRequestSchema)
    @blp.response(201, EntryDetailSchema)
    @documents(blp, 400, 401, 403, 404, 422)
    def post(self, body, instance_id: int):
        """Record an approach on the case (an officer of a commission who may see it); append-only."""
        return _detail(interference.record_interference(services(), principal(), instance_id, dict(body)))


@blp.route("/interference", methods=["GET"])
@blp.arguments(RegisterQuerySchema, location="query")
@blp.response(200, RegisterPageSchema)
@documents(blp, 401, 403, 422)
def register(args):
    """The register of the caller's commission (案件监督管理室, 干部监督室), newest approach first."""
    f = RegisterFilter.parse(args)
    page = interference.register(services(), principal(), f)
    return {
        "items": [_entry(e) for e in page.rows],
        "total": page.total,
        "page": f.page,
        "per_page": f.per_page,
        "pages": page.pages,
    }


@blp.route(f"/interference/{ENTRY}", methods=["GET"])
@blp.response(200, EntryDetailSchema)
@documents(blp, 401, 403, 404)
def entry(entry_id: int):
    """One entry and its follow-up: for the officers who may read its case and its commission's offices."""
    return _detail(interference.show_entry(services(), principal(), entry_id))


@blp.route(f"/interference/{ENTRY}/follow-ups", methods=["POST"])
@blp.arguments(FollowUpRequestSchema)
@blp.response(201, EntryDetailSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def follow_up(body, entry_id: int):
    """Sign for the entry (once per office) or give a handling opinion: the offices of its commission."""
    return _detail(interference.follow_up(services(), principal(), entry_id, body.get("action"), body.get("note")))
