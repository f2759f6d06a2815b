"""End to end in a real browser: 案管室 registers a clue through the form, 监督检查室 sees and completes the next step.

Runs Debian's chromium through Playwright (``playwright install`` is not used). Skipped, with the
reason, when chromium or Playwright is missing. Keeps screenshots of the inbox and the forms in
docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
# Kept in docs/ when UPDATE_SCREENSHOTS=1; otherwise a test run writes them to a temporary folder.
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.mkdtemp(prefix="guantong-shots-"))
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    if not (ROOT / "web" / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").exists():
        pytest.skip("front-end assets missing: run `make setup` (npm install + tools/vendor_assets.py)")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium not found: install Debian's chromium (apt-get install chromium) to run browser tests")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/inbox")


def _sign_out(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")


def test_officer_completes_a_task_and_the_next_role_takes_it_over(live_server, browser, services, who):
    base = live_server
    runtime = services.runtime
    cm1 = who("cm1")
    runtime.start("gt_test_clue", actor=cm1)  # registered through the browser below
    # Two more clues already with 第一监督检查室, so its inbox shows several deadlines.
    for clue_no in ("XS-2024-087", "XS-2024-093"):
        outcome = runtime.start("gt_test_clue", actor=cm1)
        from sqlalchemy import select

        from engine.models import HumanTask

        with services.db.session() as s:
            task_id = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == outcome.instance_id))
        runtime.complete_task(
            task_id,
            actor=cm1,
            data={"clue_no": clue_no, "handling_unit": "jc1"},
            record={"clue_no": clue_no, "handling_unit": "jc1", "summary": "反映工程招标问题"},
        )

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # ---- 案管室 officer registers the clue through the real form
    _sign_in(page, base, "cm1")
    page.get_by_test_id("tab-group").click()
    row = page.locator("tr", has_text="登记线索").first
    row.get_by_role("link", name="登记线索", exact=True).click()
    page.wait_for_selector("[data-testid=task-form]")
    assert "登记线索。" in page.get_by_test_id("instructions").inner_text()
    # Submitting without the required fields: errors at each field, nothing saved.
    page.get_by_label("反映问题摘要").fill("反映某局长在工程招标中违规插手")
    page.get_by_role("button", name="提交办结").click()
    page.wait_for_selector("[data-testid=error-summary]")
    assert "此项为必填项" in page.get_by_test_id("error-clue_no").inner_text()
    assert page.get_by_label("反映问题摘要").input_value() == "反映某局长在工程招标中违规插手"
    page.screenshot(path=str(SHOTS / "task-form-validation.png"), full_page=True)
    page.get_by_label("线索编号").fill("XS-2024-101")
    page.get_by_label("承办部门").select_option("jc1")
    page.get_by_label("检举人姓名").fill("李某某")
    page.get_by_role("button", name="提交办结").click()
    page.wait_for_url("**/inbox?tab=completed")
    assert "下一步：提出处置意见" in page.locator(".alert-success").inner_text()
    _sign_out(page)

    # ---- the 第一监督检查室 officer sees the next task at once and completes it
    _sign_in(page, base, "so1")
    page.get_by_test_id("tab-group").click()
    rows = page.locator("[data-testid=inbox-table] tbody tr")
    assert rows.count() == 3
    assert page.get_by_test_id("count-group").inner_text() == "3"
    new_row = page.locator("tr", has_text="XS-2024-101")
    assert "提出处置意见" in new_row.inner_text() and "正常" in new_row.inner_text()
    page.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)
    new_row.get_by_role("button", name="认领：提出处置意见 XS-2024-101").click()
    page.wait_for_url("**/inbox?tab=mine")
    page.locator("tr", has_text="XS-2024-101").get_by_role("link", name="提出处置意见", exact=True).click()
    page.wait_for_selector("[data-testid=task-form]")
    body = page.locator("main").inner_text()
    assert "反映某局长在工程招标中违规插手" in body and "李某某" not in body and "已加密，无权查看" in body
    page.get_by_label("谈话函询").check()
    page.get_by_test_id("task-form").get_by_label("理由").fill("问题线索具体，拟谈话函询核实。")
    page.screenshot(path=str(SHOTS / "task-form.png"), full_page=True)
    page.get_by_role("button", name="提交办结").click()
    page.wait_for_url("**/inbox?tab=completed")
    assert "下一步：审批处置意见" in page.locator(".alert-success").inner_text()
    _sign_out(page)

    # ---- the commission leader finds the approval waiting
    _sign_in(page, base, "boss")
    page.get_by_test_id("tab-group").click()
    assert "审批处置意见" in page.locator("tr", has_text="XS-2024-101").inner_text()

    # ---- English is one click away
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("text=My tasks")
    assert errors == []
    context.close()


def test_an_initial_password_is_changed_at_first_sign_in(live_server, browser, services):
    from sqlalchemy import update

    from engine.models import User

    with services.db.session() as s:
        s.execute(update(User).where(User.username == "so1").values(must_change_password=True))
    base = live_server
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("so1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/account/password**")
    assert page.get_by_test_id("must-change").is_visible()
    page.goto(f"{base}/inbox")  # every page leads back until the password is changed
    page.wait_for_url("**/account/password**")
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="修改密码").click()
    assert page.locator("#new_password-error").inner_text().startswith("密码至少 12 位")
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Qinghu-River-2024")
    page.get_by_label("再次输入新密码").fill("Qinghu-River-2024")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(f"{base}/inbox")
    page.get_by_test_id("whoami").click()
    page.wait_for_url(f"{base}/account")
    assert page.get_by_text("本次登录").is_visible()
