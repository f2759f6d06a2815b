"""退回, 撤回 and 催办 (engine/tasks/actions.py) on the test library's clue: 登记 → 处置意见 → 审批."""

import pytest
from sqlalchemy import select

from engine.errors import Conflict, Forbidden, NotFound, NotVisible, ValidationError
from engine.models import HumanTask, TaskSubmission
from engine.tasks import actions
from engine.tasks import operations as tasks
from tests.engine.usecases import REVEAL, events, ready, registered

PROPOSAL = {"disposal": "chubu_heshi", "reason": "需核实"}


def _proposed(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, dict(PROPOSAL), reveal=REVEAL)
    return started, propose, ready(services, "approve")[0]


def _row(services, task_id):
    with services.db.session() as s:
        row = s.get(HumanTask, task_id)
        s.expunge(row)
        return row


def test_return_offers_only_steps_already_done_and_reopens_one_for_its_holder(services, who):
    started, propose, approve = _proposed(services, who)
    offered = actions.task_actions(services, who("boss"), approve).return_to
    assert [(d.task_id, d.completed_by) for d in offered][:2] == [(propose, "so1"), (started.own_task, "cm1")]
    with pytest.raises(ValidationError) as refused:
        actions.return_task(services, who("boss"), approve, propose, "  ")
    assert "reason" in refused.value.details["fields"]
    with pytest.raises(ValidationError) as refused:
        actions.return_task(services, who("boss"), approve, approve, "退回重办")
    assert "target" in refused.value.details["fields"]
    assert ready(services, "approve") == [approve]  # nothing changed

    back = actions.return_task(services, who("boss"), approve, propose, "依据不足，请补充后重报")
    assert back.assignee == "so1"
    assert _row(services, approve).status == "cancelled"
    assert ready(services, "propose") == [back.task_id] and ready(services, "approve") == []
    with services.db.session() as s:  # what he submitted then is his draft now
        draft = s.scalar(select(TaskSubmission).where(TaskSubmission.task_id == back.task_id))
        assert draft.kind == "draft" and draft.data["reason"] == "需核实"
    assert [(a, t) for a, _, t in events(services, "task_returned")] == [("boss", None)]
    # the next completion walks on: 审批 again, then the instance ends
    tasks.submit_task(services, who("so1"), back.task_id, {**PROPOSAL, "reason": "已补充"}, reveal=REVEAL)
    again = ready(services, "approve")
    assert len(again) == 1 and again != [approve]
    tasks.submit_task(services, who("boss"), again[0], {"approved": True}, reveal=REVEAL)
    assert ready(services, "approve") == [] and ready(services, "propose") == []


def test_return_is_refused_to_whoever_may_not_act_on_the_task(services, who):
    _, propose, approve = _proposed(services, who)
    with pytest.raises((Forbidden, NotVisible)):
        actions.return_task(services, who("so1"), approve, propose, "退回")  # may read the case, not approve
    with pytest.raises((Forbidden, NotVisible, NotFound)):
        actions.return_task(services, who("xf1"), approve, propose, "退回")  # a reader without rights
    assert ready(services, "approve") == [approve]


def test_the_sender_withdraws_until_the_next_person_acts(services, who):
    _, propose, approve = _proposed(services, who)
    assert actions.task_actions(services, who("so1"), propose).may_withdraw
    assert not actions.task_actions(services, who("boss"), approve).may_withdraw  # he sent nothing
    with pytest.raises(NotFound):
        actions.withdraw_task(services, who("so1b"), propose)  # not his completion
    back = actions.withdraw_task(services, who("so1"), propose, "发现笔误")
    assert back.assignee == "so1" and ready(services, "approve") == []
    tasks.submit_task(services, who("so1"), back.task_id, dict(PROPOSAL), reveal=REVEAL)
    approve = ready(services, "approve")[0]
    tasks.claim_task(services, who("boss"), approve)  # the next person acted
    with pytest.raises(Conflict):
        actions.withdraw_task(services, who("so1"), back.task_id)
    assert ready(services, "approve") == [approve]


def test_urging_by_a_manager_is_shown_and_refused_to_an_officer(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    with pytest.raises(Forbidden):  # an officer of the office: his own unit's work, not his to urge
        actions.urge_task(services, who("so1b"), propose, "请尽快")
    with pytest.raises(Forbidden):  # an officer of another office
        actions.urge_task(services, who("so2"), propose, "请尽快")
    with pytest.raises(ValidationError):
        actions.urge_task(services, who("boss"), propose, "")
    assert actions.urgeable_tasks(services, who("boss"), _row(services, propose).instance_id) == [propose]
    actions.urge_task(services, who("boss"), propose, "请于本周内提出处置意见")
    shown = actions.task_actions(services, who("so1"), propose).urges
    assert [(u.urged_by, u.note) for u in shown] == [("boss", "请于本周内提出处置意见")]
    assert actions.urged_tasks(services, [propose]) == {propose}
    assert [a for a, _, _ in events(services, "task_urged")] == ["boss"]


def test_transfer_goes_only_to_a_colleague_entitled_to_the_task(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    with pytest.raises(Forbidden):  # not held yet: claim first
        actions.transfer_task(services, who("so1"), propose, "so1b", "出差")
    tasks.claim_task(services, who("so1"), propose)
    offered = actions.task_actions(services, who("so1"), propose).hand_to
    assert [p.username for p in offered] == ["so1b", "so1lead"]
    for other in ("so2", "xf1", "nobody"):  # another office, a reader without the role, no account
        with pytest.raises(ValidationError) as refused:
            actions.transfer_task(services, who("so1"), propose, other, "出差")
        assert "assignee" in refused.value.details["fields"]
    with pytest.raises(ValidationError):
        actions.transfer_task(services, who("so1"), propose, "so1b", "")
    actions.transfer_task(services, who("so1"), propose, "so1b", "出差一周，请张敏办理")
    assert _row(services, propose).assignee == "so1b"
    assert [a for a, _, _ in events(services, "task_transferred")] == ["so1"]
    with pytest.raises(Conflict):  # he no longer holds it
        actions.transfer_task(services, who("so1"), propose, "so1lead", "再转")


def test_a_delegate_drafts_and_hands_back_only_the_owner_completes(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.claim_task(services, who("so1"), propose)
    actions.delegate_task(services, who("so1"), propose, "so1b", "请先起草处置意见")
    assert actions.task_actions(services, who("so1b"), propose).may_give_back
    with pytest.raises(Forbidden):
        tasks.submit_task(services, who("so1b"), propose, dict(PROPOSAL), reveal=REVEAL)
    with pytest.raises(Conflict):  # only the delegate hands back
        actions.give_back_task(services, who("so1"), propose)
    actions.give_back_task(services, who("so1b"), propose)
    assert _row(services, propose).assignee == "so1"
    tasks.submit_task(services, who("so1"), propose, dict(PROPOSAL), reveal=REVEAL)
    assert len(ready(services, "approve")) == 1


def test_copies_go_only_to_readers_of_the_case_and_are_read_once(services, who):
    _, _, approve = _proposed(services, who)
    offered = [p.username for p in actions.task_actions(services, who("boss"), approve).copy_to]
    assert "so1" in offered and "xf1" not in offered and "so2" not in offered
    with pytest.raises(ValidationError) as refused:  # the 信访室 officer has no task in this case
        actions.copy_case(services, who("boss"), approve, ["so1", "xf1"], "请阅")
    assert "readers" in refused.value.details["fields"]
    with pytest.raises((Forbidden, NotVisible)):  # a reader without rights sends nothing
        actions.copy_case(services, who("xf1"), approve, ["so1"], "请阅")
    actions.copy_case(services, who("boss"), approve, ["so1", "cm1"], "请阅知")
    assert actions.unread_copies(services, who("so1")) == 1
    [copy] = actions.copies(services, who("so1"))
    assert copy.sender == "boss" and copy.read_at is None
    with pytest.raises(NotFound):  # someone else's copy
        actions.read_copy(services, who("cm1"), copy.id)
    assert actions.read_copy(services, who("so1"), copy.id) == copy.instance_id
    assert actions.unread_copies(services, who("so1")) == 0
    assert actions.copies(services, who("so1"))[0].read_at is not None


def test_a_leader_hands_over_all_the_open_work_of_someone_leaving(services, who):
    registered(services, who)
    registered(services, who)
    first, second = ready(services, "propose")
    tasks.claim_task(services, who("so1"), first)
    tasks.claim_task(services, who("so1"), second)
    with pytest.raises(Forbidden):  # not his units' leader
        actions.hand_over_all(services, who("so1b"), "so1", "so1b", "调岗")
    with pytest.raises(ValidationError):
        actions.hand_over_all(services, who("so1lead"), "so1", "so1b", "")
    done = actions.hand_over_all(services, who("so1lead"), "so1", "so1b", "刘洋调任，工作由张敏接替")
    assert set(done.handed) == {first, second} and done.pooled == ()
    assert {_row(services, t).assignee for t in (first, second)} == {"so1b"}
    # a successor from another office may do none of it: the work goes back to the pool
    done = actions.hand_over_all(services, who("so1lead"), "so1b", "so2", "调岗")
    assert done.handed == () and set(done.pooled) == {first, second}
    assert {_row(services, t).assignee for t in (first, second)} == {None}
