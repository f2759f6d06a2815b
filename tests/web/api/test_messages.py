"""Messages from other systems: who may send, and start / deliver / pending outcomes."""

from __future__ import annotations

from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.instances import entry

from .conftest import error_of


def test_message_starts_then_delivers_then_waits(api_as, clue):
    cm1 = api_as("cm1")
    resp = cm1.post("/messages/clue_handover", json={"correlation": "YJ-1", "data": {"clue_no": "YJ-1"}})
    assert resp.status_code == 200, resp.get_json()
    started = resp.get_json()
    assert started["status"] == "started" and started["instance_id"]
    body = cm1.get(f"/instances/{started['instance_id']}").get_json()
    assert body["process_key"] == "gt_test_intake" and body["started_by"] == "cm1"
    assert [t["name"] for t in body["current_tasks"]] == ["受理移交线索"]
    # A waiter for handover_result: the message continues that instance.
    waiter = cm1.post("/definitions/gt_test_waiter/instances", json={"data": {"clue_no": "YJ-2"}})
    assert waiter.status_code == 201, waiter.get_json()
    resp = cm1.post("/messages/handover_result", json={"correlation": "YJ-2", "data": {"approved": True}})
    assert resp.get_json() == {
        "status": "delivered",
        "instance_id": waiter.get_json()["id"],
        "message_id": resp.get_json()["message_id"],
    }
    after = cm1.get(f"/instances/{waiter.get_json()['id']}").get_json()
    assert [t["name"] for t in after["current_tasks"]] == ["阅知办理结果"]
    # Nobody waits for this correlation yet: kept pending.
    resp = cm1.post("/messages/handover_result", json={"correlation": "YJ-404", "data": {}})
    assert resp.status_code == 200 and resp.get_json()["status"] == "pending"
    assert resp.get_json()["instance_id"] is None


def test_message_refusals(api_as):
    resp = api_as("so1").post("/messages/clue_handover", json={"correlation": "YJ-1", "data": {}})
    assert resp.status_code == 403 and error_of(resp)["details"] == {"message_name": "clue_handover"}
    resp = api_as("admin").post("/messages/no_such_message", json={"correlation": "YJ-1"})
    assert resp.status_code == 403  # 三员分立: no administrator sends case messages
    resp = api_as("cm1").post("/messages/no_such_message", json={"correlation": "YJ-1"})
    assert resp.status_code == 404
    cm1 = api_as("cm1")
    resp = cm1.post("/messages/clue_handover", json={"correlation": "YJ-1", "data": {"_secret": 1}})
    assert resp.status_code == 422 and "_secret" in error_of(resp)["details"]["fields"]
    resp = cm1.post("/messages/clue_handover", json={"correlation": "YJ-1", "data": {"note": "a\x00b"}})
    assert resp.status_code == 422 and "data" in error_of(resp)["details"]["fields"]  # PostgreSQL cannot store NUL
    resp = cm1.post("/messages/clue_handover", json={"correlation": "x" * 121})
    assert resp.status_code == 422 and "correlation" in error_of(resp)["details"]["fields"]
    resp = cm1.post("/messages/clue%20handover", json={})
    assert resp.status_code == 404  # not a message name at all


def test_sender_setting():
    officer = Principal("a", memberships=frozenset({("u", "inspection_office")}))
    senders = entry.message_senders(environ={})
    assert entry.may_send_message(officer, "gt_msg_clue_handover", senders)
    narrowed = entry.message_senders(environ={}, configured={"gt_msg_clue_handover": ["case_management_office"]})
    assert not entry.may_send_message(officer, "gt_msg_clue_handover", narrowed)
    assert entry.may_send_message(officer, "gt_msg_risk_alert", narrowed)
    assert not entry.may_send_message(
        officer, "x", entry.message_senders(environ={"GUANTONG_MESSAGE_SENDER_ROLES": "petition_office"})
    )
    assert entry.may_send_message(SYSTEM_PRINCIPAL, "x", {"*": frozenset()})
    assert not entry.may_send_message(Principal("root", admin_kind="system"), "x", {"*": frozenset()})
