"""Hostile input answers 4xx naming what is wrong, and changes nothing (issue 12's limits).

Each of these used to be a 500 or to store something no page could show: 5,000 nested brackets, a lone
surrogate escaped in JSON, a multi-megabyte "reason".
"""

from __future__ import annotations

import pytest

from engine.forms.schema import TEXTAREA_MAX_LENGTH
from engine.tasks import operations as tasks
from tests.engine.usecases import REVEAL

from .conftest import error_of


@pytest.fixture
def proposal(clue):
    clue.start()
    clue.register()
    return clue.task(clue.cm1, "提出处置意见")


def _still_ready(api, task_id):
    body = api.get(f"/tasks/{task_id}").get_json()
    assert body["status"] == "ready" and body["completed_by"] is None


def test_deeply_nested_json_is_a_400(api_as, proposal):
    so1 = api_as("so1")
    deep = "[" * 5000 + "]" * 5000
    resp = so1.post(f"/tasks/{proposal}/complete", data=deep, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"
    _still_ready(so1, proposal)


def test_lone_surrogate_is_refused_naming_the_field(api_as, proposal):
    so1 = api_as("so1")
    body = '{"data": {"disposal": "liaojie", "reason": "\\ud800"}}'
    resp = so1.post(f"/tasks/{proposal}/complete", data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 422
    assert "reason" in error_of(resp)["details"]["fields"]["data"]
    _still_ready(so1, proposal)


def test_overlong_text_is_refused_with_its_limit(api_as, proposal):
    so1 = api_as("so1")
    resp = so1.post(
        f"/tasks/{proposal}/complete",
        json={"data": {"disposal": "liaojie", "reason": "长" * (TEXTAREA_MAX_LENGTH + 1)}},
    )
    assert resp.status_code == 422
    assert error_of(resp)["details"]["fields"] == {"reason": f"最多 {TEXTAREA_MAX_LENGTH} 个字"}
    _still_ready(so1, proposal)


def test_overlong_draft_is_not_stored(api_as, client_for, services, who, proposal):
    page = client_for("so1")
    resp = page.post(
        f"/tasks/{proposal}",
        data={"reason": "x" * (TEXTAREA_MAX_LENGTH + 1), "disposal": "liaojie", "action": "draft"},
    )
    assert resp.status_code == 422
    assert f"最多 {TEXTAREA_MAX_LENGTH} 个字" in resp.get_data(as_text=True)
    shown = tasks.show_task(services, who("so1"), proposal, reveal=REVEAL)
    assert shown.draft is None
    _still_ready(api_as("so1"), proposal)
