"""Request and response shapes of the JSON API; the OpenAPI document is generated from these.

Input strings refuse NUL characters and lone surrogates (no database can store them) and are bounded by
the column they are compared with; JSON objects given as process or form data are checked the same way
(``engine.data.unstorable_paths``). Query-string schemas ignore unknown parameters, bodies refuse them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from engine.forms.data import unstorable_paths
from engine.tasks.inbox import MAX_PER_PAGE

from .diagram_schemas import InstanceLinkSchema

STATUSES = ("running", "suspended", "completed", "cancelled", "error")
SCOPES = ("mine", "group", "team", "completed")
DUE_STATES = ("none", "ok", "due_soon", "overdue")


def _no_nul(value) -> None:
    bad = unstorable_paths(value)
    if bad:
        raise ma.ValidationError(
            "NUL characters and invalid Unicode (lone surrogates) are not allowed"
            + (f" (at {', '.join(bad[:5])})" if bad[0] else "")
        )


class Text(fields.String):
    """A string that may be stored or compared in the database."""

    def __init__(self, *, max_length: int | None = None, min_length: int | None = None, **kwargs):
        validators = list(kwargs.pop("validate", None) or [])
        validators.append(_no_nul)
        if max_length is not None or min_length is not None:
            validators.append(validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kwargs)


class JsonObject(fields.Dict):
    """A free JSON object (process data, form data, a message payload)."""

    def __init__(self, **kwargs):
        validators = list(kwargs.pop("validate", None) or [])
        validators.append(_no_nul)
        super().__init__(keys=fields.String(), validate=validators, **kwargs)


class BodySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


class PageArgs(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageSchema(ma.Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# --------------------------------------------------------------------------- errors
class ErrorBodySchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "stable, machine-readable error code"})
    message = fields.String(required=True)
    details = fields.Dict(
        required=True,
        metadata={"description": "what is at fault: `fields` (path → reason) for validation errors, ids otherwise"},
    )


class ErrorSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --------------------------------------------------------------------------- auth and me
class TokenRequestSchema(BodySchema):
    username = Text(required=True, min_length=1, max_length=80)
    password = Text(required=True, min_length=1, max_length=1024, load_only=True)
    name = Text(
        max_length=120, allow_none=True, metadata={"description": "a label for the token, e.g. the system using it"}
    )


class PasswordChangeSchema(BodySchema):
    username = Text(required=True, min_length=1, max_length=80)
    current_password = Text(required=True, min_length=1, max_length=1024, load_only=True)
    new_password = Text(
        required=True,
        min_length=1,
        max_length=1024,
        load_only=True,
        metadata={
            "description": "at least 12 characters (setting), 3 of 4 character classes, not the username, "
            "none of the last 5"
        },
    )


class TokenSchema(ma.Schema):
    token = fields.String(required=True, metadata={"description": "send as `Authorization: Bearer <token>`"})
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_at = fields.AwareDateTime(required=True)


class MembershipUnitSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    leader = fields.Boolean(required=True)


class MeSchema(ma.Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    admin_kind = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "三员分立: system, security or audit administrator; null for everyone else"},
    )
    locale = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    units = fields.List(fields.Nested(MembershipUnitSchema), required=True)
    may_reveal_confidential = fields.Boolean(required=True)


# --------------------------------------------------------------------------- definitions
class DefinitionSchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "deployed version id"})
    revision = fields.Integer(required=True, metadata={"description": "counts content changes of this process"})
    stage = fields.String(allow_none=True, required=True)
    mechanism = fields.String(allow_none=True, required=True)
    platform = fields.String(allow_none=True, required=True)
    start_kind = fields.String(required=True, validate=validate.OneOf(("none", "message", "timer")))
    start_message = fields.String(allow_none=True, required=True)
    start_roles = fields.List(
        fields.String(), required=True, metadata={"description": "roles of the first user task(s): who may start it"}
    )
    startable = fields.Boolean(required=True, metadata={"description": "whether the caller may start it"})


class StartRequestSchema(BodySchema):
    business_key = Text(max_length=120, allow_none=True, load_default=None)
    data = JsonObject(load_default=dict, metadata={"description": "initial process data"})


# --------------------------------------------------------------------------- tasks
class OptionSchema(ma.Schema):
    value = fields.Raw(required=True)
    label = fields.String(required=True)


class TaskSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    name = fields.String(required=True)
    process_key = fields.String(required=True)
    process_name = fields.String(required=True)
    business_key = fields.String(allow_none=True, required=True)
    title = fields.String(allow_none=True, required=True)
    lane = fields.String(allow_none=True, required=True)
    role = fields.String(allow_none=True, required=True)
    units = fields.List(fields.String(), required=True, metadata={"description": "candidate units"})
    assignee = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ready", "completed", "cancelled")))
    stage = fields.String(allow_none=True, required=True)
    mechanism = fields.String(allow_none=True, required=True)
    platform = fields.String(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(allow_none=True, required=True)
    due_state = fields.String(required=True, validate=validate.OneOf(DUE_STATES))
    workdays_left = fields.Integer(allow_none=True, required=True)
    due_estimated = fields.Boolean(
        required=True,
        metadata={"description": "预估: the due date falls in a year without an official holiday arrangement yet"},
    )
    completed_at = fields.AwareDateTime(allow_none=True, required=True)
    claimable = fields.Boolean(required=True)


class TaskActionsSchema(ma.Schema):
    claim = fields.Boolean(required=True)
    unclaim = fields.Boolean(required=True)
    complete = fields.Boolean(required=True)


class TaskDetailSchema(TaskSummarySchema):
    completed_by = fields.String(allow_none=True, required=True)
    form_key = fields.String(allow_none=True, required=True)
    form = fields.Dict(required=True, metadata={"description": "the form's JSON Schema (Draft 2020-12)"})
    options = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(OptionSchema)),
        required=True,
        metadata={"description": "choices of `x-options` fields, from the organisation"},
    )
    instructions = fields.String(required=True)
    actions = fields.Nested(TaskActionsSchema, required=True, metadata={"description": "what the caller may do now"})
    instance_status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class TaskPageSchema(PageSchema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    items = fields.List(fields.Nested(TaskSummarySchema), required=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "tasks in each scope, with the same filters"},
    )


class TaskQuerySchema(PageArgs):
    scope = fields.String(load_default="mine", validate=validate.OneOf(SCOPES))
    definition = Text(max_length=120, metadata={"description": "process key"})
    stage = Text(max_length=20)
    mechanism = Text(max_length=10)
    platform = Text(max_length=10)
    unit = Text(max_length=64, metadata={"description": "candidate unit code"})
    business_key = Text(max_length=120, metadata={"description": "substring of the business key"})
    instance = fields.Integer(
        validate=validate.Range(min=1, max=2147483647), metadata={"description": "only this instance's tasks"}
    )


class CompleteRequestSchema(BodySchema):
    data = JsonObject(required=True, metadata={"description": "the form's fields, as its JSON Schema describes"})


class NextTaskSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True, required=True)


class CompletedTaskSchema(TaskSummarySchema):
    """The task as it stands after completion (its form is not sent again: ``GET /tasks/{id}`` has it)."""

    completed_by = fields.String(allow_none=True, required=True)
    actions = fields.Nested(TaskActionsSchema, required=True)


class CompleteResultSchema(ma.Schema):
    task = fields.Nested(CompletedTaskSchema, required=True)
    instance_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    next_tasks = fields.List(fields.Nested(NextTaskSchema), required=True)
    next_for_you = fields.Nested(
        NextTaskSchema,
        allow_none=True,
        required=True,
        metadata={"description": "the caller's own next task in the same case (he holds it: no claiming), or null"},
    )


# --------------------------------------------------------------------------- instances
class InstanceSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    process_name = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    business_key = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    stage = fields.String(allow_none=True, required=True)
    version = fields.Integer(required=True)
    revision = fields.Integer(required=True)
    owner_unit = fields.String(allow_none=True, required=True)
    started_by = fields.String(allow_none=True, required=True)
    started_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    completed_at = fields.AwareDateTime(allow_none=True, required=True)
    overdue = fields.Boolean(required=True, metadata={"description": "a current task is past its due time"})


class CurrentTaskSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True, required=True)
    role = fields.String(allow_none=True, required=True)
    units = fields.List(fields.String(), required=True)
    assignee = fields.String(allow_none=True, required=True)
    due_at = fields.AwareDateTime(allow_none=True, required=True)
    visible = fields.Boolean(required=True, metadata={"description": "whether the caller may open the task"})


class HistoryEntrySchema(ma.Schema):
    task_id = fields.Integer(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(("completed", "cancelled")))
    completed_by = fields.String(
        allow_none=True, required=True, metadata={"description": "null unless the caller may read the records"}
    )
    completed_at = fields.AwareDateTime(allow_none=True, required=True)
    data = fields.Dict(metadata={"description": "what the step recorded; absent unless the caller may read it"})


class InstanceDetailSchema(InstanceSummarySchema):
    current_tasks = fields.List(fields.Nested(CurrentTaskSchema), required=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    data_visible = fields.Boolean(
        required=True,
        metadata={
            "description": "true when the caller reads the whole file; false for callers who may follow the instance "
            "(e.g. its starter) and for lanes that read only what is addressed to them"
        },
    )
    data_scope = fields.String(
        required=True,
        validate=validate.OneOf(("file", "addressed", "none")),
        metadata={
            "description": "what the caller reads of the records (知悉范围): file = all of them; addressed = only what "
            "the caller's open task declares and what the caller wrote; none"
        },
    )
    data = fields.Dict(
        metadata={
            "description": "the readable records merged (a later step overrides an earlier one); absent when none"
        }
    )
    confidential_withheld = fields.Boolean(
        required=True,
        metadata={"description": "confidential fields exist that the caller's roles may not see; they are left out"},
    )
    linked_instances = fields.List(
        fields.Nested(InstanceLinkSchema),
        required=True,
        metadata={"description": "the linked instances the caller may find, both ways; others are left out"},
    )


class InstancePageSchema(PageSchema):
    items = fields.List(fields.Nested(InstanceSummarySchema), required=True)


class InstanceQuerySchema(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    definition = Text(max_length=120, metadata={"description": "process key"})
    stage = Text(max_length=20)
    business_key = Text(max_length=120, metadata={"description": "business key contains (case-insensitive)"})
    unit = Text(max_length=64, metadata={"description": "owning unit, or a candidate unit of one of its tasks"})
    overdue = fields.Boolean(metadata={"description": "only instances with (true) or without (false) an overdue task"})


# --------------------------------------------------------------------------- messages
class MessageRequestSchema(BodySchema):
    correlation = Text(
        max_length=120,
        allow_none=True,
        load_default=None,
        metadata={"description": "correlation key (usually the business key)"},
    )
    data = JsonObject(load_default=dict, metadata={"description": "the message payload"})


class MessageResultSchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(("delivered", "started", "pending", "skipped")))
    message_id = fields.Integer(required=True)
    instance_id = fields.Integer(allow_none=True, required=True)


# --------------------------------------------------------------------------- the conflict register (回避登记)
class LinkedInstanceSchema(ma.Schema):
    id = fields.Integer(required=True)
    process_key = fields.String(required=True)
    title = fields.String(allow_none=True)
    business_key = fields.String(allow_none=True)
    status = fields.String(required=True)


class RecusalEntrySchema(ma.Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    reason = fields.String(required=True)
    declared_by = fields.String(required=True)
    self_declared = fields.Boolean(required=True)
    declared_at = fields.DateTime(required=True)
    decision = fields.String(allow_none=True, metadata={"description": "null (undecided), keep or replace"})
    decision_reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    binding = fields.Boolean(required=True, metadata={"description": "keeps the person out of the case"})


class CaseRegisterSchema(ma.Schema):
    instance_id = fields.Integer(required=True)
    case_id = fields.Integer(allow_none=True)
    case_label = fields.String(allow_none=True)
    linked = fields.List(fields.Nested(LinkedInstanceSchema), required=True)
    entries = fields.List(fields.Nested(RecusalEntrySchema), required=True)
    may_declare_self = fields.Boolean(required=True)
    may_record = fields.Boolean(required=True)
    may_decide = fields.Boolean(required=True)
    kinds = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class DeclareRequestSchema(BodySchema):
    username = Text(max_length=80, allow_none=True, load_default=None, metadata={"description": "default: the caller"})
    kind = Text(
        required=True, max_length=20, metadata={"description": "kinship, former_post, host_unit, witness, other"}
    )
    reason = Text(required=True, max_length=2000)


class DeclaredSchema(ma.Schema):
    id = fields.Integer(required=True)


class DecideRequestSchema(BodySchema):
    decision = Text(required=True, validate=[validate.OneOf(("keep", "replace"))])
    reason = Text(required=True, max_length=2000)
