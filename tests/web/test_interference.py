"""The interference register on the web and the API: the same use cases (engine/interference), so the
same answers on both channels; every form posts its CSRF token; the CSV ledger leaves the free texts out."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from engine.access import tokens
from engine.models import AuditEvent, HumanTask, InterferenceEntry, User
from tests.engine.interference.people import add_register_people

REGISTER = {"clue_no": "XS-2024-001", "handling_unit": "jc1", "summary": "反映某局长违规吃喝"}
ENTRY = {
    "intervener_name": "某副县长",
    "intervener_post": "县政府副县长",
    "kind": "plead",
    "channel": "phone",
    "occurred_at": "2024-03-01T09:30",
    "content": "请求对其亲属从轻处理",
    "response": "当即拒绝，告知将登记备案",
}


class Api:
    def __init__(self, http, token: str):
        self.http = http
        self.headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}

    def get(self, path):
        return self.http.get("/api/v1" + path, headers=self.headers)

    def post(self, path, json=None):
        return self.http.post("/api/v1" + path, json=json, headers=self.headers)


@pytest.fixture
def api_for(app, services):
    def make(username: str) -> Api:
        with services.db.session() as s:
            token, _ = tokens.issue(s, s.scalar(select(User).where(User.username == username)))
        return Api(app.test_client(), token)

    return make


@pytest.fixture
def clue(services, who, start_clue, api_for):
    """A clue 案管室 registered, now with 第一监督检查室 (its 提出处置意见 task); (instance id, task id)."""
    add_register_people(services)
    outcome = start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "register"))
    assert api_for("cm1").post(f"/tasks/{register}/complete", json={"data": REGISTER}).status_code == 200
    with services.db.session() as s:
        propose = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "propose"))
    return outcome.instance_id, propose


def written(services):
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(InterferenceEntry))


def denials(services):
    with services.db.session() as s:
        return [
            (e.actor, e.detail.get("reason"), e.detail.get("channel"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied"))
        ]


def test_an_officer_records_an_approach_from_the_task_page(client_for, services, clue):
    instance_id, task_id = clue
    page = client_for("so1")
    html = page.get(f"/tasks/{task_id}").get_data(as_text=True)
    link = f"/instances/{instance_id}/interference/new?task={task_id}"
    assert "登记干预情况" in html and link.replace("?", "?") in html.replace("&amp;", "&")
    form = page.get(link).get_data(as_text=True)
    assert 'data-testid="interference-form"' in form and "XS-2024-001" in form
    # Missing fields: each named at its input, the typed values kept, nothing written.
    resp = page.post(f"/instances/{instance_id}/interference", data={"intervener_name": "某副县长", "task": task_id})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and written(services) == 0
    for name in ("kind", "channel", "occurred_at", "content", "response"):
        assert f'data-testid="error-{name}"' in body
    assert 'value="某副县长"' in body
    # Without the CSRF token the post is refused and nothing is written.
    resp = page.http.post(f"/instances/{instance_id}/interference", data=ENTRY)
    assert resp.status_code == 400 and written(services) == 0
    resp = page.post(f"/instances/{instance_id}/interference", data={**ENTRY, "task": task_id})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tasks/{task_id}")
    assert written(services) == 1
    listed = page.get(f"/instances/{instance_id}/interference").get_data(as_text=True)
    assert "某副县长" in listed and "说情干预" in listed and "待签收" in listed


def test_people_outside_the_case_get_no_action_and_a_recorded_refusal(client_for, services, clue):
    instance_id, _task = clue
    assert 'data-testid="record-interference"' in client_for("so1").get(f"/instances/{instance_id}").get_data(
        as_text=True
    )
    outsider = client_for("so2")
    for url in (f"/instances/{instance_id}/interference/new", f"/instances/{instance_id}/interference"):
        assert outsider.get(url).status_code == 404  # outside his need to know: as if it did not exist
    assert outsider.post(f"/instances/{instance_id}/interference", data=ENTRY).status_code == 404
    assert written(services) == 0
    assert denials(services) == [("so2", "interference_case_refused", None)] * 3


def test_the_register_page_filters_and_exports_a_ledger_without_free_texts(client_for, api_for, services, clue):
    instance_id, _task = clue
    so1 = api_for("so1")
    first = so1.post(f"/instances/{instance_id}/interference", json=ENTRY).get_json()
    injected = {**ENTRY, "kind": "enquire", "intervener_name": "=HYPERLINK(1)", "occurred_at": "2024-02-01T08:00"}
    assert so1.post(f"/instances/{instance_id}/interference", json=injected).status_code == 201
    # Only the offices have the navigation entry and the register.
    officer = client_for("so1")
    assert 'data-testid="nav-interference"' not in officer.get("/inbox").get_data(as_text=True)
    assert officer.get("/interference").status_code == 403
    assert officer.get("/interference/export.csv").status_code == 403
    office = client_for("gb1")
    html = office.get("/interference").get_data(as_text=True)
    assert 'data-testid="nav-interference"' in html and "共 2 条登记" in html
    assert "共 1 条登记" in office.get("/interference?kind=plead").get_data(as_text=True)
    assert "共 1 条登记" in office.get("/interference?date_from=2024-03-01&date_to=2024-03-01").get_data(as_text=True)
    assert "共 2 条登记" in office.get("/interference?unit=jc1").get_data(as_text=True)
    bad = office.get("/interference?date_from=yesterday")
    assert bad.status_code == 422 and "请填写有效的日期" in bad.get_data(as_text=True)
    resp = office.get("/interference/export.csv?kind=")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["编号", "案件编号", "流程"] and len(rows) == 3
    assert [r[0] for r in rows[1:]] == [str(first["id"] + 1), str(first["id"])]  # oldest approach first
    assert rows[1][6] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    # The ledger leaves the free texts (they may quote the case) in the system.
    assert ENTRY["content"] not in text and ENTRY["response"] not in text
    with services.db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "interference_exported")) == 1
    # English is available: the page and the ledger's headings.
    office.post("/locale", data={"locale": "en"})
    english = office.get("/interference").get_data(as_text=True)
    assert "Interference register" in english and "Pleading" in english and "2 entries" in english
    heading = office.get("/interference/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert heading.startswith("No.,Case number,")


def test_pages_and_api_give_the_same_answers(client_for, api_for, services, clue):
    instance_id, _task = clue
    # The same bad input is refused with the same fields on both channels.
    bad = {**ENTRY, "kind": "bribe", "occurred_at": "明天"}
    page_resp = client_for("so1").post(f"/instances/{instance_id}/interference", data=bad)
    api_resp = api_for("so1").post(f"/instances/{instance_id}/interference", json=bad)
    assert page_resp.status_code == api_resp.status_code == 422
    api_fields = api_resp.get_json()["error"]["details"]["fields"]
    page_errors = dict(re.findall(r'data-testid="error-(\w+)">([^<]+)<', page_resp.get_data(as_text=True)))
    page_errors.pop("summary")
    assert page_errors == api_fields and set(api_fields) == {"kind", "occurred_at"}
    # One recorded by page, one by API: both channels list both, alike.
    client_for("so1").post(f"/instances/{instance_id}/interference", data=ENTRY)
    created = api_for("so1b").post(f"/instances/{instance_id}/interference", json={**ENTRY, "channel": "in_person"})
    assert created.status_code == 201 and created.get_json()["recorded_by"] == "so1b"
    listed = api_for("so1").get(f"/instances/{instance_id}/interference").get_json()
    assert listed["case"]["business_key"] == "XS-2024-001"
    ids = [e["id"] for e in listed["items"]]
    html = client_for("so1").get(f"/instances/{instance_id}/interference").get_data(as_text=True)
    assert [int(i) for i in re.findall(r"/interference/(\d+)\"", html)] == ids
    register = api_for("ag1").get("/interference").get_json()
    assert [e["id"] for e in register["items"]] == ids and register["total"] == 2
    page_rows = re.findall(r'href="/interference/(\d+)"', client_for("ag1").get("/interference").get_data(as_text=True))
    assert [int(i) for i in page_rows] == ids
    # Refusals alike: 404 on both (the uniform answer for what one may not see), each audited.
    assert api_for("so2").get(f"/instances/{instance_id}/interference").status_code == 404
    assert api_for("so1").get("/interference").get_json()["error"]["message"] == "interference_register_only"
    assert api_for("ag2").get(f"/interference/{ids[0]}").status_code == 404
    assert api_for("ag1").get("/interference?kind=x").status_code == 422
    # Follow-up: the page signs for it, the API gives the opinion; a second receipt is a conflict.
    office = client_for("ag1")
    assert office.http.post(f"/interference/{ids[0]}/follow-up", data={"action": "received"}).status_code == 400
    assert office.post(f"/interference/{ids[0]}/follow-up", data={"action": "received"}).status_code == 302
    again = api_for("ag1").post(f"/interference/{ids[0]}/follow-ups", json={"action": "received"})
    assert again.status_code == 409
    empty = office.post(f"/interference/{ids[0]}/follow-up", data={"action": "opinion", "note": ""})
    assert empty.status_code == 422 and 'data-testid="error-note"' in empty.get_data(as_text=True)
    done = api_for("gb1").post(f"/interference/{ids[0]}/follow-ups", json={"action": "opinion", "note": "约谈提醒"})
    assert done.status_code == 201 and done.get_json()["state"] == "opinion"
    shown = api_for("so1").get(f"/interference/{ids[0]}").get_json()
    assert [f["action"] for f in shown["follow_ups"]] == ["received", "opinion"] and not shown["may_follow_up"]
    entry_page = client_for("so1").get(f"/interference/{ids[0]}").get_data(as_text=True)
    assert "约谈提醒" in entry_page and "已提出处理意见" in entry_page and 'data-testid="receive"' not in entry_page


def test_the_api_documents_the_register(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/instances/{instance_id}/interference",
        "/api/v1/interference",
        "/api/v1/interference/{entry_id}",
    ):
        assert path in spec["paths"]
