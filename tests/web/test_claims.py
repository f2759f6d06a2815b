"""Claim, release and reassignment by the unit leader; the leader's team tab; refusals."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import AuditEvent, HumanTask


def _task_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-task-id="(\d+)"', html)]


def _propose_task(client_for, start_clue, services) -> int:
    start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask).where(HumanTask.spec_id == "register"))
    resp = client_for("cm1").post(
        f"/tasks/{register.id}", data={"action": "complete", "clue_no": "XS-9", "handling_unit": "jc1"}
    )
    assert resp.status_code == 302
    with services.db.session() as s:
        return s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "propose"))


def _assignee(services, task_id):
    with services.db.session() as s:
        return s.get(HumanTask, task_id).assignee


def test_claim_moves_the_task_to_mine_and_out_of_colleagues_pool(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    so1, so1b = client_for("so1"), client_for("so1b")
    html = so1.get("/inbox?tab=group").get_data(as_text=True)
    assert f'action="/tasks/{task_id}/claim"' in html
    resp = so1.post(f"/tasks/{task_id}/claim", data={"next": "inbox", "tab": "mine"})
    assert resp.status_code == 302 and "tab=mine" in resp.headers["Location"]
    assert _assignee(services, task_id) == "so1"
    mine = so1.get("/inbox?tab=mine").get_data(as_text=True)
    assert _task_ids(mine) == [task_id] and 'data-testid="count-mine">1<' in mine
    assert _task_ids(so1b.get("/inbox?tab=group").get_data(as_text=True)) == []
    # A colleague may still read it, but not act on it, and cannot claim it over the assignee.
    page = so1b.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "此任务已由 so1 认领" in page and "提交办结" not in page
    resp = so1b.post(f"/tasks/{task_id}/claim")
    assert resp.status_code == 302
    assert "此任务已由 so1 认领" in so1b.get(resp.headers["Location"]).get_data(as_text=True)
    assert _assignee(services, task_id) == "so1"
    resp = so1b.post(f"/tasks/{task_id}", data={"action": "complete", "disposal": "zancun"})
    assert resp.status_code == 409


def test_release_returns_the_task_to_the_unit(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    so1 = client_for("so1")
    so1.post(f"/tasks/{task_id}/claim")
    resp = so1.post(f"/tasks/{task_id}/unclaim", data={"next": "inbox", "tab": "group"})
    assert resp.status_code == 302
    assert _assignee(services, task_id) is None
    assert _task_ids(client_for("so1b").get("/inbox?tab=group").get_data(as_text=True)) == [task_id]


def test_someone_else_cannot_release_a_claimed_task(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    client_for("so1").post(f"/tasks/{task_id}/claim")
    resp = client_for("so1b").post(f"/tasks/{task_id}/unclaim")
    assert resp.status_code == 403
    assert _assignee(services, task_id) == "so1"


def test_leader_sees_team_tab_and_reassigns(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    client_for("so1").post(f"/tasks/{task_id}/claim")
    lead = client_for("so1lead")
    html = lead.get("/inbox?tab=team").get_data(as_text=True)
    assert _task_ids(html) == [task_id] and 'data-testid="count-team">1<' in html
    page = lead.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'action="/tasks/{task_id}/reassign"' in page
    assert 'value="so1b"' in page and 'value="so2"' not in page  # only eligible people are offered
    resp = lead.post(f"/tasks/{task_id}/reassign", data={"assignee": "so1b"})
    assert resp.status_code == 302
    assert _assignee(services, task_id) == "so1b"
    assert _task_ids(client_for("so1b").get("/inbox?tab=mine").get_data(as_text=True)) == [task_id]
    assert _task_ids(client_for("so1").get("/inbox?tab=mine").get_data(as_text=True)) == []
    with services.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "reassigned"))
    assert event.actor == "so1lead" and event.detail == {"previous": "so1", "assignee": "so1b"}


def test_reassign_to_someone_outside_the_unit_is_refused(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    lead = client_for("so1lead")
    resp = lead.post(f"/tasks/{task_id}/reassign", data={"assignee": "so2"})
    assert resp.status_code == 302
    assert "该人员不能办理此任务" in lead.get(resp.headers["Location"]).get_data(as_text=True)
    assert _assignee(services, task_id) is None


def test_non_leader_cannot_reassign(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    so1 = client_for("so1")
    assert "转交给" not in so1.get(f"/tasks/{task_id}").get_data(as_text=True)
    resp = so1.post(f"/tasks/{task_id}/reassign", data={"assignee": "so1b"})
    assert resp.status_code == 403
    assert _assignee(services, task_id) is None
    with services.db.session() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert [(e.actor, e.task_id) for e in denied] == [("so1", task_id)]


def test_another_unit_cannot_claim(client_for, start_clue, services):
    task_id = _propose_task(client_for, start_clue, services)
    resp = client_for("so2").post(f"/tasks/{task_id}/claim")
    assert resp.status_code == 404  # not theirs to see: as if it did not exist
    assert _assignee(services, task_id) is None
