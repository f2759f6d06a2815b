"""Separation of duties and the conflict register (回避登记) through the pages and the API alike.

The case is tests/engine/linked_case.py's: so1 (刘洋) proposed the clue's disposal, the review of case
LA-1 runs in a linked instance and must be separate from him.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.access import tokens
from engine.access.principal import load_principal
from engine.models import AuditEvent, RecusalConflict, User
from tests.engine.linked_case import investigated_case, linked_services, one


@pytest.fixture
def services(db, repo, library, tmp_path):
    return linked_services(db, repo, library, tmp_path)


@pytest.fixture
def principal(services):
    def load(username):
        with services.db.session() as s:
            return load_principal(s, username)

    return load


@pytest.fixture
def api_for(app, services):
    def make(username: str):
        with services.db.session() as s:
            token, _ = tokens.issue(s, s.scalar(select(User).where(User.username == username)))
        http = app.test_client()
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}

        class Api:
            def get(self, path):
                return http.get("/api/v1" + path, headers=headers)

            def post(self, path, json=None):
                return http.post("/api/v1" + path, json=json, headers=headers)

        return Api()

    return make


def _denials(services):
    with services.db.session() as s:
        return [
            (e.actor, e.task_id, e.detail.get("reason"), e.detail.get("channel"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]


def test_the_investigator_is_refused_the_review_on_both_channels_and_each_refusal_is_audited(
    services, principal, client_for, api_for
):
    _clue, _review = investigated_case(services, principal)
    review = one(services, "review")
    page = client_for("so1")
    html = page.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert "认领此任务" not in html  # never offered
    assert page.post(f"/tasks/{review.id}/claim").status_code == 403
    resp = api_for("so1").post(f"/tasks/{review.id}/claim")
    assert resp.status_code == 403 and resp.get_json()["error"]["details"]["rule"] == "separation_of_functions"
    resp = api_for("so1").post(f"/tasks/{review.id}/complete", json={"data": {"approved": True}})
    assert resp.status_code == 403
    refused = [d for d in _denials(services) if d[0] == "so1"]
    assert [(d[1], d[2]) for d in refused] == [(review.id, "separation_of_functions")] * 3
    assert [d[3] for d in refused] == [None, "api", "api"]
    # the unit leader's reassign list leaves him out; forcing it is refused with a message naming him
    lead = client_for("so1lead")
    html = lead.get(f"/tasks/{review.id}").get_data(as_text=True)
    reassign_list = re.search(r'<select[^>]*id="reassign-to".*?</select>', html, flags=re.S).group(0)
    assert 'value="so1b"' in reassign_list and 'value="so1"' not in reassign_list
    resp = lead.post(f"/tasks/{review.id}/reassign", data={"assignee": "so1"}, follow_redirects=True)
    assert "不能转交" in resp.get_data(as_text=True) and "刘洋" in resp.get_data(as_text=True)
    assert ("so1lead", review.id, "separation_of_functions", None) in _denials(services)


def test_the_register_page_and_api_declare_decide_and_agree(services, principal, client_for, api_for):
    clue, review_instance = investigated_case(services, principal)
    review = one(services, "review")
    boss = client_for("boss")
    resp = boss.post(
        f"/instances/{clue}/recusal", data={"username": "so1b", "kind": "kinship", "reason": "与被反映人系表兄弟"}
    )
    assert resp.status_code == 302
    html = boss.get(f"/instances/{clue}/recusal").get_data(as_text=True)
    assert "张敏" in html and "亲属关系" in html and "与被反映人系表兄弟" in html
    assert 'data-testid="linked-instances"' in html and f"/instances/{review_instance}" in html

    # the same register through the API, from the linked review instance
    answer = api_for("so1lead").get(f"/instances/{review_instance}/recusal").get_json()
    assert [(e["username"], e["kind"], e["binding"]) for e in answer["entries"]] == [("so1b", "kinship", True)]
    assert {i["id"] for i in answer["linked"]} == {clue, review_instance}
    assert answer["may_record"] and not answer["may_decide"]

    # so1b is out: refused on claim (audited as recusal)
    assert api_for("so1b").post(f"/tasks/{review.id}/claim").status_code == 403
    assert ("so1b", review.id, "recusal", "api") in _denials(services)

    # outsiders neither read nor write the register
    assert client_for("so2").get(f"/instances/{clue}/recusal").status_code == 404
    assert api_for("so2").get(f"/instances/{clue}/recusal").status_code == 404
    [conflict] = answer["entries"]
    refused = api_for("so1lead").post(f"/recusal/{conflict['id']}/decision", json={"decision": "keep", "reason": "x"})
    assert refused.status_code == 403
    bad = api_for("boss").post(f"/recusal/{conflict['id']}/decision", json={"decision": "maybe", "reason": "x"})
    assert bad.status_code == 422

    # the secretary keeps him on the page, with his reason; the API shows the same decision
    resp = boss.post(
        f"/recusal/{conflict['id']}/decision",
        data={"decision": "keep", "reason": "经核实已无来往，不影响公正办理", "instance_id": clue},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/instances/{clue}/recusal")
    [entry] = api_for("boss").get(f"/instances/{clue}/recusal").get_json()["entries"]
    assert (entry["decision"], entry["decided_by"], entry["binding"]) == ("keep", "boss", False)
    assert entry["decision_reason"] == "经核实已无来往，不影响公正办理"
    assert "不予回避（保留）" in boss.get(f"/instances/{clue}/recusal").get_data(as_text=True)
    assert api_for("so1b").post(f"/tasks/{review.id}/claim").status_code == 200


def test_an_officer_declares_his_own_conflict_through_the_api(services, principal, api_for):
    clue, _review = investigated_case(services, principal)
    resp = api_for("so1b").post(f"/instances/{clue}/recusal", json={"kind": "witness", "reason": "本人系证人"})
    assert resp.status_code == 201
    with services.db.session() as s:
        row = s.get(RecusalConflict, resp.get_json()["id"])
        assert (row.username, row.declared_by, row.self_declared, row.decision) == ("so1b", "so1b", True, None)
    again = api_for("so1b").post(f"/instances/{clue}/recusal", json={"kind": "witness", "reason": "再报"})
    assert again.status_code == 409
    other = api_for("so1b").post(f"/instances/{clue}/recusal", json={"username": "so1", "kind": "other", "reason": "x"})
    assert other.status_code == 403
    missing = api_for("so1b").post(f"/instances/{clue}/recusal", json={"kind": "witness", "reason": ""})
    assert missing.status_code == 422
