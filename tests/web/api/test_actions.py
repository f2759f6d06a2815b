"""退回, 撤回, 转办, 委派, 抄送, 催办 and 待阅 through the API (web/api/actions.py), on the test clue."""

from __future__ import annotations

from .conftest import REPORTER, error_of


def _at_approval(api_as, clue):
    clue.start()
    clue.register()
    so1 = api_as("so1")
    propose = clue.task(clue.cm1, "提出处置意见")
    clue.propose(so1)
    boss = api_as("boss")
    return so1, boss, propose, clue.task(boss, "审批处置意见")


def test_return_with_its_instruction_and_the_next_completion_walks_on(api_as, clue):
    so1, boss, propose, approve = _at_approval(api_as, clue)
    offered = boss.get(f"/tasks/{approve}/actions").get_json()
    assert offered["return_to"][0]["task_id"] == propose
    refused = boss.post(f"/tasks/{approve}/return", json={"target_task_id": propose, "reason": " "})
    assert refused.status_code == 422 and "reason" in error_of(refused)["details"]["fields"]
    refused = so1.post(f"/tasks/{approve}/return", json={"target_task_id": propose, "reason": "退回"})
    assert refused.status_code in (403, 404)
    back = boss.post(f"/tasks/{approve}/return", json={"target_task_id": propose, "reason": "依据不足"})
    assert back.status_code == 200 and back.get_json()["assignee"] == "so1"
    reopened = back.get_json()["task_id"]
    done = so1.post(f"/tasks/{reopened}/complete", json={"data": {"disposal": "chubu_heshi", "reason": "已补充"}})
    assert done.status_code == 200 and [t["name"] for t in done.get_json()["next_tasks"]] == ["审批处置意见"]


def test_withdraw_until_the_next_person_claims(api_as, clue):
    so1, boss, propose, approve = _at_approval(api_as, clue)
    assert so1.get(f"/tasks/{propose}/actions").get_json()["may_withdraw"] is True
    back = so1.post(f"/tasks/{propose}/withdraw", json={"reason": "笔误"})
    assert back.status_code == 200
    so1.post(f"/tasks/{back.get_json()['task_id']}/complete", json={"data": {"disposal": "chubu_heshi", "reason": "x"}})
    approve = clue.task(boss, "审批处置意见")
    assert boss.post(f"/tasks/{approve}/claim").status_code == 200
    late = so1.post(f"/tasks/{back.get_json()['task_id']}/withdraw", json={})
    assert late.status_code == 409


def test_transfer_delegate_copy_and_urge(api_as, clue):
    clue.start()
    clue.register()
    so1 = api_as("so1")
    propose = clue.task(clue.cm1, "提出处置意见")
    assert so1.post(f"/tasks/{propose}/claim").status_code == 200
    wrong = so1.post(f"/tasks/{propose}/transfer", json={"assignee": "so2", "reason": "出差"})
    assert wrong.status_code == 422 and "assignee" in error_of(wrong)["details"]["fields"]
    assert so1.post(f"/tasks/{propose}/delegate", json={"assignee": "so1b", "reason": "请起草"}).status_code == 204
    so1b = api_as("so1b")
    refused = so1b.post(f"/tasks/{propose}/complete", json={"data": {"disposal": "chubu_heshi", "reason": "x"}})
    assert refused.status_code == 403
    assert so1b.post(f"/tasks/{propose}/give-back").status_code == 204
    assert so1.post(f"/tasks/{propose}/transfer", json={"assignee": "so1b", "reason": "出差"}).status_code == 204
    assert so1b.get(f"/tasks/{propose}").get_json()["assignee"] == "so1b"

    boss = api_as("boss")
    assert api_as("so2").post(f"/tasks/{propose}/urge", json={"note": "快"}).status_code in (403, 404)
    assert boss.post(f"/tasks/{propose}/urge", json={"note": "请本周办结"}).status_code == 204
    assert [u["note"] for u in so1b.get(f"/tasks/{propose}/actions").get_json()["urges"]] == ["请本周办结"]

    refused = so1b.post(f"/tasks/{propose}/copies", json={"readers": ["xf1"]})  # no part in the case
    assert refused.status_code == 422 and "readers" in error_of(refused)["details"]["fields"]
    sent = so1b.post(f"/tasks/{propose}/copies", json={"readers": ["so1"], "note": "请阅"})
    assert sent.status_code == 201
    [copy] = so1.get("/copies?unread=true").get_json()
    assert copy["sender"] == "so1b" and copy["read_at"] is None
    assert so1.post(f"/copies/{copy['id']}/read").get_json()["instance_id"] == clue.instance_id
    assert so1.get("/copies?unread=true").get_json() == []
    assert api_as("cm1").post(f"/copies/{copy['id']}/read").status_code == 404


def test_hand_over_all_by_a_leader(api_as, clue):
    clue.start()
    clue.register()
    so1 = api_as("so1")
    propose = clue.task(clue.cm1, "提出处置意见")
    assert so1.post(f"/tasks/{propose}/claim").status_code == 200
    body = {"from_username": "so1", "to_username": "so1b", "reason": "调岗"}
    assert api_as("so1b").post("/handovers", json=body).status_code == 403
    done = api_as("so1lead").post("/handovers", json=body)
    assert done.status_code == 200 and done.get_json() == {"handed": [propose], "pooled": []}
    assert so1.get(f"/tasks/{propose}").status_code == 200
    assert api_as("so1b").get(f"/tasks/{propose}").get_json()["assignee"] == "so1b"


def test_phrases_are_the_callers_own(api_as):
    boss = api_as("boss")
    made = boss.post("/phrases", json={"text": "同意。"})
    assert made.status_code == 201
    assert [p["text"] for p in boss.get("/phrases").get_json()] == ["同意。"]
    assert api_as("so1").get("/phrases").get_json() == []
    assert api_as("so1").delete(f"/phrases/{made.get_json()['id']}").status_code == 404
    assert boss.delete(f"/phrases/{made.get_json()['id']}").status_code == 204


def test_a_reporters_name_in_a_form_or_a_note_is_a_422_naming_the_field(api_as, clue):
    """Sealing that holds (engine/tasks/sealed_echo.py) answers the API as it answers the page: the field
    named, nothing changed, never the value echoed back."""
    clue.start()
    clue.register()
    so1 = api_as("so1")
    propose = clue.task(clue.cm1, "提出处置意见")
    typed = {"disposal": "chubu_heshi", "reason": f"据{REPORTER}反映"}
    refused = so1.post(f"/tasks/{propose}/complete", json={"data": typed})
    assert refused.status_code == 422 and set(error_of(refused)["details"]["fields"]) == {"reason"}
    assert REPORTER not in refused.get_data(as_text=True)
    assert so1.post(f"/tasks/{propose}/claim").status_code == 200
    noted = so1.post(f"/tasks/{propose}/delegate", json={"assignee": "so1b", "reason": f"请联系{REPORTER}"})
    assert noted.status_code == 422 and set(error_of(noted)["details"]["fields"]) == {"reason"}
    assert so1.get(f"/tasks/{propose}/actions").get_json()["delegated_to"] is None
