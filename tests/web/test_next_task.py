"""Less clicking (issue 15): after submitting, the officer lands on his own next step of the same case;
the inbox opens on the tab that has his work; the API's completion answer names his next task."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask, Membership, User

REGISTER = {"action": "complete", "clue_no": "XS-9", "summary": "反映问题"}


def _give_role(services, username, unit, role="supervision_office"):
    with services.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
        s.add(Membership(user_id=user_id, unit_code=unit, role_code=role))


def _open(services, spec_id):
    with services.db.session() as s:
        return s.scalars(select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready")).all()


def test_after_submitting_he_goes_to_his_next_task_in_the_same_case(client_for, start_clue, services):
    _give_role(services, "cm1", "jc2")  # cm1 of 案管室 also works in 第二监督检查室, beside so2
    start_clue()
    [register] = _open(services, "register")
    resp = client_for("cm1").post(f"/tasks/{register.id}", data={**REGISTER, "handling_unit": "jc2"})
    [propose] = _open(services, "propose")
    assert propose.assignee == "cm1"  # his own step opened it: no claiming
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tasks/{propose.id}")


def test_without_a_next_task_of_his_he_goes_to_his_done_work(client_for, start_clue, services):
    start_clue()
    [register] = _open(services, "register")
    resp = client_for("cm1").post(f"/tasks/{register.id}", data={**REGISTER, "handling_unit": "jc1"})
    assert resp.status_code == 302 and "tab=completed" in resp.headers["Location"]
    [propose] = _open(services, "propose")
    assert propose.assignee is None  # three people of 第一室 may do it: it waits in their pool


def test_the_inbox_opens_on_the_tab_that_has_his_work(client_for, start_clue, services):
    start_clue()
    [register] = _open(services, "register")
    client_for("cm1").post(f"/tasks/{register.id}", data={**REGISTER, "handling_unit": "jc1"})
    [propose] = _open(services, "propose")
    so1 = client_for("so1")
    landing = so1.get("/inbox").get_data(as_text=True)  # he holds nothing; his unit's pool has the step
    assert f'data-task-id="{propose.id}"' in landing
    chosen = so1.get("/inbox?tab=mine").get_data(as_text=True)  # a tab he chose stays chosen
    assert f'data-task-id="{propose.id}"' not in chosen
