"""Readiness of the engine for probes (load balancers, ``make run`` smoke checks): no data is exposed."""

from __future__ import annotations

from sqlalchemy import text

from engine.services import Services


def check(services: Services) -> dict[str, str]:
    """``{"status": "ok"}`` when the database answers; raises whatever the driver raises when it does not."""
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
