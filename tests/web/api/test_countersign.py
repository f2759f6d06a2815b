"""加签 through the API (web/api/countersign.py), on the test clue: asked, waited for, answered, decided."""

from __future__ import annotations

from .conftest import error_of
from .test_actions import _at_approval


def test_ask_wait_answer_and_decide(api_as, clue):
    _so1, boss, _propose, approve = _at_approval(api_as, clue)
    assert boss.post(f"/tasks/{approve}/claim").status_code == 200
    offered = boss.get(f"/tasks/{approve}/consultations").get_json()
    assert offered["may_ask"] is True and "so1lead" in {p["username"] for p in offered["candidates"]}
    empty = boss.post(f"/tasks/{approve}/consultations", json={"asked": "so1lead", "question": " "})
    assert empty.status_code == 422 and set(error_of(empty)["details"]["fields"]) == {"question"}
    asked = boss.post(f"/tasks/{approve}/consultations", json={"asked": "so1lead", "question": "是否先行初核？"})
    assert asked.status_code == 201
    again = boss.post(f"/tasks/{approve}/consultations", json={"asked": "so1lead", "question": "再问"})
    assert again.status_code == 409
    waiting = boss.post(f"/tasks/{approve}/complete", json={"data": {"approved": True}})
    assert waiting.status_code == 409 and error_of(waiting)["details"]["rule"] == "opinion_pending"
    lead = api_as("so1lead")
    [mine] = lead.get("/opinions").get_json()
    assert (mine["step"], mine["question"], mine["answer"]) == ("审批处置意见", "是否先行初核？", None)
    assert api_as("so1").post(f"/opinions/{mine['id']}/answer", json={"answer": "x"}).status_code == 404
    answered = lead.post(f"/opinions/{mine['id']}/answer", json={"answer": "同意先行初核。"})
    assert answered.status_code == 200 and answered.get_json() == {"task_id": approve}
    assert [o["answer"] for o in boss.get(f"/tasks/{approve}/consultations").get_json()["opinions"]] == [
        "同意先行初核。"
    ]
    assert boss.post(f"/tasks/{approve}/complete", json={"data": {"approved": True}}).status_code == 200
