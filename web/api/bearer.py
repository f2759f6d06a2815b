"""The API's door: the bearer token on each request, the token lifetime, and the limit on failed requests.

Which principal a token acts for is the engine's answer (engine.access.accounts.authenticate_token);
this module only reads the ``Authorization`` header, never the session cookie, and keeps the per-address
limit on failed token requests (HTTP clients are a web concern).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from flask import Flask, current_app, g, request

from engine.access import accounts
from engine.access.principal import Principal
from engine.errors import EngineError

from ..context import services

TOKEN_ENDPOINT = "Auth.issue_token"  # noqa: S105 - an endpoint name, not a secret
PASSWORD_ENDPOINT = "Auth.change_password"  # noqa: S105 - an endpoint name, not a secret
# Endpoints reachable without a token: the token request, the password change (and the document).
PUBLIC_ENDPOINTS = {TOKEN_ENDPOINT, PASSWORD_ENDPOINT}


class Unauthorized(EngineError):
    status = 401
    code = "unauthorized"


def bearer() -> tuple[Principal, int]:
    """The principal of the request's bearer token and the token's id; 401 without a live one."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>' (get one from POST /api/v1/auth/token)")
    found = accounts.authenticate_token(services(), raw.strip())
    if found is None:
        raise Unauthorized("the token is unknown, expired or revoked")
    return found


def token_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config["API_TOKEN_TTL"]))


def install(app: Flask, blueprints: Collection[str]) -> None:
    """Require a token on every request to ``blueprints`` (except the token request) and limit failures."""

    @app.before_request
    def authenticate():
        if request.blueprint not in blueprints or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        g.api_principal, g.api_token_id = bearer()
        return None

    limiter = app.extensions["guantong_limiter"]
    for endpoint in (TOKEN_ENDPOINT, PASSWORD_ENDPOINT):
        app.view_functions[endpoint] = limiter.limit(
            lambda: app.config["API_TOKEN_RATE_LIMIT"],
            methods=["POST"],
            deduct_when=lambda response: response.status_code in (401, 429),
            scope="api_credentials",
        )(app.view_functions[endpoint])
