"""The instance diagram (engine/instances/diagram.py) as JSON, for the instance pages and the API alike.

Pages embed it in a non-executed ``application/json`` block that web/static/js/instance-diagram.js
reads (CSP allows no inline script); the API returns it from ``GET /api/v1/instances/<id>/diagram``.
Times are ISO 8601 strings; names appear only where the engine left them (its ``level``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from engine.instances.diagram import MARKERS, InstanceDiagram

from .studio import layout


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@functools.lru_cache(maxsize=64)
def _drawable(xml: str, filename: str) -> str:
    """The file with a layout where it has none, once per deployed file: the XML comes from the engine's
    per-version cache (engine/instances/drawing.py) as the same string, whose hash Python keeps, so a
    hit costs no parse and no copy."""
    return layout.ensure_diagram(xml, filename)[0]


def as_json(d: InstanceDiagram, *, drawable: bool = False) -> dict[str, Any]:
    """``drawable``: give the XML a generated layout when the file has none (bpmn-js draws only elements
    with diagram interchange); the API returns the file as deployed."""
    xml = _drawable(d.xml, d.filename) if drawable else d.xml
    return {
        "instance_id": d.instance_id,
        "process_key": d.process_key,
        "version": d.version,
        "filename": d.filename,
        "level": d.level,
        "xml": xml,
        "path": list(d.path),
        "elements": {
            e.id: {
                "markers": [m for m in MARKERS if m in e.markers],
                "waiting_until": _iso(e.waiting_until),
                "error": e.error,
                "visits": [
                    {
                        "task_id": v.task_id,
                        "name": v.name,
                        "status": v.status,
                        "holder": v.holder,
                        "holder_name": v.holder_name,
                        "started_at": _iso(v.started_at),
                        "finished_at": _iso(v.finished_at),
                        "seconds": v.seconds,
                        "workdays": v.workdays,
                        "due_at": _iso(v.due_at),
                        "due_state": v.due_state,
                        "due_estimated": v.due_estimated,
                        "late": v.late,
                    }
                    for v in e.visits
                ],
            }
            for e in sorted(d.elements.values(), key=lambda e: e.id)
        },
    }
