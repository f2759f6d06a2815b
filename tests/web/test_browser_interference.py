"""In a real browser: a 监督检查室 officer records an approach from his task page; the 干部监督室 finds it
in its register and signs for it. Uses the browser fixtures of tests/web/test_browser.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import HumanTask
from tests.engine.interference.people import add_register_people
from tests.web.test_browser import SHOTS, _sign_in, _sign_out, browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_an_officer_records_an_interference_from_his_task_page(live_server, browser, services, who):  # noqa: F811
    add_register_people(services)
    runtime = services.runtime
    outcome = runtime.start("gt_test_clue", actor=who("cm1"))
    with services.db.session() as s:
        register = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == outcome.instance_id))
    record = {"clue_no": "XS-2024-120", "handling_unit": "jc1", "summary": "反映工程招标问题"}
    runtime.complete_task(register, actor=who("cm1"), data=record, record=record)
    base = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # ---- the officer opens his task and records the call he received
    _sign_in(page, base, "so1")
    assert page.get_by_test_id("nav-interference").count() == 0  # the register is the offices'
    page.get_by_test_id("tab-group").click()
    page.locator("tr", has_text="XS-2024-120").get_by_role("link", name="提出处置意见", exact=True).click()
    page.wait_for_selector("[data-testid=task-form]")
    page.get_by_test_id("record-interference").click()
    page.wait_for_selector("[data-testid=interference-form]")
    assert "XS-2024-120" in page.get_by_test_id("interference-case").inner_text()
    page.get_by_label("干预人姓名").fill("某副县长")
    page.get_by_label("职务及单位").fill("县政府副县长")
    page.get_by_label("干预类型").select_option("plead")
    page.get_by_label("方式").select_option("phone")
    page.get_by_label("打听、过问或说情的内容").fill("来电请求对其亲属从轻处理")
    page.get_by_role("button", name="登记并报送").click()  # the time is missing: refused, values kept
    page.wait_for_selector("[data-testid=error-summary]")
    assert "此项为必填项" in page.get_by_test_id("error-occurred_at").inner_text()
    assert page.get_by_label("干预人姓名").input_value() == "某副县长"
    page.get_by_label("发生时间").fill("2024-03-01T09:30")
    page.get_by_label("本人如何回应").fill("当即拒绝，告知将登记备案")
    page.screenshot(path=str(SHOTS / "interference-form.png"), full_page=True)
    page.get_by_role("button", name="登记并报送").click()
    page.wait_for_selector("[data-testid=task-form]")  # back on the task page
    assert "干预情况已登记" in page.locator(".alert-success").inner_text()
    _sign_out(page)

    # ---- the 干部监督室 finds it in its register and signs for it
    _sign_in(page, base, "gb1")
    page.get_by_test_id("nav-interference").click()
    row = page.locator("[data-testid=register-table] tbody tr", has_text="某副县长")
    assert "说情干预" in row.inner_text() and "待签收" in row.inner_text()
    page.screenshot(path=str(SHOTS / "interference-register.png"), full_page=True)
    row.get_by_role("link").first.click()
    page.get_by_test_id("receive").click()
    assert "签收 · 宋宇（干部监督室）" in page.get_by_test_id("follow-ups").inner_text()
    assert page.get_by_test_id("entry-state").inner_text() == "已签收"
    page.screenshot(path=str(SHOTS / "interference-entry.png"), full_page=True)
    assert errors == []
    context.close()
