"""Instances through the API: who finds them, who reads their records, who sees confidential fields."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine.models import AuditEvent

from .conftest import REPORTER, error_of


def test_detail_has_status_version_tasks_history_and_data(api_as, clue):
    clue.start()
    clue.register()
    body = api_as("so1").get(f"/instances/{clue.instance_id}").get_json()
    assert body["status"] == "running" and body["version"] >= 1 and body["revision"] == 1
    assert body["business_key"] == "XS-2024-001" and body["process_name"] == "测试线索处置"
    assert [(t["name"], t["units"], t["visible"]) for t in body["current_tasks"]] == [("提出处置意见", ["jc1"], True)]
    assert body["current_tasks"][0]["due_at"] is not None
    assert [(h["name"], h["completed_by"], h["status"]) for h in body["history"]] == [("登记线索", "cm1", "completed")]
    assert body["data_visible"] is True
    assert body["data"] == {"clue_no": "XS-2024-001", "handling_unit": "jc1", "summary": "反映某局长违规吃喝"}
    assert body["history"][0]["data"] == body["data"]


def test_confidential_fields_only_for_reveal_roles(api_as, clue, services):
    clue.start()
    clue.register()
    for username in ("so1", "cm1"):  # handlers: withheld, not masked
        resp = api_as(username).get(f"/instances/{clue.instance_id}")
        assert resp.status_code == 200
        assert REPORTER not in resp.get_data(as_text=True)
        assert "reporter_name" not in resp.get_json()["data"]
        assert resp.get_json()["confidential_withheld"] is True
    # 三员分立: no administrator reads the case at all (the uniform answer for what one may not see: 404).
    for username in ("admin", "secadmin", "auditadmin"):
        resp = api_as(username).get(f"/instances/{clue.instance_id}")
        assert resp.status_code == 404 and REPORTER not in resp.get_data(as_text=True)
    # The commission leader may reveal, but only once one of the instance's tasks is theirs to see. Before,
    # he oversees it as his commission's manager (a cockpit role): its status, never its records.
    overseen = api_as("boss").get(f"/instances/{clue.instance_id}")
    assert overseen.status_code == 200 and overseen.get_json()["data_visible"] is False
    assert "data" not in overseen.get_json() and REPORTER not in overseen.get_data(as_text=True)
    clue.propose(api_as("so1"))
    body = api_as("boss").get(f"/instances/{clue.instance_id}").get_json()
    assert body["data"]["reporter_name"] == REPORTER and body["confidential_withheld"] is False
    assert body["history"][0]["data"]["reporter_name"] == REPORTER
    with services.db.session() as s:
        viewed = s.scalars(select(AuditEvent).where(AuditEvent.action == "confidential_viewed")).all()
        assert [(e.actor, e.instance_id) for e in viewed] == [("boss", clue.instance_id)]


def test_other_units_neither_find_nor_read_the_instance(api_as, clue, services):
    clue.start()
    clue.register(unit="jc1")
    so2 = api_as("so2")
    assert so2.get("/instances").get_json()["total"] == 0
    resp = so2.get(f"/instances/{clue.instance_id}")
    missing = so2.get("/instances/999999")
    assert resp.status_code == 404 and error_of(resp)["details"] == {"instance": clue.instance_id}
    assert error_of(resp)["message"] == f"instance {clue.instance_id} not found"  # what a missing one says
    assert error_of(missing)["code"] == error_of(resp)["code"] == "not_found"
    assert "XS-2024-001" not in resp.get_data(as_text=True)
    with services.db.session() as s:
        denied = s.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied", AuditEvent.actor == "so2"))
        assert denied.instance_id == clue.instance_id and denied.detail["channel"] == "api"
    assert api_as("xf1").get("/instances").get_json()["total"] == 0
    for username in ("admin", "secadmin", "auditadmin"):  # 三员分立: no administrator finds a case
        assert api_as(username).get("/instances").get_json()["total"] == 0
    assert api_as("cm1").get("/instances/424242").status_code == 404


def test_the_starter_alone_follows_status_but_reads_no_records(app, api_as, clue):
    # 信访室 may hand clues over (per-message setting); the intake task that follows is 案管室's.
    app.config["API_MESSAGE_SENDERS"] = {"clue_handover": ["petition_office"]}
    xf1 = api_as("xf1")
    resp = xf1.post("/messages/clue_handover", json={"correlation": "YJ-7", "data": {"clue_no": "YJ-7"}})
    assert resp.status_code == 200 and resp.get_json()["status"] == "started"
    instance_id = resp.get_json()["instance_id"]
    accept = api_as("cm1").get(f"/instances/{instance_id}").get_json()["current_tasks"][0]["id"]
    done = api_as("cm1").post(
        f"/tasks/{accept}/complete", json={"data": {"approved": True, "opinion": "受理，内部意见"}}
    )
    assert done.status_code == 200 and done.get_json()["instance_status"] == "completed"
    body = xf1.get(f"/instances/{instance_id}").get_json()
    assert body["status"] == "completed" and body["started_by"] == "xf1"
    assert body["data_visible"] is False and "data" not in body
    assert body["history"] and all("data" not in h for h in body["history"])
    assert [h["completed_by"] for h in body["history"]] == [None]  # not even who handled it
    assert "内部意见" not in xf1.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert [i["id"] for i in xf1.get("/instances").get_json()["items"]] == [instance_id]
    assert xf1.get(f"/tasks/{accept}").status_code == 404


def test_list_filters_and_pages(api_as, clue, frozen_clock):
    clue.start("XS-1")
    clue.register(clue_no="XS-1")
    first = clue.instance_id
    clue.start("XS-2")
    second = clue.instance_id
    cm1 = api_as("cm1")

    def ids(query):
        resp = cm1.get("/instances" + query)
        assert resp.status_code == 200, resp.get_json()
        return [i["id"] for i in resp.get_json()["items"]]

    assert sorted(ids("")) == [first, second]
    assert ids("?business_key=XS-2") == [second]
    assert ids("?unit=jc1") == [first]
    assert sorted(ids("?status=running&definition=gt_test_clue&stage=dispose")) == [first, second]
    assert ids("?status=completed") == []
    assert ids("?definition=gt_test_waiter") == []
    page = cm1.get("/instances?per_page=1").get_json()
    assert page["total"] == 2 and page["pages"] == 2 and len(page["items"]) == 1
    assert ids("?overdue=true") == []
    frozen_clock.advance(days=30)  # 提出处置意见 is due in 5 working days (the token lasts 8 hours)
    cm1.token = api_as("cm1").token
    assert ids("?overdue=true") == [first]
    assert ids("?overdue=false") == [second]
    assert cm1.get("/instances?status=lost").status_code == 422
    assert cm1.get("/instances?page=0").status_code == 422


def test_timestamps_are_aware(api_as, clue):
    body = clue.start()
    started = dt.datetime.fromisoformat(body["started_at"])
    assert started.tzinfo is not None


def test_list_total_equals_the_rows_for_everyone(api_as, clue):
    """The total is counted from the visibility union alone when no filter applies and through the
    instances otherwise: either way it must equal the rows the pages list, newest activity first."""
    clue.start("XS-1")
    clue.register(clue_no="XS-1", unit="jc1")
    clue.start("XS-2")
    clue.register(clue_no="XS-2", unit="jc2")
    clue.start("XS-3")
    for username in ("admin", "cm1", "cm2", "so1", "so1lead", "so2", "boss", "xf1"):
        api = api_as(username)
        for query in ("", "&status=running", "&unit=jc1"):
            first = api.get(f"/instances?per_page=1{query}").get_json()
            listed = [
                i
                for n in range(1, first["pages"] + 1)
                for i in api.get(f"/instances?per_page=1&page={n}{query}").get_json()["items"]
            ]
            assert first["total"] == len(listed) == len({i["id"] for i in listed}), (username, query)
            stamps = [i["updated_at"] for i in listed]
            assert stamps == sorted(stamps, reverse=True), (username, query)
    assert [i["business_key"] for i in api_as("so2").get("/instances").get_json()["items"]] == ["XS-2"]
