"""The studio's properties panel in a real browser (issue 17): a designer changes a task's time limit,
form and instructions, a lane's role and a process tag in Guantong's own panel groups; the XML the
modeler saves carries exactly the spiffworkflow properties the compiler reads, Ctrl+Z undoes a change,
and the deploy confirmation lists the changed properties. Screenshot: docs/screenshots/studio-properties.png."""

from __future__ import annotations

import re
import time

import pytest

from tests.web.test_browser import SHOTS, browser, live_server  # noqa: F401 - fixtures
from tests.web.test_browser_studio import _sign_in

pytestmark = pytest.mark.browser
FILE = "clue_simple.bpmn"

SAVED = "() => window.gtModeler.saveXML({ format: false }).then(r => r.xml)"


def _select(page, element_id):
    page.locator(f'g.djs-element[data-element-id="{element_id}"]').first.click()
    page.get_by_test_id("properties-panel").locator(".bio-properties-panel-header").wait_for()


def _group(page, label):
    """Open a group of the panel by its header (groups start closed) and return it."""
    header = page.locator(".bio-properties-panel-group-header", has_text=label)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()
    return page.locator(".bio-properties-panel-group", has=header)


def _prop(xml, element_id, name):
    """The value of one spiffworkflow property of one element in the saved XML."""
    block = re.search(rf'id="{element_id}".*?</bpmn:\w+>', xml, re.S)
    assert block, element_id
    found = re.search(rf'<spiffworkflow:property name="{name}" value="([^"]*)"', block.group(0))
    return found.group(1) if found else None


def _saved_prop(page, element_id, name, expected, seconds=5.0):
    """The property in the saved XML once the panel's debounced input has reached the model."""
    deadline = time.monotonic() + seconds
    while True:
        value = _prop(page.evaluate(SAVED), element_id, name)
        if value == expected or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


def test_panel_edits_what_the_compiler_reads_undo_and_deploy_confirmation(live_server, browser):  # noqa: F811
    base = live_server
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "admin")
    page.goto(f"{base}/studio/edit/{FILE}")
    page.wait_for_selector("#canvas[data-ready='1']")

    # 提出处置意见: the time limit group offers the version's deadlines with their length and rule
    _select(page, "propose")
    due = _group(page, "贯通 · 办理时限")
    limit = due.get_by_label("办理时限（settings.yaml）")
    assert limit.input_value() == "propose"
    assert "5 个工作日" in due.inner_text()
    limit.select_option("reply")
    assert "15 个工作日" in due.inner_text()
    due.get_by_label("时限起算日变量（dueFrom）").fill("received_date")
    who = _group(page, "贯通 · 由谁办理")
    assert who.get_by_label("泳道（角色）").input_value() == "监督检查室"
    assert who.get_by_label("办理单位变量（unitVar）").input_value() == "handling_unit"
    form = _group(page, "贯通 · 表单")
    assert "disposal（处置方式）" in form.inner_text()  # the fields the process reads from the form
    assert form.get_by_test_id("open-form").get_attribute("href").endswith("/studio/forms/edit?key=propose")
    _saved_prop(page, "propose", "dueFrom", "received_date")  # text entries are debounced
    xml = page.evaluate(SAVED)
    assert _prop(xml, "propose", "dueIn") == "reply"
    assert _prop(xml, "propose", "dueFrom") == "received_date"
    assert _prop(xml, "propose", "formKey") == "propose"  # untouched properties stay

    # Ctrl+Z on the diagram undoes the last property change (dueFrom), then the time limit
    page.evaluate("() => window.gtModeler.get('commandStack').undo()")
    page.evaluate("() => window.gtModeler.get('commandStack').undo()")
    xml = page.evaluate(SAVED)
    assert _prop(xml, "propose", "dueIn") == "propose" and _prop(xml, "propose", "dueFrom") is None
    _select(page, "register")
    _select(page, "propose")
    _group(page, "贯通 · 办理时限").get_by_label("办理时限（settings.yaml）").select_option("reply")
    # 督办逾期处置: a duration written on the task instead of a settings name
    _select(page, "escalated")
    duration = _group(page, "贯通 · 办理时限").get_by_label("或直接填写时长")
    duration.fill("3  workdays")
    assert _saved_prop(page, "escalated", "dueIn", "3 workdays") == "3 workdays"  # spaces tidied
    assert "自定时长：3 个工作日" in _group(page, "贯通 · 办理时限").inner_text()

    # 登记线索 has no unitVar and a reason for no time limit: the panel creates and changes the properties; instructions are edited
    _select(page, "register")
    _group(page, "贯通 · 由谁办理").get_by_label("办理单位变量（unitVar）").select_option("handling_unit")
    _group(page, "贯通 · 办理时限").get_by_label("不设时限的理由（noDueReason）").fill("当日登记，随收随办")
    _group(page, "贯通 · 办理说明").get_by_label("办理说明").fill("登记线索，写明来源（监督执纪工作规则第20条）。")
    # the process's tags: with nothing selected the panel shows the diagram's process
    page.locator("#canvas").click(position={"x": 700, "y": 40})  # an empty spot of the diagram
    tags = _group(page, "贯通 · 流程标签")
    assert tags.get_by_label("流程标识（key）").input_value() == "gt_test_clue"
    tags.get_by_label("阶段", exact=True).select_option("discover")
    _saved_prop(page, "register", "noDueReason", "当日登记，随收随办")
    deadline = time.monotonic() + 5
    while "（监督执纪工作规则第20条）。</spiffworkflow:instructionsForEndUser>" not in page.evaluate(SAVED):
        assert time.monotonic() < deadline, "the instructions never reached the model"
        page.wait_for_timeout(100)
    xml = page.evaluate(SAVED)
    assert _prop(xml, "register", "unitVar") == "handling_unit"
    assert _prop(xml, "register", "noDueReason") == "当日登记，随收随办"  # the fixture says 签收即办
    assert "登记线索，写明来源（监督执纪工作规则第20条）。</spiffworkflow:instructionsForEndUser>" in xml
    assert '<spiffworkflow:property name="stage" value="discover"' in xml
    assert "<spiffworkflow:messagePayload>{'correlation': clue_no, 'approved': approved}" in xml  # kept
    page.screenshot(path=str(SHOTS / "studio-properties.png"), full_page=True)
    # bpmn-js's own words are said in Chinese too (the palette, the generic panel group)
    assert page.locator('.djs-palette [aria-label="创建任务"]').count() == 1
    assert page.locator(".bio-properties-panel-group-header", has_text="常规").count() == 1

    # the engine accepts the edit, and the deploy confirmation names the changed properties
    page.get_by_role("button", name="部署").click()
    page.get_by_test_id("deploy-confirm").wait_for(state="visible")
    listed = page.get_by_test_id("confirm-list").inner_text()
    assert "dueIn" in listed and "unitVar" in listed and "noDueReason" in listed, listed
    assert "督办逾期处置" in listed, listed
    assert errors == []


def test_form_editor_previews_live_with_the_officers_form_and_says_where_json_breaks(live_server, browser):  # noqa: F811
    base = live_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "admin")
    page.goto(f"{base}/studio/versions/1")
    page.get_by_label("表单标识（formKey，新表单输入新标识）").fill("propose")
    page.get_by_role("button", name="编辑表单").click()
    preview = page.get_by_test_id("form-preview")
    preview.locator("[data-field], .mb-3").first.wait_for()
    assert "处置方式" in preview.inner_text()
    assert page.get_by_test_id("process-fields").inner_text() == "disposal"
    assert "gt_test_clue:propose" in page.get_by_test_id("used-by").inner_text()

    # a field's label changed in the schema: the preview follows, drawn by the task page's macros
    area = page.get_by_test_id("schema")
    area.fill(area.input_value().replace('"理由"', '"处置理由（含依据）"'))
    preview.get_by_text("处置理由（含依据）").wait_for()
    assert preview.locator("textarea").count() == 1
    page.screenshot(path=str(SHOTS / "studio-form-editor.png"), full_page=True)

    # broken JSON: said with its line and column, the preview keeps the last good form
    area.fill(area.input_value().replace('"type": "object",', '"type": "object",,', 1))
    problems = page.get_by_test_id("form-problems")
    problems.wait_for()
    assert "不是有效的 JSON：第" in problems.inner_text()
    assert "处置理由（含依据）" in preview.inner_text()
    assert errors == []
