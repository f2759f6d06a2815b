"""engine/visibility.py writes authz.can_see as SQL: the two must agree on every task and person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access import visibility
from engine.access.authz import can_see
from engine.models import HumanTask, ProcessInstance

from .conftest import ORGANISATION

USERS = [u["username"] for u in ORGANISATION["users"] if u.get("active", True)]


@pytest.fixture
def busy(api_as, clue, app):
    """Instances in several states: registered to jc1, to jc2, proposed and approved, and a claimed one."""
    clue.start("A")
    clue.register(unit="jc1", clue_no="A")
    clue.start("B")
    clue.register(unit="jc2", clue_no="B")
    clue.start("C")
    clue.register(unit="jc1", clue_no="C")
    clue.propose(api_as("so1"))
    clue.start("D")
    task = clue.task(clue.cm1, "登记线索")
    assert api_as("cm2").post(f"/tasks/{task}/claim").status_code == 200


def test_sql_task_visibility_matches_authz(services, who, busy):
    with services.db.session() as s:
        tasks = s.scalars(select(HumanTask)).all()
        assert len(tasks) >= 8
        for username in USERS:
            p = who(username)
            expected = {t.id for t in tasks if can_see(p, t)}
            got = set(s.scalars(select(HumanTask.id).where(visibility.task_visible_clause(p))))
            assert got == expected, username


def test_instance_visibility_follows_tasks_and_starter(services, who, busy):
    with services.db.session() as s:
        tasks = s.scalars(select(HumanTask)).all()
        instances = s.execute(select(ProcessInstance.id, ProcessInstance.started_by)).all()
        for username in USERS:
            p = who(username)
            expected = {
                i.id
                for i in instances
                if i.started_by == username or any(can_see(p, t) for t in tasks if t.instance_id == i.id)
            }
            got = set(s.scalars(select(ProcessInstance.id).where(visibility.instance_visible_clause(p))))
            assert got == expected, username
            assert all(visibility.can_see_instance(s, p, i.id) == (i.id in expected) for i in instances)


def test_the_api_answers_a_managers_scope_as_the_pages_do(api_as, services, who):
    """A county's manager reads his county's instances through the API as on the cockpit's pages
    (tests/web/test_cockpit.py), never the neighbour's: the list and the instance alike, refusals audited."""
    from engine.models import AuditEvent
    from tests.web.test_cockpit import two_counties

    ids = two_counties(services, who)
    for username, expected in (("boss", {"XS-CDI"}), ("nb_boss", {"XS-NB"}), ("pref_lead", {"XS-CDI", "XS-NB"})):
        listed = api_as(username).get("/instances?per_page=50").get_json()
        assert {i["business_key"] for i in listed["items"]} == expected, username
        assert listed["total"] == len(expected)
    boss = api_as("boss")
    mine = boss.get(f"/instances/{ids['XS-CDI']}").get_json()
    assert mine["owner_unit"] == "cdi" and mine["data_visible"] is False and "data" not in mine
    assert boss.get(f"/instances/{ids['XS-NB']}").status_code == 404
    assert api_as("pref_lead").get(f"/instances/{ids['XS-NB']}").status_code == 200
    with services.db.session() as s:
        denied = s.execute(
            select(AuditEvent.actor, AuditEvent.instance_id).where(AuditEvent.action == "access_denied")
        ).all()
    assert denied == [("boss", ids["XS-NB"])]
