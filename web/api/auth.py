"""Tokens: issued for a username and password, revoked by presenting them.

The password check is the web sign-in's (engine.access.accounts): a wrong name costs as much time as a
wrong password, a disabled account is refused, and every issue, failure and revocation is an audit
event. Failures are rate-limited per address here (``API_TOKEN_RATE_LIMIT``) and counted per account in
the database (the lock-out, engine.access.lockout). An account with an initial password gets no token
(403 ``password_change_required``) until it is changed, on the web or with ``POST /auth/password``.
"""

from __future__ import annotations

from flask import g, request

from engine.access import accounts

from .bearer import token_ttl
from .common import documents, principal, services
from .parsing import Blueprint
from .schemas import PasswordChangeSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("Auth", __name__, description="Bearer tokens")


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.doc(security=[])
@documents(blp, 400, 401, 403, 429)
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


@blp.route("/auth/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.doc(security=[])
@documents(blp, 400, 401, 422, 429)
def change_password(body):
    """Change a user's own password with the current one (no token needed: an initial password must be
    changed before a token is issued). Every token and web session of the user ends."""
    accounts.change_password_with_credentials(
        services(), body["username"], body["current_password"], body["new_password"], remote=request.remote_addr
    )
    return None


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401)
def revoke_token():
    """Revoke the token this request presents; it stops working at once."""
    accounts.revoke_token(services(), principal(), g.api_token_id)
    return None
