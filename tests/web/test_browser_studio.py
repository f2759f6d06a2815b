"""The studio in a real browser (issue 17): a broken flow is marked on the diagram with its problems listed,
deploying asks for confirmation with what changed and a note, a second person approves, and the diff
page draws the change on both versions. Screenshots: docs/screenshots/studio-*.png (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import HumanTask, ProcessInstance
from tests.web.conftest import PASSWORD
from tests.web.test_browser import SHOTS, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
FILE = "clue_simple.bpmn"


def _sign_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def test_validation_marks_the_broken_flow_then_deploy_confirm_approve_diff_and_migrate(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    client_for,
    start_clue,
    services,
):
    base = live_server
    running = start_clue().instance_id  # on version 1, at 登记线索
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, base, "admin")
    page.goto(f"{base}/studio/edit/{FILE}")
    page.wait_for_selector("#canvas[data-ready='1']")

    # cut the flow 登记线索 → 提出处置意见: both ends are disconnected, named and marked
    page.evaluate("""() => {
        const m = window.gtModeler;
        m.get('modeling').removeElements([m.get('elementRegistry').get('f2')]);
    }""")
    page.get_by_role("button", name="校验").click()
    problems = page.get_by_test_id("problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "提出处置意见" in text and "没有顺序流指向它" in text
    assert "登记线索" in text and "没有顺序流从它流出" in text
    assert page.locator('g.djs-element.gt-problem[data-element-id="propose"]').count() == 1
    assert page.locator('g.djs-element.gt-problem[data-element-id="register"]').count() == 1
    assert page.locator('g.djs-element.gt-warning[data-element-id="register"]').count() == 0  # one mark each
    page.screenshot(path=str(SHOTS / "studio-validation.png"), full_page=True)

    # undo, rename a step, and deploy: a confirmation lists the change and takes the note first
    page.evaluate("""() => {
        const m = window.gtModeler;
        m.get('commandStack').undo();
        m.get('modeling').updateProperties(m.get('elementRegistry').get('register'), { name: '登记问题线索' });
    }""")
    page.get_by_role("button", name="部署").click()
    confirm = page.get_by_test_id("deploy-confirm")
    confirm.wait_for(state="visible")
    assert "修改 1 个" in page.get_by_test_id("confirm-summary").inner_text()
    assert "登记问题线索" in page.get_by_test_id("confirm-list").inner_text()
    assert page.locator("g.djs-element.gt-problem").count() == 0
    page.get_by_label("部署说明（审批人将看到）").fill("调整登记环节名称")
    page.screenshot(path=str(SHOTS / "studio-deploy-confirm.png"), full_page=True)
    page.get_by_test_id("btn-confirm").click()
    result = page.get_by_test_id("studio-result")
    result.get_by_text("已提交部署申请").wait_for()
    assert "deploy requested" not in result.inner_text()  # said in Chinese only
    request = int(result.get_by_role("link").get_attribute("href").rsplit("/", 1)[1])

    # the security administrator approves (the designer may not): version 2
    assert client_for("secadmin").post(f"/admin/approvals/{request}/approve").status_code == 302

    page.goto(f"{base}/studio/diff?file={FILE}&a=1&b=2")
    page.wait_for_selector("[data-diff-pane='a'][data-ready='1']")
    page.wait_for_selector("[data-diff-pane='b'][data-ready='1']")
    assert page.locator('[data-diff-pane="b"] g.djs-element.gt-changed[data-element-id="register"]').count() == 1
    assert page.locator('[data-diff-pane="a"] g.djs-element.gt-changed[data-element-id="register"]').count() == 1
    row = page.locator('tr[data-element-id="register"]')
    assert "登记线索" in row.inner_text() and "登记问题线索" in row.inner_text()
    page.screenshot(path=str(SHOTS / "studio-diff.png"), full_page=True)

    # the running instance moves to version 2: dry run, then the move
    page.goto(f"{base}/studio/migrate?process=gt_test_clue&from_version=1&to_version=2")
    moves = page.get_by_test_id("migrate-moves")
    assert f"#{running}" in moves.inner_text()
    page.screenshot(path=str(SHOTS / "studio-migrate.png"), full_page=True)
    page.get_by_test_id("migrate-apply").click()
    page.get_by_test_id("migrate-result").wait_for()
    assert "已迁移 1 个实例到第 2 版" in page.get_by_test_id("migrate-result").inner_text()
    # its open step is completed on version 2: the task keeps version 2's name
    with services.db.session() as s:
        assert s.get(ProcessInstance, running).version_id == 2
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == running, HumanTask.status == "ready"))
        assert task.spec_id == "register"
