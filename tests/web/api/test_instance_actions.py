"""The managers' operations through the API: ``POST /api/v1/instances/<id>/<action>`` and
``…/tasks/<task_id>/reassign``, each with a required reason (422 naming the field), audited with it."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, ProcessInstance

from .conftest import error_of


def _status(services, instance_id):
    with services.db.session() as s:
        return s.get(ProcessInstance, instance_id).status


def test_suspend_resume_cancel_need_a_reason_and_are_audited_with_it(api_as, clue, services):
    clue.start()
    clue.register()
    boss, iid = api_as("boss"), clue.instance_id
    for body in ({}, {"reason": ""}, {"reason": "  "}):
        resp = boss.post(f"/instances/{iid}/suspend", json=body)
        assert resp.status_code == 422, resp.get_json()
        assert "reason" in str(error_of(resp)["details"]) and _status(services, iid) == "running"
    assert boss.post(f"/instances/{iid}/suspend", json={"reason": "等待审计报告"}).status_code == 204
    assert _status(services, iid) == "suspended"
    assert boss.post(f"/instances/{iid}/suspend", json={"reason": "再挂起"}).status_code == 409
    assert boss.post(f"/instances/{iid}/resume", json={"reason": "报告已到"}).status_code == 204
    assert boss.post(f"/instances/{iid}/cancel", json={"reason": "重复登记"}).status_code == 204
    assert boss.post(f"/instances/{iid}/explode", json={"reason": "x"}).status_code == 404
    # Not an overseer (an officer), and 三员分立 (an administrator): refused, nothing changes.
    assert api_as("so1").post(f"/instances/{iid}/resume", json={"reason": "x"}).status_code == 403
    assert api_as("admin").post(f"/instances/{iid}/resume", json={"reason": "x"}).status_code == 403
    with services.db.session() as s:
        events = [
            (e.action, e.actor, e.detail.get("reason"))
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.instance_id == iid, AuditEvent.action.in_(("suspended", "resumed", "cancelled")))
                .order_by(AuditEvent.id)
            )
        ]
    assert events == [
        ("suspended", "boss", "等待审计报告"),
        ("resumed", "boss", "报告已到"),
        ("cancelled", "boss", "重复登记"),
    ]


def test_an_overseer_reassigns_a_task_with_a_reason(api_as, clue, services):
    clue.start()
    clue.register()
    boss, iid = api_as("boss"), clue.instance_id
    task_id = clue.task(boss, "提出处置意见")
    url = f"/instances/{iid}/tasks/{task_id}/reassign"
    resp = boss.post(url, json={"assignee": "so1b", "reason": ""})
    assert resp.status_code == 422 and "reason" in str(error_of(resp)["details"])
    resp = boss.post(url, json={"assignee": "so2", "reason": "换人"})
    assert resp.status_code == 422 and "assignee" in str(error_of(resp)["details"])
    assert api_as("so1").post(url, json={"assignee": "so1b", "reason": "换人"}).status_code == 403
    assert boss.post(url, json={"assignee": "so1b", "reason": "刘洋出差"}).status_code == 204
    with services.db.session() as s:
        assert s.get(HumanTask, task_id).assignee == "so1b"
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "reassigned")).all()
        assert (event.actor, event.detail["assignee"], event.detail["reason"]) == ("boss", "so1b", "刘洋出差")
