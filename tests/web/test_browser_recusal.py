"""In a real browser: the secretary opens a case's 回避登记 from its page, records a member's conflict
and decides on it (Playwright with Debian's chromium; skipped with the reason when either is missing)."""

from __future__ import annotations

import pytest

from engine.access.principal import load_principal
from tests.engine.linked_case import investigated_case, linked_services
from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def services(db, repo, library, tmp_path):
    return linked_services(db, repo, library, tmp_path)


def test_the_secretary_records_and_decides_a_conflict(live_server, browser, services):  # noqa: F811
    def who(username):
        with services.db.session() as s:
            return load_principal(s, username)

    clue, _review = investigated_case(services, who)
    page = browser.new_page(locale="zh-CN")
    _sign_in(page, live_server, "boss")
    page.goto(f"{live_server}/instances/{clue}")
    page.get_by_test_id("recusal-link").click()
    page.wait_for_url(f"**/instances/{clue}/recusal")
    page.get_by_label("人员（用户名，留空为本人）").fill("so1b")
    page.get_by_label("回避情形", exact=True).select_option("kinship")
    page.get_by_label("情况说明", exact=True).fill("与被反映人系表兄弟")
    page.get_by_role("button", name="登记", exact=True).click()
    row = page.get_by_test_id("recusal-entries").locator("tbody tr").first
    assert "张敏" in row.inner_text() and "待领导决定" not in row.inner_text()  # he may decide: a form, not a badge
    row.get_by_label("决定", exact=True).select_option("keep")
    row.get_by_label("决定理由").fill("经核实已无来往，不影响公正办理")
    row.get_by_role("button", name="作出决定").click()
    page.wait_for_url(f"**/instances/{clue}/recusal")
    row = page.get_by_test_id("recusal-entries").locator("tbody tr").first
    assert "不予回避（保留）" in row.inner_text() and "经核实已无来往" in row.inner_text()
    page.screenshot(path=str(SHOTS / "recusal_register.png"), full_page=True)
