"""A library process with a multi-instance step, edited in the studio's modeler, still validates.

The library's files are edited in the studio (processes/README.md, "如何修改流程"). SpiffWorkflow names a
task-data variable in a multi-instance's ``loopDataInputRef``; bpmn-js cannot resolve it and, left alone,
drops it on save, so every edit of 14 of the library's 31 files came back refused by the engine ("A
multiinstance task must specify a cardinality or a loop input data reference"). The studio keeps those
names (web/static/js/loop-refs.js); here a designer renames the multi-instance step of
``gt_m1_goal`` and 校验 finds nothing wrong, and the XML the modeler would send still names the variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions import load_bundle
from engine.definitions import operations as ops
from tests.web.test_browser import browser, live_server  # noqa: F401 - fixtures
from tests.web.test_browser_studio import _sign_in

pytestmark = pytest.mark.browser
PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def test_a_multi_instance_step_renamed_in_the_studio_keeps_its_loop_and_validates(
    live_server,  # noqa: F811
    browser,  # noqa: F811
    services,
):
    deployed = ops.deploy_bundle(services, ops.operator("system"), load_bundle(PROCESSES), comment="the library")
    assert deployed.created
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/studio/edit/gt_m1_goal.bpmn")
    page.wait_for_selector("#canvas[data-ready='1']")
    saved = page.evaluate("""async () => {
        const m = window.gtModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get('send_tasks'), { name: '逐项下达年度监督任务' });
        return (await m.saveXML({ format: true })).xml;
    }""")
    assert "逐项下达年度监督任务" in saved
    assert "<bpmn:loopDataInputRef>task_nos</bpmn:loopDataInputRef>" in saved
    page.get_by_role("button", name="校验").click()
    result = page.get_by_test_id("studio-result")
    result.get_by_text("校验通过").wait_for()
    assert page.get_by_test_id("problems").count() == 0
    page.close()
