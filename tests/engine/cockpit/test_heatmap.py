"""The duration heatmap's figures (engine/cockpit/heatmap.py) on tests/metrics_data.py's clues.

办结销号 arrives when the disposal is approved and is done at closure: A (信访, ``gt_p5_clue`` ``t_close``)
8 → 22 April 10 working days; the clues handed over by 巡察 and 审计 close at ``t_close_ho`` (due half a
year from the handover): B 3 April → 6 May 20 (劳动节 in between), C 9 → 10 April 1; median 10.5,
P90 1 + (20 − 1) × 0.9 = 18.1. 处置审批 (``gt_p5_disposal`` ``t_appr``): A 4, B 2, C 1; median 2.
"""

from __future__ import annotations

import pytest

from engine.cockpit import operations
from engine.errors import Forbidden, ValidationError

from .test_metrics import APRIL_MAY, frozen, seeded, services, walk, who  # noqa: F401 - the seeded clues


def test_each_step_median_and_p90_in_working_days(services, seeded):  # noqa: F811
    boss = who(services, "machengzhi")
    h = operations.duration_heatmap(services, boss, process_key="gt_p5_clue", **APRIL_MAY)
    cells = {c.element: c for c in h.cells}
    close = cells["t_close"]
    assert (close.count, close.median_workdays, close.p90_workdays) == (1, 10.0, 10.0)
    handed = cells["t_close_ho"]
    assert (handed.count, handed.median_workdays, handed.p90_workdays) == (2, 10.5, pytest.approx(18.1))
    assert h.cells[0].element == "t_close_ho" and h.max_median == 10.5  # slowest first
    assert 'id="t_close"' in h.xml and h.process_key == "gt_p5_clue"
    disposal = operations.duration_heatmap(services, boss, process_key="gt_p5_disposal", **APRIL_MAY)
    appr = next(c for c in disposal.cells if c.element == "t_appr")
    assert (appr.count, appr.median_workdays) == (3, 2.0)


def test_a_neighbour_counts_none_and_bad_input_is_refused(services, seeded):  # noqa: F811
    neighbour = operations.duration_heatmap(services, who(services, "lixin"), process_key="gt_p5_clue", **APRIL_MAY)
    assert neighbour.cells == []
    boss = who(services, "machengzhi")
    for bad, field in (({"process_key": "gt_nothing"}, "process"), ({"process_key": ""}, "process")):
        with pytest.raises(ValidationError) as err:
            operations.duration_heatmap(services, boss, **bad)
        assert field in err.value.fields
    with pytest.raises(ValidationError) as err:
        operations.duration_heatmap(services, boss, process_key="gt_p5_clue", date_from="2024-13-01")
    assert "date_from" in err.value.fields
    with pytest.raises(Forbidden):
        operations.duration_heatmap(services, who(services, "wangfang"), process_key="gt_p5_clue")
