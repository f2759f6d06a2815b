"""The API's completion answer names the caller's own next task in the same case (issue 15)."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Membership, User


def _give_role(services, username, unit, role="supervision_office"):
    with services.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == username))
        s.add(Membership(user_id=user_id, unit_code=unit, role_code=role))


def _register(cm1, instance_id, unit):
    body = cm1.get(f"/instances/{instance_id}").get_json()
    [task_id] = [t["id"] for t in body["current_tasks"] if t["name"] == "登记线索"]
    resp = cm1.post(f"/tasks/{task_id}/complete", json={"data": {"clue_no": "XS-1", "handling_unit": unit}})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_the_completion_names_his_next_task_and_he_holds_it(api_as, services):
    _give_role(services, "cm1", "jc2")
    cm1 = api_as("cm1")
    started = cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-1"}}).get_json()
    result = _register(cm1, started["id"], "jc2")
    nxt = result["next_for_you"]
    assert nxt == {"id": result["next_tasks"][0]["id"], "name": "提出处置意见", "lane": "监督检查室"}
    detail = cm1.get(f"/tasks/{nxt['id']}").get_json()
    assert detail["assignee"] == "cm1" and detail["actions"]["complete"] is True


def test_no_next_task_of_his_is_null(api_as):
    cm1 = api_as("cm1")
    started = cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-1"}}).get_json()
    assert _register(cm1, started["id"], "jc1")["next_for_you"] is None
