"""API fixtures: the app on the engine fixtures' database, a small county, and bearer tokens per user.

The county fits the test library (tests/fixtures/lib): 案管室 (two officers, one a leader), two
监督检查室 (第一室 with an officer and a leader, 第二室 with one officer), the commission leader (a
reveal role: sees reporter identity), a 信访室 officer with no task in the library, an administrator and
a disabled user. Tokens are minted through engine.tokens directly (argon2 is slow on purpose); the
token endpoint itself is tested with a password.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access import tokens
from engine.models import User
from tests.county import ORGANISATION, PASSWORD, county_services  # noqa: F401 - shared county
from web import create_app


@pytest.fixture
def services(db, deployed, tmp_path):
    return county_services(db, tmp_path, "test-secret-key-for-api")


@pytest.fixture
def app(services):
    return create_app(
        services=services,
        TESTING=True,
        API_TOKEN_RATE_LIMIT="3 per minute",
        API_MESSAGE_SENDERS={"*": ["case_management"]},
        REVEAL_ROLES=["commission_secretary"],
    )


class Api:
    """A JSON client acting as one user through a bearer token (or none)."""

    def __init__(self, http, token: str | None):
        self.http = http
        self.token = token

    def _headers(self, headers=None):
        merged = {"Accept": "application/json"}
        if self.token:
            merged["Authorization"] = f"Bearer {self.token}"
        merged.update(headers or {})
        return merged

    def get(self, path, **kw):
        return self.http.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.http.post("/api/v1" + path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path, **kw):
        return self.http.delete("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)


def mint_token(services, username: str) -> str:
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        raw, _ = tokens.issue(s, user)
    return raw


@pytest.fixture
def api_as(app, services):
    """``api_as("cm1")`` is a client with a fresh token of cm1; ``api_as(None)`` sends no token."""

    def make(username: str | None) -> Api:
        return Api(app.test_client(), mint_token(services, username) if username else None)

    return make


def error_of(response) -> dict:
    """The error envelope of a refused request (and proof that it is one)."""
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


REPORTER = "李检举"


@pytest.fixture
def clue(api_as):
    """Drive gt_test_clue through the API: start (cm1), register (to 第一室), propose, approve.

    Each step returns what the test needs; a test stops wherever its scenario needs the instance.
    """

    class Clue:
        def __init__(self):
            self.cm1 = api_as("cm1")
            self.instance_id = None

        def start(self, clue_no="XS-2024-001"):
            resp = self.cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": clue_no}})
            assert resp.status_code == 201, resp.get_json()
            self.instance_id = resp.get_json()["id"]
            return resp.get_json()

        def task(self, api, name):
            body = api.get(f"/instances/{self.instance_id}").get_json()
            ids = [t["id"] for t in body["current_tasks"] if t["name"] == name]
            assert ids, body["current_tasks"]
            return ids[0]

        def register(self, unit="jc1", clue_no="XS-2024-001"):
            task_id = self.task(self.cm1, "登记线索")
            resp = self.cm1.post(
                f"/tasks/{task_id}/complete",
                json={
                    "data": {
                        "clue_no": clue_no,
                        "handling_unit": unit,
                        "summary": "反映某局长违规吃喝",
                        "reporter_name": REPORTER,
                    }
                },
            )
            assert resp.status_code == 200, resp.get_json()
            return resp.get_json()

        def propose(self, api, disposal="chubu_heshi"):
            task_id = self.task(self.cm1, "提出处置意见")
            resp = api.post(f"/tasks/{task_id}/complete", json={"data": {"disposal": disposal, "reason": "需核实"}})
            assert resp.status_code == 200, resp.get_json()
            return resp.get_json()

    return Clue()
