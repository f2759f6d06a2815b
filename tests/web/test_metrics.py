"""The metrics page and the cockpit's CSV/XLSX exports, on the seeded clues of tests/metrics_data.py.

The exports are parsed back (openpyxl, csv) and compared with the figures computed by hand there: the
page and the file hold the same tables, with the period and the slice written above them.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from engine import clock
from engine.config import Config
from engine.models import AuditEvent, User
from engine.services import Services
from tests.county import PASSWORD, password_hash
from tests.metrics_data import START, seed_clues
from tests.processes.driver import PROCESSES, Walk
from web import create_app

from .conftest import Client

PERIOD = "date_from=2024-04-01&date_to=2024-05-31"


@pytest.fixture
def frozen():
    with clock.frozen(START) as f:
        yield f


@pytest.fixture
def app(db, frozen, tmp_path):
    walk = Walk(db, frozen)
    seed_clues(walk, frozen)
    config = Config(
        database_url=db.url,
        processes_dir=PROCESSES,
        instance_dir=tmp_path,
        secret_key="test-secret-key-for-metrics",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    services = Services(config, db=db)
    with db.session() as s:
        s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
    return create_app(services=services, TESTING=True)


@pytest.fixture
def boss(app):
    c = Client(app)
    assert c.login("machengzhi", PASSWORD).status_code == 302
    return c


def test_the_page_embeds_the_charts_data_and_runs_no_inline_script(boss):
    page = boss.get(f"/cockpit/metrics?{PERIOD}&slice=linkage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for chart in ("trend", "units", "funnel", "slices"):
        assert f'data-chart="{chart}"' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "成效指标" in html and "2024-04-01 – 2024-05-31" in html
    assert re.search(r'data-metric="register_close">14\.0', html)


def test_bad_input_is_a_422_naming_the_field(boss):
    page = boss.get("/cockpit/metrics?date_from=2024-13-01")
    assert page.status_code == 422
    assert 'data-testid="error-date_from"' in page.get_data(as_text=True)
    assert boss.get("/cockpit/export/metrics.xlsx?slice=colour").status_code == 422
    assert boss.get("/cockpit/export/metrics.pdf").status_code == 404
    assert boss.get("/cockpit/export/secrets.csv").status_code == 404


def test_the_xlsx_holds_the_period_and_the_hand_computed_figures(app, boss, db):
    resp = boss.get(f"/cockpit/export/metrics.xlsx?{PERIOD}&slice=linkage")
    assert resp.status_code == 200
    assert "guantong-metrics-2024-04-01_2024-05-31.xlsx" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    about = book.worksheets[0]
    assert about["A1"].value == "成效指标"
    assert (about["A2"].value, about["B2"].value) == ("统计期间", "2024-04-01 – 2024-05-31")
    assert about["B4"].value == "联动方式"
    cycles = book["办理周期（工作日）"]
    rows = {r[0]: r for r in cycles.iter_rows(min_row=7, values_only=True)}
    assert rows["线索登记→办结销号"][1:4] == (3, 14, 20.4)
    assert rows["线索登记→作出处置"][1:4] == (3, 2, 3.6)
    assert cycles["B2"].value == "2024-04-01 – 2024-05-31"  # every sheet says its period
    sliced = book["办理周期按联动方式"]
    by_mode = {(r[0], r[1]): r[3] for r in sliced.iter_rows(min_row=7, values_only=True)}
    assert by_mode[("室组地联动", "线索登记→办结销号")] == 22
    assert by_mode[("乡镇片区协作", "线索登记→办结销号")] == 2
    assert by_mode[("未联动", "线索登记→办结销号")] == 14
    sources = {r[0]: r[1] for r in book["线索来源"].iter_rows(min_row=7, values_only=True)}
    assert (sources["信访举报"], sources["巡察移交"], sources["审计移交"]) == (1, 1, 1)  # 共和县's not counted
    with db.session() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "cockpit_exported")).one()
    assert event.actor == "machengzhi"
    assert (event.detail["page"], event.detail["format"]) == ("metrics", "xlsx")
    assert event.detail["filters"]["统计期间"] == "2024-04-01 – 2024-05-31"
    assert event.detail["params"] == {"date_from": "2024-04-01", "date_to": "2024-05-31", "slice": "linkage"}
    assert event.detail["rows"] > 0


def test_the_csv_holds_the_same_tables(boss):
    resp = boss.get(f"/cockpit/export/metrics.csv?{PERIOD}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["成效指标"] and rows[1] == ["统计期间", "2024-04-01 – 2024-05-31"]
    close = next(r for r in rows if r and r[0] == "线索登记→办结销号")
    assert close[1:4] == ["3", "14.0", "20.4"]
    funnel = rows.index(["线索办理漏斗（期内登记的线索）"])
    assert rows[funnel + 2 : funnel + 6] == [
        ["线索登记", "3", "0"],
        ["作出处置", "3", "0"],
        ["进入立案审查调查", "0", "0"],
        ["办结销号", "3", "0"],
    ]


def test_the_other_cockpit_pages_export_with_their_filters(boss):
    listing = load_workbook(io.BytesIO(boss.get("/cockpit/export/instances.xlsx?status=completed").data))
    sheet = listing["在办流程"]
    header = next(i for i, r in enumerate(sheet.iter_rows(values_only=True), start=1) if r[0] == "业务编号")
    keys = sorted(r[0] for r in sheet.iter_rows(min_row=header + 1, values_only=True))
    assert keys == ["XS-2024-0001", "XS-2024-0002", "XS-2024-0003"]  # completed, 青湖县's only
    assert ("状态", "completed") in [(r[0], r[1]) for r in listing.worksheets[0].iter_rows(values_only=True)]
    for page in ("overview", "deadlines", "durations", "failed"):
        resp = boss.get(f"/cockpit/export/{page}.csv")
        assert resp.status_code == 200, page
        assert resp.data.decode("utf-8-sig").splitlines()[1].startswith("统计时点") or page == "durations"


def test_no_cockpit_role_no_metrics_and_no_export(app):
    officer = Client(app)
    assert officer.login("wangfang", PASSWORD).status_code == 302
    assert officer.get(f"/cockpit/metrics?{PERIOD}").status_code == 403
    assert officer.get("/cockpit/export/metrics.xlsx").status_code == 403
    assert officer.get("/cockpit/export/instances.csv").status_code == 403
