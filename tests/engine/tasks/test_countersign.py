"""加签 (engine/tasks/countersign.py): the approver asks one more person's opinion before deciding."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import Notification
from engine.tasks import countersign
from engine.tasks import operations as tasks
from tests.engine.usecases import REVEAL, events, ready, registered


def _at_approval(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    approve = ready(services, "approve")[0]
    tasks.claim_task(services, who("boss"), approve)
    return approve


def test_the_approver_decides_once_the_opinion_he_asked_for_is_given(services, who):
    approve = _at_approval(services, who)
    asked = countersign.ask_opinion(services, who("boss"), approve, "so1lead", "该线索是否需要先行初核？")
    with services.db.session() as s:  # the person asked is told: the step and the business key only
        note = s.scalar(select(Notification).where(Notification.username == "so1lead"))
        assert (note.task_id, note.message) == (approve, "加签：请对“审批处置意见”提出意见（XS-9）")
    with pytest.raises(Conflict) as waiting:
        tasks.submit_task(services, who("boss"), approve, {"approved": True}, reveal=REVEAL)
    assert waiting.value.details["rule"] == "opinion_pending" and waiting.value.details["waiting"] == ["so1lead"]
    with pytest.raises(Conflict):
        countersign.ask_opinion(services, who("boss"), approve, "so1lead", "再问一次")
    with pytest.raises(NotFound):  # only the person asked answers
        countersign.give_opinion(services, who("so1"), asked, "同意")
    assert [o.step for o in countersign.asked_of(services, who("so1lead"))] == ["审批处置意见"]
    assert countersign.give_opinion(services, who("so1lead"), asked, "同意先行初核。") == approve
    with pytest.raises(Conflict):
        countersign.give_opinion(services, who("so1lead"), asked, "改变主意")
    shown = countersign.task_view(services, who("boss"), approve)
    [opinion] = shown.opinions
    assert shown.may_ask and "so1lead" in {p.username for p in shown.candidates}
    assert (opinion.asked_name, opinion.answer, opinion.question) == (
        "赵刚",
        "同意先行初核。",
        "该线索是否需要先行初核？",
    )
    done = tasks.submit_task(services, who("boss"), approve, {"approved": True}, reveal=REVEAL)
    assert done.task.status == "completed"
    assert [e[0] for e in events(services, "opinion_asked")] == ["boss"]
    assert [e[0] for e in events(services, "opinion_given")] == ["so1lead"]


def test_only_the_holder_of_an_approval_step_asks_and_only_readers_of_the_case_are_asked(services, who):
    approve = _at_approval(services, who)
    with pytest.raises(Forbidden):  # not his step to decide
        countersign.ask_opinion(services, who("so1"), approve, "so1lead", "请提意见")
    for nobody in ("boss", "xf1", "nobody", ""):  # himself, a reader without the case, no account, no one
        with pytest.raises(ValidationError) as refused:
            countersign.ask_opinion(services, who("boss"), approve, nobody, "请提意见")
        assert set(refused.value.fields) == {"asked"}
    with pytest.raises(ValidationError) as empty:
        countersign.ask_opinion(services, who("boss"), approve, "so1lead", "  ")
    assert set(empty.value.fields) == {"question"}
    assert countersign.task_view(services, who("boss"), approve).opinions == ()
