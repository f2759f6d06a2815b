"""加签 through the API (issue 15): the approver asks one more person's opinion before deciding, the person
asked answers; the same use cases as the pages (engine/tasks/countersign.py). A refusal is the usual error
envelope (403/404; 409 when already asked or answered, or the step decided; 422 naming the field)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from engine.tasks import countersign

from .actions import ID, PersonSchema
from .common import documents, principal, services
from .schemas import BodySchema, Text

blp = Blueprint("Countersign", __name__, description="加签: an opinion asked before the approver decides")


class AskRequestSchema(BodySchema):
    asked = Text(required=True, max_length=80, metadata={"description": "one of the step's candidates"})
    question = Text(required=True, max_length=2000)


class AnswerRequestSchema(BodySchema):
    answer = Text(required=True, max_length=2000)


class OpinionSchema(ma.Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    instance_id = fields.Integer()
    step = fields.String()
    business_key = fields.String(allow_none=True)
    asked_by = fields.String()
    asked_by_name = fields.String()
    asked = fields.String()
    asked_name = fields.String()
    question = fields.String()
    asked_at = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)


class StepConsultationsSchema(ma.Schema):
    opinions = fields.List(fields.Nested(OpinionSchema))
    may_ask = fields.Boolean()
    candidates = fields.List(fields.Nested(PersonSchema), metadata={"description": "who may be asked"})


class AskedSchema(ma.Schema):
    id = fields.Integer()


class AnsweredSchema(ma.Schema):
    task_id = fields.Integer(metadata={"description": "the step the opinion was asked on"})


@blp.route(f"/tasks/{ID}/consultations")
class StepConsultations(MethodView):
    """One route for both methods: an id out of range is then a 404 for either, never a 405."""

    @blp.response(200, StepConsultationsSchema)
    @documents(blp, 401, 403, 404)
    def get(self, task_id: int):
        """The opinions asked on the step, and whether and whom the caller may ask (he holds this approval step)."""
        return countersign.task_view(services(), principal(), task_id)

    @blp.arguments(AskRequestSchema)
    @blp.response(201, AskedSchema)
    @documents(blp, 400, 401, 403, 404, 409, 422)
    def post(self, body, task_id: int):
        """加签: ask a person who reads the case for his opinion; the step waits for it."""
        return {"id": countersign.ask_opinion(services(), principal(), task_id, body["asked"], body["question"])}


@blp.route("/opinions", methods=["GET"])
@blp.response(200, OpinionSchema(many=True))
@documents(blp, 401, 403)
def asked_of_me():
    """The opinions asked of the caller: open ones first."""
    return countersign.asked_of(services(), principal())


@blp.route("/opinions/<int(min=1, max=2147483647):consultation_id>/answer", methods=["POST"])
@blp.arguments(AnswerRequestSchema)
@blp.response(200, AnsweredSchema)
@documents(blp, 400, 401, 404, 409, 422)
def answer(body, consultation_id: int):
    """Give the opinion asked of the caller."""
    return {"task_id": countersign.give_opinion(services(), principal(), consultation_id, body["answer"])}
