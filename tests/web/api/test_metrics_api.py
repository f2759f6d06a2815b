"""GET /api/v1/metrics: the metrics page's figures as JSON, on tests/metrics_data.py's seeded clues
(the same hand-computed figures as tests/engine/cockpit/test_metrics.py), the same filters and rule."""

from __future__ import annotations

import pytest

from engine import clock
from engine.config import Config
from engine.services import Services
from tests.metrics_data import START, seed_clues
from tests.processes.driver import PROCESSES, Walk
from web import create_app

from .conftest import Api, error_of, mint_token

APRIL_MAY = "date_from=2024-04-01&date_to=2024-05-31"


@pytest.fixture
def frozen():
    with clock.frozen(START) as f:
        yield f


@pytest.fixture
def services(db, frozen, tmp_path):
    seed_clues(Walk(db, frozen), frozen)
    config = Config(
        database_url=db.url,
        processes_dir=PROCESSES,
        instance_dir=tmp_path,
        secret_key="test-secret-key-for-metrics-api",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    return Services(config, db=db)


@pytest.fixture
def api_as(services):
    app = create_app(services=services, TESTING=True)

    def make(username: str) -> Api:
        return Api(app.test_client(), mint_token(services, username))

    return make


def test_the_figures_of_the_page_as_json(api_as):
    resp = api_as("machengzhi").get(f"/metrics?{APRIL_MAY}&slice=linkage")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    cur = body["current"]
    assert body["slice"] == "linkage" and body["baseline_chosen"] is False
    assert cur["period"] == {"start": "2024-04-01", "end": "2024-05-31"}
    assert body["baseline"]["period"] == {"start": "2024-01-31", "end": "2024-03-31"}
    cycles = {s["metric"]: (s["count"], s["median"]) for s in cur["cycles"]}
    assert cycles["register_close"] == (3, 14.0) and cycles["register_dispose"] == (3, 2.0)
    close = {s["slice"]: s["median"] for s in cur["sliced"] if s["metric"] == "register_close"}
    assert close == {"none": 14.0, "shizudi": 22.0, "zone": 2.0}
    assert cur["four_forms"] == {"first": 1, "second": 0, "third": 0, "fourth": 0, "none": 2}
    assert cur["funnel"] == [
        {"name": "registered", "count": 3},
        {"name": "disposed", "count": 3},
        {"name": "case_filed", "count": 0},
        {"name": "closed", "count": 3},
    ]
    assert cur["on_time"] == {"slice": "", "total": 0, "hits": 0, "rate": None}


def test_bad_filters_and_callers_are_refused(api_as):
    boss = api_as("machengzhi")
    bad = boss.get("/metrics?date_from=2024-05-01&date_to=2024-04-01")
    assert bad.status_code == 422 and "date_to" in str(error_of(bad)["details"])
    assert boss.get("/metrics?slice=colour").status_code == 422
    officer = api_as("wangfang").get(f"/metrics?{APRIL_MAY}")  # no cockpit role
    assert officer.status_code == 403 and error_of(officer)["code"] == "forbidden"
