"""Seed the demo county: its organisation and a handful of instances at different stages."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select

from . import audit
from .errors import EngineError
from .models import ProcessInstance
from .organisation import import_organisation, load_file
from .principal import load_principal

log = logging.getLogger(__name__)

# (process id, business key, start data, username who starts it)
DEMO_INSTANCES: list[tuple[str, str | None, dict, str]] = []


def seed_demo(services, organisation: str | Path, *, with_instances: bool = True) -> dict:
    data = load_file(organisation)
    with services.db.session() as session:
        latest = services.definitions.latest_version_id(session)
        known_roles = None
        if latest is not None:
            known_roles = set(services.definitions.loaded(latest).roles.roles)
        counts = import_organisation(session, data, known_roles=known_roles)
        audit.record(session, "organisation_imported", actor="system", **counts)
        existing = session.scalar(select(func.count()).select_from(ProcessInstance))
    started = []
    if with_instances and not existing:
        for process_key, business_key, start_data, username in DEMO_INSTANCES:
            try:
                with services.db.session() as session:
                    actor = load_principal(session, username)
                outcome = services.runtime.start(process_key, actor=actor, business_key=business_key, data=start_data)
                started.append(outcome.instance_id)
            except EngineError as exc:
                log.warning("demo instance %s not started: %s", process_key, exc)
    return {**counts, "instances_started": len(started)}
