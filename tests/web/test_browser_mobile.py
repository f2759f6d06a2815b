"""On a 390 px phone screen (issue 15, "Mobile"): the inbox and the task page fit the screen's width (no
sideways scrolling), the inbox's filters fold behind one button, and the task's actions (认领, 提交, 附件)
sit in a bar at the bottom of the screen instead of after the whole form and its records. Playwright with
Debian's chromium; screenshots docs/screenshots/mobile*.png (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest

from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _wider_than_the_screen(page) -> int:
    """How many pixels the page is wider than the screen (0: nothing to scroll sideways)."""
    return int(page.evaluate(OVERFLOW))


def _on_screen(locator) -> bool:
    """Inside the viewport as it is, without scrolling."""
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT


def test_inbox_and_task_page_fit_a_phone(live_server, browser, start_clue):  # noqa: F811
    started = start_clue()
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    _sign_in(page, live_server, "cm1")
    page.get_by_test_id("tab-group").click()
    page.wait_for_selector("[data-testid=inbox-table]")
    assert _wider_than_the_screen(page) == 0
    filters = page.get_by_test_id("inbox-filters")
    assert not filters.is_visible()  # folded: the tasks come first
    page.get_by_test_id("filters-toggle").click()
    page.wait_for_selector("#inbox-filters.show")  # unfolded, the transition over
    assert _wider_than_the_screen(page) == 0
    page.screenshot(path=str(SHOTS / "mobile-inbox.png"), full_page=True)

    page.locator("[data-testid=inbox-table] a", has_text="登记线索").first.click()
    page.wait_for_selector("[data-testid=task-form]")
    assert _wider_than_the_screen(page) == 0
    bar = page.get_by_test_id("mobile-actions")
    claim = bar.get_by_role("button", name="认领")
    assert _on_screen(claim) and _on_screen(bar.get_by_role("link", name="附件"))
    claim.click()
    page.wait_for_selector("[data-testid=mobile-actions] >> text=提交")
    submit = page.get_by_test_id("mobile-actions").get_by_role("button", name="提交")
    assert _on_screen(submit) and page.get_by_test_id("mobile-actions").get_by_role("button", name="认领").count() == 0
    page.get_by_label("线索编号").fill("XS-2024-390")
    page.get_by_label("承办部门").select_option("jc1")
    page.screenshot(path=str(SHOTS / "mobile-task.png"), full_page=False)
    submit.click()  # the bar's 提交 submits the task's form
    page.wait_for_url("**/inbox?tab=completed")
    with page.expect_navigation():
        page.goto(f"{live_server}/instances/{started.instance_id}")
    assert "XS-2024-390" in page.locator("main").inner_text()
    context.close()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    _sign_in(desktop, live_server, "cm1")
    desktop.goto(f"{live_server}/inbox?tab=group")
    assert desktop.get_by_test_id("inbox-filters").is_visible()
    assert not desktop.get_by_test_id("filters-toggle").is_visible()
