"""The approvals page in a real browser (三员分立): a security administrator asks for a reveal-role grant,
the commission's secretary finds it under 审批, a rejection without a reason is refused with the field
named, and the approval grants the role. Screenshots go to docs/screenshots/ only with UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import Membership, User
from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - fixtures


def _held(services, username: str, role: str) -> bool:
    with services.db.session() as s:
        return (
            s.scalar(select(Membership.id).join(User).where(User.username == username, Membership.role_code == role))
            is not None
        )


@pytest.mark.browser
def test_a_reveal_grant_is_asked_for_then_approved_by_a_second_person(live_server, browser, services):  # noqa: F811
    base = live_server
    with services.db.session() as s:
        so2 = s.scalar(select(User.id).where(User.username == "so2"))
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN")
    errors: list[str] = []

    # ---- the security administrator asks
    sec = context.new_page()
    sec.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(sec, base, "secadmin")
    sec.goto(f"{base}/admin/users/{so2}")
    sec.locator("#m-unit").select_option("cdi")
    sec.locator("#m-role").select_option("commission_secretary")
    sec.get_by_role("button", name="分配").click()
    sec.wait_for_selector("text=已提交审批")
    assert not _held(services, "so2", "commission_secretary")
    sec.get_by_test_id("nav-approvals").click()
    row = sec.locator("[data-testid=pending-requests] tbody tr").first
    assert "so2" in row.inner_text() and "待他人审批" in row.inner_text()
    context.close()

    # ---- the commission's secretary decides
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN")
    boss = context.new_page()
    boss.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(boss, base, "boss")
    boss.get_by_test_id("nav-approvals").click()
    boss.locator("[data-testid=pending-requests] tbody tr a").first.click()
    boss.wait_for_selector("[data-testid=request]")
    assert "secadmin" in boss.get_by_test_id("request").inner_text()
    boss.get_by_test_id("reject").click()  # no reason given
    boss.wait_for_selector("#r-reason-error")
    assert "请填写驳回理由" in boss.locator("#r-reason-error").inner_text()
    boss.screenshot(path=str(SHOTS / "approval.png"), full_page=True)
    boss.get_by_test_id("approve").click()
    boss.wait_for_selector("text=已批准，已生效")
    assert "已批准" in boss.get_by_test_id("decision").inner_text()
    assert _held(services, "so2", "commission_secretary")
    assert errors == []
    context.close()
