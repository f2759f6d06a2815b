"""Tasks through the API: lists per scope, the form, claim, release, completion, and who may do what."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import TaskSubmission

from .conftest import REPORTER, error_of


def test_group_list_and_task_detail_with_form(api_as, clue):
    clue.start()
    cm2 = api_as("cm2")
    page = cm2.get("/tasks?scope=group").get_json()
    assert page["scope"] == "group" and page["total"] == 1 and page["counts"]["group"] == 1
    item = page["items"][0]
    assert item["name"] == "登记线索" and item["role"] == "case_management" and item["lane"] == "案件监督管理室"
    assert item["units"] == [] and item["assignee"] is None and item["claimable"] is True
    detail = cm2.get(f"/tasks/{item['id']}").get_json()
    assert detail["form_key"] == "register" and detail["form"]["required"] == ["clue_no", "handling_unit"]
    assert detail["form"]["properties"]["reporter_name"]["x-confidential"] is True
    # x-options resolved from the organisation: units holding the supervision role.
    assert [o["value"] for o in detail["options"]["handling_unit"]] == ["jc1", "jc2"]
    assert detail["instructions"] == "登记线索。"
    assert detail["actions"] == {"claim": True, "unclaim": False, "complete": True}
    assert detail["instance_status"] == "running"


def test_claim_unclaim_and_mine(api_as, clue):
    clue.start()
    task_id = clue.task(clue.cm1, "登记线索")
    cm2 = api_as("cm2")
    resp = cm2.post(f"/tasks/{task_id}/claim")
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "cm2"
    assert resp.get_json()["actions"]["unclaim"] is True
    assert [t["id"] for t in cm2.get("/tasks?scope=mine").get_json()["items"]] == [task_id]
    assert clue.cm1.get("/tasks?scope=group").get_json()["total"] == 0
    # Someone else claiming or completing a claimed task: conflict, nothing changes.
    resp = clue.cm1.post(f"/tasks/{task_id}/claim")
    assert resp.status_code == 409 and error_of(resp)["code"] == "conflict"
    resp = clue.cm1.post(f"/tasks/{task_id}/complete", json={"data": {"clue_no": "X", "handling_unit": "jc1"}})
    assert resp.status_code == 409
    resp = clue.cm1.post(f"/tasks/{task_id}/unclaim")
    assert resp.status_code == 403  # neither the assignee nor a leader
    resp = cm2.post(f"/tasks/{task_id}/unclaim")
    assert resp.status_code == 200 and resp.get_json()["assignee"] is None
    assert resp.get_json()["actions"]["claim"] is True


def test_complete_validates_against_the_form(api_as, clue):
    clue.start()
    task_id = clue.task(clue.cm1, "登记线索")
    resp = clue.cm1.post(f"/tasks/{task_id}/complete", json={"data": {"handling_unit": "nowhere", "colour": "red"}})
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["code"] == "validation_failed"
    assert err["details"]["fields"] == {
        "clue_no": "此项为必填项",
        "handling_unit": "请从给出的选项中选择",
        "colour": "表单中没有此项",
    }
    resp = clue.cm1.post(f"/tasks/{task_id}/complete", json={"data": {"clue_no": 7, "handling_unit": "jc1"}})
    assert resp.status_code == 422 and error_of(resp)["details"]["fields"] == {"clue_no": "应为文本"}
    resp = clue.cm1.post(f"/tasks/{task_id}/complete", json={})
    assert resp.status_code == 422 and set(error_of(resp)["details"]["fields"]) == {"data"}
    resp = clue.cm1.post(f"/tasks/{task_id}/complete", data="{", content_type="application/json")
    assert resp.status_code == 400


def test_complete_splits_like_the_web(api_as, clue, services):
    clue.start()
    result = clue.register()
    assert result["instance_status"] == "running"
    assert [t["name"] for t in result["next_tasks"]] == ["提出处置意见"]
    task = result["task"]
    assert task["status"] == "completed" and task["completed_by"] == "cm1"
    assert task["actions"] == {"claim": False, "unclaim": False, "complete": False}
    with services.db.session() as s:
        sub = s.scalar(select(TaskSubmission).where(TaskSubmission.task_id == task["id"]))
        assert sub.data == {"clue_no": "XS-2024-001", "handling_unit": "jc1", "summary": "反映某局长违规吃喝"}
        assert sub.sealed and REPORTER not in sub.sealed
    # The second completion of the same task is a conflict.
    resp = clue.cm1.post(f"/tasks/{task['id']}/complete", json={"data": {"clue_no": "X", "handling_unit": "jc1"}})
    assert resp.status_code == 409
    assert api_as("cm1").get("/tasks?scope=completed").get_json()["items"][0]["id"] == task["id"]


def test_completion_reply_matches_a_fresh_read(api_as, clue):
    """The reply is built from what the completion committed, without reading again: it must say what a
    later GET says, field by field, and name the tasks the step opened."""
    clue.start()
    result = clue.register()
    done = result["task"]
    cm1 = api_as("cm1")
    fresh = cm1.get(f"/tasks/{done['id']}").get_json()
    for name in (
        "id",
        "instance_id",
        "name",
        "process_key",
        "process_name",
        "business_key",
        "title",
        "lane",
        "role",
        "units",
        "assignee",
        "status",
        "stage",
        "mechanism",
        "platform",
        "created_at",
        "due_at",
        "due_state",
        "workdays_left",
        "completed_at",
        "completed_by",
    ):
        assert done[name] == fresh[name], name
    assert result["instance_status"] == fresh["instance_status"]
    opened = [
        t
        for t in api_as("so1").get("/tasks?scope=group").get_json()["items"]
        if t["instance_id"] == done["instance_id"]
    ]
    assert [{"id": t["id"], "name": t["name"], "lane": t["lane"]} for t in opened] == result["next_tasks"]


def test_one_unit_cannot_list_read_claim_or_complete_anothers_task(api_as, clue):
    clue.start()
    clue.register(unit="jc1")
    propose = clue.task(clue.cm1, "提出处置意见")
    so1, so2 = api_as("so1"), api_as("so2")
    assert [t["id"] for t in so1.get("/tasks?scope=group").get_json()["items"]] == [propose]
    assert so2.get("/tasks?scope=group").get_json()["total"] == 0
    assert so2.get("/tasks?scope=team").get_json()["total"] == 0
    for resp in (
        so2.get(f"/tasks/{propose}"),
        so2.post(f"/tasks/{propose}/claim"),
        so2.post(f"/tasks/{propose}/unclaim"),
        so2.post(f"/tasks/{propose}/complete", json={"data": {"disposal": "liaojie"}}),
    ):
        assert resp.status_code == 404, resp.get_json()  # as if the task did not exist
        assert error_of(resp) == {
            "code": "not_found",
            "message": f"task {propose} not found",
            "details": {"task": propose},
        }
        assert "disposal" not in resp.get_data(as_text=True)
    # Another role altogether (案管室 registered the clue but does not propose).
    resp = api_as("cm2").post(f"/tasks/{propose}/claim")
    assert resp.status_code == 404
    # The 第一室 leader sees it in the team scope; an officer of 第一室 completes it.
    assert api_as("so1lead").get("/tasks?scope=team").get_json()["total"] == 1
    result = clue.propose(so1)
    assert result["next_tasks"][0]["name"] == "审批处置意见"


def test_unknown_task_and_filters(api_as, clue):
    cm1 = api_as("cm1")
    assert cm1.get("/tasks/999999").status_code == 404
    assert error_of(cm1.get("/tasks/999999"))["details"] == {"task": 999999}
    first = clue.start("XS-A")["id"]
    second = clue.start("XS-B")["id"]
    page = cm1.get("/tasks?scope=group&business_key=xs-b").get_json()
    assert [i["business_key"] for i in page["items"]] == ["XS-B"]
    # One case's tasks by its instance (issue 19: a client's next task without a key search).
    page = cm1.get(f"/tasks?scope=group&instance={first}").get_json()
    assert [(i["instance_id"], i["business_key"]) for i in page["items"]] == [(first, "XS-A")]
    assert cm1.get(f"/tasks?scope=group&instance={second}").get_json()["total"] == 1
    assert cm1.get("/tasks?scope=group&instance=2147483647").get_json()["total"] == 0
    resp = cm1.get("/tasks?instance=0")
    assert resp.status_code == 422 and "instance" in str(error_of(resp)["details"])
    page = cm1.get("/tasks?scope=group&per_page=1&page=2").get_json()
    assert page["total"] == 2 and page["pages"] == 2 and len(page["items"]) == 1
    assert cm1.get("/tasks?scope=group&definition=gt_test_waiter").get_json()["total"] == 0
    resp = cm1.get("/tasks?scope=everything")
    assert resp.status_code == 422 and error_of(resp)["details"]["location"] == "query"
    assert cm1.get("/tasks?per_page=1000").status_code == 422
