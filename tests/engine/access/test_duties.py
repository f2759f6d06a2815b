"""Separation of duties by actual actors and recusal that binds, across the linked instances of a case.

so1 made the clue's proposal (``gt_test_clue:propose``); the review of case LA-1 runs in another
instance that must be separate from it. Nobody typed so1's name anywhere: the rule finds him in
``human_task.completed_by`` of the linked instance.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import forms
from engine.access import duties
from engine.access.principal import load_principal
from engine.errors import Conflict, Forbidden, ValidationError
from engine.models import AuditEvent, HumanTask, RecusalConflict
from engine.recusal import operations as recusal
from engine.tasks import inbox as inbox_q
from engine.tasks import operations as tasks
from tests.engine.linked_case import investigated_case, linked_services, one
from tests.engine.usecases import REVEAL


@pytest.fixture
def services(db, repo, library, tmp_path):
    return linked_services(db, repo, library, tmp_path)


@pytest.fixture
def who(services):
    def load(username):
        with services.db.session() as s:
            return load_principal(s, username)

    return load


def denials(services):
    with services.db.session() as s:
        return [
            (e.actor, e.task_id, e.detail.get("reason"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]


def test_who_proposed_in_the_clue_is_kept_out_of_the_review_of_the_case(services, who):
    clue, review_instance = investigated_case(services, who)
    review = one(services, "review")
    assert review.instance_id == review_instance != clue
    assert review.separate_steps == ["gt_test_clue:propose"] and not review.separate_from  # nothing typed

    with pytest.raises(Forbidden) as refused:
        tasks.claim_task(services, who("so1"), review.id)
    assert refused.value.details["rule"] == refused.value.details["reason"] == "separation_of_functions"
    assert "提出处置意见" in refused.value.details["why"]  # names the step he did

    view = tasks.show_task(services, who("so1"), review.id, reveal=REVEAL)
    assert not view.allowed.act and not view.allowed.claim
    assert view.allowed.refusal is not None and view.allowed.refusal.details["rule"] == "separation_of_functions"
    with pytest.raises(Forbidden, match="separate"):
        tasks.submit_task(services, who("so1"), review.id, {"approved": True, "opinion": "同意"}, reveal=REVEAL)
    with pytest.raises(Forbidden):
        tasks.save_draft(services, who("so1"), review.id, {"opinion": "草稿"}, reveal=REVEAL)

    # the inbox shows it to him, never as claimable; so1b (who did not propose) may claim it
    mine = {i.id: i for i in tasks.inbox(services, who("so1"), inbox_q.InboxQuery(tab="group"))[0].items}
    assert mine[review.id].separated and not mine[review.id].claimable
    theirs = {i.id: i for i in tasks.inbox(services, who("so1b"), inbox_q.InboxQuery(tab="group"))[0].items}
    assert theirs[review.id].claimable and not theirs[review.id].separated

    # the unit leader may not hand it to him, and the list he picks from leaves him out
    lead = tasks.show_task(services, who("so1lead"), review.id, reveal=REVEAL)
    assert "so1" not in {u for u, _ in lead.assignees} and "so1b" in {u for u, _ in lead.assignees}
    with pytest.raises(ValidationError) as handed:
        tasks.reassign_task(services, who("so1lead"), review.id, "so1")
    assert handed.value.details["rule"] == "separation_of_functions" and "刘洋" in handed.value.fields["assignee"]
    assert ("so1lead", review.id, "separation_of_functions") in denials(services)
    assert one(services, "review").assignee is None  # nothing changed

    tasks.claim_task(services, who("so1b"), review.id)
    done = tasks.submit_task(services, who("so1b"), review.id, {"approved": True, "opinion": "同意"}, reveal=REVEAL)
    assert done.task.completed_by == "so1b"


def test_holding_the_step_counts_as_doing_it(services, who):
    """Whoever holds an open step named by the rule is kept out too (not only who completed it)."""
    runtime = services.runtime
    runtime.start("gt_test_clue", actor=who("cm1"), data={"clue_no": "XS-9", "case_no": "LA-1"})
    runtime.complete_task(
        one(services, "register").id, actor=who("cm1"), data={"clue_no": "XS-9", "handling_unit": "jc1"}
    )
    tasks.claim_task(services, who("so1"), one(services, "propose").id)
    runtime.start("gt_test_review", actor=who("so1lead"), data={"case_no": "LA-1", "handling_unit": "jc1"})
    with services.db.session() as s:
        review = one(services, "review")
        assert set(duties.bars(s, review)) == {"so1"}


def test_an_unlinked_case_does_not_separate(services, who):
    investigated_case(services, who)
    services.runtime.start("gt_test_review", actor=who("so1lead"), data={"case_no": "LA-2", "handling_unit": "jc1"})
    with services.db.session() as s:
        rows = s.scalars(select(HumanTask).where(HumanTask.spec_id == "review")).all()
        by_case = {r.business_key: set(duties.bars(s, r)) for r in rows}
    assert by_case == {"LA-1": {"so1"}, "LA-2": set()}


def test_a_registered_conflict_keeps_the_person_out_until_a_leader_keeps_him(services, who):
    clue, review_instance = investigated_case(services, who)
    review = one(services, "review")
    # the secretary records so1b's conflict on the clue: it binds in the linked review instance too
    conflict = recusal.declare_conflict(
        services, who("boss"), clue, username="so1b", kind="kinship", reason="与被反映人系表兄弟"
    )
    with pytest.raises(Forbidden) as refused:
        tasks.claim_task(services, who("so1b"), review.id)
    assert refused.value.details["reason"] == "recusal"
    assert "亲属关系" in refused.value.details["why"]
    lead = tasks.show_task(services, who("so1lead"), review.id, reveal=REVEAL)
    assert {u for u, _ in lead.assignees} == {"so1lead"}  # so1 proposed, so1b is recused
    with pytest.raises(ValidationError) as handed:
        tasks.reassign_task(services, who("so1lead"), review.id, "so1b")
    assert handed.value.details["rule"] == "recusal" and "张敏" in handed.value.fields["assignee"]
    assert ("so1lead", review.id, "recusal") in denials(services)

    # the register is the case's: the same entries from either linked instance
    in_review = recusal.case_register(services, who("so1lead"), review_instance)
    assert {i.id for i in in_review.linked} == {clue, review_instance}
    assert in_review.may_record and not in_review.may_decide  # a unit leader records, the leaders decide
    register = recusal.case_register(services, who("boss"), clue)
    assert [e.id for e in register.entries] == [e.id for e in in_review.entries]
    [entry] = register.entries
    assert (entry.id, entry.username, entry.declared_by, entry.self_declared) == (conflict, "so1b", "boss", False)
    assert entry.binding and register.may_decide

    # the deciding leader only: not a unit leader, not a colleague, never without a reason
    with pytest.raises(Forbidden):
        recusal.decide_conflict(services, who("so1lead"), conflict, decision="keep", reason="无碍")
    with pytest.raises(ValidationError) as no_reason:
        recusal.decide_conflict(services, who("boss"), conflict, decision="keep", reason="  ")
    assert "decision_reason" in no_reason.value.fields
    recusal.decide_conflict(
        services, who("boss"), conflict, decision="keep", reason="关系已超出五服，经核实不影响公正办理"
    )
    with pytest.raises(Conflict):
        recusal.decide_conflict(services, who("boss"), conflict, decision="replace", reason="改变主意")
    with services.db.session() as s:
        row = s.get(RecusalConflict, conflict)
        assert (row.decision, row.decided_by) == ("keep", "boss")
        assert row.decision_reason == "关系已超出五服，经核实不影响公正办理" and row.decided_at is not None
        assert s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("recusal_%")).order_by(AuditEvent.id)
        ).all() == [
            "recusal_declared",
            "recusal_decided",
        ]
    tasks.claim_task(services, who("so1b"), review.id)  # kept: he may act again


def test_declaring_for_oneself_and_for_others(services, who):
    clue, _review = investigated_case(services, who)
    own = recusal.declare_conflict(services, who("so1b"), clue, username=None, kind="witness", reason="本人系证人")
    with pytest.raises(Forbidden):  # a colleague may not record someone else's conflict
        recusal.declare_conflict(services, who("so1b"), clue, username="so1", kind="other", reason="听说")
    with pytest.raises(Conflict):  # the same open conflict twice
        recusal.declare_conflict(services, who("so1b"), clue, username="so1b", kind="witness", reason="再次申报")
    with pytest.raises(ValidationError) as bad:
        recusal.declare_conflict(services, who("so1b"), clue, username=None, kind="cousin", reason="x")
    assert "kind" in bad.value.fields
    mine = recusal.declare_conflict(services, who("boss"), clue, username=None, kind="other", reason="本人回避")
    with pytest.raises(Forbidden):  # nobody decides on his own conflict, even the secretary
        recusal.decide_conflict(services, who("boss"), mine, decision="keep", reason="自己决定")
    [entry] = [e for e in recusal.case_register(services, who("so1b"), clue).entries if e.id == own]
    assert entry.self_declared and entry.kind_label == "本案证人"


def test_the_register_is_need_to_know(services, who):
    clue, _review = investigated_case(services, who)
    with pytest.raises(Forbidden):  # 第二室 has nothing to do with the case
        recusal.case_register(services, who("so2"), clue)
    with pytest.raises(Forbidden):
        recusal.declare_conflict(services, who("so2"), clue, username=None, kind="other", reason="想看看")


def test_the_case_forms_neither_offer_nor_accept_a_recused_person(services, who):
    clue, review_instance = investigated_case(services, who)
    recusal.declare_conflict(
        services, who("boss"), clue, username="so1b", kind="former_post", reason="曾在被反映单位任职"
    )
    team = {
        "type": "object",
        "properties": {
            "team": {"type": "array", "items": {"type": "string"}, "x-options": "users:supervision_office"},
            "typed": {"type": "array", "items": {"type": "string"}, "x-no-conflict": True},
            "apart": {
                "type": "array",
                "items": {"type": "string"},
                "x-options": "users:supervision_office",
                "x-no-conflict": False,
            },
        },
    }
    with services.db.session() as s:
        outside = forms.resolve_options(s, team)
        inside = forms.resolve_options(s, team, instance_id=review_instance)
    assert "so1b" in {u for u, _ in outside["team"]}
    assert "so1b" not in {u for u, _ in inside["team"]} and "so1" in {u for u, _ in inside["team"]}
    errors = forms.validate(team, {"team": ["so1", "so1b"], "typed": ["so1b"], "apart": ["so1"]}, options=inside)
    assert "张敏" in errors["team"] and "曾在该单位任职" in errors["team"]
    assert "张敏" in errors["typed"]
    assert forms.validate(team, {"team": ["so1"], "typed": ["so1"]}, options=inside) == {}
