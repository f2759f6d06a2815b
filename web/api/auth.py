"""Tokens: issued for a username and password, revoked by presenting them.

A wrong name costs as much time as a wrong password (the web's dummy hash), failures are rate-limited
per address (``API_TOKEN_RATE_LIMIT``) and every issue, failure and revocation is an audit event.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from sqlalchemy import select

from engine import audit
from engine.access import tokens
from engine.access.passwords import verify_password
from engine.models import User

from ..auth import _DUMMY_HASH
from . import Unauthorized, token_ttl
from .common import documents, services
from .schemas import TokenRequestSchema, TokenSchema

blp = Blueprint("Auth", __name__, description="Bearer tokens")


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
@blp.doc(security=[])
@documents(blp, 400, 401, 429)
def issue_token(body):
    """Get a bearer token for a user (rate-limited on failures)."""
    username = body["username"].strip()
    with services().db.session() as s:
        user = s.scalar(select(User).where(User.username == username)) if username else None
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, body["password"]) and user is not None
        if not ok or not user.active:
            audit.record(
                s,
                "sign_in_failed",
                actor=None,
                username=username[:80] or None,
                channel="api",
                reason="disabled" if (ok and user is not None and not user.active) else "bad_credentials",
                remote=request.remote_addr,
            )
            failed = True
        else:
            failed = False
            raw, row = tokens.issue(s, user, ttl=token_ttl(), name=body.get("name"), remote=request.remote_addr)
            expires_at = row.expires_at
    if failed:
        raise Unauthorized("wrong username or password")
    return {"token": raw, "token_type": "Bearer", "expires_at": expires_at}


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401)
def revoke_token():
    """Revoke the token this request presents; it stops working at once."""
    with services().db.session() as s:
        tokens.revoke(s, g.api_token_id, actor=g.api_principal.username)
    return None
