"""加签 on the pages (web/countersign.py): the approver asks from his task page, the person asked answers on
his 加签意见 page, the approver reads the answer on the step and may then decide; CSRF on every form."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask, TaskConsultation
from tests.web.test_actions_pages import _clue_at_propose


def _at_approval(client_for, services, who, start_clue):
    propose = _clue_at_propose(services, who, start_clue)
    so1 = client_for("so1")
    so1.post(f"/tasks/{propose}/claim")
    so1.post(f"/tasks/{propose}", {"disposal": "chubu_heshi", "reason": "需核实", "action": "complete"})
    with services.db.session() as s:
        approve = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "approve", HumanTask.status == "ready"))
    boss = client_for("boss")
    boss.post(f"/tasks/{approve}/claim")
    return boss, approve


def test_ask_answer_and_decide(client_for, services, who, start_clue):
    boss, approve = _at_approval(client_for, services, who, start_clue)
    page = boss.get(f"/tasks/{approve}").get_data(as_text=True)
    assert 'data-testid="consult-form"' in page
    assert boss.http.post(f"/tasks/{approve}/consult", data={"asked": "so1lead", "question": "?"}).status_code == 400
    refused = boss.post(f"/tasks/{approve}/consult", {"asked": "so1lead", "question": ""}, follow_redirects=True)
    assert "请填写理由" in refused.get_data(as_text=True)
    asked = boss.post(f"/tasks/{approve}/consult", {"asked": "so1lead", "question": "是否先行初核？"})
    assert asked.status_code == 302
    waiting = boss.post(f"/tasks/{approve}", {"approved": "true", "action": "complete"}, follow_redirects=True)
    assert "已加签征求意见，待其提出意见后方可办结。" in waiting.get_data(as_text=True)  # the step waits
    lead = client_for("so1lead")
    mine = lead.get("/opinions").get_data(as_text=True)
    assert "是否先行初核？" in mine and "审批处置意见" in mine
    with services.db.session() as s:
        consultation = s.scalar(select(TaskConsultation.id))
    assert lead.post(f"/opinions/{consultation}", {"answer": "同意先行初核。"}).status_code == 302
    assert "同意先行初核。" in boss.get(f"/tasks/{approve}").get_data(as_text=True)
    assert client_for("so1").post(f"/opinions/{consultation}", {"answer": "x"}).status_code == 404
    boss.post(f"/tasks/{approve}", {"approved": "true", "action": "complete"})
    with services.db.session() as s:
        assert s.get(HumanTask, approve).status == "completed"
