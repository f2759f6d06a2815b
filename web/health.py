"""Probes and metrics for load balancers and monitoring (no case data is exposed).

``/healthz``: the database answers. ``/readyz``: everything a request needs (engine/health.py
``readiness``), 503 naming what is not ready. ``/metrics``: Prometheus (web/observability.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine import health

from . import observability
from .context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(health.check(services()))


@bp.get("/readyz")
def readyz():
    checks = health.readiness(services())
    ready = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ok" if ready else "not ready", **checks}), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    return observability.metrics()
