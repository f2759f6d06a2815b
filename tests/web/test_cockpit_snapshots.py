"""The cockpit's pages say when their figures were computed, and 刷新 recomputes them (a CSRF-checked POST).

The snapshots are switched on (engine/cockpit/snapshots.py; a Config built directly leaves them off).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from engine import clock
from engine.models import CockpitSnapshot, User
from tests.web.api.conftest import Api, mint_token

PAGES = {
    "overview": "/cockpit/",
    "deadlines": "/cockpit/deadlines",
    "durations": "/cockpit/durations",
    "metrics": "/cockpit/metrics?date_from=2024-04-01&date_to=2024-05-31",
    "heatmap": "/cockpit/heatmap?process=gt_test_clue&date_from=2024-04-01&date_to=2024-05-31",
}
AT = dt.datetime(2024, 5, 6, 10, 0, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def frozen():
    with clock.frozen(AT) as f:
        yield f


@pytest.fixture
def snap(services, start_clue, frozen):
    services.config.cockpit_snapshots = True
    start_clue()
    return services


def _count(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(CockpitSnapshot)) or 0


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_figure_page_shows_when_its_figures_were_computed(snap, client_for, frozen, page):
    c = client_for("boss")
    first = c.get(PAGES[page])
    assert first.status_code == 200
    assert "数据更新于 10:00（刚刚）" in first.get_data(as_text=True)
    frozen.advance(minutes=12)
    html = c.get(PAGES[page]).get_data(as_text=True)
    assert "数据更新于 10:00（12 分钟前）" in html and 'data-testid="refresh-form"' in html
    assert _count(snap) == 1


def test_the_age_line_is_english_for_an_english_reader(snap, client_for, frozen):
    with snap.db.session() as s:
        s.execute(update(User).where(User.username == "boss").values(locale="en"))
    c = client_for("boss")
    c.get("/cockpit/")
    frozen.advance(minutes=3)
    html = c.get("/cockpit/").get_data(as_text=True)
    assert "Figures as of 10:00 (3 min ago)" in html
    assert "Refresh" in html


def test_refresh_recomputes_a_stale_page_and_needs_csrf(snap, client_for, frozen):
    c = client_for("boss")
    c.get("/cockpit/deadlines")
    frozen.advance(minutes=10)
    refused = c.http.post("/cockpit/refresh", data={"page": "deadlines"})
    assert refused.status_code == 400  # no CSRF token: nothing recomputed
    assert "（10 分钟前）" in c.get("/cockpit/deadlines").get_data(as_text=True)
    resp = c.post("/cockpit/refresh", data={"page": "deadlines"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cockpit/deadlines")
    html = c.get("/cockpit/deadlines").get_data(as_text=True)
    assert "数据更新于 10:10（刚刚）" in html and "已重新计算。" in html


def test_refresh_keeps_the_pages_parameters_and_is_bounded(snap, client_for, frozen):
    c = client_for("boss")
    form = {"page": "metrics", "date_from": "2024-04-01", "date_to": "2024-05-31", "slice": "unit"}
    resp = c.post("/cockpit/refresh", data=form)  # absent: computed and stored
    assert resp.status_code == 302
    assert "date_from=2024-04-01" in resp.headers["Location"] and "slice=unit" in resp.headers["Location"]
    frozen.advance(seconds=5)
    c.post("/cockpit/refresh", data=form)  # 5 s old: kept, said so
    html = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "数据刚刚更新过" in html and "数据更新于 10:00（刚刚）" in html
    assert c.post("/cockpit/refresh", data={"page": "nope"}).status_code == 404
    bad = c.post("/cockpit/refresh", data={"page": "metrics", "date_from": "2024-13-01"})
    assert bad.status_code == 422


def test_refresh_is_refused_without_a_cockpit_role(snap, client_for):
    assert client_for("cm1").post("/cockpit/refresh", data={"page": "overview"}).status_code == 403
    assert _count(snap) == 0


def test_the_metrics_api_says_when_its_figures_were_computed(snap, app, frozen):
    api = Api(app.test_client(), mint_token(snap, "boss"))
    body = api.get("/metrics?date_from=2024-04-01&date_to=2024-05-31").get_json()
    assert body["from_snapshot"] is False
    assert dt.datetime.fromisoformat(body["computed_at"]) == AT
    frozen.advance(minutes=2)
    again = api.get("/metrics?date_from=2024-04-01&date_to=2024-05-31").get_json()
    assert again["from_snapshot"] is True and again["computed_at"] == body["computed_at"]
