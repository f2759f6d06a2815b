"""The metrics computed the cheaper way (issue 16: province scale) say what the plain way says.

``compute`` reads the period's and the baseline's instances once for both (engine/cockpit/metrics.py
``_Instances``) and, when the two are disjoint, scans the steps once for both (``_Reader.batched``); the
database counts the overdue steps per instance and slice. Checked here against each period computed on
its own (no sharing, no batching), and against the overdue rule applied step by step in Python (the
computation these replaced), on the clues of tests/metrics_data.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from engine import clock
from engine.cockpit import metrics
from engine.models import HumanTask, ProcessInstance
from tests.engine.cockpit.test_metrics import frozen, overdue_seeded, seeded, services, walk  # noqa: F401
from tests.metrics_data import at


def separately(session, query: metrics.MetricsQuery, now: dt.datetime) -> tuple:
    """Each period with a reader of its own: nothing shared between them."""
    baseline = query.baseline or query.period.previous()
    return tuple(
        metrics.period_figures(session, scope=None, period=period, dimension=query.slice, now=now)
        for period in (query.period, baseline)
    )


def test_the_period_and_its_baseline_share_instances_but_not_figures(services, seeded):  # noqa: F811
    now = clock.now()
    queries = [
        metrics.MetricsQuery.parse(date_from="2024-04-01", date_to="2024-05-31", slice_by=dimension, today=now.date())
        for dimension in metrics.SLICES
    ]
    # a baseline after the period, then overlapping periods (scanned one at a time): the same instances'
    # events read for both, counted in each once
    queries.append(
        metrics.MetricsQuery.parse(
            date_from="2024-04-01", date_to="2024-04-30", base_from="2024-05-01", base_to="2024-06-30"
        )
    )
    queries.append(
        metrics.MetricsQuery.parse(
            date_from="2024-04-01", date_to="2024-05-31", base_from="2024-04-15", base_to="2024-06-30"
        )
    )
    with services.db.session() as s:
        for query in queries:
            m = metrics.compute(s, scope=None, query=query, now=now)
            current, baseline = separately(s, query, now)
            assert m.current == current and m.baseline == baseline, query
            closed = {"2024-04-30": 2, "2024-05-31": 3}[query.period.end.isoformat()]  # A, C (April); B (May)
            assert m.current.cycle("register_close").count == closed


def stepwise_overdue(session, period: metrics.Period, now: dt.datetime, dimension: str) -> dict[str, tuple[int, int]]:
    """The overdue rule applied to each step in Python: (due in the period, late) per slice value."""
    begin, after = period.bounds()
    cutoff = min(after, now)
    rows = session.execute(
        select(
            HumanTask.instance_id,
            HumanTask.stage,
            HumanTask.mechanism,
            HumanTask.platform,
            HumanTask.status,
            HumanTask.due_at,
            HumanTask.completed_at,
            ProcessInstance.owner_unit,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.due_at >= begin, HumanTask.due_at < after, HumanTask.status.in_(("ready", "completed")))
    ).all()
    linkage = {
        instance_id: metrics.linkage_mode(
            session.scalars(select(HumanTask.process_key).where(HumanTask.instance_id == instance_id))
        )
        for instance_id in {r.instance_id for r in rows}
    }
    out: dict[str, tuple[int, int]] = {}
    for r in rows:
        late = (r.completed_at is not None and r.completed_at > r.due_at) or (r.status == "ready" and r.due_at < cutoff)
        key = {
            "all": "",
            "stage": r.stage or "",
            "mechanism": r.mechanism or "",
            "platform": r.platform or "",
            "unit": r.owner_unit or "",
            "linkage": linkage[r.instance_id],
        }[dimension]
        total, hits = out.get(key, (0, 0))
        out[key] = (total + 1, hits + int(late))
    return out


def test_overdue_counted_by_the_database_as_step_by_step(services, frozen, overdue_seeded):  # noqa: F811
    period = metrics.Period(dt.date(2024, 4, 1), dt.date(2024, 5, 31))
    for day in (6, 8):  # O's 审核 (due 7 May) still open: on the 8th it is late too
        at(frozen, 2024, 5, day)
        now = clock.now()
        with services.db.session() as s:
            for dimension in metrics.SLICES:
                figures = metrics.period_figures(s, scope=None, period=period, dimension=dimension, now=now)
                expected = stepwise_overdue(s, period, now, dimension)
                assert {r.slice: (r.total, r.hits) for r in figures.overdue_sliced} == expected
                if dimension == "unit":
                    assert {u.unit: (u.due, u.overdue) for u in figures.by_unit if u.due} == expected
        assert dataclasses.astuple(figures.overdue)[1:] == ((4, 1) if day == 6 else (4, 2))
