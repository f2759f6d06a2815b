"""``POST /cockpit/refresh``: the 刷新 button of every figure page (issue 16).

The pages show figures the worker keeps as snapshots (engine/cockpit/snapshots.py), with when they were
computed. The button asks the page's own use case for them again with ``fresh``: the use case authorizes
and scopes as for the page, and recomputes only figures older than the snapshot's minimum age, so pressing
it again and again costs nothing more. Then back to the page, with its parameters. Not audited: reading
the cockpit's pages is not (their exports are, engine/cockpit/operations.py ``export_tables``), and a
recompute shows nothing the page did not.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine.cockpit import operations
from engine.cockpit.snapshots import Dated

from ..security import principal, services
from .views import _soon, bp

PAGES = {
    "overview": ("cockpit.index", ()),
    "deadlines": ("cockpit.deadlines", ()),
    "durations": ("cockpit.durations", ("process",)),
    "metrics": ("cockpit.metrics", ("date_from", "date_to", "base_from", "base_to", "slice")),
    "heatmap": ("cockpit.heatmap", ("process", "date_from", "date_to")),
}


@bp.post("/refresh")
@login_required
def refresh() -> Response:
    page = request.form.get("page", "")
    if page not in PAGES:
        abort(404)
    endpoint, names = PAGES[page]
    args = {name: (request.form.get(name) or "").strip()[:120] or None for name in names}
    s, p = services(), principal()
    dated: Dated[object]
    if page == "overview":
        dated = operations.overview_dated(s, p, soon_workdays=_soon(), fresh=True)  # type: ignore[assignment]
    elif page == "deadlines":
        dated = operations.deadlines_dated(s, p, soon_workdays=_soon(), fresh=True)  # type: ignore[assignment]
    elif page == "durations":
        limit = current_app.config.get("DURATION_SAMPLE_LIMIT", 20000)
        dated = operations.durations_dated(s, p, process_key=args["process"], sample_limit=limit, fresh=True)  # type: ignore[assignment]
    elif page == "metrics":
        dated = operations.metrics_dated(  # type: ignore[assignment]
            s,
            p,
            date_from=args["date_from"],
            date_to=args["date_to"],
            base_from=args["base_from"],
            base_to=args["base_to"],
            slice_by=args["slice"],
            fresh=True,
        )
    else:
        dated = operations.heatmap_dated(  # type: ignore[assignment]
            s, p, process_key=args["process"], date_from=args["date_from"], date_to=args["date_to"], fresh=True
        )
    if dated.from_snapshot:
        flash(_("数据刚刚更新过，请稍后再刷新。"), "info")
    else:
        flash(_("已重新计算。"), "success")
    return redirect(url_for(endpoint, **{k: v for k, v in args.items() if v is not None}))
