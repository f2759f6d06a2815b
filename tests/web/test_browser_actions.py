"""In a real browser, on the process library and the demo county, one real-name clue from 信访室's
registration through 谈话函询 and 初核 to 立案 (issue 15's walk): 周静 registers it (the 登记 follows her
own 筛查 without claiming) and seals the reporter's name; its 分办 goes through the actions officers
expect, each once — 不同意 (the approver's refusal routes back to 案管室), 撤回 (案管室 takes its step
back before the leader acts), 催办 (案管室 urges the leader from the case's page), 转办 (陈浩 hands the
承办 step to 王芳), 抄送 (王芳 sends the case for reading) and 退回 (王芳 returns the case to 案管室's
分办 step with her 批示); 王芳's 函询通知书 that names the reporter is refused until the name is removed;
the 登记表 and the 函询通知书 are printed and their PDFs read; the 书记 approves the 初核 方案 and the 立案.
Steps between them are worked by the autopilot. Playwright with Debian's chromium, one server and one
browser; screenshots docs/screenshots/actions*.png and walk*.png (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading

import pypdf
import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from engine import clock
from engine.access.principal import load_principal
from engine.access.reveal import Reveal
from engine.config import Config
from engine.forms.schema import is_signature
from engine.models import AuditEvent, HumanTask, IssuedNumber, ProcessInstance, TaskSubmission, User
from engine.services import Services
from engine.tasks import operations as task_ops
from engine.tasks import sealed_echo
from tests.county import password_hash
from tests.processes.driver import PROCESSES, Walk
from tests.processes.paths import BASE
from tests.web.test_browser import CHROMIUM, ROOT, SHOTS, _sign_in, browser  # noqa: F401 - shared fixtures
from web import create_app

pytestmark = pytest.mark.browser

START = dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)


REPORTER = {"name": "孙建明", "phone": "13907435512", "id_no": "632524198001011234", "address": "青湖县城关镇"}
QUESTIONS = "请就是否接受工程承包方宴请、收受礼金及干预项目验收作出说明。"
SUMMARY = "反映农牧局草原站站长多吉接受工程承包方宴请"
VALUES = {
    **{k: v for k, v in BASE.items() if k != "clue_no"},  # the 线索编号 is issued by the system
    "real_name": True,
    "recipient": "duoji",
    "disposal_method": "tanhua_hanxun",
    "inquiry_mode": "letter",
    "inquiry_result": "verify",
    "has_conflict": False,
    "verify_result": "file_case",
    "detention_proposed": False,
    "problem_summary": SUMMARY,
}


@pytest.fixture
def demo(db, tmp_path):
    """The library deployed, the demo county imported, a real-name report waiting for 信访室's 筛查."""
    if not (ROOT / "web" / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").exists():
        pytest.skip("front-end assets missing: run `make setup` (npm install + tools/vendor_assets.py)")
    with clock.frozen(START) as frozen:
        walk = Walk(db, frozen, values=VALUES)
        with walk:
            with db.session() as s:
                s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
            config = Config(
                database_url=db.url,
                processes_dir=PROCESSES,
                instance_dir=tmp_path,
                secret_key="test-secret-key-for-actions",
                attachments_dir=tmp_path / "attachments",
                embedded_worker=False,
            )
            services = Services(config, db=db)
            walk.pilot.sealer = services.sealer  # the autopilot's steps seal as the server does
            walk.pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
            app = create_app(services=services, TESTING=True, LOGIN_RATE_LIMIT="100000 per minute")
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield walk, f"http://127.0.0.1:{server.server_port}", services
            finally:
                server.shutdown()
                thread.join(timeout=10)


def _page(browser, base, username):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    _sign_in(page, base, username)
    return page


def _open(walk, spec_id, process_key="gt_p5_clue"):
    return walk.task(spec_id, process_key)


def _drafted(walk, services, task, username, **values):
    """The autopilot's values for ``task`` kept as ``username``'s draft, so the page opens filled in and the
    officer types only what the walk is about (signatures and issued numbers are the server's)."""
    _process, _record, _confidential, full = walk.pilot.submission(task, values)
    properties = walk.pilot.form_schema(task).get("properties") or {}
    typed = {k: v for k, v in full.items() if not (is_signature(properties[k]) or properties[k].get("x-issued"))}
    with services.db.session() as s:
        principal = load_principal(s, username)
    task_ops.save_draft(services, principal, task.id, typed, reveal=Reveal(services.sealer))


def _take(walk, services, browser, base, task, person, **values):  # noqa: F811
    """The task's page as its holder (else ``person``, who claims it: a pool task, not following his own
    step), its form filled in from a draft of the walk's values."""
    holder = task.assignee or person
    page = _page(browser, base, holder)
    page.goto(f"{base}/tasks/{task.id}")
    if task.assignee is None:
        page.get_by_role("button", name="认领此任务").click()
        page.wait_for_selector("[data-testid=task-form]")
    _drafted(walk, services, task, holder, **values)
    page.reload()
    return page


def _submit(page):
    page.get_by_role("button", name="提交办结").click()
    page.wait_for_load_state()


def _pdf(download) -> str:
    data = open(download.path(), "rb").read()  # noqa: SIM115 - Playwright's temporary file
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


def _register_in_the_browser(walk, services, browser, base):  # noqa: F811
    """周静 screens the report, lands on the 登记 (her own next step: no 认领), seals the reporter."""
    screen = _open(walk, "t_screen", "gt_p5_intake_report")
    _drafted(walk, services, screen, "zhoujing", received_date="2024-03-04")
    page = _page(browser, base, "zhoujing")
    page.goto(f"{base}/tasks/{screen.id}")
    _submit(page)
    register = walk.tasks("t_register")[0]
    assert page.url.endswith(f"/tasks/{register.id}") and register.assignee == "zhoujing"
    assert page.get_by_role("button", name="认领此任务").count() == 0
    _drafted(walk, services, register, "zhoujing")
    page.reload()
    for name, value in REPORTER.items():
        page.locator(f"[name='reporter.{name}']").fill(value)
    page.screenshot(path=str(SHOTS / "walk-register.png"), full_page=True)
    _submit(page)
    with services.db.session() as s:
        sealed = s.scalar(select(TaskSubmission.sealed).where(TaskSubmission.task_id == register.id))
        record = s.scalar(select(TaskSubmission.data).where(TaskSubmission.task_id == register.id))
    assert services.sealer.open(sealed)["reporter"]["name"] == REPORTER["name"]
    assert REPORTER["name"] not in str(record)
    return page


@pytest.mark.slow
def test_a_real_name_clue_from_registration_to_filing(demo, browser):  # noqa: F811
    walk, base, services = demo
    frozen = walk.clock
    _register_in_the_browser(walk, services, browser, base)
    walk.run(until="t_route_appr")

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

    # 谈话函询: 王芳's 函询通知书 naming the reporter is refused (the field named), then sent without it
    walk.pilot.complete(route, actor="gaoyuan")
    walk.run(until="t_letter")
    letter = _open(walk, "t_letter", "gt_p5_inquiry")
    page = _take(walk, services, browser, base, letter, "wangfang", sent_date="2024-03-20", delivered_date="2024-03-21")
    questions = page.locator("textarea[name=questions]")
    questions.fill(f"检举人{REPORTER['name']}反映你接受宴请，请说明。")
    _submit(page)
    assert sealed_echo.MESSAGE in page.locator("textarea[name=questions] ~ .invalid-feedback").inner_text()
    page.screenshot(path=str(SHOTS / "walk-sealed-value-refused.png"), full_page=True)
    assert _open(walk, "t_letter", "gt_p5_inquiry").status == "ready"
    page.locator("textarea[name=questions]").fill(QUESTIONS)
    _submit(page)
    assert not walk.tasks("t_letter")

    # the 登记表 and the 函询通知书, printed from the case's page and read back
    with walk.db.session() as s:
        numbers = dict(s.execute(select(IssuedNumber.sequence, IssuedNumber.number)).all())
        clue = s.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == numbers["clue"]))
    page.goto(f"{base}/instances/{clue}")
    with page.expect_download() as register:
        page.get_by_role("link", name="打印 问题线索登记表 PDF").click()
    text = _pdf(register.value)
    assert numbers["clue"] in text and SUMMARY in text and REPORTER["name"] not in text
    with page.expect_download() as sent:
        page.get_by_role("link", name="打印 函询通知书 PDF").click()
    text = _pdf(sent.value)
    assert numbers["inquiry_letter"] in text and QUESTIONS in text and "多吉" in text
    assert REPORTER["name"] not in text and REPORTER["phone"] not in text

    # 初核: 分管副书记 韩伟 approves the 初核方案 in the browser
    walk.run(until=lambda ready: any((t.process_key, t.spec_id) == ("gt_p5_verify", "t_appr") for t in ready))
    plan = _open(walk, "t_appr", "gt_p5_verify")
    page = _take(walk, services, browser, base, plan, "hanwei")
    page.screenshot(path=str(SHOTS / "walk-verify-plan.png"), full_page=True)
    _submit(page)
    assert not walk.tasks("t_appr")

    # 立案: the 书记 马成志 approves the filing the 初核 proposed
    walk.run(until="t_req")
    walk.pilot.complete(_open(walk, "t_req", "gt_p5_case"))
    filing = _open(walk, "t_sec", "gt_p5_case")
    page = _take(walk, services, browser, base, filing, "machengzhi")
    page.screenshot(path=str(SHOTS / "walk-filing.png"), full_page=True)
    _submit(page)
    assert _open(walk, "t_announce", "gt_p5_case").role == "investigation_office"
    page.goto(f"{base}/instances/{filing.instance_id}")
    page.screenshot(path=str(SHOTS / "walk-filed.png"), full_page=True)
    claims = _claims_after_own_step(walk)
    assert claims and all(not own for _claim, own in claims), claims  # claimed only what others handed on


def _claims_after_own_step(walk):
    """Each claim of the walk, and whether the step just before it in its instance was the claimer's own
    (the task that follows a person's own step is his without claiming)."""
    found = []
    with walk.db.session() as s:
        for actor, task_id in s.execute(
            select(AuditEvent.actor, AuditEvent.task_id).where(AuditEvent.action == "claimed").order_by(AuditEvent.id)
        ):
            task = s.get(HumanTask, task_id)
            before = s.scalar(
                select(HumanTask.completed_by)
                .where(
                    HumanTask.instance_id == task.instance_id,
                    HumanTask.id < task.id,
                    HumanTask.status == "completed",
                )
                .order_by(HumanTask.id.desc())
                .limit(1)
            )
            found.append(((actor, task.spec_id), before == actor))
    return found
