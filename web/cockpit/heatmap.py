"""``/cockpit/heatmap``: a process's diagram coloured by the median time its steps took (issue 16).

Translates the query string (process, period) into ``operations.duration_heatmap`` and the result into
the page; web/static/js/cockpit-heatmap.js draws the diagram with bpmn-js and colours each step from
the JSON the page embeds (data, never run: the CSP allows no inline script). A bad date or an unknown
process is the same page again with a 422 naming the field.
"""

from __future__ import annotations

import math
from typing import Any

from flask import render_template, request
from flask_login import login_required

from engine.cockpit import operations
from engine.cockpit.heatmap import Heatmap
from engine.errors import ValidationError
from engine.instances import operations as instance_ops

from ..security import principal, services
from ..studio import layout
from .views import bp

BANDS = 5  # colour bands, from the quickest (0) to the slowest (4)


def band(median: float | None, top: float) -> int:
    """The colour band of a median on a scale up to ``top`` working days (0: none or the quickest)."""
    if not median or top <= 0:
        return 0
    return min(BANDS - 1, max(1, math.ceil(median / top * (BANDS - 1))))


def as_json(h: Heatmap) -> dict[str, Any]:
    top = h.max_median
    return {
        "process_key": h.process_key,
        "xml": layout.ensure_diagram(h.xml, h.filename)[0],
        "cells": {
            c.element: {
                "name": c.name,
                "count": c.count,
                "median_workdays": c.median_workdays,
                "p90_workdays": c.p90_workdays,
                "median_hours": c.median_hours,
                "band": band(c.median_workdays, top),
            }
            for c in h.cells
        },
    }


def legend(top: float) -> list[tuple[int, str]]:
    """Each band with the range of medians it stands for."""
    if top <= 0:
        return [(0, "0")]
    step = top / (BANDS - 1)
    return [(0, "0")] + [(b, f"{(b - 1) * step:.1f}–{b * step:.1f}") for b in range(1, BANDS)]


@bp.get("/heatmap")
@login_required
def heatmap() -> tuple[str, int] | str:
    args = {name: (request.args.get(name) or "").strip()[:120] or None for name in ("process", "date_from", "date_to")}
    processes = instance_ops.process_choices(services())
    if not args["process"]:
        args["process"] = processes[0][0] if processes else None
    try:
        dated = operations.heatmap_dated(
            services(), principal(), process_key=args["process"], date_from=args["date_from"], date_to=args["date_to"]
        )
    except ValidationError as exc:
        return render_template(
            "cockpit/heatmap.html", data=None, errors=exc.fields, args=args, processes=processes
        ), 422
    data = dated.data
    args["date_from"], args["date_to"] = data.period.start.isoformat(), data.period.end.isoformat()
    return render_template(
        "cockpit/heatmap.html",
        data=data,
        as_of=dated,
        drawn=as_json(data),
        legend=legend(data.max_median),
        errors={},
        args=args,
        processes=processes,
    )
