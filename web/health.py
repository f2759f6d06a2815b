"""Liveness and readiness for load balancers and ``make run`` smoke checks (no data is exposed)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine import health

from .context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(health.check(services()))
