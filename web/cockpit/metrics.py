"""The cockpit's outcome metrics page (成效指标) and every cockpit table's CSV/XLSX export.

``/cockpit/metrics`` reads the period, the baseline and the slice from the query string and calls
``operations.outcome_metrics`` (who may, and which commissions count, is decided there); a bad date or
slice is the same page again with a 422 naming the field, nothing computed. Its charts are drawn by
web/static/js/cockpit-metrics.js from the JSON the page embeds in a ``<script type="application/json">``
block (data, never run: the CSP allows no inline script). The tables under them are the export's tables
(web/cockpit/tables.py), so the page and the file cannot differ.

``/cockpit/export/<table>.<csv|xlsx>`` exports one cockpit page (metrics, overview, instances, deadlines,
durations, failed) with the query string's filters, through the same use case as the page, audited as
an export by ``operations.export_tables``.
"""

from __future__ import annotations

import dataclasses

from flask import abort, current_app, render_template, request
from flask_login import login_required
from werkzeug.wrappers import Response

from engine.cockpit import operations
from engine.cockpit.export import FORMATS, Export
from engine.cockpit.snapshots import Dated
from engine.errors import ValidationError
from engine.instances import operations as instance_ops

from ..security import principal, services
from ..usecases import on_page
from . import tables
from .instances import _filter_from_args, _params
from .views import _int, _soon, bp

EXPORT_MAX_INSTANCES = 5000  # the instance list's export: the newest rows up to this many, and says so
METRIC_ARGS = ("date_from", "date_to", "base_from", "base_to", "slice")


def _metric_args() -> dict[str, str | None]:
    return {name: (request.args.get(name) or "").strip()[:40] or None for name in METRIC_ARGS}


def _metrics() -> operations.metrics.Metrics:
    return _metrics_dated().data


def _metrics_dated() -> Dated[operations.metrics.Metrics]:
    args = _metric_args()
    return operations.metrics_dated(
        services(),
        principal(),
        date_from=args["date_from"],
        date_to=args["date_to"],
        base_from=args["base_from"],
        base_to=args["base_to"],
        slice_by=args["slice"],
    )


@bp.get("/metrics")
@login_required
def metrics() -> tuple[str, int] | str:
    try:
        dated = _metrics_dated()
    except ValidationError as exc:
        return render_template(
            "cockpit/metrics.html", data=None, errors=exc.fields, args=_metric_args(), slices=tables.SLICE_NAMES
        ), 422
    data = dated.data
    return render_template(
        "cockpit/metrics.html",
        data=data,
        as_of=dated,
        errors={},
        args=data.query.params(),
        export=tables.metrics_export(data),
        charts=tables.metrics_charts(data),
        slices=tables.SLICE_NAMES,
        metric_names=tables.METRIC_NAMES,
    )


def _page_export(page: str) -> Export:
    """The page's tables built from the same use case the page calls, with the query string's filters."""
    s, p = services(), principal()
    if page == "metrics":
        return tables.metrics_export(_metrics())
    if page == "overview":
        return tables.overview_export(operations.overview(s, p, soon_workdays=_soon()))
    if page == "deadlines":
        return tables.deadlines_export(operations.deadlines(s, p, soon_workdays=_soon()))
    if page == "durations":
        return tables.durations_export(
            operations.durations(
                s,
                p,
                process_key=request.args.get("process"),
                sample_limit=current_app.config.get("DURATION_SAMPLE_LIMIT", 20000),
            )
        )
    if page == "failed":
        return tables.failed_export(operations.failed(s, p, page=_int(request.args.get("page"))))
    if page == "instances":
        f = dataclasses.replace(_filter_from_args(), page=1, per_page=EXPORT_MAX_INSTANCES)
        listing = on_page(instance_ops.list_instances, s, p, f, oversight=True)
        return tables.instances_export(listing, _params(f))
    abort(404)


EXPORT_PAGES = ("metrics", "overview", "instances", "deadlines", "durations", "failed")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/export/<table>.<fmt>")
@login_required
def export(table: str, fmt: str) -> Response:
    """``table`` names the page whose tables are exported (``EXPORT_PAGES``)."""
    page = table
    if page not in EXPORT_PAGES or fmt not in FORMATS:
        abort(404)
    built = _page_export(page)
    body = operations.export_tables(services(), principal(), built, fmt, params=request.args.to_dict())
    stamp = built.lines[0][1].replace(" – ", "_") if page == "metrics" else ""  # the period, in the name
    filename = f"guantong-{page}-{stamp}.{fmt}" if stamp else f"guantong-{page}.{fmt}"
    return Response(
        body,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
