"""``GET /api/v1/instances/<id>/diagram``: the same markers, path and visits as the pages, for the API's
callers, behind the instance gate (404 for one who may not find the instance) and without names for a
caller who may only follow the instance."""

from __future__ import annotations

import json
import re

from .conftest import REPORTER, error_of


def test_the_diagram_of_a_registered_clue(api_as, clue):
    clue.start()
    clue.register()
    resp = api_as("so1").get(f"/instances/{clue.instance_id}/diagram")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["level"] == "full" and body["process_key"] == "gt_test_clue" and "<bpmn:definitions" in body["xml"]
    assert body["path"] == ["f1", "f2"]
    assert body["elements"]["propose"]["markers"] == ["active"]
    assert body["elements"]["register"]["markers"] == ["completed"]
    [visit] = body["elements"]["register"]["visits"]
    assert visit["holder"] == "cm1" and visit["holder_name"] == "冯丽" and visit["finished_at"]
    assert body["elements"]["propose"]["visits"][0]["due_at"] and body["elements"]["propose"]["visits"][0]["due_state"]
    assert REPORTER not in json.dumps(body, ensure_ascii=False)  # metadata only, never a record


def test_the_diagram_is_behind_the_instance_gate(api_as, clue):
    clue.start()
    clue.register()
    for username in ("so2", "admin"):
        resp = api_as(username).get(f"/instances/{clue.instance_id}/diagram")
        assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    assert api_as(None).get(f"/instances/{clue.instance_id}/diagram").status_code == 401
    # The commission's secretary oversees it (a cockpit role) but works on none of its tasks: he follows
    # where it stands, not who handled it.
    body = api_as("boss").get(f"/instances/{clue.instance_id}/diagram").get_json()
    assert body["level"] == "status" and body["elements"]["propose"]["markers"] == ["active"]
    assert all(v["holder"] is None for e in body["elements"].values() for v in e["visits"])
    without_xml = {k: v for k, v in body.items() if k != "xml"}
    assert "elements" in without_xml and not re.search("冯丽|cm1", json.dumps(without_xml, ensure_ascii=False))
