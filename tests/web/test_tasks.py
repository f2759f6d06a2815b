"""Inbox scoping, the task page and its form: validation, drafts, completion, hand-over, conflicts, 403s."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, TaskSubmission


def _ready(services, spec_id):
    with services.db.session() as s:
        return s.scalars(
            select(HumanTask).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready").order_by(HumanTask.id)
        ).all()


def _task_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-task-id="(\d+)"', html)]


REGISTER = {
    "action": "complete",
    "clue_no": "XS-2024-001",
    "handling_unit": "jc1",
    "summary": "反映某局长违规收受礼金",
    "reporter_name": "李某某",
}


def _register(client, task_id, **changes):
    data = {**REGISTER, **changes}
    return client.post(f"/tasks/{task_id}", data=data)


# --------------------------------------------------------------------------- inbox scoping
def test_new_task_is_claimable_by_every_holder_of_the_role(client_for, start_clue, services):
    start_clue()
    task = _ready(services, "register")[0]
    for username in ("cm1", "cm2"):
        html = client_for(username).get("/inbox?tab=group").get_data(as_text=True)
        assert _task_ids(html) == [task.id], username
        assert 'data-testid="count-group">1<' in html
    for username in ("so1", "boss", "xf1"):
        html = client_for(username).get("/inbox?tab=group").get_data(as_text=True)
        assert _task_ids(html) == [], username


def test_full_hand_over_next_role_sees_its_task_at_once(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    page = cm1.get(f"/tasks/{register.id}").get_data(as_text=True)
    assert "登记线索" in page and "登记线索。" in page  # name and BPMN instructions
    assert 'for="field-clue_no"' in page and 'for="field-handling_unit"' in page
    assert "第一监督检查室" in page and "第二监督检查室" in page  # x-options units:supervision_office
    resp = _register(cm1, register.id)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "tab=completed" in resp.headers["Location"]
    done = cm1.get("/inbox?tab=completed").get_data(as_text=True)
    assert register.id in _task_ids(done)

    propose = _ready(services, "propose")[0]
    # Only 第一监督检查室 (handling_unit) sees it; 第二室 does not.
    so1 = client_for("so1")
    assert _task_ids(so1.get("/inbox?tab=group").get_data(as_text=True)) == [propose.id]
    assert _task_ids(client_for("so2").get("/inbox?tab=group").get_data(as_text=True)) == []
    page = so1.get(f"/tasks/{propose.id}").get_data(as_text=True)
    assert "XS-2024-001" in page and "反映某局长违规收受礼金" in page  # previous step's record
    assert "李某某" not in page and "已加密，无权查看" in page  # reporter identity sealed
    assert 'data-testid="due-state"' in page  # dueIn propose: 5 working days
    resp = so1.post(
        f"/tasks/{propose.id}", data={"action": "complete", "disposal": "tanhua_hanxun", "reason": "需谈话函询核实"}
    )
    assert resp.status_code == 302
    approve = _ready(services, "approve")[0]
    boss = client_for("boss")
    html = boss.get("/inbox?tab=group").get_data(as_text=True)
    assert _task_ids(html) == [approve.id]
    page = boss.get(f"/tasks/{approve.id}").get_data(as_text=True)
    assert "谈话函询" in page and "需谈话函询核实" in page
    # The commission leader is an approver: reporter identity is shown, and the viewing is audited.
    assert "李某某" in page
    with services.db.session() as s:
        viewed = s.scalars(select(AuditEvent).where(AuditEvent.action == "confidential_viewed")).all()
    assert [e.actor for e in viewed] == ["boss"]
    resp = boss.post(f"/tasks/{approve.id}", data={"action": "complete", "approved": "true", "opinion": "同意"})
    assert resp.status_code == 302
    assert "已办结，流程已完成" in boss.get(resp.headers["Location"]).get_data(as_text=True)
    assert _ready(services, "approve") == []


def test_the_record_keeps_the_form_and_seals_the_reporter(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    assert _register(client_for("cm1"), register.id).status_code == 302
    with services.db.session() as s:
        final = s.scalar(select(TaskSubmission).where(TaskSubmission.task_id == register.id))
    assert final.kind == "final"
    assert final.data == {"clue_no": "XS-2024-001", "handling_unit": "jc1", "summary": "反映某局长违规收受礼金"}
    assert final.sealed and "李某某" not in final.sealed
    from engine.access.sealing import Sealer, SealError

    assert services.sealer.open(final.sealed) == {"reporter_name": "李某某"}
    with pytest.raises(SealError):  # the data key is not the session secret beside the database
        Sealer(services.config.secret_key).open(final.sealed)


def test_completed_tab_lists_what_i_did(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    assert _register(cm1, register.id).status_code == 302
    html = cm1.get("/inbox?tab=completed").get_data(as_text=True)
    assert _task_ids(html) == [register.id]
    assert 'data-testid="count-completed">1<' in html
    assert _task_ids(client_for("cm2").get("/inbox?tab=completed").get_data(as_text=True)) == []
    page = cm1.get(f"/tasks/{register.id}").get_data(as_text=True)
    assert "办理结果" in page and "XS-2024-001" in page and 'data-testid="task-form"' not in page


# --------------------------------------------------------------------------- validation and drafts
def test_invalid_form_rerenders_with_input_and_errors_and_saves_nothing(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    resp = _register(cm1, register.id, clue_no="", handling_unit="jc9", summary="保留这段文字")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-testid="error-summary"' in html
    assert re.search(r'data-testid="error-clue_no">.*此项为必填项', html, re.S)
    assert re.search(r'data-testid="error-handling_unit">.*请从给出的选项中选择', html, re.S)
    assert "保留这段文字" in html  # input kept
    assert 'aria-invalid="true"' in html and 'aria-describedby="field-clue_no-error"' in html
    with services.db.session() as s:
        assert s.scalars(select(TaskSubmission)).all() == []
        assert s.get(HumanTask, register.id).status == "ready"
    assert _ready(services, "propose") == []


def test_boolean_and_enum_errors_in_chinese(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    _register(client_for("cm1"), register.id)
    propose = _ready(services, "propose")[0]
    so1 = client_for("so1")
    resp = so1.post(f"/tasks/{propose.id}", data={"action": "complete", "disposal": "shoot_first"})
    assert resp.status_code == 422
    assert re.search(r'data-testid="error-disposal">.*请从给出的选项中选择', resp.get_data(as_text=True), re.S)
    assert so1.post(f"/tasks/{propose.id}", data={"action": "complete", "disposal": "tanhua_hanxun"}).status_code == 302
    approve = _ready(services, "approve")[0]
    boss = client_for("boss")
    resp = boss.post(f"/tasks/{approve.id}", data={"action": "complete", "approved": "maybe"})
    assert resp.status_code == 422
    assert re.search(r'data-testid="error-approved">.*请选择“是”或“否”', resp.get_data(as_text=True), re.S)
    resp = boss.post(f"/tasks/{approve.id}", data={"action": "complete"})
    assert re.search(r'data-testid="error-approved">.*此项为必填项', resp.get_data(as_text=True), re.S)


def test_draft_is_kept_and_shown_again_without_reaching_the_process(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    resp = cm1.post(f"/tasks/{register.id}", data={"action": "draft", "clue_no": "XS-DRAFT", "reporter_name": "王某"})
    assert resp.status_code == 302
    with services.db.session() as s:
        draft = s.scalar(select(TaskSubmission).where(TaskSubmission.task_id == register.id))
        assert draft.kind == "draft" and draft.data == {"clue_no": "XS-DRAFT"} and draft.sealed
        assert s.get(HumanTask, register.id).status == "ready"
    page = cm1.get(f"/tasks/{register.id}").get_data(as_text=True)
    assert 'data-testid="draft-notice"' in page
    assert 'value="XS-DRAFT"' in page and 'value="王某"' in page  # the author sees their own sealed field
    other = client_for("cm2").get(f"/tasks/{register.id}").get_data(as_text=True)
    assert 'value="XS-DRAFT"' in other and "王某" not in other  # a colleague does not
    # Saving a second draft replaces the first; completing removes it.
    cm1.post(f"/tasks/{register.id}", data={"action": "draft", "clue_no": "XS-DRAFT-2"})
    with services.db.session() as s:
        drafts = s.scalars(select(TaskSubmission).where(TaskSubmission.kind == "draft")).all()
        assert [d.data["clue_no"] for d in drafts] == ["XS-DRAFT-2"]
    assert _register(cm1, register.id).status_code == 302
    with services.db.session() as s:
        kinds = s.scalars(select(TaskSubmission.kind).where(TaskSubmission.task_id == register.id)).all()
    assert kinds == ["final"]


def test_task_completed_meanwhile_shows_a_clear_message(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1, cm2 = client_for("cm1"), client_for("cm2")
    assert "提交办结" in cm1.get(f"/tasks/{register.id}").get_data(as_text=True)
    assert _register(cm2, register.id, clue_no="XS-BY-CM2").status_code == 302
    resp = _register(cm1, register.id)
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert 'data-testid="conflict"' in html and "您的填写未保存" in html
    assert "Traceback" not in html
    with services.db.session() as s:
        finals = s.scalars(select(TaskSubmission).where(TaskSubmission.task_id == register.id)).all()
    assert [f.submitted_by for f in finals] == ["cm2"]


def test_nested_groups_rows_and_signature_through_the_page(client_for, start_clue, services):
    start_clue()
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    page = cm1.get(f"/tasks/{register.id}").get_data(as_text=True)
    assert 'name="reported_person.name"' in page and 'name="evidence.0.title"' in page
    resp = _register(
        cm1,
        register.id,
        **{
            "reported_person.name": "多吉",
            "reported_person.rank": "gu",
            "evidence.0.title": "发放台账",
            "evidence.0.pages": "十二",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-testid="error-evidence.0.pages"' in html and "请输入整数" in html
    assert 'value="多吉"' in html  # what was typed is kept
    resp = _register(
        cm1,
        register.id,
        **{
            "reported_person.name": "多吉",
            "reported_person.rank": "gu",
            "evidence.0.title": "发放台账",
            "evidence.0.pages": "12",
        },
    )
    assert resp.status_code == 302
    with services.db.session() as s:
        record = s.scalar(
            select(TaskSubmission.data).where(TaskSubmission.task_id == register.id, TaskSubmission.kind == "final")
        )
    assert record["reported_person"] == {"name": "多吉", "rank": "gu"}
    assert record["evidence"] == [{"title": "发放台账", "pages": 12}]

    propose = _ready(services, "propose")[0]
    so1 = client_for("so1")
    steps = so1.get(f"/tasks/{propose.id}").get_data(as_text=True)
    assert "姓名：多吉；职级：股级" in steps
    assert so1.post(f"/tasks/{propose.id}", data={"action": "complete", "disposal": "tanhua_hanxun"}).status_code == 302
    approve = _ready(services, "approve")[0]
    boss = client_for("boss")
    page = boss.get(f"/tasks/{approve.id}").get_data(as_text=True)
    assert "电子签名" in page and 'name="signature' not in page  # nothing to type: the system signs
    assert (
        boss.post(
            f"/tasks/{approve.id}", data={"action": "complete", "approved": "true", "signature": "冒名者"}
        ).status_code
        == 302
    )
    with services.db.session() as s:
        record = s.scalar(
            select(TaskSubmission.data).where(TaskSubmission.task_id == approve.id, TaskSubmission.kind == "final")
        )
    assert record["signature"]["signer"] == "马成志"
