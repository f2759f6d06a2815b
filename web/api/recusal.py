"""The conflict register (回避登记) of a case: read it, declare a conflict, decide on one.

The same use cases as the pages (engine/recusal/operations.py): who may read, declare or decide is
decided there, and a refusal is the usual 403 envelope with its ``access_denied`` event.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.recusal import operations as recusal

from .common import documents, principal, services
from .schemas import CaseRegisterSchema, DecideRequestSchema, DeclaredSchema, DeclareRequestSchema

blp = Blueprint("Recusal", __name__, description="The conflict register (回避登记) of a case")

INSTANCE = "<int(min=1, max=2147483647):instance_id>"
CONFLICT = "<int(min=1, max=2147483647):conflict_id>"


def register_json(r: recusal.CaseRegister) -> dict:
    """The register as the API answers it (the page shows the same use case's result)."""
    return {
        "instance_id": r.instance_id,
        "case_id": r.case_id,
        "case_label": r.case_label,
        "linked": [vars(i) for i in r.linked],
        "entries": [{**vars(e), "binding": e.binding} for e in r.entries],
        "may_declare_self": r.may_declare_self,
        "may_record": r.may_record,
        "may_decide": r.may_decide,
        "kinds": dict(r.kinds),
    }


@blp.route(f"/instances/{INSTANCE}/recusal")
class CaseRegister(MethodView):
    """One path, two methods: a single URL rule, so the converter answers alike for both."""

    @blp.response(200, CaseRegisterSchema)
    @documents(blp, 401, 403, 404)
    def get(self, instance_id: int):
        """The register of the instance's case (every linked instance) and what the caller may do on it."""
        return register_json(recusal.case_register(services(), principal(), instance_id))

    @blp.arguments(DeclareRequestSchema)
    @blp.response(201, DeclaredSchema)
    @documents(blp, 400, 401, 403, 404, 409, 422)
    def post(self, args, instance_id: int):
        """Declare the caller's own conflict, or (a leader) record someone else's."""
        conflict_id = recusal.declare_conflict(
            services(), principal(), instance_id, username=args["username"], kind=args["kind"], reason=args["reason"]
        )
        return {"id": conflict_id}


@blp.route(f"/recusal/{CONFLICT}/decision", methods=["POST"])
@blp.arguments(DecideRequestSchema)
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 422)
def decide(args, conflict_id: int):
    """The responsible leader keeps (with a reason) or replaces the person."""
    recusal.decide_conflict(services(), principal(), conflict_id, decision=args["decision"], reason=args["reason"])
    return None
