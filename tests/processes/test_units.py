"""Every user task names the unit whose members may do it (need-to-know, 知悉范围).

A task with no candidate unit is open to every holder of its lane's role in the whole database: in a
province-wide database a county 案管室 officer would see the whole province's case management. So every
user task of the library names a ``unitVar``, and a task in the lane of one of the owning commission's
standing roles (书记, 分管领导, 常委会, 信访室, 案管室, 审理室 …, ``owner_var`` in roles.yaml) names
that role's owner variable, which every instance carries from its start.
"""

from __future__ import annotations

import datetime as dt

import yaml
from lxml import etree

from engine import clock
from engine.instances.entry import owner_data

from .driver import BPMN_FILES, PROCESSES, Walk, units

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def _roles() -> dict:
    return {r["code"]: r for r in yaml.safe_load((PROCESSES / "roles.yaml").read_text(encoding="utf-8"))["roles"]}


def _user_tasks():
    """(file, process id, task id, lane name, unitVar or None) of every user task of the library."""
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            lane_of = {
                ref.text.strip(): lane.get("name")
                for lane in process.iterfind(".//bpmn:lane", NS)
                for ref in lane.iterfind("bpmn:flowNodeRef", NS)
                if ref.text
            }
            for tag in ("userTask", "manualTask"):
                for task in process.iterfind(f".//bpmn:{tag}", NS):
                    props = {
                        p.get("name"): p.get("value")
                        for p in task.iterfind(
                            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS
                        )
                    }
                    yield (
                        path.name,
                        process.get("id"),
                        task.get("id"),
                        lane_of.get(task.get("id")),
                        props.get("unitVar"),
                    )


def test_every_user_task_names_a_unit_var():
    tasks = list(_user_tasks())
    assert len(tasks) > 150  # the whole library was read
    missing = [f"{file}: {task} ({lane})" for file, _, task, lane, var in tasks if not var]
    assert not missing, (
        f"{len(missing)} of {len(tasks)} user tasks name no unitVar, so every holder of their "
        "lane's role in the database could see them:\n  " + "\n  ".join(missing)
    )


def test_standing_role_lanes_name_their_owner_variable():
    roles = _roles()
    by_lane = {r["zh"]: r for r in roles.values()}
    wrong = [
        f"{file}: {task} in {lane} names {var}, not {by_lane[lane]['owner_var']}"
        for file, _, task, lane, var in _user_tasks()
        if lane in by_lane and by_lane[lane].get("owner_var") and var != by_lane[lane]["owner_var"]
    ]
    assert not wrong, "\n".join(wrong)


def test_owner_data_of_the_demo_county(db):
    """A person starting a process gets their own commission's units; the scheduler the one commission's."""
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen)
        loaded = w.repo.loaded(w.version_id)
        zhoujing = w.pilot.principal("zhoujing")
        with db.session() as s:
            by_person = owner_data(s, loaded, "gt_p5_intake_report", zhoujing)
            scheduled = owner_data(s, loaded, "gt_p2_info")
        expected = {
            "commission_unit": "qh_cdi",
            "petition_unit": "qh_xfs",
            "case_management_unit": "qh_ags",
            "conduct_unit": "qh_dfzf",
            "investigation_unit": "qh_scdc",
            "hearing_unit": "qh_sl",
            "committee_unit": "qh_county_committee",
            "inspection_group_unit": "qh_inspection_group",
            "inspection_unit": "qh_xcb",
            "organization_unit": "qh_zzb",
            "propaganda_unit": "qh_xcbu",
        }
        assert by_person == expected and scheduled == expected
        w.start("gt_p5_intake_report", actor="zhoujing")
        screen = w.task("t_screen")
        assert (screen.role, units(screen)) == ("petition_office", {"qh_xfs"})


def test_api_and_message_starts_fill_the_owner_units(db, tmp_path):
    """Whoever starts an instance, its owner units come from the organisation: through the API the
    caller's commission (data naming an owner unit is refused, naming the field), through a message the
    sender's; the instance's ``owner_unit`` is that commission."""
    from sqlalchemy import func, select

    from engine.access.tokens import issue
    from engine.config import Config
    from engine.models import ProcessInstance, User
    from engine.services import Services
    from web import create_app

    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen)
        services = Services(Config.from_env(database_url=db.url, instance_dir=tmp_path), db=db)
        app = create_app(services=services, TESTING=True, SECRET_KEY="test-secret-key-for-owner-units")
        with db.session() as s:
            raw, _ = issue(s, s.scalar(select(User).where(User.username == "zhoujing")))
        headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json"}
        client = app.test_client()
        refused = client.post(
            "/api/v1/definitions/gt_p5_intake_report/instances",
            json={"data": {"petition_unit": "qh_ags"}},
            headers=headers,
        )
        assert refused.status_code == 422
        assert list(refused.get_json()["error"]["details"]["fields"]) == ["petition_unit"]
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0  # nothing started
        resp = client.post("/api/v1/definitions/gt_p5_intake_report/instances", json={"data": {}}, headers=headers)
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["owner_unit"] == "qh_cdi"
        screen = w.task("t_screen")
        assert units(screen) == {"qh_xfs"}  # her own 信访室

        # An intake system's account (here 案管室's 冯丽) hands a clue over with no owner units at all.
        started = w.runtime.send_message(
            "gt_msg_clue_handover", "HX-2024-1", {"source_category": "zhifa_sifa"}, actor=w.pilot.principal("fengli")
        )
        assert started["status"] == "started"
        screen = w.task("t_screen", "gt_p5_intake_handover")  # 管辖 first
        assert (screen.role, units(screen)) == ("case_management_office", {"qh_ags"})


def test_a_forged_payload_cannot_route_a_clue_elsewhere(db, tmp_path):
    """``gt_msg_clue_handover`` carries the owner units in its payload (a process passes its own on). A
    payload naming another commission's 案管室 — an assisting department's step, a client — changes
    nothing: a process's message belongs to the sending instance's commission, an API sender's to his,
    and a client naming owner units is refused."""
    from sqlalchemy import select

    from engine.access.tokens import issue
    from engine.config import Config
    from engine.models import HumanTask, PendingMessage, ProcessInstance, User
    from engine.services import Services
    from web import create_app

    forged = {"source_category": "zhifa_sifa", "case_management_unit": "gh_ags", "commission_unit": "gh_cdi"}
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen)
        source = w.start("gt_p5_intake_report", actor="zhoujing")  # a 青湖县 instance sends the message
        with db.session() as s:
            message = PendingMessage(
                message_name="gt_msg_clue_handover",
                correlation_key="HX-2024-7",
                payload=dict(forged),
                sent_by="anqi",  # 乡村振兴局, an assisting X department, completed the sending step
                source_instance_id=source,
                received_at=clock.now(),
                expires_at=clock.now() + dt.timedelta(days=30),
                status="waiting",
            )
            s.add(message)
            s.flush()
            message_id = message.id
        result = w.runtime.dispatch_message(message_id)
        assert result["status"] == "started"
        screen = w.task("t_screen", "gt_p5_intake_handover")
        assert units(screen) == {"qh_ags"}  # 青湖县's 案管室, not the one the payload named
        with db.session() as s:
            row = s.get(ProcessInstance, result["instance_id"])
            assert row.owner_unit == "qh_cdi" and row.parent_instance_id == source

        # Through the API as 共和县's 案管室 director, naming 青湖县's: his own commission owns it.
        lixin = w.pilot.principal("lixin")
        other = w.runtime.send_message(
            "gt_msg_clue_handover", "HX-2024-8", {**forged, "case_management_unit": "qh_ags"}, actor=lixin
        )
        with db.session() as s:
            assert s.get(ProcessInstance, other["instance_id"]).owner_unit == "gh_cdi"
            gh_register = s.scalar(select(HumanTask).where(HumanTask.instance_id == other["instance_id"]))
            assert (gh_register.spec_id, units(gh_register)) == ("t_screen", {"gh_ags"})

        # A client naming owner units in a message is refused, naming the field; nothing is kept.
        services = Services(Config.from_env(database_url=db.url, instance_dir=tmp_path), db=db)
        app = create_app(services=services, TESTING=True, SECRET_KEY="test-secret-key-for-forged-payloads")
        with db.session() as s:
            raw, _ = issue(s, s.scalar(select(User).where(User.username == "fengli")))
            before = len(s.scalars(select(PendingMessage.id)).all())
        resp = app.test_client().post(
            "/api/v1/messages/gt_msg_clue_handover",
            json={"correlation": "HX-2024-9", "data": forged},
            headers={"Authorization": f"Bearer {raw}", "Accept": "application/json"},
        )
        assert resp.status_code == 422
        assert sorted(resp.get_json()["error"]["details"]["fields"]) == ["case_management_unit", "commission_unit"]
        with db.session() as s:
            assert len(s.scalars(select(PendingMessage.id)).all()) == before


def test_a_scheduled_process_starts_once_per_commission(db):
    """In a database of several commissions each holds its own 月例会: one instance per commission and
    period, owned by it, its first task in its own 党风政风监督室; never twice for a period."""
    from sqlalchemy import select

    from engine.models import HumanTask, ProcessInstance
    from engine.organisation.directory import import_organisation
    from engine.scheduling.worker import Worker

    from .walks import _Services

    with clock.frozen(dt.datetime(2024, 3, 1, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen)
        with db.session() as s:
            import_organisation(
                s,
                {
                    "units": [
                        {"code": "xn_cdi", "name": "西宁县纪委监委", "kind": "commission"},
                        {"code": "xn_dfzf", "name": "党风政风监督室", "kind": "office", "parent": "xn_cdi"},
                    ],
                    "users": [
                        {
                            "username": "xn_officer",
                            "name": "西宁干部",
                            "password": "another-county-42",
                            "roles": [{"unit": "xn_dfzf", "role": "conduct_supervision_office"}],
                        }
                    ],
                },
                known_roles=None,
            )
        worker = Worker(_Services(w))
        w.at(2024, 3, 5, 9)
        assert worker.start_scheduled() == 1 and worker.start_scheduled() == 0  # one run, two instances
        w.at(2024, 3, 5, 10)
        assert worker.fire_timers() == 2  # the meeting's start timer, in each commission
        with db.session() as s:
            meetings = s.execute(
                select(ProcessInstance.id, ProcessInstance.owner_unit).where(
                    ProcessInstance.process_key == "gt_p2_info"
                )
            ).all()
            first = {
                owner: {
                    c.unit_code
                    for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == i))
                    for c in t.candidates
                }
                for i, owner in meetings
            }
    assert first == {"qh_cdi": {"qh_dfzf"}, "xn_cdi": {"xn_dfzf"}}
