"""In a real browser, on the process library and the demo county: a real-name clue's 分办 goes through the
actions officers expect, each once — 不同意 (the approver's refusal routes back to 案管室), 撤回 (案管室
takes its step back before the leader acts), 催办 (案管室 urges the leader from the case's page), 转办
(陈浩 hands the 承办 step to 王芳), 抄送 (王芳 sends the case for reading) and 退回 (王芳 returns the case
to 案管室's 分办 step with her 批示). Steps around them are worked by the autopilot. Playwright with
Debian's chromium; screenshots docs/screenshots/actions*.png (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from engine import clock
from engine.config import Config
from engine.models import HumanTask, TaskSubmission, User
from engine.services import Services
from tests.processes.driver import PROCESSES, Walk
from tests.processes.paths import BASE
from tests.web.matrix_state import cheap_password_hash
from tests.web.test_browser import CHROMIUM, ROOT, SHOTS, _sign_in, browser  # noqa: F401 - shared fixtures
from web import create_app

pytestmark = pytest.mark.browser

START = dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)


@pytest.fixture
def demo(db, tmp_path):
    """The library deployed, the demo county imported, a report registered up to 分管领导's 审核分办意见."""
    if not (ROOT / "web" / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").exists():
        pytest.skip("front-end assets missing: run `make setup` (npm install + tools/vendor_assets.py)")
    with clock.frozen(START) as frozen:
        walk = Walk(db, frozen, values={**BASE, "real_name": True})
        with walk:
            with db.session() as s:
                s.execute(update(User).values(password_hash=cheap_password_hash(), must_change_password=False))
            config = Config(
                database_url=db.url,
                processes_dir=PROCESSES,
                instance_dir=tmp_path,
                secret_key="test-secret-key-for-actions",
                attachments_dir=tmp_path / "attachments",
                embedded_worker=False,
            )
            services = Services(config, db=db)
            walk.pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
            walk.run(until="t_route_appr")
            app = create_app(services=services, TESTING=True, LOGIN_RATE_LIMIT="100000 per minute")
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield walk, f"http://127.0.0.1:{server.server_port}"
            finally:
                server.shutdown()
                thread.join(timeout=10)


def _page(browser, base, username):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, base, username)
    return page


def _open(walk, spec_id):
    return walk.task(spec_id, "gt_p5_clue")


def test_disagree_withdraw_urge_transfer_copy_and_return(demo, browser):  # noqa: F811
    walk, base = demo
    frozen = walk.clock

    # 不同意: 韩伟 refuses the 分办意见 with his 批示; the process routes it back to 案管室
    approval = _open(walk, "t_route_appr")
    page = _page(browser, base, "hanwei")
    page.goto(f"{base}/tasks/{approval.id}")
    page.get_by_label("不同意", exact=True).check()
    page.locator("textarea[name=opinion]").fill("不同意：承办部门与线索所涉地区不符，请重新研究分办意见。")
    page.screenshot(path=str(SHOTS / "actions-disagree.png"), full_page=True)
    page.get_by_role("button", name="提交办结").click()
    page.wait_for_load_state()
    route = _open(walk, "t_route")

    # 撤回: 高远 submits the new 分办意见 and takes it back before the leader has acted
    frozen.advance(minutes=5)
    walk.pilot.complete(route, actor="gaoyuan")
    page = _page(browser, base, "gaoyuan")
    page.goto(f"{base}/tasks/{route.id}")
    page.get_by_test_id("withdraw-form").get_by_label("撤回原因（可选）").fill("承办部门填错，撤回更正")
    page.screenshot(path=str(SHOTS / "actions-withdraw.png"), full_page=True)
    page.get_by_test_id("withdraw-form").get_by_role("button", name="撤回").click()
    page.wait_for_selector("[data-testid=task-form]")
    reopened = _open(walk, "t_route")
    assert reopened.assignee == "gaoyuan" and not walk.tasks("t_route_appr")

    # 催办: 高远 (案管室) urges the leader's 审核 from the case's page; 韩伟 sees it in his inbox
    frozen.advance(minutes=5)
    walk.pilot.complete(reopened, actor="gaoyuan")
    approval = _open(walk, "t_route_appr")
    page.goto(f"{base}/instances/{approval.instance_id}")
    form = page.get_by_test_id(f"urge-form-{approval.id}")
    form.get_by_label("催办意见").fill("该线索涉及实名检举，请今日内审核。")
    form.get_by_role("button", name="催办").click()
    page.wait_for_url(f"**/instances/{approval.instance_id}")
    leader = _page(browser, base, "hanwei")
    leader.goto(f"{base}/inbox?tab=group")
    assert leader.locator(f"tr[data-task-id='{approval.id}'] [data-testid=urged]").count() == 1
    leader.screenshot(path=str(SHOTS / "actions-urged-inbox.png"), full_page=True)
    leader.goto(f"{base}/tasks/{approval.id}")
    assert "该线索涉及实名检举" in leader.get_by_test_id("urges").inner_text()

    # 转办: 陈浩 claims the 承办 step and hands it over to 王芳
    walk.pilot.complete(approval, actor="hanwei")
    accept = _open(walk, "t_accept")
    page = _page(browser, base, "chenhao")
    page.goto(f"{base}/tasks/{accept.id}")
    page.get_by_role("button", name="认领此任务").click()
    page.wait_for_selector("[data-testid=transfer-form]")
    form = page.get_by_test_id("transfer-form")
    form.get_by_label("转办或委派给").select_option("wangfang")
    form.get_by_label("理由").fill("本人参与该县专项检查，请王芳承办。")
    page.screenshot(path=str(SHOTS / "actions-transfer.png"), full_page=True)
    form.get_by_role("button", name="转办").click()
    page.wait_for_url("**/inbox?tab=mine")
    assert _open(walk, "t_accept").assignee == "wangfang"

    # 抄送 and 退回: 王芳 sends the case for reading, then returns it to 案管室's 分办 with her 批示
    page = _page(browser, base, "wangfang")
    page.goto(f"{base}/tasks/{accept.id}")
    opinions = page.get_by_test_id("opinions").inner_text()  # the 审批意见 history: the refusal, then the agreement
    assert "不同意" in opinions and "承办部门与线索所涉地区不符" in opinions
    form = page.get_by_test_id("copy-form")
    reader = form.locator("select[name=readers] option").first.get_attribute("value")
    form.locator("select[name=readers]").select_option(reader)
    form.get_by_label("说明（可选）").fill("请阅知，拟退回重新分办。")
    form.get_by_role("button", name="抄送").click()
    page.wait_for_url(f"**/tasks/{accept.id}")
    form = page.get_by_test_id("return-form")
    form.get_by_label("退回到").select_option(
        label=next(o for o in form.locator("option").all_inner_texts() if "提出分办意见" in o)
    )
    form.get_by_label("退回理由（批示）").fill("该线索反映的是乡镇干部问题，应由第一监督检查室承办，请重新分办。")
    page.screenshot(path=str(SHOTS / "actions-return.png"), full_page=True)
    form.get_by_role("button", name="退回").click()
    page.wait_for_load_state()
    route = _open(walk, "t_route")
    assert route.assignee == "gaoyuan" and not walk.tasks("t_accept")
    with walk.db.session() as s:  # his earlier 分办意见 waits for him as a draft
        assert s.scalar(select(TaskSubmission.kind).where(TaskSubmission.task_id == route.id)) == "draft"
        assert s.get(HumanTask, accept.id).status == "cancelled"

    copied = _page(browser, base, reader)
    copied.goto(f"{base}/inbox")
    assert copied.get_by_test_id("count-copies").inner_text() == "1"
    copied.get_by_test_id("tab-copies").click()
    copied.wait_for_selector("[data-testid=copies-table]")
    copied.screenshot(path=str(SHOTS / "actions-copies.png"), full_page=True)
    copied.get_by_role("button", name="阅览").click()
    copied.wait_for_url(f"**/instances/{accept.instance_id}")
