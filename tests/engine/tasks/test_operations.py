"""engine/tasks/operations.py: one form pipeline for page and API, one reveal-and-audit gate, claims, drafts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Conflict, NotFound, NotVisible, ValidationError
from engine.forms.submission import Posted
from engine.instances import operations as instances
from engine.models import HumanTask, ProcessInstance, TaskSubmission
from engine.tasks import operations as tasks
from tests.engine.usecases import REGISTER, REVEAL, events, ready, registered


def test_one_pipeline_reads_a_posted_form_and_json_alike(services, who):
    first = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    second = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    posted = Posted({k: [v] for k, v in REGISTER.items()})
    by_page = tasks.submit_task(services, who("cm1"), first, posted, reveal=REVEAL)
    by_json = tasks.submit_task(services, who("cm1"), second, dict(REGISTER), reveal=REVEAL)
    assert [n for _i, n, _l in by_page.next_tasks] == [n for _i, n, _l in by_json.next_tasks] == ["提出处置意见"]
    with services.db.session() as s:
        rows = s.scalars(select(TaskSubmission).where(TaskSubmission.kind == "final").order_by(TaskSubmission.id)).all()
        assert rows[0].data == rows[1].data
        assert "reporter_name" not in rows[0].data and all(r.sealed for r in rows)
        assert REVEAL.sealer.open(rows[0].sealed) == {"reporter_name": "李检举"}


@pytest.mark.parametrize("as_posted", [True, False])
def test_unknown_fields_and_foreign_options_are_refused_and_nothing_changes(services, who, as_posted):
    task_id = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    data = {"clue_no": "XS-1", "handling_unit": "nowhere", "colour": "red"}
    submitted = Posted({k: [v] for k, v in data.items()}) if as_posted else data
    with pytest.raises(ValidationError) as refused:
        tasks.submit_task(services, who("cm1"), task_id, submitted, reveal=REVEAL)
    assert refused.value.fields == {"colour": "表单中没有此项", "handling_unit": "请从给出的选项中选择"}
    with services.db.session() as s:
        assert s.get(HumanTask, task_id).status == "ready"
        assert s.scalar(select(TaskSubmission.id)) is None


def test_a_task_outside_the_need_to_know_is_refused_naming_the_rule(services, who):
    task_id = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    with pytest.raises(NotVisible) as hidden:
        tasks.submit_task(services, who("so2"), task_id, dict(REGISTER), reveal=REVEAL)
    assert hidden.value.reason == "task_not_visible" and hidden.value.details["task"] == task_id
    with pytest.raises(NotFound):
        tasks.show_task(services, who("cm1"), 999999, reveal=REVEAL)


def test_show_task_reveals_earlier_steps_once_per_view(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    plain = tasks.show_task(services, who("so1"), propose, reveal=REVEAL)
    assert [v.masked for v in plain.steps[0].shown if v.name == "reporter_name"] == [True]
    assert "reporter_name" not in plain.steps[0].data
    assert plain.allowed.claim and plain.allowed.act and not plain.allowed.reassign
    assert events(services, "confidential_viewed") == []
    lead = tasks.show_task(services, who("so1lead"), propose, reveal=REVEAL)
    assert lead.allowed.reassign and ("so1", "刘洋") in lead.assignees
    # A reveal role opening a task of the instance: the record in clear, one audit event for the view.
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    approve = ready(services, "approve")[0]
    view = tasks.show_task(services, who("boss"), approve, reveal=REVEAL)
    assert view.steps[0].data["reporter_name"] == "李检举" and view.reveal
    assert events(services, "confidential_viewed") == [("boss", started.instance_id, approve)]
    # The API's detail shows no records: it neither reads nor audits them.
    tasks.show_task(services, who("boss"), approve, reveal=REVEAL, with_records=False)
    assert len(events(services, "confidential_viewed")) == 1


def test_draft_keeps_what_was_typed_and_seals_the_reporter(services, who):
    task_id = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    posted = Posted({"clue_no": ["XS-3"], "reporter_name": ["李检举"], "evidence.0.pages": ["many"]})
    tasks.save_draft(services, who("cm1"), task_id, posted, reveal=REVEAL)
    view = tasks.show_task(services, who("cm1"), task_id, reveal=REVEAL)
    assert view.draft is not None and view.values["clue_no"] == "XS-3"
    assert view.values["reporter_name"] == "李检举"  # its author sees what they typed
    assert events(services, "confidential_viewed") == []
    other = tasks.show_task(services, who("cm2"), task_id, reveal=REVEAL)
    assert "reporter_name" not in other.values
    with pytest.raises(ValidationError) as nul:
        tasks.save_draft(services, who("cm1"), task_id, Posted({"summary": ["a\x00b"]}), reveal=REVEAL)
    assert set(nul.value.fields) == {"summary"}


def test_claim_unclaim_and_reassign_refuse_in_the_order_a_person_meets_them(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    with pytest.raises(NotVisible):
        tasks.claim_task(services, who("so2"), propose)
    tasks.claim_task(services, who("so1"), propose)
    with pytest.raises(Conflict):
        tasks.claim_task(services, who("so1b"), propose)
    with pytest.raises(ValidationError):
        tasks.reassign_task(services, who("so1lead"), propose, "cm1")
    tasks.reassign_task(services, who("so1lead"), propose, "so1b")
    tasks.unclaim_task(services, who("so1b"), propose)
    assert tasks.show_task(services, who("so1"), propose, reveal=REVEAL).task.assignee is None


def test_the_server_signs_whatever_the_client_sends(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi"}, reveal=REVEAL)
    approve = ready(services, "approve")[0]
    forged = {"approved": True, "signature": {"signer": "某某", "signed_at": "2000-01-01T00:00:00+08:00"}}
    done = tasks.submit_task(services, who("boss"), approve, forged, reveal=REVEAL)
    assert done.instance_status == "completed" and done.task.completed_by == "boss"
    with services.db.session() as s:
        record = s.scalar(select(TaskSubmission.data).where(TaskSubmission.task_id == approve))
    assert record["signature"]["signer"] == who("boss").display_name
    assert not record["signature"]["signed_at"].startswith("2000")
    assert started.instance_id == done.instance_id


def test_drafts_never_reach_the_engine(services, who):
    """Moved from test_runtime.py with Runtime.save_draft: a draft is the use case's, not the engine's."""
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]

    def state():
        with services.db.session() as s:
            return s.scalar(select(ProcessInstance.state).where(ProcessInstance.id == started.instance_id))

    before = state()
    tasks.save_draft(services, who("so1"), propose, {"disposal": "liaojie", "reason": "未完"}, reveal=REVEAL)
    assert state() == before
    tasks.submit_task(services, who("so1"), propose, {"disposal": "liaojie", "reason": "查无实据"}, reveal=REVEAL)
    with services.db.session() as s:
        kinds = s.execute(
            select(TaskSubmission.kind, TaskSubmission.data).where(TaskSubmission.task_id == propose)
        ).all()
    assert kinds == [("final", {"disposal": "liaojie", "reason": "查无实据"})]
