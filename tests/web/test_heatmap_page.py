"""``/cockpit/heatmap`` on tests/metrics_data.py's clues: the figures embedded for the diagram, the
table under it, a 422 naming the field for a bad date or process, managers only."""

from __future__ import annotations

import json
import re

from tests.web.test_metrics import PERIOD, app, boss, frozen  # noqa: F401 - the seeded app

from .conftest import Client


def embedded(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="heatmap-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def test_the_page_embeds_each_steps_band_and_figures(boss):  # noqa: F811
    page = boss.get(f"/cockpit/heatmap?process=gt_p5_clue&{PERIOD}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = embedded(html)
    handed = data["cells"]["t_close_ho"]  # the clues handed over by 巡察 and 审计 close here
    assert (handed["count"], handed["median_workdays"], handed["band"]) == (2, 10.5, 4)  # the slowest: the top band
    close = data["cells"]["t_close"]
    assert (close["count"], close["median_workdays"], close["band"]) == (1, 10.0, 4)
    assert data["process_key"] == "gt_p5_clue" and "<bpmndi:BPMNDiagram" in data["xml"]
    assert 'data-testid="heatmap-legend"' in html and "7.9–10.5" in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    metrics = boss.get(f"/cockpit/metrics?{PERIOD}").get_data(as_text=True)
    assert "/cockpit/heatmap?date_from=2024-04-01&amp;date_to=2024-05-31" in metrics


def test_bad_input_and_other_people_are_refused(app, boss):  # noqa: F811
    assert boss.get("/cockpit/heatmap?process=gt_nothing").status_code == 422
    bad = boss.get("/cockpit/heatmap?process=gt_p5_clue&date_from=2024-02-30")
    assert bad.status_code == 422 and 'data-testid="error-date_from"' in bad.get_data(as_text=True)
    officer = Client(app)
    assert officer.login("wangfang").status_code == 302
    assert officer.get("/cockpit/heatmap?process=gt_p5_clue").status_code == 403
