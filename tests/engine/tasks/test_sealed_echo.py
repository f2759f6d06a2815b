"""Sealing that holds (issue 15): a reporter's name typed into a later free-text field is caught on submission."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import ValidationError
from engine.forms.submission import Posted
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask, TaskSubmission, TaskUrge
from engine.tasks import actions, sealed_echo
from engine.tasks import operations as tasks
from tests.engine.usecases import REGISTER, REVEAL, ready, registered


def _submissions(services, task_id):
    with services.db.session() as s:
        return s.scalars(select(TaskSubmission.data).where(TaskSubmission.task_id == task_id)).all()


@pytest.mark.parametrize("as_posted", [True, False])
def test_the_reporters_name_in_a_later_reason_is_refused_naming_the_field(services, who, as_posted):
    registered(services, who)
    propose = ready(services, "propose")[0]
    typed = {"disposal": "chubu_heshi", "reason": "据 李 检举 反映，需核实"}  # spaced out: still the name
    submitted = Posted({k: [v] for k, v in typed.items()}) if as_posted else typed
    with pytest.raises(ValidationError) as caught:
        tasks.submit_task(services, who("so1"), propose, submitted, reveal=REVEAL)
    assert caught.value.fields == {"reason": sealed_echo.MESSAGE}
    assert "李检举" not in str(caught.value.details) and "李检举" not in caught.value.message
    with services.db.session() as s:
        assert s.get(HumanTask, propose).status == "ready"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "sealed_value_refused")).one()
        assert (event.actor, event.task_id) == ("so1", propose)
        assert "李检举" not in str(event.detail)
    assert _submissions(services, propose) == []
    # Removed, the same step goes through.
    done = tasks.submit_task(services, who("so1"), propose, {**typed, "reason": "需核实"}, reveal=REVEAL)
    assert done.task.status == "completed"


def test_the_registration_may_not_repeat_in_its_summary_the_name_it_seals(services, who):
    task_id = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    with pytest.raises(ValidationError) as caught:
        tasks.submit_task(
            services, who("cm1"), task_id, {**REGISTER, "summary": "李检举实名反映某局长受贿"}, reveal=REVEAL
        )
    assert set(caught.value.fields) == {"summary"}


def test_choices_signatures_and_numbers_are_not_free_text():
    schema = {
        "properties": {
            "who": {"type": "string", "x-options": "users:petition_office"},
            "kind": {"oneOf": [{"const": "李检举"}]},
            "signature": {"type": "object", "properties": {"signer": {"type": "string"}, "signed_at": {}}},
            "no": {"type": "string", "x-issued": "clue_no"},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"note": {"type": "string"}}}},
        }
    }
    data = {
        "who": "李检举",
        "kind": "李检举",
        "signature": {"signer": "李检举", "signed_at": "x"},
        "no": "李检举",
        "rows": [{"note": "无"}, {"note": "电话 138-0013-8000"}],
    }
    secrets = {sealed_echo.normalise("李检举"), sealed_echo.normalise("13800138000")}
    assert sealed_echo.echoes(schema, data, secrets) == {"rows.1.note": sealed_echo.MESSAGE}


def test_short_long_and_openly_known_values_are_no_secrets():
    found = sealed_echo._identities(
        {"李", "李检举", "x" * 61, sealed_echo.normalise("县交通局")}, {sealed_echo.normalise("县交通局")}
    )
    assert found == {"李检举"}


def test_the_free_text_of_actions_is_checked_like_a_forms(services, who):
    """退回's 批示, 催办意见 and 抄送's 说明 reach other people as surely as a form does."""
    registered(services, who)
    propose = ready(services, "propose")[0]
    with pytest.raises(ValidationError) as urged:
        actions.urge_task(services, who("boss"), propose, "李检举催问进度，请尽快")
    assert urged.value.fields == {"note": sealed_echo.MESSAGE}
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi"}, reveal=REVEAL)
    approve = ready(services, "approve")[0]
    with pytest.raises(ValidationError) as returned:
        actions.return_task(services, who("boss"), approve, propose, "请与检举人李检举核实后重报")
    assert returned.value.fields == {"reason": sealed_echo.MESSAGE}
    assert ready(services, "approve") == [approve]  # nothing reopened
    with services.db.session() as s:
        refused = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == sealed_echo.EVENT)).all()
        assert [d["fields"] for d in refused] == [["note"], ["reason"]]
        assert s.scalar(select(func.count()).select_from(TaskUrge)) == 0
    back = actions.return_task(services, who("boss"), approve, propose, "依据不足，请补充后重报")  # without the name
    assert ready(services, "propose") == [back.task_id]
