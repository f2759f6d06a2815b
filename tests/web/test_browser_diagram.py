"""In a real browser: the instance page draws its diagram with the active and the overdue task marked,
clicking a step opens its side panel, a linked instance is one click away; the cockpit shows the same.

Chromium through Playwright as in tests/web/test_browser.py (skipped, with the reason, without them).
Screenshots: docs/screenshots/instance-diagram*.png when UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.models import HumanTask
from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def _register(services, who, instance_id, clue_no):
    with services.db.session() as s:
        task_id = s.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.spec_id == "register")
        )
    services.runtime.complete_task(
        task_id,
        actor=who("cm1"),
        data={"clue_no": clue_no, "handling_unit": "jc1"},
        record={"clue_no": clue_no, "handling_unit": "jc1", "summary": "反映工程招标问题"},
    )


def _marked(page, element_id, marker):
    return page.locator(f'g.djs-element.gt-{marker}[data-element-id="{element_id}"]').count() == 1


def test_the_instance_diagram_marks_the_active_and_the_overdue_task(live_server, browser, services, who):  # noqa: F811
    runtime, cm1 = services.runtime, who("cm1")
    source = runtime.start("gt_test_clue", actor=cm1, business_key="XS-2024-201", owner_unit="cdi").instance_id
    _register(services, who, source, "XS-2024-201")
    # A second clue the first one handed on; its proposal was due three days ago.
    handed = runtime.start(
        "gt_test_clue", actor=cm1, business_key="XS-2024-202", parent_instance_id=source, owner_unit="cdi"
    ).instance_id
    _register(services, who, handed, "XS-2024-202")
    with services.db.session() as s:
        s.execute(
            update(HumanTask)
            .where(HumanTask.instance_id == handed, HumanTask.status == "ready")
            .values(due_at=clock.now() - dt.timedelta(days=3))
        )

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server, "so1")

    page.goto(f"{live_server}/instances/{source}")
    page.wait_for_selector("#instance-diagram[data-ready='1']")
    assert _marked(page, "propose", "active") and not _marked(page, "propose", "overdue")
    assert _marked(page, "register", "completed") and _marked(page, "f2", "path")
    page.locator('g.djs-element[data-element-id="register"]').click()
    panel = page.get_by_test_id("diagram-panel")
    assert "登记线索" in panel.inner_text() and "冯丽" in panel.inner_text()
    assert panel.locator("[data-marker=completed]").count() == 1
    page.screenshot(path=str(SHOTS / "instance-diagram.png"), full_page=True)

    page.get_by_test_id(f"linked-{handed}").click()
    page.wait_for_url(f"**/instances/{handed}")
    page.wait_for_selector("#instance-diagram[data-ready='1']")
    assert _marked(page, "propose", "overdue") and _marked(page, "propose", "active")
    page.locator('g.djs-element[data-element-id="propose"]').click()
    assert "超期" in page.get_by_test_id("diagram-panel").inner_text()
    assert page.get_by_test_id(f"linked-{source}").count() == 1  # and back
    page.screenshot(path=str(SHOTS / "instance-diagram-overdue.png"), full_page=True)

    # The cockpit's instance page: the same diagram for the commission's secretary.
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    _sign_in(page, live_server, "boss")
    page.goto(f"{live_server}/cockpit/instances/{handed}")
    page.wait_for_selector("#instance-diagram[data-ready='1']")
    assert _marked(page, "propose", "overdue")
    page.screenshot(path=str(SHOTS / "instance-diagram-cockpit.png"), full_page=True)
    assert errors == []
    context.close()
