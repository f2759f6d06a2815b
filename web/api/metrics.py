"""The outcome metrics as JSON (issue 16): the metrics page's figures for a program or a spreadsheet.

The same use case as the page (engine/cockpit/operations.py ``outcome_metrics``), the same filters
(period, baseline, slice) and the same rule: cockpit roles only, figures of the caller's commission and
the commissions under it; ``computed_at`` says when the figures were computed (engine/cockpit/snapshots.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from engine.cockpit import metrics as figures
from engine.cockpit import operations as cockpit

from .common import documents, principal, services
from .parsing import Blueprint
from .schemas import QuerySchema, Text

blp = Blueprint("Metrics", __name__, description="Outcome metrics of the cockpit")


class MetricsQuerySchema(QuerySchema):
    date_from = Text(max_length=10, metadata={"description": "first day, YYYY-MM-DD (default: six months back)"})
    date_to = Text(max_length=10, metadata={"description": "last day, YYYY-MM-DD (default: today)"})
    base_from = Text(max_length=10, metadata={"description": "baseline's first day (default: the previous period)"})
    base_to = Text(max_length=10, metadata={"description": "baseline's last day"})
    slice = fields.String(load_default="all", validate=validate.OneOf(figures.SLICES))


class PeriodSchema(ma.Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class StatSchema(ma.Schema):
    metric = fields.String(required=True)
    slice = fields.String(required=True)
    count = fields.Integer(required=True)
    median = fields.Float(allow_none=True, metadata={"description": "working days"})
    p90 = fields.Float(allow_none=True)
    mean = fields.Float(allow_none=True)


class RateSchema(ma.Schema):
    slice = fields.String(required=True)
    total = fields.Integer(required=True)
    hits = fields.Integer(required=True)
    rate = fields.Float(allow_none=True)


class EffortSchema(ma.Schema):
    slice = fields.String(required=True)
    cases = fields.Integer(required=True)
    workdays = fields.Integer(required=True, metadata={"description": "person-working-days"})
    hours = fields.Float(required=True)
    median_workdays = fields.Float(allow_none=True)


class CountSchema(ma.Schema):
    name = fields.String(required=True)
    count = fields.Integer(required=True)


class MonthSchema(ma.Schema):
    month = fields.String(required=True)
    registered = fields.Integer(required=True)
    disposed = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    median_register_close = fields.Float(allow_none=True)


class UnitSchema(ma.Schema):
    unit = fields.String(required=True)
    registered = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    median_register_dispose = fields.Float(allow_none=True)
    median_dispose_close = fields.Float(allow_none=True)
    overdue = fields.Integer(required=True)
    due = fields.Integer(required=True)


class FiguresSchema(ma.Schema):
    period = fields.Nested(PeriodSchema, required=True)
    cycles = fields.List(fields.Nested(StatSchema), required=True)
    sliced = fields.List(fields.Nested(StatSchema), required=True)
    platform_cycles = fields.List(fields.Nested(StatSchema), required=True)
    overdue = fields.Nested(RateSchema, required=True)
    overdue_sliced = fields.List(fields.Nested(RateSchema), required=True)
    on_time = fields.Nested(RateSchema, required=True)
    on_time_sliced = fields.List(fields.Nested(RateSchema), required=True)
    four_forms = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    sources = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    effort = fields.Nested(EffortSchema, required=True)
    effort_sliced = fields.List(fields.Nested(EffortSchema), required=True)
    funnel = fields.List(fields.Nested(CountSchema), required=True)
    stages = fields.List(fields.Nested(CountSchema), required=True)
    monthly = fields.List(fields.Nested(MonthSchema), required=True)
    by_unit = fields.List(fields.Nested(UnitSchema), required=True)


class MetricsSchema(ma.Schema):
    computed_at = fields.DateTime(
        required=True, metadata={"description": "when these figures were computed (the worker keeps them current)"}
    )
    from_snapshot = fields.Boolean(required=True, metadata={"description": "read from the kept figures"})
    slice = fields.String(required=True)
    baseline_chosen = fields.Boolean(required=True)
    current = fields.Nested(FiguresSchema, required=True)
    baseline = fields.Nested(FiguresSchema, required=True)


def _rate(rate: figures.Rate) -> dict[str, Any]:
    return {**dataclasses.asdict(rate), "rate": rate.rate}


def _figures(f: figures.PeriodFigures) -> dict[str, Any]:
    plain = dataclasses.asdict(f)
    for name in ("overdue", "on_time"):
        plain[name] = _rate(getattr(f, name))
    for name in ("overdue_sliced", "on_time_sliced"):
        plain[name] = [_rate(r) for r in getattr(f, name)]
    for name in ("funnel", "stages"):
        plain[name] = [{"name": n, "count": c} for n, c in getattr(f, name)]
    plain["four_forms"], plain["sources"] = dict(f.four_forms), dict(f.sources)
    return plain


@blp.route("/metrics", methods=["GET"])
@blp.arguments(MetricsQuerySchema, location="query")
@blp.response(200, MetricsSchema)
@documents(blp, 401, 403, 422)
def outcome_metrics(args):
    """The period's outcome metrics and its baseline's (cockpit roles only)."""
    dated = cockpit.metrics_dated(
        services(),
        principal(),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        base_from=args.get("base_from"),
        base_to=args.get("base_to"),
        slice_by=args["slice"],
    )
    m = dated.data
    return {
        "computed_at": dated.computed_at,
        "from_snapshot": dated.from_snapshot,
        "slice": m.slice,
        "baseline_chosen": m.baseline_chosen,
        "current": _figures(m.current),
        "baseline": _figures(m.baseline),
    }
