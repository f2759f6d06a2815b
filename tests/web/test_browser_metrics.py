"""The metrics page in a real browser (Debian chromium): the four charts drawn, an XLSX downloaded.

On the seeded clues of tests/metrics_data.py (app fixture of test_metrics.py). Screenshots
``metrics*.png`` go to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (test_browser.py's rule).
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.web.test_browser import SHOTS, browser, live_server  # noqa: F401 - shared fixtures
from tests.web.test_metrics import app, frozen  # noqa: F401 - the seeded app

from .conftest import PASSWORD

pytestmark = pytest.mark.browser
CHARTS = ("trend", "units", "funnel", "stages", "slices")


def test_the_metrics_page_draws_its_charts_and_downloads_an_xlsx(live_server, browser, tmp_path):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("machengzhi")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/cockpit/")
    page.get_by_role("link", name="成效指标").click()
    page.wait_for_selector("[data-testid=metrics-form]")
    page.get_by_label("统计开始").fill("2024-04-01")
    page.get_by_label("统计结束").fill("2024-05-31")
    page.get_by_label("分组", exact=True).select_option("linkage")
    page.get_by_role("button", name="统计", exact=True).click()
    page.wait_for_selector("[data-chart=slices][data-drawn='1']")
    for key in CHARTS:
        container = page.get_by_test_id(f"chart-{key}")
        assert container.get_attribute("data-drawn") == "1", key
        box = container.locator("canvas").first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, (key, box)
    assert page.locator("[data-metric=register_close]").inner_text().startswith("14.0")
    page.screenshot(path=str(SHOTS / "metrics.png"), full_page=True)
    page.get_by_test_id("chart-slices").screenshot(path=str(SHOTS / "metrics-linkage.png"))

    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "guantong-metrics-2024-04-01_2024-05-31.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    book = load_workbook(io.BytesIO(target.read_bytes()))
    rows = {r[0]: r for r in book["办理周期（工作日）"].iter_rows(min_row=7, values_only=True)}
    assert rows["线索登记→办结销号"][1:3] == (3, 14)

    # a bad period: the same page with the field named, nothing drawn
    page.get_by_label("统计结束").fill("2024-03-01")
    page.get_by_role("button", name="统计", exact=True).click()
    page.wait_for_selector("[data-testid=error-date_to]")
    assert page.locator("[data-chart]").count() == 0
    assert not errors, errors
    assert [f for f in failed if "/cockpit/metrics?" not in f] == [], failed  # only the refused period: 422
    context.close()
