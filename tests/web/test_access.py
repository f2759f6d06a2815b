"""Need-to-know: another role's task and another unit's instance answer 404 like a missing record (so ids
cannot be probed), the admin pages 403; every refusal leaves an audit event."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, HumanTask


def _denied(services):
    with services.db.session() as s:
        return [
            (e.actor, e.detail.get("reason"), e.instance_id, e.task_id)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]


def _hand_to_jc1(client_for, start_clue, services):
    outcome = start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask).where(HumanTask.spec_id == "register"))
    client_for("cm1").post(
        f"/tasks/{register.id}",
        data={"action": "complete", "clue_no": "XS-7", "handling_unit": "jc1", "reporter_name": "某某"},
    )
    with services.db.session() as s:
        propose = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "propose"))
    return outcome.instance_id, register.id, propose


def test_another_roles_task_is_404_and_audited(client_for, start_clue, services):
    instance_id, register_id, _ = _hand_to_jc1(client_for, start_clue, services)
    resp = client_for("so1").get(f"/tasks/{register_id}")  # 案管室's task, 监督检查室 officer
    missing = client_for("so1").get("/tasks/999999")
    assert resp.status_code == missing.status_code == 404
    assert resp.get_data(as_text=True).count("不存在") == missing.get_data(as_text=True).count("不存在") > 0
    assert _denied(services) == [("so1", "task_not_visible", instance_id, register_id)]


def test_another_units_task_and_instance_are_404(client_for, start_clue, services):
    instance_id, _, propose_id = _hand_to_jc1(client_for, start_clue, services)
    so2 = client_for("so2")  # 第二监督检查室: the clue was assigned to 第一室
    assert so2.get(f"/tasks/{propose_id}").status_code == 404
    assert so2.get(f"/instances/{instance_id}").status_code == 404
    assert so2.post(f"/tasks/{propose_id}", data={"action": "complete", "disposal": "zancun"}).status_code == 404
    reasons = [r[1] for r in _denied(services)]
    assert reasons == ["task_not_visible", "instance_not_visible", "task_not_visible"]
    with services.db.session() as s:
        assert s.get(HumanTask, propose_id).status == "ready"


def test_people_involved_see_the_instance(client_for, start_clue, services):
    instance_id, _, _ = _hand_to_jc1(client_for, start_clue, services)
    for username in ("cm1", "so1", "so1lead"):
        resp = client_for(username).get(f"/instances/{instance_id}")
        assert resp.status_code == 200, username
        html = resp.get_data(as_text=True)
        assert "XS-7" in html and "某某" not in html  # none of them holds a reveal role
    # 三员分立: no administrator reads a case, each refusal audited under the 三员 rule.
    for username in ("admin", "secadmin", "auditadmin"):
        assert client_for(username).get(f"/instances/{instance_id}").status_code == 404, username
    assert [r[:3] for r in _denied(services) if r[0].endswith("admin")] == [
        ("admin", "sanyuan_outside_duties", instance_id),
        ("secadmin", "sanyuan_outside_duties", instance_id),
        ("auditadmin", "sanyuan_outside_duties", instance_id),
    ]


def test_unknown_task_is_404(client_for):
    assert client_for("cm1").get("/tasks/999999").status_code == 404


def test_admin_pages_are_for_admins_only(client_for, services):
    cm1 = client_for("cm1")
    for url in ("/admin/", "/admin/units", "/admin/users", "/admin/import"):
        assert cm1.get(url).status_code == 403, url
    assert cm1.post("/admin/units", data={"code": "x", "name": "x", "kind": "office"}).status_code == 403
    assert {r[1] for r in _denied(services)} == {"sanyuan_organisation_admins_only"}
    assert len(_denied(services)) == 5
    assert "组织管理" not in cm1.get("/inbox").get_data(as_text=True)
