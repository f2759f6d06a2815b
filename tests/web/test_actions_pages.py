"""The task page's forms for 退回, 撤回, 转办, 委派, 抄送 and 催办, the 待阅 page and 批量移交 (web/actions.py):
each a CSRF-protected post to the use case, a refusal a message naming what is missing, nothing changed."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask
from engine.tasks import operations as tasks
from tests.engine.usecases import REGISTER, REVEAL


def _clue_at_propose(services, who, start_clue):
    outcome = start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == outcome.instance_id))
    # without the reporter's name: no sealed field, whatever key the app's pages open them with
    plain = {k: v for k, v in REGISTER.items() if k != "reporter_name"}
    tasks.submit_task(services, who("cm1"), register, plain, reveal=REVEAL)
    with services.db.session() as s:
        return s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "propose", HumanTask.status == "ready"))


def _assignee(services, task_id):
    with services.db.session() as s:
        return s.get(HumanTask, task_id).assignee


def test_the_forms_are_offered_and_a_refusal_changes_nothing(client_for, services, who, start_clue):
    propose = _clue_at_propose(services, who, start_clue)
    so1 = client_for("so1")
    so1.post(f"/tasks/{propose}/claim")
    page = so1.get(f"/tasks/{propose}").get_data(as_text=True)
    assert 'data-testid="transfer-form"' in page and 'data-testid="copy-form"' in page
    assert 'data-testid="return-form"' in page  # 登记线索 is done: the case can go back to it
    refused = so1.post(f"/tasks/{propose}/transfer", {"assignee": "so1b", "reason": ""}, follow_redirects=True)
    assert "请填写理由" in refused.get_data(as_text=True) and _assignee(services, propose) == "so1"
    no_token = so1.http.post(f"/tasks/{propose}/transfer", data={"assignee": "so1b", "reason": "出差"})
    assert no_token.status_code == 400 and _assignee(services, propose) == "so1"  # CSRF
    done = so1.post(f"/tasks/{propose}/delegate", {"assignee": "so1b", "reason": "请起草"})
    assert done.status_code == 302 and _assignee(services, propose) == "so1b"
    so1b = client_for("so1b")
    assert "交还委派人" in so1b.get(f"/tasks/{propose}").get_data(as_text=True)
    so1b.post(f"/tasks/{propose}/give-back")
    assert _assignee(services, propose) == "so1"
    so1.post(f"/tasks/{propose}/copies", {"readers": "so1b", "note": "请阅"})
    copies = so1b.get("/copies").get_data(as_text=True)
    assert 'data-testid="unread"' in copies and "刘洋" in copies
    assert 'data-testid="count-copies">1<' in so1b.get("/inbox").get_data(as_text=True)


def test_a_leader_hands_over_all_work_from_the_page(client_for, services, who, start_clue):
    propose = _clue_at_propose(services, who, start_clue)
    client_for("so1").post(f"/tasks/{propose}/claim")
    lead = client_for("so1lead")
    assert "批量移交" in lead.get("/inbox").get_data(as_text=True)
    assert client_for("so1b").get("/handover").status_code == 403  # not a unit's leader
    refused = lead.post("/handover", {"from_username": "so1", "to_username": "", "reason": "调岗"})
    assert refused.status_code == 422 and _assignee(services, propose) == "so1"
    done = lead.post("/handover", {"from_username": "so1", "to_username": "so1b", "reason": "调岗"})
    assert done.status_code == 200 and 'data-testid="handover-result"' in done.get_data(as_text=True)
    assert _assignee(services, propose) == "so1b"
    assert client_for("so1b").post(
        "/handover", {"from_username": "so1", "to_username": "so1b", "reason": "x"}
    ).status_code in (403, 404)


def test_saved_opinions_are_offered_beside_the_opinion_field(client_for, services, who, start_clue):
    boss = client_for("boss")
    boss.post("/phrases", {"text": "同意，请按程序抓紧办理。"})
    assert "同意，请按程序抓紧办理。" in boss.get("/phrases").get_data(as_text=True)
    propose = _clue_at_propose(services, who, start_clue)
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    with services.db.session() as s:
        approve = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "approve", HumanTask.status == "ready"))
    boss.post(f"/tasks/{approve}/claim")
    page = boss.get(f"/tasks/{approve}").get_data(as_text=True)
    assert 'data-phrase="同意，请按程序抓紧办理。"' in page and "js/phrases.js" in page
