"""Issue 17's walk through the studio on the process library, in a real browser: 谈话函询 (gt_p5_inquiry)
gets a field label changed in the form editor and a time limit changed in the properties panel;
deleting 撰写谈话函询情况报告 shows the data-flow error at 处置建议, undo clears it; the diagram and the form
edited in the same session go as ONE deploy request, which the security administrator (a second person)
reads (the element change and the form's text diff) and approves once: version 2 holds both. The running
case moves to version 2 and its next step opens with the new time limit, its form with the new label.
Screenshots: docs/screenshots/studio-inquiry-*.png (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from engine import clock
from engine.config import Config
from engine.models import HumanTask, ProcessInstance, User
from engine.services import Services
from tests.county import password_hash
from tests.processes.driver import PROCESSES, Walk
from tests.web.matrix_state import CASE_VALUES
from tests.web.test_browser import ROOT, SHOTS, _sign_in, browser  # noqa: F401 - shared fixtures
from web import create_app

pytestmark = pytest.mark.browser

START = dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)
FILE = "gt_p5_inquiry.bpmn"
NEW_LABEL = "谈话、函询的问题（逐条列明）"


@pytest.fixture
def inquiry(db, tmp_path):
    """The library deployed, the demo county imported, a report handled up to 谈话函询's 制定方案 step."""
    if not (ROOT / "web" / "static" / "vendor" / "bpmn-js-properties-panel" / "properties-panel.js").exists():
        pytest.skip("front-end assets missing: run `make setup` (npm install + tools/vendor_assets.py)")
    with clock.frozen(START) as frozen:
        walk = Walk(db, frozen, values=dict(CASE_VALUES))
        with walk:
            with db.session() as s:
                s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
            config = Config(
                database_url=db.url,
                processes_dir=PROCESSES,
                instance_dir=tmp_path,
                secret_key="test-secret-key-for-the-studio",
                attachments_dir=tmp_path / "attachments",
                embedded_worker=False,
            )
            services = Services(config, db=db)
            walk.pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
            plan = walk.until("t_plan")
            app = create_app(services=services, TESTING=True, LOGIN_RATE_LIMIT="100000 per minute")
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield walk, services, plan, f"http://127.0.0.1:{server.server_port}"
            finally:
                server.shutdown()


def _approve(browser, base, request_url) -> tuple[str, str]:  # noqa: F811
    """The security administrator, in his own browser session, reads the deploy request (its element
    changes and its text diff, returned) and approves it."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, base, "secadmin")
    page.goto(base + request_url)
    forms = page.get_by_test_id("form-diff")
    read = page.get_by_test_id("changes").inner_text(), forms.inner_text() if forms.count() else ""
    page.screenshot(path=str(SHOTS / "studio-inquiry-approval.png"))
    page.get_by_role("button", name="批准").click()
    page.wait_for_load_state("networkidle")
    page.close()
    return read


def _latest(services) -> int:
    with services.db.session() as s:
        from engine.models import DefinitionVersion

        return max(s.scalars(select(DefinitionVersion.id)))


@pytest.mark.slow
def test_inquiry_label_time_limit_dataflow_undo_deploy_approve_migrate_and_next_step(inquiry, browser):  # noqa: F811
    walk, services, plan, base = inquiry
    instance = plan.instance_id
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "admin")

    before = _latest(services)

    # 1. the plan form's 问题 field gets a clearer label (form editor), kept as a draft for the deploy
    page.goto(f"{base}/studio/forms/edit?key=p5_inquiry_plan")
    preview = page.get_by_test_id("form-preview")
    page.wait_for_selector("[data-testid='form-preview'][data-ready]")
    assert "谈话、函询的问题" in preview.inner_text()
    area = page.get_by_test_id("schema")
    area.fill(area.input_value().replace('"title": "谈话、函询的问题"', f'"title": "{NEW_LABEL}"', 1))
    preview.get_by_text(NEW_LABEL).first.wait_for()
    assert "inquiry_mode" in page.get_by_test_id("process-fields").inner_text()
    page.get_by_role("button", name="保存草稿，随流程图一并部署").click()
    page.get_by_test_id("form-result").get_by_text("已保存草稿").wait_for()
    assert _latest(services) == before  # nothing asked, nothing deployed yet

    # 2. the diagram: 审批谈话函询方案's time limit 1 → 2 working days in the properties panel
    page.goto(f"{base}/studio/edit/{FILE}")
    page.wait_for_selector("#canvas[data-ready='1']")
    assert "forms/p5_inquiry_plan.json" in page.get_by_test_id("form-drafts").inner_text()
    page.locator('g.djs-element[data-element-id="t_plan_appr"]').first.click()
    header = page.locator(".bio-properties-panel-group-header", has_text="贯通 · 办理时限")
    header.click()
    due = page.locator(".bio-properties-panel-group", has=header)
    limit = due.get_by_label("办理时限（settings.yaml）")
    assert limit.input_value() == "approval_leader_in_charge"
    limit.select_option("approval_department_head")
    assert "2 个工作日" in due.inner_text()
    page.screenshot(path=str(SHOTS / "studio-inquiry-panel.png"), full_page=True)

    # 3. deleting 撰写谈话函询情况报告 and re-joining the flow: 处置建议's branches are dead, named and marked
    page.evaluate("""() => {
        const m = window.gtModeler, reg = m.get('elementRegistry'), modeling = m.get('modeling');
        modeling.removeElements([reg.get('t_report')]);
        modeling.connect(reg.get('gw_mode_m'), reg.get('t_rep_appr'));
    }""")
    page.get_by_role("button", name="校验").click()
    problems = page.get_by_test_id("problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "inquiry_result" in text and "处置建议" in text, text
    assert page.locator('g.djs-element.gt-problem[data-element-id="gw_res"]').count() == 1
    page.screenshot(path=str(SHOTS / "studio-inquiry-dataflow.png"), full_page=True)
    page.evaluate("() => { const cs = window.gtModeler.get('commandStack'); cs.undo(); cs.undo(); }")
    page.get_by_role("button", name="校验").click()
    page.get_by_test_id("studio-result").locator(".alert-success").wait_for()
    assert page.locator("g.djs-element.gt-problem").count() == 0

    # 4. deploy: the confirmation names the changed time limit and the edited form; ONE request, which a
    # second person reads (element change + form diff) and approves once: one new version with both
    page.get_by_role("button", name="部署", exact=True).click()
    page.get_by_test_id("deploy-confirm").wait_for(state="visible")
    listed = page.get_by_test_id("confirm-list").inner_text()
    assert "t_plan_appr" in listed and "dueIn" in listed and "forms/p5_inquiry_plan.json" in listed, listed
    page.get_by_label("部署说明（审批人将看到）").fill("审批谈话函询方案时限调整为2个工作日，方案表单问题字段改名")
    page.screenshot(path=str(SHOTS / "studio-inquiry-confirm.png"), full_page=True)
    page.get_by_test_id("btn-confirm").click()
    result = page.get_by_test_id("studio-result")
    result.get_by_text("已提交部署申请").wait_for()
    assert page.get_by_test_id("form-drafts").is_hidden()  # the drafts went with the request
    changes, form_diff = _approve(browser, base, result.get_by_role("link").get_attribute("href"))
    assert "t_plan_appr" in changes and "approval_department_head" in changes, changes
    assert "requested/forms/p5_inquiry_plan.json" in form_diff and NEW_LABEL in form_diff, form_diff
    new = _latest(services)
    assert new == before + 1 == 2  # version 2 holds the time limit and the label
    with services.db.session() as s:
        from engine.models import DefinitionVersion

        assert NEW_LABEL in json.dumps(s.get(DefinitionVersion, new).forms["p5_inquiry_plan"], ensure_ascii=False)

    # 5. the running case moves to the new version (dry run, then the move)
    with services.db.session() as s:
        row = s.get(ProcessInstance, instance)
        old, key = row.version_id, row.process_key
    page.goto(f"{base}/studio/migrate?process={key}&from_version={old}&to_version={new}")
    assert f"#{instance}" in page.get_by_test_id("migrate-moves").inner_text()
    page.get_by_test_id("migrate-apply").click()
    page.get_by_test_id("migrate-result").wait_for()
    page.screenshot(path=str(SHOTS / "studio-inquiry-migrate.png"), full_page=True)
    with services.db.session() as s:
        assert s.get(ProcessInstance, instance).version_id == new

    # 6. the officer's plan form shows the new label; completing it opens 审批 with the new time limit
    officer = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(officer, base, "wangfang")
    officer.goto(f"{base}/tasks/{plan.id}")
    officer.get_by_text(NEW_LABEL).first.wait_for()
    officer.close()
    walk.complete("t_plan", actor="wangfang")
    with services.db.session() as s:
        approval = s.scalar(
            select(HumanTask).where(
                HumanTask.instance_id == instance, HumanTask.spec_id == "t_plan_appr", HumanTask.status == "ready"
            )
        )
        assert approval is not None and approval.due_key == "approval_department_head"
        assert s.get(ProcessInstance, instance).version_id == new
    assert errors == []


def test_a_multi_instance_over_a_variable_survives_the_modeler(inquiry, browser):  # noqa: F811
    """gt_p5_verify loops over variables (the team's members): opened and validated unchanged, its
    collections are kept (bpmn-js alone would drop them and deploy would refuse the file)."""
    _walk, _services, _plan, base = inquiry
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, base, "admin")
    page.goto(f"{base}/studio/edit/gt_p5_verify.bpmn")
    page.wait_for_selector("#canvas[data-ready='1']")
    saved = page.evaluate("() => window.gtModeler.saveXML({ format: false }).then(r => r.xml)")
    stored = (ROOT / "processes" / "bpmn" / "gt_p5_verify.bpmn").read_text(encoding="utf-8")
    refs = re.compile(r"<bpmn:loopData(?:Input|Output)Ref>\s*([^<\s]+)\s*<")
    assert refs.findall(saved) == refs.findall(stored) and len(refs.findall(stored)) == 4
    page.get_by_role("button", name="校验").click()
    page.get_by_test_id("studio-result").locator(".alert-success").wait_for()
