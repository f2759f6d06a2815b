"""A manager's cockpit covers his commission and the commissions under it, never a neighbour's.

The May Day county of conftest.py (eight instances of 测试县纪委监委, ``cdi``) is put under its prefecture
(``pref``) beside a neighbouring county (``nb_cdi``, tests/county.py ``NEIGHBOURS``), which gets three
instances of its own: N1 overdue at its 监督检查室, N2 in error, N3 completed. The test county's secretary
(``boss``) must see exactly the figures he saw alone; the neighbour's secretary only N1–N3; the
prefecture's 分管领导 both. The same gate answers for the instance list and page, and the notifications
of an overdue task go to the owning commission only, naming the step and the business key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.cockpit import operations
from engine.cockpit.access import DEFAULT_COCKPIT_ROLES
from engine.cockpit.scope import commission_scope
from engine.errors import NotVisible, ProcessError
from engine.instances import operations as instance_ops
from engine.instances.queries import InstanceFilter
from engine.models import HumanTask, Notification, ProcessInstance
from engine.scheduling.worker import Worker
from tests.county import add_neighbours

from .conftest import NOW, end_of, local

REVEAL = Reveal(Sealer("test-secret"), frozenset({"commission_secretary"}))


@dataclass(frozen=True)
class Neighbour:
    instances: dict[str, int]  # N1 (overdue at nb_jc1), N2 (error), N3 (completed)
    propose: int  # N1's ready 提出处置意见


@pytest.fixture
def neighbour(services, who, seeded) -> Neighbour:
    add_neighbours(services)
    nb_cm = who("nb_cm")
    ids = {name: services.runtime.start("gt_test_clue", actor=nb_cm).instance_id for name in ("N1", "N2", "N3")}
    with services.db.session() as s:
        register = s.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == ids["N1"], HumanTask.spec_id == "register")
        )
    data = {"clue_no": "NB-1", "handling_unit": "nb_jc1"}
    services.runtime.complete_task(register, actor=nb_cm, data=data, record=data)
    services.runtime.record_failure(
        ids["N2"], ProcessError("no gateway condition was true", element="gw"), max_attempts=1
    )
    with services.db.session() as s:
        propose = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == ids["N1"], HumanTask.status == "ready"))
        s.execute(update(HumanTask).where(HumanTask.id == propose).values(due_at=end_of(dt.date(2024, 4, 30))))
        s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == ids["N3"])
            .values(status="completed", started_at=local(2024, 4, 1, 9), completed_at=local(2024, 4, 2, 9))
        )
    return Neighbour(instances=ids, propose=propose)


def test_each_instance_belongs_to_its_starters_commission(services, seeded, neighbour):
    with services.db.session() as s:
        owners = dict(s.execute(select(ProcessInstance.id, ProcessInstance.owner_unit)).all())
    assert {owners[i] for i in seeded.instances.values()} == {"cdi"}
    assert {owners[i] for i in neighbour.instances.values()} == {"nb_cdi"}


def test_the_scope_is_the_commission_and_those_under_it(services, who, neighbour):
    with services.db.session() as s:
        scopes = {
            name: commission_scope(s, who(name), DEFAULT_COCKPIT_ROLES)
            for name in ("boss", "nb_boss", "pref_lead", "cm1", "admin")
        }
    assert scopes == {
        "boss": {"cdi"},  # a county: itself only
        "nb_boss": {"nb_cdi"},  # never its neighbour
        "pref_lead": {"pref", "cdi", "nb_cdi"},  # the prefecture: itself and its counties
        "cm1": frozenset(),  # no cockpit role: nothing to oversee
        "admin": frozenset(),  # 三员分立: no administrator oversees any commission
    }


def test_a_county_managers_figures_are_his_county_alone(services, who, seeded, neighbour):
    boss = who("boss")
    data = operations.overview(services, boss, soon_workdays=2)
    assert data.statuses == {"running": 5, "error": 1, "suspended": 1, "completed": 1}  # as before N1–N3
    assert (data.overdue_tasks, data.overdue_instances, data.due_soon) == (1, 1, 2)
    deadlines = operations.deadlines(services, boss, soon_workdays=2)
    assert deadlines.totals == {"overdue": 1, "due_soon": 2}
    assert {g.unit for g in deadlines.groups} == {"jc1", "jc2"}
    durations = operations.durations(services, boss)
    [process] = durations.processes
    assert process.count == 1  # H only, not N3
    assert [r.id for r in operations.failed(services, boss).rows] == [seeded.instances["F"]]


def test_the_neighbour_sees_nothing_of_the_county(services, who, seeded, neighbour):
    nb_boss = who("nb_boss")
    data = operations.overview(services, nb_boss, soon_workdays=2)
    assert data.statuses == {"running": 1, "error": 1, "completed": 1}
    assert (data.overdue_tasks, data.overdue_instances, data.due_soon) == (1, 1, 0)
    deadlines = operations.deadlines(services, nb_boss, soon_workdays=2)
    assert [(g.unit, [i.id for i in g.items]) for g in deadlines.groups] == [("nb_jc1", [neighbour.propose])]
    durations = operations.durations(services, nb_boss)
    assert [(p.process_key, p.count) for p in durations.processes] == [("gt_test_clue", 1)]
    assert [s.count for s in durations.steps if s.key == ("gt_test_clue", "register")] == [1]  # N1's, not A–D's
    assert [r.id for r in operations.failed(services, nb_boss).rows] == [neighbour.instances["N2"]]


def test_the_prefecture_sees_both_counties(services, who, seeded, neighbour):
    pref = who("pref_lead")
    data = operations.overview(services, pref, soon_workdays=2)
    assert data.statuses == {"running": 6, "error": 2, "suspended": 1, "completed": 2}
    assert (data.overdue_tasks, data.overdue_instances) == (2, 2)
    assert {g.unit for g in operations.deadlines(services, pref, soon_workdays=2).groups} == {"jc1", "jc2", "nb_jc1"}
    assert {r.id for r in operations.failed(services, pref).rows} == {seeded.instances["F"], neighbour.instances["N2"]}
    [process] = operations.durations(services, pref).processes
    assert process.count == 2


def test_lists_and_instance_pages_answer_through_one_gate(services, who, seeded, neighbour):
    everything = InstanceFilter(status=None, per_page=50)
    county, nb = set(seeded.instances.values()), set(neighbour.instances.values())
    for name, expected in (("boss", county), ("nb_boss", nb), ("pref_lead", county | nb)):
        for oversight in (True, False):  # the cockpit's list and the API's
            page = instance_ops.list_instances(services, who(name), everything, oversight=oversight)
            assert {r.id for r in page.rows} == expected and page.total == len(expected), (name, oversight)
    a = seeded.instances["A"]
    for oversight in (True, False):  # /cockpit/instances/<id> and /instances/<id> (and the API) alike
        shown = instance_ops.show_instance(services, who("boss"), a, reveal=REVEAL, oversight=oversight)
        assert shown.may_open and not shown.may_read and shown.steps == []  # metadata, never the records
        assert instance_ops.show_instance(services, who("pref_lead"), a, reveal=REVEAL, oversight=oversight).may_open
        with pytest.raises(NotVisible):
            instance_ops.show_instance(services, who("nb_boss"), a, reveal=REVEAL, oversight=oversight)
        with pytest.raises(NotVisible):
            instance_ops.show_instance(
                services, who("boss"), neighbour.instances["N1"], reveal=REVEAL, oversight=oversight
            )


def test_a_neighbour_cannot_suspend_or_cancel_the_countys_cases(services, who, seeded, neighbour):
    a = seeded.instances["A"]
    for action in ("suspend", "cancel"):
        with pytest.raises(NotVisible):
            instance_ops.act_on_instance(services, who("nb_boss"), a, action, reason="不是我的案件")
    instance_ops.act_on_instance(services, who("pref_lead"), a, "suspend", reason="州纪委督办")
    instance_ops.act_on_instance(services, who("boss"), a, "resume", reason="县纪委核查完毕")


def test_the_timeline_keeps_step_metadata_only(services, who, seeded):
    from engine import audit

    a = seeded.instances["A"]
    with services.db.session() as s:
        audit.record(s, "attachment_added", actor="cm1", instance_id=a, filename="举报人身份证.jpg", sha256="ab" * 32)
    shown = instance_ops.show_instance(services, who("boss"), a, reveal=REVEAL, oversight=True)
    [added] = [e for e in shown.timeline if e.action == "attachment_added"]
    assert added.detail == {}
    assert "举报人身份证.jpg" not in repr(shown.timeline)
    created = [e for e in shown.timeline if e.action == "task_created"]
    assert created and all(set(e.detail) <= {"task", "role", "units", "assignee", "element"} for e in created)


def test_escalations_on_the_deadlines_page_are_the_scopes(services, who, seeded, neighbour):
    with services.db.session() as s:
        s.add(
            Notification(
                kind="escalation",
                role_code="commission_secretary",
                unit_code="cdi",
                instance_id=seeded.instances["A"],
                message="督办：XS-A",
            )
        )
        s.add(
            Notification(
                kind="escalation",
                role_code="commission_secretary",
                unit_code="nb_cdi",
                instance_id=neighbour.instances["N1"],
                message="督办：NB-1",
            )
        )
    assert [n.message for n in operations.deadlines(services, who("boss")).escalations] == ["督办：XS-A"]
    assert [n.message for n in operations.deadlines(services, who("nb_boss")).escalations] == ["督办：NB-1"]
    assert {n.message for n in operations.deadlines(services, who("pref_lead")).escalations} == {
        "督办：XS-A",
        "督办：NB-1",
    }


def test_overdue_notices_go_to_the_owning_commission_only(services, who, seeded, neighbour, now):
    """N1 is overdue at the neighbour's 监督检查室: its office hears of it and its own secretary gets the
    escalation (``escalate_to: commission_secretary``); the test county's secretary — who holds the same
    role — does not, and no notice names more than the step and the business key."""
    with services.db.session() as s:
        s.execute(
            update(HumanTask)
            .where(HumanTask.status == "ready", HumanTask.id != neighbour.propose)
            .values(escalated_at=NOW, reminded_at=NOW)
        )
    Worker(services).remind_and_escalate()
    with services.db.session() as s:
        sent = s.execute(
            select(
                Notification.kind,
                Notification.username,
                Notification.role_code,
                Notification.unit_code,
                Notification.message,
            ).where(Notification.task_id == neighbour.propose)
        ).all()
    # the neighbour's 监督检查室 has one officer: the step was his without claiming (issue 15), so the
    # overdue notice is his by name; the escalation goes to the commission's secretary
    assert {(k, who_, r, u) for k, who_, r, u, _ in sent} == {
        ("overdue", "nb_so", None, None),
        ("escalation", None, "commission_secretary", "nb_cdi"),
    }
    assert all("提出处置意见" in m and "NB-1" in m for *_, m in sent)
    listed = lambda name: {n.task_id for n in operations.list_notifications(services, who(name)).rows}  # noqa: E731
    assert neighbour.propose in listed("nb_boss") and neighbour.propose in listed("nb_so")
    assert neighbour.propose not in listed("boss") and neighbour.propose not in listed("so1lead")


def test_a_task_naming_no_unit_notifies_its_commissions_leaders(services, who, neighbour, now):
    """The test library's 登记线索 names no unit (any 案管 holder may take it): its reminder goes to the
    owning commission's leaders, not to every holder of the role in the database."""
    with services.db.session() as s:
        [n3_register] = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == neighbour.instances["N3"], HumanTask.status == "ready")
        ).all()
        s.execute(update(HumanTask).where(HumanTask.status == "ready").values(reminded_at=NOW, escalated_at=NOW))
        s.execute(
            update(HumanTask)
            .where(HumanTask.id == n3_register.id)
            .values(reminded_at=None, reminder_at=local(2024, 5, 6, 9), due_at=end_of(dt.date(2024, 5, 8)))
        )
        task_id = n3_register.id
    Worker(services).remind_and_escalate()
    with services.db.session() as s:
        sent = s.execute(
            select(Notification.role_code, Notification.unit_code).where(Notification.task_id == task_id)
        ).all()
    assert sent == [(None, "nb_cdi")]
    listed = lambda name: {n.task_id for n in operations.list_notifications(services, who(name)).rows}  # noqa: E731
    assert task_id in listed("nb_boss")
    assert task_id not in listed("cm1") and task_id not in listed("boss")
