"""Deployed processes and who may start them (engine.entry.may_start)."""

from __future__ import annotations

from pathlib import Path

from engine.access.principal import Principal
from engine.definitions import compile_bundle, load_bundle
from engine.definitions.repository import DefinitionRepository
from engine.instances import entry

from .conftest import error_of

ROOT = Path(__file__).resolve().parents[3]


def _by_key(resp):
    assert resp.status_code == 200
    return {d["key"]: d for d in resp.get_json()}


def test_list_says_who_may_start_what(api_as):
    cm1 = _by_key(api_as("cm1").get("/definitions"))
    assert set(cm1) == {"gt_test_clue", "gt_test_waiter", "gt_test_intake", "gt_test_monthly"}
    clue = cm1["gt_test_clue"]
    assert clue["name"] == "测试线索处置" and clue["stage"] == "dispose" and clue["platform"] == "P5"
    assert clue["mechanism"] == "M2" and clue["revision"] == 1 and clue["version"] >= 1
    assert clue["start_roles"] == ["case_management"] and clue["startable"] is True
    # Started by a message or a timer: nobody starts these by hand, not even an administrator.
    assert cm1["gt_test_intake"]["start_kind"] == "message" and cm1["gt_test_intake"]["startable"] is False
    assert cm1["gt_test_monthly"]["start_kind"] == "timer" and cm1["gt_test_monthly"]["startable"] is False
    so1 = _by_key(api_as("so1").get("/definitions"))
    assert so1["gt_test_clue"]["startable"] is False
    admin = _by_key(api_as("admin").get("/definitions"))
    # 三员分立: no administrator starts a case.
    assert admin["gt_test_clue"]["startable"] is False and admin["gt_test_intake"]["startable"] is False


def test_start_returns_the_new_instance(api_as):
    resp = api_as("cm1").post(
        "/definitions/gt_test_clue/instances", json={"business_key": "XS-9", "data": {"source": "信访"}}
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["process_key"] == "gt_test_clue" and body["status"] == "running"
    assert body["business_key"] == "XS-9" and body["started_by"] == "cm1"
    assert [t["name"] for t in body["current_tasks"]] == ["登记线索"]
    assert body["current_tasks"][0]["visible"] is True and body["history"] == []


def test_start_refusals(api_as):
    so1 = api_as("so1")
    resp = so1.post("/definitions/gt_test_clue/instances", json={"data": {}})
    assert resp.status_code == 403 and error_of(resp)["code"] == "forbidden"
    cm1 = api_as("cm1")
    resp = cm1.post("/definitions/gt_test_intake/instances", json={"data": {}})
    assert resp.status_code == 403  # starts on a message
    resp = cm1.post("/definitions/gt_no_such/instances", json={"data": {}})
    assert resp.status_code == 404 and error_of(resp)["details"] == {"process": "gt_no_such"}
    resp = cm1.post("/definitions/gt_test_clue/instances", json={"data": {"typename": "x"}})
    assert resp.status_code == 422 and "typename" in error_of(resp)["details"]["fields"]
    resp = cm1.post("/definitions/gt_test_clue/instances", json={"data": [], "extra": 1})
    assert resp.status_code == 422
    assert set(error_of(resp)["details"]["fields"]) == {"data", "extra"}


def test_first_task_roles_of_the_real_library(tmp_path):
    """The rule on processes/: 信访室 starts report intake, 党风政风监督室 the goal process."""
    from engine.db import Database

    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    db.create_all()
    repo = DefinitionRepository(db)
    version_id, _ = repo.deploy(compile_bundle(load_bundle(ROOT / "processes")))
    loaded = repo.loaded(version_id)
    assert entry.first_task_roles(loaded, "gt_p5_intake_report") == {"petition_office"}
    assert entry.first_task_roles(loaded, "gt_p1_goal") == {"conduct_supervision_office"}
    with db.session() as s:
        report = repo.latest_definition(s, "gt_p5_intake_report")
        handover = repo.latest_definition(s, "gt_p5_intake_handover")
    petition = Principal("zhoujing", memberships=frozenset({("qh_xfs", "petition_office")}))
    cmo = Principal("fengli", memberships=frozenset({("qh_ags", "case_management_office")}))
    assert entry.may_start(petition, report, loaded) and not entry.may_start(cmo, report, loaded)
    assert not entry.may_start(Principal("admin", admin_kind="system"), handover, loaded)  # message start
    assert not entry.may_start(Principal("admin", admin_kind="system"), report, loaded)  # 三员分立: no case work
    db.dispose()
