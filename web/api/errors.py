"""One error shape for every failure under /api: ``{"error": {"code", "message", "details"}}``.

A client must never have to parse an HTML page. Routing errors (404, 405) happen before any blueprint
is chosen and the web app answers them with pages, so the app's exception entry point is wrapped:
under the API prefix every exception, from Flask, webargs, the rate limiter or the engine, becomes the
envelope; elsewhere the web's own handlers run unchanged.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from engine.errors import EngineError, Forbidden, NotVisible

from ..security import audit_denial

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
}


def envelope(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request(prefix: str) -> bool:
    return request.path == prefix or request.path.startswith(prefix + "/")


def _flatten(messages, path: str = "") -> dict[str, str]:
    """marshmallow's nested messages as ``{field path: message}``, like engine ValidationError.fields."""
    if isinstance(messages, dict):
        out: dict[str, str] = {}
        for key, value in messages.items():
            child = f"{path}.{key}" if path else str(key)
            out.update(_flatten(value, child))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {path: "; ".join(messages)}
    if isinstance(messages, list):
        out = {}
        for i, value in enumerate(messages):
            out.update(_flatten(value, f"{path}[{i}]"))
        return out
    return {path: str(messages)}


def _http(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = dict(data.get("headers") or {})
    details: dict = {}
    messages = data.get("messages")
    if messages:
        # webargs: {"json": {...}} or {"query": {...}}, keyed by where the bad input was.
        locations = list(messages) if isinstance(messages, dict) else []
        fields: dict[str, str] = {}
        for location in locations:
            fields.update(_flatten(messages[location]))
        details = {"fields": fields, "location": locations[0] if len(locations) == 1 else locations}
        message = "request validation failed" if status == 422 else "the request could not be read"
    else:
        message = exc.description or exc.name
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        details["allowed"] = sorted(allowed)
        headers["Allow"] = ", ".join(sorted(allowed))
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="guantong"')
    return envelope(status, CODES.get(status, "http_error"), message, details, headers)


def record_denial(exc: Forbidden) -> None:
    """Like the web's refusal pages (the same engine recorder), leave an ``access_denied`` event naming who tried what."""
    principal = g.get("api_principal")
    audit_denial(exc, actor=principal.username if principal else None, channel="api")


def to_response(exc: BaseException):
    if isinstance(exc, EngineError):
        if isinstance(exc, Forbidden):
            record_denial(exc)
        if isinstance(exc, NotVisible):
            exc = exc.public()  # outside the need to know: answered like a missing record
        status = exc.status if 400 <= exc.status < 600 else 500
        if status >= 500:
            log.error("engine error on %s %s: %s", request.method, request.path, exc, exc_info=exc)
            return envelope(status, exc.code, "the server could not complete the request")
        headers = {"WWW-Authenticate": 'Bearer realm="guantong"'} if status == 401 else None
        return envelope(status, exc.code, exc.message, exc.details, headers)
    if isinstance(exc, HTTPException):
        return _http(exc)
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return envelope(500, "internal_error", "the server could not complete the request")


def install(app: Flask, prefix: str) -> None:
    """Answer every exception under ``prefix`` with the envelope, before the web's page handlers."""
    handle_user_exception = app.handle_user_exception
    handle_exception = app.handle_exception

    def api_user_exception(exc):
        if is_api_request(prefix):
            if isinstance(exc, RoutingException) and not isinstance(exc, HTTPException):
                return handle_user_exception(exc)
            if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 400:
                return handle_user_exception(exc)  # redirects (e.g. a missing trailing slash)
            return to_response(exc)
        return handle_user_exception(exc)

    def api_exception(exc):
        if is_api_request(prefix):
            return to_response(exc)
        return handle_exception(exc)

    # Instance attributes shadow the Flask methods for this app only; other apps are untouched.
    app.handle_user_exception = api_user_exception
    app.handle_exception = api_exception
