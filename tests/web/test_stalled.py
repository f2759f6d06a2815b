"""The cockpit's 无人可办 page: open tasks no active account can act on, for the managers only."""

from __future__ import annotations

from sqlalchemy import select, update

from engine.models import HumanTask, User


def test_the_manager_sees_the_stalled_step_and_an_officer_may_not_open_the_page(client_for, start_clue, services):
    start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "register"))
    client_for("cm1").post(f"/tasks/{register}", data={"action": "complete", "clue_no": "XS-9", "handling_unit": "jc2"})
    boss = client_for("boss")
    assert 'data-testid="stalled-row"' not in boss.get("/cockpit/stalled").get_data(as_text=True)
    with services.db.session() as s:  # 第二室's only officer leaves: the step given to him waits on nobody
        s.execute(update(User).where(User.username == "so2").values(active=False))
    page = boss.get("/cockpit/stalled").get_data(as_text=True)
    assert page.count('data-testid="stalled-row"') == 1 and "提出处置意见" in page and "办理人账号已停用" in page
    assert client_for("so1").get("/cockpit/stalled").status_code == 403
