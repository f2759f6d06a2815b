"""The duration heatmap in a real browser (Debian chromium): reached from the metrics page, the diagram
drawn with each step coloured by its band and its figures on hover.

On the seeded clues of tests/metrics_data.py (app fixture of test_metrics.py). The screenshot
``heatmap.png`` goes to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (test_browser.py's rule).
"""

from __future__ import annotations

import pytest

from tests.web.test_browser import SHOTS, browser, live_server  # noqa: F401 - shared fixtures
from tests.web.test_metrics import app, frozen  # noqa: F401 - the seeded app

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_heatmap_colours_the_diagram_and_names_the_figures_on_hover(live_server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="zh-CN")
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
    page.goto(f"{live_server}/cockpit/metrics?date_from=2024-04-01&date_to=2024-05-31")
    page.get_by_test_id("heatmap-link").click()
    page.wait_for_selector("[data-testid=heatmap-form]")
    page.get_by_label("流程").select_option("gt_p5_clue")
    page.get_by_role("button", name="统计", exact=True).click()
    page.wait_for_selector("[data-testid=heatmap-diagram][data-drawn='true']")
    diagram = page.get_by_test_id("heatmap-diagram")
    assert int(diagram.get_attribute("data-coloured") or 0) >= 1
    close = page.locator(".djs-element.gt-heat-4[data-element-id=t_close]")
    assert close.count() == 1  # 办结销号, the slowest step, in the top band
    fill = close.locator(".djs-visual > :first-child").evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(200, 41, 31)", fill
    close.hover()
    status = page.get_by_test_id("heatmap-status")
    assert "中位数 10 个工作日" in status.inner_text()
    page.screenshot(path=str(SHOTS / "heatmap.png"), full_page=True)
    assert not errors, errors
    assert not failed, failed
    context.close()
