"""Need-to-know on the real library and the demo county (issue 18, regulations §6.4), on every channel.

A 函询 on 多吉 (被反映人 of 农牧局党组): the 第二监督检查室 plans it (with a 工作预案 naming a witness and an
attachment), sends the letter (with the letter's scan), 多吉 replies, his party secretary countersigns.
The reported person reads his letter's questions and his own reply and nothing else, through the task
page, the instance page, the API and downloads; another reported person of the same unit never sees
the letter; the host unit's secretary reads what he countersigns while he must; the handling office
reads the whole file as before.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.access.passwords import hash_password
from engine.access.principal import load_principal
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.config import Config
from engine.errors import Forbidden, NotVisible
from engine.instances import operations as instance_ops
from engine.models import AuditEvent, Membership, User
from engine.services import Services
from engine.tasks import operations as task_ops
from tests.web.conftest import Client

from .driver import Walk
from .paths import BASE

PASSWORD = "need-to-know-42"
PDF = b"%PDF-1.4 test"
WITNESS = "证人王某某住址及保护措施"
QUESTIONS = "请就2023年收受项目承包方礼金一事作出书面说明。"
REPLY = "本人未收受礼金，相关情况说明如下。"
SECRET_KEY = "test-secret-key-for-need-to-know"


@pytest.fixture
def case(db, tmp_path):
    """The 函询 up to 多吉's reply, with a plan attachment and a letter attachment; yields (walk, ids)."""
    with clock.frozen(dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        values = {
            **BASE,
            "disposal_method": "tanhua_hanxun",
            "inquiry_mode": "letter",
            "inquiry_result": "close",
            "contingency": WITNESS,
            "questions": QUESTIONS,
            "reply_text": REPLY,
        }
        with Walk(db, frozen, values=values) as w:
            with db.session() as s:  # a second reported person of 农牧局党组, who must not see 多吉's letter
                s.add(colleague := User(username="lisi", display_name="李四（被反映人）", active=True))
                s.flush()
                s.add(Membership(user_id=colleague.id, unit_code="qh_nmj_dz", role_code="reported_person"))
                s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
            config = Config.from_env(
                database_url=db.url,
                instance_dir=tmp_path,
                attachments_dir=tmp_path / "attachments",
                secret_key=SECRET_KEY,
            )
            services = Services(config, db=db)
            w.start("gt_p5_intake_report", actor="zhoujing")
            plan = w.until("t_plan")
            planner = w.pilot.eligible(plan)[0]
            plan_file = _upload(services, db, planner, plan.id, "工作预案.pdf")
            w.complete("t_plan", actor=planner)
            letter = w.until("t_letter")
            sender = w.pilot.eligible(letter)[0]
            letter_file = _upload(services, db, sender, letter.id, "函询通知书.pdf")
            w.complete("t_letter", actor=sender)
            reply = w.task("t_reply")
            yield w, services, {"plan_file": plan_file, "letter_file": letter_file, "reply": reply, "letter": letter}


def _upload(services, db, username, task_id, name):
    with db.session() as s:
        who = load_principal(s, username)
    return task_ops.upload_attachment(services, who, task_id, filename=name, stream=io.BytesIO(PDF)).id


def _reveal():
    return Reveal(Sealer(SECRET_KEY))


def _who(db, username):
    with db.session() as s:
        return load_principal(s, username)


def _app(services):
    from web import create_app

    return create_app(services=services, TESTING=True, SECRET_KEY=SECRET_KEY)


def _client(app, username):
    c = Client(app)
    resp = c.login(username, PASSWORD)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return c


def _api(app, db, username):
    from engine.access.tokens import issue

    with db.session() as s:
        raw, _ = issue(s, s.scalar(select(User).where(User.username == username)))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json"}
    return lambda url: client.get(url, headers=headers)


def _steps(view):
    return {step.name: set(step.data) for step in view.steps}


def test_the_reported_person_reads_only_his_letter_and_his_reply_on_every_channel(db, case):
    w, services, ids = case
    reply = ids["reply"]
    assert (reply.assignee, reply.personal) == ("duoji", True)  # addressed to him, not to his unit
    duoji = _who(db, "duoji")

    view = task_ops.show_task(services, duoji, reply.id, reveal=_reveal())
    assert _steps(view) == {"发出函询通知书": {"letter_no", "questions", "sent_date", "delivered_date"}}  # filled ones
    assert view.steps[0].data["questions"] == QUESTIONS
    assert [a.filename for a in view.attachments] == ["函询通知书.pdf"]
    with pytest.raises(NotVisible):
        task_ops.download_attachment(services, duoji, ids["plan_file"], reveal=_reveal())
    assert task_ops.download_attachment(services, duoji, ids["letter_file"], reveal=_reveal()).filename

    app = _app(services)
    page = _client(app, "duoji").get(f"/tasks/{reply.id}").get_data(as_text=True)
    assert QUESTIONS in page and WITNESS not in page and "工作预案.pdf" not in page
    instance_page = _client(app, "duoji").get(f"/instances/{reply.instance_id}")
    text = instance_page.get_data(as_text=True)
    assert instance_page.status_code == 200 and QUESTIONS in text and WITNESS not in text
    assert "制定谈话函询方案和工作预案" not in text  # who did the other steps is part of the file
    assert 'data-testid="need-to-know"' in text  # the page says why he sees so little
    assert _client(app, "duoji").get(f"/attachments/{ids['plan_file']}").status_code == 404  # as if absent
    assert _client(app, "duoji").get(f"/attachments/{ids['letter_file']}").status_code == 200

    api = _api(app, db, "duoji")
    body = api(f"/api/v1/instances/{reply.instance_id}").get_json()
    assert body["data_scope"] == "addressed" and body["data_visible"] is False
    assert [t["name"] for t in body["current_tasks"]] == ["书面说明函询问题"]
    assert [h["name"] for h in body["history"]] == ["发出函询通知书"]
    assert set(body["data"]) == {"letter_no", "questions", "sent_date", "delivered_date"}
    assert WITNESS not in str(body)
    assert api(f"/api/v1/tasks/{reply.id}").status_code == 200

    # He replies; the letter's access ends with his task, his own reply stays his
    w.complete("t_reply", actor="duoji")
    after = instance_ops.show_instance(services, duoji, reply.instance_id, reveal=_reveal())
    assert [(s.name, s.submitted_by) for s in after.steps] == [("书面说明函询问题", "duoji")]
    assert after.steps[0].data["reply_text"] == REPLY
    assert after.attachments == []
    with pytest.raises(NotVisible):
        task_ops.download_attachment(services, duoji, ids["letter_file"], reveal=_reveal())
    body = api(f"/api/v1/instances/{reply.instance_id}").get_json()
    assert [h["name"] for h in body["history"] if "data" in h] == ["书面说明函询问题"]
    assert QUESTIONS not in str(body)
    with db.session() as s:
        reasons = [
            e.detail.get("reason")
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.action == "access_denied", AuditEvent.actor == "duoji")
            )
        ]
    assert "outside_need_to_know" in reasons  # the page's refused download is audited


def test_another_reported_person_of_the_same_unit_never_sees_the_letter(db, case):
    _w, services, ids = case
    reply = ids["reply"]
    lisi = _who(db, "lisi")
    with pytest.raises(NotVisible):
        task_ops.show_task(services, lisi, reply.id, reveal=_reveal())
    with pytest.raises(NotVisible):
        instance_ops.show_instance(services, lisi, reply.instance_id, reveal=_reveal())
    with pytest.raises(NotVisible):
        task_ops.download_attachment(services, lisi, ids["letter_file"], reveal=_reveal())
    app = _app(services)
    page = _client(app, "lisi")
    assert page.get(f"/tasks/{reply.id}").status_code == 404
    assert QUESTIONS not in page.get("/tasks?tab=group").get_data(as_text=True)
    api = _api(app, db, "lisi")
    assert api(f"/api/v1/instances/{reply.instance_id}").status_code == 404
    assert api("/api/v1/instances").get_json()["total"] == 0
    # nor can the unit's leader hand the letter to him
    with pytest.raises(Forbidden):
        task_ops.reassign_task(services, _who(db, "nmjsj"), reply.id, "lisi")


def test_the_host_units_secretary_reads_what_he_countersigns_only_while_he_must(db, case):
    w, services, ids = case
    nmjsj = _who(db, "nmjsj")  # 农牧局党组书记: leading the unit gives him nothing of a letter addressed to
    # one of its people: neither the reply task nor the case, until he must countersign
    with pytest.raises(NotVisible):
        task_ops.show_task(services, nmjsj, ids["reply"].id, reveal=_reveal())
    with pytest.raises(NotVisible):
        instance_ops.show_instance(services, nmjsj, ids["reply"].instance_id, reveal=_reveal())
    w.complete("t_reply", actor="duoji")
    sign = w.task("t_sign")
    view = task_ops.show_task(services, nmjsj, sign.id, reveal=_reveal())
    assert _steps(view) == {
        "发出函询通知书": {"letter_no", "questions"},
        "书面说明函询问题": {"received_date", "reply_text", "reply_date", "signature"},
    }
    assert [a.filename for a in view.attachments] == []  # he opens no upload but those of the reply
    with pytest.raises(NotVisible):
        task_ops.download_attachment(services, nmjsj, ids["plan_file"], reveal=_reveal())
    w.complete("t_sign", actor="nmjsj")
    done = instance_ops.show_instance(services, nmjsj, sign.instance_id, reveal=_reveal())
    assert [s.name for s in done.steps] == ["所在党委主要负责人签署意见"]  # only what he wrote


def test_the_handling_office_reads_the_whole_file_as_before(db, case):
    w, services, ids = case
    officer = _who(db, ids["letter"].completed_by or w.pilot.eligible(ids["letter"])[0])
    detail = instance_ops.show_instance(services, officer, ids["reply"].instance_id, reveal=_reveal())
    assert detail.reads == "file" and detail.may_read
    names = [s.name for s in detail.steps]
    assert "制定谈话函询方案和工作预案" in names and "发出函询通知书" in names
    assert WITNESS in str([s.data for s in detail.steps])
    assert sorted(a.filename for a in detail.attachments) == ["函询通知书.pdf", "工作预案.pdf"]
    assert task_ops.download_attachment(services, officer, ids["plan_file"], reveal=_reveal()).filename


def test_an_x_department_reads_its_assisting_brief_and_its_own_submission_and_loses_the_brief_when_done(db, tmp_path):
    """审计局 and 财政局 assist a 发现问题共证: each reads the 协查清单 of the registration, not the problem's
    description or who is involved, nor the other department's answer; the brief ends with its task."""
    description = "某局长涉嫌在项目验收中收受好处（涉及具体人员）"
    with clock.frozen(dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        values = {
            **BASE,
            "needs_corroboration": True,
            "x_units": ["qh_sjj", "qh_czj"],
            "description": description,
            "assist_items": "请提供2023年项目资金拨付和审计发现。",
        }
        with Walk(db, frozen, values=values) as w:
            services = Services(
                Config.from_env(database_url=db.url, instance_dir=tmp_path, secret_key=SECRET_KEY), db=db
            )
            # a supervision task pools forces (P3, 室组地) and then corroborates the problem found (P4)
            w.send("gt_msg_supervision_task", None, {"task_no": "RW-2024-07", "plan_no": "JH-2024-01"})
            w.run(until="t_x", max_steps=200)
            mine = {t.candidates[0].unit_code: t for t in w.tasks("t_x")}
            assert set(mine) == {"qh_sjj", "qh_czj"}
            shenmei, qinfeng = _who(db, "shenmei"), _who(db, "qinfeng")
            view = task_ops.show_task(services, shenmei, mine["qh_sjj"].id, reveal=_reveal())
            assert _steps(view) == {"问题登记": {"problem_no", "assist_items"}}
            assert description not in str(view.steps)
            with pytest.raises(NotVisible):  # the other department's task is not hers
                task_ops.show_task(services, shenmei, mine["qh_czj"].id, reveal=_reveal())
            w.pilot.complete(mine["qh_czj"], {"result": "财政局的答复"}, actor="qinfeng")
            w.pilot.complete(mine["qh_sjj"], {"result": "审计局的答复"}, actor="shenmei")
            after = instance_ops.show_instance(services, shenmei, mine["qh_sjj"].instance_id, reveal=_reveal())
            assert [(s.name, s.data.get("result")) for s in after.steps] == [("提供审计和资金数据", "审计局的答复")]
            assert after.reads == "none"  # the brief ended with her task; her own answer stays hers
            officer = instance_ops.show_instance(services, _who(db, "wangfang"), after.instance.id, reveal=_reveal())
            assert officer.reads == "file" and description in str([s.data for s in officer.steps])
            assert qinfeng.username not in {s.submitted_by for s in after.steps}


SETUP = "确定X部门、人员和授权范围"


def test_an_x_department_joining_a_four_plus_x_team_reads_only_its_assignment_and_authority(db, tmp_path):
    """四类监督+X (gt_l3_four_plus_x): 审计局 and 财政局 join the joint team for a supervision task. Each
    department's officer signs the pledge reading only the X departments' 分工, the authority and the data
    rights of the setup, never the team list with the other people and their duties, nor what the
    supervision task's other steps (its assignment, the forces requested); on the task page, the instance page and the API alike. The other
    department's task is not hers, and the brief ends with her task."""
    brief = "请提供2023年项目资金拨付明细和审计发现。"
    colleague_duty = "王芳负责谈话核实被反映人"
    with clock.frozen(dt.datetime(2024, 6, 5, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        values = {
            **BASE,
            "force_mode": "four_plus_x",
            "x_conflict": False,
            "x_units": ["qh_sjj", "qh_czj"],
            "members": [{"user": "wangfang", "unit": "qh_jc2", "duty": colleague_duty}],
            "x_assignment": brief,
            "authority_scope": "仅限RW-2024-07所涉项目资金",
        }
        with Walk(db, frozen, values=values) as w:
            with db.session() as s:
                s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
            services = Services(
                Config.from_env(database_url=db.url, instance_dir=tmp_path, secret_key=SECRET_KEY), db=db
            )
            w.send("gt_msg_supervision_task", None, {"task_no": "RW-2024-07", "plan_no": "JH-2024-01"})
            w.run(until="t_conf", max_steps=200)
            mine = {t.candidates[0].unit_code: t for t in w.tasks("t_conf")}
            assert set(mine) == {"qh_sjj", "qh_czj"}
            shenmei = _who(db, "shenmei")
            task = mine["qh_sjj"]
            view = task_ops.show_task(services, shenmei, task.id, reveal=_reveal())
            fields = {"x_assignment", "authority_scope", "data_access", "end_date"}
            assert set(_steps(view)) == {SETUP}  # nothing of the supervision task's other steps
            assert "x_assignment" in _steps(view)[SETUP] <= fields
            assert view.steps[0].data["x_assignment"] == brief and colleague_duty not in str(view.steps)
            with pytest.raises(NotVisible):  # the other department's pledge is not hers
                task_ops.show_task(services, shenmei, mine["qh_czj"].id, reveal=_reveal())

            app = _app(services)
            page = _client(app, "shenmei").get(f"/tasks/{task.id}").get_data(as_text=True)
            assert brief in page and colleague_duty not in page and "确定牵头单位和组队方式" not in page
            api = _api(app, db, "shenmei")
            assert api(f"/api/v1/tasks/{task.id}").status_code == 200
            body = api(f"/api/v1/instances/{task.instance_id}").get_json()
            assert body["data_scope"] == "addressed" and set(body["data"]) <= fields
            assert body["data"]["x_assignment"] == brief
            assert colleague_duty not in str(body) and [h["name"] for h in body["history"]] == [SETUP]

            w.pilot.complete(task, {"confidentiality_pledge": True, "has_conflict": False}, actor="shenmei")
            after = instance_ops.show_instance(services, shenmei, task.instance_id, reveal=_reveal())
            assert after.reads == "none" and brief not in str([s.data for s in after.steps])
            # the leading office reads the whole file, the team list included
            officer = instance_ops.show_instance(services, _who(db, "wangfang"), task.instance_id, reveal=_reveal())
            assert officer.reads == "file" and colleague_duty in str([s.data for s in officer.steps])
            assert {"确定牵头单位和组队方式", SETUP} <= {s.name for s in officer.steps}
