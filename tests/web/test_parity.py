"""Pages and API give the same answers to the same person, by construction: both call the same use case
(engine/tasks/operations.py, engine/instances/operations.py). Each test drives one use case through
the page and through the API as one person and compares what each channel says."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.access import tokens
from engine.models import AuditEvent, HumanTask, User

REPORTER = "李检举"
REGISTER = {
    "clue_no": "XS-2024-001",
    "handling_unit": "jc1",
    "summary": "反映某局长违规吃喝",
    "reporter_name": REPORTER,
}


class Api:
    """The JSON API as one person: a bearer token of theirs, and the headers every call sends."""

    def __init__(self, http, token: str, headers: dict[str, str]):
        self.http = http
        self.headers = {"Accept": "application/json", "Authorization": f"Bearer {token}", **headers}

    def get(self, path):
        return self.http.get("/api/v1" + path, headers=self.headers)

    def post(self, path, json=None):
        return self.http.post("/api/v1" + path, json=json, headers=self.headers)


@pytest.fixture
def api_for(app, services):
    def make(username: str, **headers: str) -> Api:
        with services.db.session() as s:
            token, _ = tokens.issue(s, s.scalar(select(User).where(User.username == username)))
        return Api(app.test_client(), token, headers)

    return make


def _ready(services, spec_id):
    with services.db.session() as s:
        return s.scalars(select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready")).all()


def _viewed(services):
    with services.db.session() as s:
        return [
            (e.actor, e.instance_id)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "confidential_viewed"))
        ]


def _registered(services, start_clue, api_for):
    outcome = start_clue()
    register = _ready(services, "register")[0]
    resp = api_for("cm1").post(f"/tasks/{register.id}/complete", json={"data": REGISTER})
    assert resp.status_code == 200, resp.get_json()
    return outcome.instance_id, _ready(services, "propose")[0].id


def test_task_detail_is_the_same_on_both_channels(client_for, api_for, services, start_clue):
    start_clue()
    register = _ready(services, "register")[0]
    page = client_for("cm1")
    page.post("/locale", data={"locale": "en"})
    html = page.get(f"/tasks/{register.id}").get_data(as_text=True)
    detail = api_for("cm1", **{"Accept-Language": "en"}).get(f"/tasks/{register.id}").get_json()
    # Options resolved by locale on both: the units holding the role, under their English names.
    page_options = re.findall(r'<option value="(jc\d)"[^>]*>([^<]+)</option>', html)
    api_options = [(o["value"], o["label"]) for o in detail["options"]["handling_unit"]]
    assert page_options == api_options and ("jc1", "1st Supervision Office") in api_options
    # What the person may do: claim offered on both, release on neither.
    assert detail["actions"] == {"claim": True, "unclaim": False, "complete": True}
    assert f'action="/tasks/{register.id}/claim"' in html and f'action="/tasks/{register.id}/unclaim"' not in html
    assert 'data-testid="task-form"' in html and detail["name"] in html
    # Without a language header the API answers in the language the person chose, as a new page does.
    own = api_for("cm1").get(f"/tasks/{register.id}").get_json()["options"]["handling_unit"]
    assert own[0]["label"] == "1st Supervision Office"
    assert own[0]["label"] in client_for("cm1").get(f"/tasks/{register.id}").get_data(as_text=True)
    chinese = api_for("cm1", **{"Accept-Language": "zh-CN"}).get(f"/tasks/{register.id}").get_json()
    assert chinese["options"]["handling_unit"][0]["label"] == "第一监督检查室"


def test_complete_refuses_unknown_fields_and_foreign_options_on_both(client_for, api_for, services, start_clue):
    start_clue()
    register = _ready(services, "register")[0]
    bad = {"clue_no": "XS-1", "handling_unit": "nowhere", "colour": "red"}
    page = client_for("cm1").post(f"/tasks/{register.id}", data={"action": "complete", **bad})
    api = api_for("cm1").post(f"/tasks/{register.id}/complete", json={"data": bad})
    assert page.status_code == api.status_code == 422
    fields = api.get_json()["error"]["details"]["fields"]
    assert fields == {"colour": "表单中没有此项", "handling_unit": "请从给出的选项中选择"}
    html = page.get_data(as_text=True)
    for name, message in fields.items():
        assert f'href="#field-{name}"' in html and message in html
    assert _ready(services, "register")[0].id == register.id  # nothing changed
    # The same good form completes on either channel with the same outcome.
    good = dict(REGISTER)
    start_clue()
    first, second = (t.id for t in _ready(services, "register"))
    assert client_for("cm1").post(f"/tasks/{first}", data={"action": "complete", **good}).status_code == 302
    done = api_for("cm1").post(f"/tasks/{second}/complete", json={"data": good}).get_json()
    assert [t["name"] for t in done["next_tasks"]] == ["提出处置意见"] and len(_ready(services, "propose")) == 2


def test_claim_and_unclaim_agree_on_both_channels(client_for, api_for, services, start_clue):
    _, propose = _registered(services, start_clue, api_for)
    assert client_for("so1").post(f"/tasks/{propose}/claim").status_code == 302
    seen = api_for("so1").get(f"/tasks/{propose}").get_json()
    assert seen["assignee"] == "so1" and seen["actions"] == {"claim": False, "unclaim": True, "complete": True}
    # The colleague is refused on both with the same conflict.
    assert api_for("so1b").post(f"/tasks/{propose}/claim").status_code == 409
    claimed = client_for("so1b").post(f"/tasks/{propose}/claim")
    assert claimed.status_code == 302 and "tab=group" in claimed.headers["Location"]
    released = api_for("so1").post(f"/tasks/{propose}/unclaim").get_json()
    assert released["assignee"] is None and released["actions"]["claim"] is True
    html = client_for("so1").get(f"/tasks/{propose}").get_data(as_text=True)
    assert f'action="/tasks/{propose}/claim"' in html and "待认领" in html


def test_instance_list_is_one_list(client_for, api_for, services, start_clue, app):
    app.config["COCKPIT_PER_PAGE"] = 50
    _registered(services, start_clue, api_for)
    for key in ("XS-2024-002", "JB-2024-009"):
        services.runtime.start("gt_test_clue", actor=_principal(services, "cm1"), business_key=key)
    # The cockpit lists every instance; the API those the caller may find. The 案管 officer who started them
    # all, given the cockpit, finds the same on both (no administrator reads cases: 三员分立).
    services.config.cockpit_roles = frozenset({"case_management"})
    admin_page, admin_api = client_for("cm1"), api_for("cm1")
    for page_query, api_query in (
        ("status=running", "status=running"),
        ("status=running&q=xs-2024", "status=running&business_key=xs-2024"),
        ("status=running&unit=jc1", "status=running&unit=jc1"),
        ("status=all&overdue=1", "overdue=true"),
    ):
        html = admin_page.get(f"/cockpit/instances?{page_query}").get_data(as_text=True)
        on_page = sorted(int(i) for i in re.findall(r'href="/cockpit/instances/(\d+)"', html))
        on_api = sorted(i["id"] for i in admin_api.get(f"/instances?{api_query}&per_page=100").get_json()["items"])
        assert on_page == on_api, page_query
        assert f"共 {len(on_api)} 个流程实例" in html
    assert len(on_api) == 0  # nothing is overdue yet
    assert len(sorted(i["id"] for i in admin_api.get("/instances?unit=jc1").get_json()["items"])) == 1


def _principal(services, username):
    from engine.access.principal import load_principal

    with services.db.session() as s:
        return load_principal(s, username)


@pytest.mark.parametrize("username, revealed", [("boss", True), ("so1", False)])
def test_instance_detail_reveals_alike_and_audits_each_view_once(
    client_for, api_for, services, start_clue, username, revealed
):
    instance_id, propose = _registered(services, start_clue, api_for)
    api_for("so1").post(f"/tasks/{propose}/complete", json={"data": {"disposal": "chubu_heshi", "reason": "需核实"}})
    html = client_for(username).get(f"/instances/{instance_id}").get_data(as_text=True)
    assert (REPORTER in html) is revealed and ("已加密，无权查看" in html) is not revealed
    assert _viewed(services) == ([(username, instance_id)] if revealed else [])
    body = api_for(username).get(f"/instances/{instance_id}").get_json()
    assert (body["data"].get("reporter_name") == REPORTER) is revealed
    assert body["confidential_withheld"] is not revealed
    assert _viewed(services) == ([(username, instance_id)] * 2 if revealed else [])
    # The same steps on both channels, in the same order.
    steps = [h["name"] for h in body["history"] if "data" in h]
    assert steps == ["登记线索", "提出处置意见"]
    assert html.index("登记线索") < html.index("提出处置意见")
