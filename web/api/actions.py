"""退回, 撤回, 转办, 委派, 抄送 and 催办 on a task, and the caller's 待阅 (issue 15): the same use cases as the
task page (engine/tasks/actions.py).

Who may do what is decided there; a refusal is the usual error envelope (403/404, 409 when the case moved
on, 422 naming the field: ``reason``, ``target``, ``note``).
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

from engine.tasks import actions, phrases

from .common import documents, principal, services
from .schemas import BodySchema, Text

blp = Blueprint("TaskActions", __name__, description="退回, 撤回, 转办, 委派, 抄送, 催办 and 待阅")

ID = "<int(min=1, max=2147483647):task_id>"


class ReturnRequestSchema(BodySchema):
    target_task_id = fields.Integer(required=True, metadata={"description": "a step listed in return_to"})
    reason = Text(required=True, max_length=2000, metadata={"description": "the 批示"})


class WithdrawRequestSchema(BodySchema):
    reason = Text(load_default=None, allow_none=True, max_length=2000)


class UrgeRequestSchema(BodySchema):
    note = Text(required=True, max_length=2000)


class DoneStepSchema(ma.Schema):
    task_id = fields.Integer()
    name = fields.String()
    completed_by = fields.String(allow_none=True)
    completed_by_name = fields.String()
    completed_at = fields.DateTime(allow_none=True)


class UrgeSchema(ma.Schema):
    urged_by = fields.String()
    urged_by_name = fields.String()
    urged_at = fields.DateTime()
    note = fields.String()


class PersonSchema(ma.Schema):
    username = fields.String()
    name = fields.String()


class MoreActionsSchema(ma.Schema):
    return_to = fields.List(fields.Nested(DoneStepSchema))
    may_withdraw = fields.Boolean()
    may_urge = fields.Boolean()
    urges = fields.List(fields.Nested(UrgeSchema))
    hand_to = fields.List(fields.Nested(PersonSchema), metadata={"description": "转办 / 委派 to one of these"})
    delegated_to = fields.Nested(PersonSchema, allow_none=True)
    may_give_back = fields.Boolean()
    copy_to = fields.List(fields.Nested(PersonSchema), metadata={"description": "抄送 to these (they read the case)"})


class HandRequestSchema(BodySchema):
    assignee = Text(required=True, max_length=80)
    reason = Text(required=True, max_length=2000)


class CopyRequestSchema(BodySchema):
    readers = fields.List(Text(max_length=80), required=True)
    note = Text(load_default=None, allow_none=True, max_length=2000)


class CopiesQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    unread = fields.Boolean(load_default=False)


class CopySchema(ma.Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    title = fields.String(allow_none=True)
    sender = fields.String()
    sender_name = fields.String()
    note = fields.String(allow_none=True)
    sent_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class CopiesSentSchema(ma.Schema):
    ids = fields.List(fields.Integer())


class CopyReadSchema(ma.Schema):
    instance_id = fields.Integer()


class ReopenedSchema(ma.Schema):
    task_id = fields.Integer(metadata={"description": "the reopened step's task"})
    assignee = fields.String(allow_none=True)


@blp.route(f"/tasks/{ID}/actions", methods=["GET"])
@blp.response(200, MoreActionsSchema)
@documents(blp, 401, 403, 404)
def get_actions(task_id: int):
    """What the caller may do on the task beyond completing it: the steps it may be returned to, whether
    the caller may withdraw it (his own last completion) or urge it, and the urges it received."""
    return actions.task_actions(services(), principal(), task_id)


@blp.route(f"/tasks/{ID}/return", methods=["POST"])
@blp.arguments(ReturnRequestSchema)
@blp.response(200, ReopenedSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def return_task(body, task_id: int):
    """退回: send the case back to a step already done on its way to this task, with the 批示."""
    return actions.return_task(services(), principal(), task_id, body["target_task_id"], body["reason"])


@blp.route(f"/tasks/{ID}/withdraw", methods=["POST"])
@blp.arguments(WithdrawRequestSchema)
@blp.response(200, ReopenedSchema)
@documents(blp, 400, 401, 404, 409, 422)
def withdraw(body, task_id: int):
    """撤回: take back one's own last completion while nobody has acted on what it opened."""
    return actions.withdraw_task(services(), principal(), task_id, body["reason"])


@blp.route(f"/tasks/{ID}/urge", methods=["POST"])
@blp.arguments(UrgeRequestSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def urge(body, task_id: int):
    """催办: a manager or a leader of the task's units urges its holder, with a note."""
    actions.urge_task(services(), principal(), task_id, body["note"])
    return None


@blp.route(f"/tasks/{ID}/transfer", methods=["POST"])
@blp.arguments(HandRequestSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def transfer(body, task_id: int):
    """转办: the holder hands the task over to a colleague entitled to it (role, unit, separation, recusal)."""
    actions.transfer_task(services(), principal(), task_id, body["assignee"], body["reason"])
    return None


@blp.route(f"/tasks/{ID}/delegate", methods=["POST"])
@blp.arguments(HandRequestSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def delegate(body, task_id: int):
    """委派: the holder lends the task to such a colleague, who drafts it and hands it back."""
    actions.delegate_task(services(), principal(), task_id, body["assignee"], body["reason"])
    return None


@blp.route(f"/tasks/{ID}/give-back", methods=["POST"])
@blp.response(204)
@documents(blp, 401, 403, 404, 409)
def give_back(task_id: int):
    """交还: the delegate hands the task back to its owner."""
    actions.give_back_task(services(), principal(), task_id)
    return None


@blp.route(f"/tasks/{ID}/copies", methods=["POST"])
@blp.arguments(CopyRequestSchema)
@blp.response(201, CopiesSentSchema)
@documents(blp, 400, 401, 403, 404, 422)
def copy(body, task_id: int):
    """抄送/传阅: send the case for reading to people who read its whole file (never to anyone else)."""
    return {"ids": actions.copy_case(services(), principal(), task_id, body["readers"], body["note"])}


@blp.route("/copies", methods=["GET"])
@blp.arguments(CopiesQuerySchema, location="query")
@blp.response(200, CopySchema(many=True))
@documents(blp, 401)
def list_copies(args):
    """The caller's 待阅 (``unread=true``) or all copies sent to him, newest first."""
    return actions.copies(services(), principal(), unread_only=args["unread"])


@blp.route("/copies/<int(min=1, max=2147483647):copy_id>/read", methods=["POST"])
@blp.response(200, CopyReadSchema)
@documents(blp, 401, 404)
def read_copy(copy_id: int):
    """已阅: mark one's copy read; the reply names the instance to open."""
    return {"instance_id": actions.read_copy(services(), principal(), copy_id)}


class HandoverRequestSchema(BodySchema):
    from_username = Text(required=True, max_length=80)
    to_username = Text(required=True, max_length=80)
    reason = Text(required=True, max_length=2000)


class HandoverSchema(ma.Schema):
    handed = fields.List(fields.Integer(), metadata={"description": "tasks now held by the successor"})
    pooled = fields.List(fields.Integer(), metadata={"description": "tasks back in their units' pool"})


@blp.route("/handovers", methods=["POST"])
@blp.arguments(HandoverRequestSchema)
@blp.response(200, HandoverSchema)
@documents(blp, 400, 401, 403, 422)
def hand_over(body):
    """批量移交: a leader moves all the open work a person holds in his units to a successor."""
    done = actions.hand_over_all(services(), principal(), body["from_username"], body["to_username"], body["reason"])
    return {"handed": list(done.handed), "pooled": list(done.pooled)}


class PhraseSchema(ma.Schema):
    id = fields.Integer()
    text = fields.String()


class PhraseRequestSchema(BodySchema):
    text = Text(required=True, max_length=500)


@blp.route("/phrases", methods=["GET"])
@blp.response(200, PhraseSchema(many=True))
@documents(blp, 401, 403)
def list_phrases():
    """The caller's 常用审批意见 (saved phrases for his opinions)."""
    return phrases.phrases(services(), principal())


@blp.route("/phrases", methods=["POST"])
@blp.arguments(PhraseRequestSchema)
@blp.response(201, PhraseSchema)
@documents(blp, 400, 401, 403, 422)
def add_phrase(body):
    """Save one phrase (at most 30 per person)."""
    return phrases.add_phrase(services(), principal(), body["text"])


@blp.route("/phrases/<int(min=1, max=2147483647):phrase_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def delete_phrase(phrase_id: int):
    """Delete one of the caller's phrases."""
    phrases.delete_phrase(services(), principal(), phrase_id)
    return None
