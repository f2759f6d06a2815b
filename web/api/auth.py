"""Tokens: issued for a username and password, revoked by presenting them.

The password check is the web sign-in's (engine.access.accounts): a wrong name costs as much time as a
wrong password, a disabled account is refused, and every issue, failure and revocation is an audit
event. Failures are rate-limited per address here (``API_TOKEN_RATE_LIMIT``).
"""

from __future__ import annotations

from flask import g, request

from engine.access import accounts

from .bearer import token_ttl
from .common import documents, principal, services
from .parsing import Blueprint
from .schemas import TokenRequestSchema, TokenSchema

blp = Blueprint("Auth", __name__, description="Bearer tokens")


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.doc(security=[])
@documents(blp, 400, 401, 429)
def issue_token(body):
    """Get a bearer token for a user (rate-limited on failures)."""
    issued = accounts.issue_token(
        services(),
        body["username"],
        body["password"],
        ttl=token_ttl(),
        name=body.get("name"),
        remote=request.remote_addr,
    )
    return {"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401)
def revoke_token():
    """Revoke the token this request presents; it stops working at once."""
    accounts.revoke_token(services(), principal(), g.api_token_id)
    return None
