"""Liveness and readiness for load balancers and ``make run`` smoke checks (no data is exposed)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    services = current_app.extensions["guantong"]
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify(status="ok")
