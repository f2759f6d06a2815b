"""The cockpit: who may open it, instance lists and pages, deadlines, durations, failures, starting, notifications.

Also the two consistency fixes around it: the web's instance visibility is the API's SQL rule
(engine/visibility.py), and form posts refuse NUL characters with a field error.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.access import visibility
from engine.access.principal import SYSTEM_PRINCIPAL, load_principal
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.cockpit import figures, notifications
from engine.errors import ProcessError
from engine.instances import operations as instance_ops
from engine.instances.queries import InstanceFilter
from engine.models import AuditEvent, HumanTask, Notification, ProcessInstance

COCKPIT_PAGES = ("/cockpit/", "/cockpit/instances", "/cockpit/deadlines", "/cockpit/durations", "/cockpit/failed")
TZ = clock.LOCAL_TZ


def _denied(services):
    with services.db.session() as s:
        return [
            (e.actor, e.detail.get("reason"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]


def _ready(services, spec_id):
    with services.db.session() as s:
        return s.scalars(
            select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready").order_by(HumanTask.id)
        ).all()


def _register_all(services, who, unit="jc1"):
    cm1 = who("cm1")
    for task in _ready(services, "register"):
        services.runtime.complete_task(
            task.id,
            actor=cm1,
            data={"clue_no": f"XS-{task.instance_id}", "handling_unit": unit},
            record={"clue_no": f"XS-{task.instance_id}", "handling_unit": unit},
        )


def _fail(services, instance_id, element="gw_disposal"):
    services.runtime.record_failure(
        instance_id, ProcessError("no gateway condition was true", element=element), max_attempts=1
    )


# --------------------------------------------------------------------------- access
def test_cockpit_pages_open_for_leaders(client_for, start_clue):
    start_clue()
    client = client_for("boss")
    for url in COCKPIT_PAGES:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
    assert "驾驶舱" in client.get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize("username", ["admin", "secadmin", "auditadmin"])
def test_no_administrator_opens_the_cockpit(client_for, start_clue, services, username):
    """三员分立: the cockpit lists cases; each administrator's attempt is audited under the 三员 rule."""
    outcome = start_clue()
    client = client_for(username)
    for url in (*COCKPIT_PAGES, f"/cockpit/instances/{outcome.instance_id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/cockpit/instances/{outcome.instance_id}/suspend").status_code == 403
    assert set(_denied(services)) == {(username, "sanyuan_outside_duties")}
    assert 'href="/cockpit/"' not in client.get("/inbox").get_data(as_text=True)


def test_cockpit_is_403_for_officers_and_audited(client_for, start_clue, services):
    outcome = start_clue()
    cm1 = client_for("cm1")
    for url in (*COCKPIT_PAGES, f"/cockpit/instances/{outcome.instance_id}"):
        assert cm1.get(url).status_code == 403, url
    assert cm1.post(f"/cockpit/instances/{outcome.instance_id}/suspend").status_code == 403
    assert set(_denied(services)) == {("cm1", "cockpit_only")}
    assert len(_denied(services)) == len(COCKPIT_PAGES) + 2
    assert 'href="/cockpit/"' not in cm1.get("/inbox").get_data(as_text=True)


def test_cockpit_roles_are_a_setting(services, client_for, start_clue):
    services.config.cockpit_roles = frozenset({"case_management"})
    assert client_for("cm1").get("/cockpit/").status_code == 200
    assert client_for("boss").get("/cockpit/").status_code == 403
    assert client_for("admin").get("/cockpit/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client_for):
    resp = client_for().get("/cockpit/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_cockpit_pages_read_through_the_engine_use_cases():
    """The figures' and notifications' views call engine/cockpit/operations.py; they hold no query of their own."""
    source = (Path(__file__).resolve().parents[2] / "web" / "cockpit" / "views.py").read_text()
    assert re.search(r"from engine\.cockpit import [\w, ]*\boperations\b", source)
    assert not re.search(r"sqlalchemy|engine\.models|stats", source)


# --------------------------------------------------------------------------- overview and lists
def test_overview_counts_running_instances_by_stage_and_platform(client_for, start_clue, services):
    for _ in range(3):
        start_clue()
    suspended = start_clue()
    services.runtime.suspend(suspended.instance_id, actor=SYSTEM_PRINCIPAL)
    with services.db.session() as s:
        data = figures.overview(s)
    assert data.running == 3 and data.by_stage == {"dispose": 3}
    assert data.by_platform == {"P5": 3} and data.by_mechanism == {"M2": 3}
    assert data.statuses["suspended"] == 1
    html = client_for("boss").get("/cockpit/").get_data(as_text=True)
    assert 'data-testid="summary-running">3<' in html
    assert "处置问题" in html and "问题线索共查" in html


def test_instance_list_filters_searches_and_pages(app, client_for, services, who):
    app.config["COCKPIT_PER_PAGE"] = 2
    cm1 = who("cm1")
    for key in ("XS-2024-001", "XS-2024-002", "XS-2024-003", "JB-2024-009"):
        services.runtime.start("gt_test_clue", actor=cm1, business_key=key)
    boss = client_for("boss")
    first = boss.get("/cockpit/instances").get_data(as_text=True)
    assert "共 4 个流程实例" in first and first.count('href="/cockpit/instances/') == 2
    assert "第 1 / 2 页" in first
    second = boss.get("/cockpit/instances?page=2").get_data(as_text=True)
    assert second.count('href="/cockpit/instances/') == 2
    found = boss.get("/cockpit/instances?q=xs-2024-00").get_data(as_text=True)
    assert "共 3 个流程实例" in found and "JB-2024-009" not in found
    assert "共 1 个流程实例" in boss.get("/cockpit/instances?q=JB").get_data(as_text=True)
    assert "共 0 个流程实例" in boss.get("/cockpit/instances?q=100%25").get_data(as_text=True)  # LIKE escaped
    assert "共 4 个流程实例" in boss.get("/cockpit/instances?stage=dispose&platform=P5&mechanism=M2").get_data(
        as_text=True
    )
    assert "共 0 个流程实例" in boss.get("/cockpit/instances?stage=goal").get_data(as_text=True)
    assert "共 0 个流程实例" in boss.get("/cockpit/instances?status=completed").get_data(as_text=True)
    assert "共 4 个流程实例" in boss.get("/cockpit/instances?status=all&page=abc").get_data(as_text=True)


def test_instance_page_shows_who_did_what_and_the_current_step(client_for, start_clue, services, who):
    outcome = start_clue()
    _register_all(services, who)
    propose = _ready(services, "propose")[0]
    services.runtime.claim(propose.id, actor=who("so1"))
    html = client_for("boss").get(f"/cockpit/instances/{outcome.instance_id}").get_data(as_text=True)
    timeline = html.split('data-testid="timeline"')[1].split("</ol>")[0]
    assert timeline.index("发起流程") < timeline.index("办结") < timeline.index("认领")
    assert "冯丽" in timeline and "刘洋" in timeline and "登记线索" in timeline
    current = html.split('data-testid="current-tasks"')[1].split("</ul>")[0]
    assert "提出处置意见" in current and "第一监督检查室" in current and "刘洋" in current
    assert "剩 5 个工作日" in current or "即将到期" in current or "正常" in current
    # The leader is not within the clue's need-to-know: no link to the records; he may suspend the case.
    assert f'href="/instances/{outcome.instance_id}"' not in html and 'data-testid="action-suspend"' in html
    assert client_for("admin").get(f"/cockpit/instances/{outcome.instance_id}").status_code == 403
    assert client_for("boss").get("/cockpit/instances/999999").status_code == 404


def test_lists_never_load_workflow_state(services, start_clue, who):
    outcome = start_clue()
    boss = who("boss")
    reveal = Reveal(Sealer("test"))
    statements = []
    from sqlalchemy import event

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", capture)
    try:
        with services.db.session() as s:
            figures.overview(s)
            figures.deadlines(s, soon_workdays=2)
            figures.durations(s)
            figures.failed(s)
        instance_ops.list_instances(services, boss, InstanceFilter(status="running"), oversight=True)
        instance_ops.show_instance(services, boss, outcome.instance_id, reveal=reveal, oversight=True)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", capture)
    assert statements and not [q for q in statements if "process_instance.state" in q]


# --------------------------------------------------------------------------- failures and overseers' actions
def test_failed_instance_names_the_element_and_an_overseer_retries_it(client_for, start_clue, services):
    outcome = start_clue()
    _fail(services, outcome.instance_id)
    admin = client_for("boss")
    html = admin.get("/cockpit/failed").get_data(as_text=True)
    assert ">gw_disposal<" in html and "no gateway condition was true" in html
    # The system administrator posting anyway: refused (三员分立), 403 with an audit event; nothing changes.
    assert client_for("admin").post(f"/cockpit/instances/{outcome.instance_id}/retry").status_code == 403
    assert admin.http.post(f"/cockpit/instances/{outcome.instance_id}/retry").status_code == 400  # no CSRF token
    with services.db.session() as s:
        assert s.get(ProcessInstance, outcome.instance_id).status == "error"
    assert "重新执行" in admin.get("/cockpit/failed").get_data(as_text=True)
    resp = admin.post(f"/cockpit/instances/{outcome.instance_id}/retry", data={"next": "failed", "reason": "已修正"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cockpit/failed")
    with services.db.session() as s:
        row = s.get(ProcessInstance, outcome.instance_id)
        assert row.status == "running" and row.error is None
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == outcome.instance_id).order_by(AuditEvent.id)
            )
        ]
    assert actions[-1] == "retried" and ("admin", "sanyuan_outside_duties") in _denied(services)
    assert "没有出错的流程" in admin.get("/cockpit/failed").get_data(as_text=True)
    # Retrying again is a conflict, shown as a notice rather than an error page.
    again = admin.post(
        f"/cockpit/instances/{outcome.instance_id}/retry", data={"reason": "再试"}, follow_redirects=True
    )
    assert again.status_code == 200 and "操作未生效" in again.get_data(as_text=True)


def test_an_overseer_suspends_resumes_and_cancels(client_for, start_clue, services):
    outcome = start_clue()
    admin = client_for("boss")
    url = f"/cockpit/instances/{outcome.instance_id}"

    def status():
        with services.db.session() as s:
            return s.get(ProcessInstance, outcome.instance_id).status

    assert admin.post(f"{url}/suspend", data={"reason": "核查中"}).status_code == 302 and status() == "suspended"
    assert 'data-testid="action-resume"' in admin.get(url).get_data(as_text=True)
    refused = admin.post(f"{url}/resume", data={"reason": "  "})  # every action needs its reason
    assert refused.status_code == 422 and status() == "suspended"
    assert 'data-testid="error-reason"' in refused.get_data(as_text=True) and "请填写原因" in refused.get_data(
        as_text=True
    )
    assert admin.post(f"{url}/resume", data={"reason": "核查完毕"}).status_code == 302 and status() == "running"
    assert admin.post(f"{url}/cancel", data={"reason": "重复登记"}).status_code == 302 and status() == "cancelled"
    assert admin.post(f"{url}/explode").status_code == 404
    html = admin.get(url).get_data(as_text=True)
    assert "原因：重复登记" in html and "原因：核查中" in html


# --------------------------------------------------------------------------- deadlines
def test_deadlines_grouped_by_unit_and_role_with_escalations(client_for, start_clue, services, who):
    for _ in range(3):
        start_clue()
    _register_all(services, who)
    late, soon, later = _ready(services, "propose")
    now = clock.now()
    with services.db.session() as s:
        s.execute(update(HumanTask).where(HumanTask.id == late.id).values(due_at=now - dt.timedelta(days=3)))
        s.execute(update(HumanTask).where(HumanTask.id == soon.id).values(due_at=now + dt.timedelta(hours=1)))
        s.execute(update(HumanTask).where(HumanTask.id == later.id).values(due_at=now + dt.timedelta(days=60)))
        s.add(
            Notification(
                kind="escalation",
                role_code="commission_secretary",
                task_id=late.id,
                instance_id=late.instance_id,
                message="督办：提出处置意见已逾期",
            )
        )
    with services.db.session() as s:
        data = figures.deadlines(s, soon_workdays=2)
    assert data.totals == {"overdue": 1, "due_soon": 1}
    [group] = data.groups
    assert (group.unit, group.role, group.overdue, group.due_soon) == ("jc1", "supervision_office", 1, 1)
    assert [i.id for i in group.items] == [late.id, soon.id]
    html = client_for("boss").get("/cockpit/deadlines").get_data(as_text=True)
    assert "第一监督检查室 · 监督检查室" in html and "已逾期" in html and "督办：提出处置意见已逾期" in html
    assert f"XS-{later.instance_id}<" not in html


# --------------------------------------------------------------------------- durations
def _seed_durations(services, who, start_clue):
    for _ in range(3):
        start_clue()
    _register_all(services, who)
    created = dt.datetime(2024, 3, 4, 9, 0, tzinfo=TZ)  # a Monday
    completions = [
        dt.datetime(2024, 3, 4, 11, 0, tzinfo=TZ),  # 2 hours, same day: 0 working days
        dt.datetime(2024, 3, 5, 13, 0, tzinfo=TZ),  # 28 hours, 1 working day
        dt.datetime(2024, 3, 8, 9, 0, tzinfo=TZ),
    ]  # 96 hours, 4 working days
    with services.db.session() as s:
        ids = s.scalars(select(HumanTask.id).where(HumanTask.spec_id == "register").order_by(HumanTask.id)).all()
        for task_id, done in zip(ids, completions, strict=False):
            s.execute(update(HumanTask).where(HumanTask.id == task_id).values(created_at=created, completed_at=done))
        # one whole instance completed, 3 working days after it started
        first = s.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id))
        s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == first)
            .values(status="completed", started_at=created, completed_at=dt.datetime(2024, 3, 7, 9, 0, tzinfo=TZ))
        )


def test_duration_statistics_on_seeded_rows(services, who, start_clue, client_for):
    _seed_durations(services, who, start_clue)
    with services.db.session() as s:
        data = figures.durations(s)
    [step] = [x for x in data.steps if x.key == ("gt_test_clue", "register")]
    assert step.count == 3 and step.sample == 3
    assert step.mean_hours == pytest.approx(42.0, abs=0.01)  # SQL aggregate
    assert step.median_hours == pytest.approx(28.0) and step.p90_hours == pytest.approx(82.4)
    assert step.median_workdays == 1 and step.p90_workdays == pytest.approx(3.4)
    [stage] = data.stages
    assert stage.stage == "dispose" and stage.count == 3 and stage.median_hours == pytest.approx(28.0)
    [process] = data.processes
    assert (process.count, process.median_workdays, process.median_hours) == (1, 3, pytest.approx(72.0))
    assert process.label == "测试线索处置"
    html = client_for("boss").get("/cockpit/durations?process=gt_test_clue").get_data(as_text=True)
    row = html.split('data-step="register"')[1].split("</tr>")[0]
    assert ">3<" in row and ">28.0<" in row and ">82.4<" in row and ">3.4<" in row and ">42.0<" in row
    assert "尚无办结记录" in client_for("boss").get("/cockpit/durations?process=nope").get_data(as_text=True)


def test_percentile_interpolates():
    assert figures.percentile([], 0.5) is None
    assert figures.percentile([7.0], 0.9) == 7.0
    assert figures.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert figures.percentile(list(map(float, range(11))), 0.9) == pytest.approx(9.0)


# --------------------------------------------------------------------------- starting a process
def test_start_page_lists_what_the_person_may_start(client_for):
    html = client_for("cm1").get("/cockpit/start").get_data(as_text=True)
    assert "测试线索处置" in html and 'action="/cockpit/start/gt_test_clue"' in html
    assert 'action="/cockpit/start/gt_test_monthly' not in html  # timer starts are not started by hand
    so1 = client_for("so1")
    assert "您目前没有可以发起的流程" in so1.get("/cockpit/start").get_data(as_text=True)
    assert so1.post("/cockpit/start/gt_test_clue", data={"business_key": "X"}).status_code == 403


def test_starting_opens_the_first_task_when_it_is_yours(client_for, services):
    cm1 = client_for("cm1")
    assert cm1.http.post("/cockpit/start/gt_test_clue", data={"business_key": "XS-9"}).status_code == 400  # CSRF
    resp = cm1.post("/cockpit/start/gt_test_clue", data={"business_key": "XS-2024-777"})
    assert resp.status_code == 302
    with services.db.session() as s:
        inst = s.scalar(select(ProcessInstance))
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == inst.id))
    assert inst.business_key == "XS-2024-777" and inst.started_by == "cm1"
    assert resp.headers["Location"].endswith(f"/tasks/{task.id}")
    admin = client_for("admin")  # 三员分立: an administrator starts no case
    assert admin.post("/cockpit/start/gt_test_clue", data={}).status_code == 403
    assert admin.post("/cockpit/start/no_such_process").status_code == 404
    assert cm1.post("/cockpit/start/gt_test_clue", data={"business_key": "A\x00B"}).status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key.like("A%"))) is None


# --------------------------------------------------------------------------- notifications
def _notify(services, **kw):
    with services.db.session() as s:
        row = Notification(kind=kw.pop("kind", "reminder"), message=kw.pop("message"), **kw)
        s.add(row)
        s.flush()
        return row.id


def test_notifications_are_scoped_to_the_person(client_for, services):
    mine = _notify(services, username="cm1", message="给冯丽本人")
    unit = _notify(services, role_code="case_management", unit_code="ags", message="给案管室")
    anywhere = _notify(services, kind="escalation", role_code="case_management", message="给所有案管角色")
    other_unit = _notify(services, role_code="case_management", unit_code="jc1", message="给第一室的案管角色")
    other_role = _notify(services, role_code="supervision_office", unit_code="ags", message="给监督检查室角色")
    someone = _notify(services, username="cm2", message="给高远本人")
    with services.db.session() as s:
        p = load_principal(s, "cm1")
        page = notifications.listing(s, p)
        assert {r.id for r in page.rows} == {mine, unit, anywhere} and page.total == 3
    cm1 = client_for("cm1")
    inbox = cm1.get("/inbox").get_data(as_text=True)
    assert 'data-testid="bell-count">3<' in inbox
    page = cm1.get("/cockpit/notifications").get_data(as_text=True)
    for text in ("给冯丽本人", "给案管室", "给所有案管角色"):
        assert text in page
    for text in ("给第一室的案管角色", "给监督检查室角色", "给高远本人"):
        assert text not in page
    # Another person's notification: 403, audited, unchanged.
    for foreign in (other_unit, other_role, someone):
        assert cm1.post(f"/cockpit/notifications/{foreign}/read").status_code == 403
    assert cm1.post("/cockpit/notifications/999999/read").status_code == 404
    assert cm1.http.post(f"/cockpit/notifications/{mine}/read").status_code == 400  # no CSRF token
    assert cm1.post(f"/cockpit/notifications/{mine}/read").status_code == 302
    assert 'data-testid="bell-count">2<' in cm1.get("/inbox").get_data(as_text=True)
    assert "给冯丽本人" not in cm1.get("/cockpit/notifications?unread=1").get_data(as_text=True)
    # A unit's notification read by a colleague stays on his bell: each holder has his own read state.
    assert client_for("cm2").post(f"/cockpit/notifications/{unit}/read").status_code == 302
    assert 'data-testid="bell-count">2<' in cm1.get("/inbox").get_data(as_text=True)
    assert cm1.http.post("/cockpit/notifications/read-all").status_code == 400
    assert cm1.post("/cockpit/notifications/read-all").status_code == 302
    assert 'data-testid="bell-count"' not in cm1.get("/inbox").get_data(as_text=True)
    with services.db.session() as s:
        unread = set(s.scalars(select(Notification.id).where(Notification.read_at.is_(None))))
    assert unread == {other_unit, other_role, someone}
    assert ("cm1", "notification_not_yours") in _denied(services)


# --------------------------------------------------------------------------- consistency with the API
def test_web_instance_visibility_is_the_api_rule(client_for, services, who):
    """The starter may open the instance page (as in the API) but reads no step records."""
    xf1 = who("xf1")  # 信访室: holds no role of the clue's tasks
    outcome = services.runtime.start("gt_test_clue", actor=xf1, business_key="XF-1")
    _register_all(services, who)
    with services.db.session() as s:
        assert visibility.can_see_instance(s, xf1, outcome.instance_id)
        assert not visibility.can_read_instance_data(s, xf1, outcome.instance_id)
    resp = client_for("xf1").get(f"/instances/{outcome.instance_id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f"XS-{outcome.instance_id}" in html  # the business key followed the clue number registered
    assert "登记线索" in html and "办理记录仅对承办人员可见" in html
    assert "承办部门" not in html  # no recorded fields
    so1_html = client_for("so1").get(f"/instances/{outcome.instance_id}").get_data(as_text=True)
    assert "承办部门" in so1_html
    assert client_for("so2").get(f"/instances/{outcome.instance_id}").status_code == 404


def test_form_posts_refuse_nul_characters_with_a_field_error(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    resp = cm1.post(
        f"/tasks/{register.id}",
        data={"action": "complete", "clue_no": "XS-1\x00", "handling_unit": "jc1", "summary": "ok"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-testid="error-clue_no"' in html and "控制字符" in html
    draft = cm1.post(f"/tasks/{register.id}", data={"action": "draft", "summary": "a\x00b"})
    assert draft.status_code == 422 and "控制字符" in draft.get_data(as_text=True)
    with services.db.session() as s:
        assert s.get(HumanTask, register.id).status == "ready"


# --------------------------------------------------------------------------- a manager's commission scope
def two_counties(services, who):
    """The test county (cdi) beside a neighbour (nb_cdi) under one prefecture: one clue each, both
    registered to their own 监督检查室, keyed XS-CDI and XS-NB (tests/county.py ``NEIGHBOURS``)."""
    from tests.county import add_neighbours

    add_neighbours(services)
    ids = {}
    for key, starter, unit in (("XS-CDI", "cm1", "jc1"), ("XS-NB", "nb_cm", "nb_jc1")):
        outcome = services.runtime.start("gt_test_clue", actor=who(starter))
        data = {"clue_no": key, "handling_unit": unit}
        services.runtime.complete_task(outcome.created_tasks[0], actor=who(starter), data=data, record=data)
        ids[key] = outcome.instance_id
    return ids


def test_a_county_managers_cockpit_is_his_county(client_for, services, who):
    ids = two_counties(services, who)
    seen = {}
    for username in ("boss", "nb_boss", "pref_lead"):
        client = client_for(username)
        listing = client.get("/cockpit/instances").get_data(as_text=True)
        deadlines = client.get("/cockpit/deadlines?soon=0").get_data(as_text=True)
        overview = client.get("/cockpit/").get_data(as_text=True)
        seen[username] = (
            {key for key in ids if key in listing},
            re.search(r'data-testid="summary-running">(\d+)<', overview).group(1),
        )
        assert "XS-NB" not in deadlines or username != "boss"
    assert seen == {
        "boss": ({"XS-CDI"}, "1"),  # his county only
        "nb_boss": ({"XS-NB"}, "1"),  # the neighbour sees nothing of the county
        "pref_lead": ({"XS-CDI", "XS-NB"}, "2"),  # the prefecture sees both
    }


def test_the_cockpit_instance_page_and_the_instance_page_agree(client_for, services, who):
    """One gate (engine/access/visibility.py): the cockpit's page and the officers' page refuse the
    neighbour's instance alike, each refusal audited (the API: tests/web/api/test_visibility.py); the
    prefecture may open both counties' instances on both pages."""
    ids = two_counties(services, who)
    boss = client_for("boss")
    for url in (f"/cockpit/instances/{ids['XS-NB']}", f"/instances/{ids['XS-NB']}"):
        assert boss.get(url).status_code == 404, url
    assert _denied(services) == [("boss", "instance_not_visible")] * 2
    for url in (f"/cockpit/instances/{ids['XS-CDI']}", f"/instances/{ids['XS-CDI']}"):
        assert boss.get(url).status_code == 200, url
    pref = client_for("pref_lead")
    for key in ids.values():
        for url in (f"/cockpit/instances/{key}", f"/instances/{key}"):
            assert pref.get(url).status_code == 200, url


def test_the_cockpit_timeline_never_shows_file_names(client_for, services, who, start_clue):
    from engine import audit

    outcome = start_clue()
    with services.db.session() as s:
        audit.record(s, "attachment_added", actor="cm1", instance_id=outcome.instance_id, filename="举报人名单.xlsx")
    html = client_for("boss").get(f"/cockpit/instances/{outcome.instance_id}").get_data(as_text=True)
    assert "上传附件" in html and "举报人名单.xlsx" not in html
