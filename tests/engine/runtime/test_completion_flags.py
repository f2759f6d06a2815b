"""The completion's one read of its task also says whether 加签 is pending and whether the case holds a
sealed record (engine/runtime/core.py ``_read_for_completion``): the use case skips the 加签 read and the
sealed-value check's reads on that answer, so the answer must be right for the instance alone and for the
instances linked to it by a case (issue 11's benchmark, issue 15's checks)."""

from __future__ import annotations

import uuid

from sqlalchemy import event, select

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.instances import cases
from engine.instances import operations as instances
from engine.models import (
    CaseFile,
    CaseReference,
    HumanTask,
    MessageSubscription,
    RecusalConflict,
    TaskConsultation,
)
from tests.engine.usecases import ready, registered


def _flags(services, who, username, task_id):
    with services.db.session() as s:
        pending = services.runtime.begin_completion(s, task_id, who(username))
        return pending.task.awaits_opinion, pending.task.case_sealed


def test_the_case_is_sealed_through_the_instance_or_an_instance_linked_to_it(services, who):
    lone = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    assert lone is not None
    assert _flags(services, who, "cm1", lone) == (False, False)  # nothing sealed anywhere yet
    registered(services, who)  # another instance seals the reporter's name
    propose = ready(services, "propose")[0]
    assert _flags(services, who, "so1", propose) == (False, True)  # the instance's own sealed record
    assert _flags(services, who, "cm1", lone) == (False, False)  # not linked: not its case's secret
    with services.db.session() as s:
        sealed_instance = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == propose))
        lone_instance = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == lone))
        case_id = cases.case_id_of(s, sealed_instance)
        if case_id is None:
            case = CaseFile(scope="", label="XS-9", opened_at=clock.now())
            s.add(case)
            s.flush()
            case_id = case.id
            s.add(CaseReference(instance_id=sealed_instance, kind="clue_no", value="XS-9", case_id=case_id))
        s.add(CaseReference(instance_id=lone_instance, kind="clue_no", value="XS-9-linked", case_id=case_id))
    assert _flags(services, who, "cm1", lone) == (False, True)  # linked now: the case's sealed record counts


def test_an_unanswered_consultation_is_read_with_the_task(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    with services.db.session() as s:
        instance_id = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == propose))
        asked = TaskConsultation(task_id=propose, instance_id=instance_id, asked_by="so1", asked="cm1", question="?")
        s.add(asked)
    assert _flags(services, who, "so1", propose)[0] is True
    with services.db.session() as s:
        s.get(TaskConsultation, asked.id).answered_at = clock.now()
    assert _flags(services, who, "so1", propose)[0] is False


def test_the_numbers_an_instance_carries_come_with_the_task_whatever_their_text(services, who):
    """The write skips the case-link read only when the step's numbers are among these: a value holding the
    separators must come back whole, or a new number could pass for a recorded one."""
    task_id = instances.start_instance(services, who("cm1"), "gt_test_clue").own_task
    assert task_id is not None
    odd = "XS;clue_no:9:12;3"
    with services.db.session() as s:
        instance_id = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == task_id))
        before = {
            (r.kind, r.value) for r in s.scalars(select(CaseReference).where(CaseReference.instance_id == instance_id))
        }
        case = CaseFile(scope="", label="odd", opened_at=clock.now())
        s.add(case)
        s.flush()
        s.add(CaseReference(instance_id=instance_id, kind="case_no", value=odd, case_id=case.id))
    with services.db.session() as s:
        pending = services.runtime.begin_completion(s, task_id, who("cm1"))
    assert pending.task.case_refs == frozenset(before | {("case_no", odd)})
    assert ("clue_no", "12") not in pending.task.case_refs


def test_a_binding_conflict_of_the_case_is_known_from_the_task_read(services, who):
    """Without one the completion reads no conflict (none binds); with one, kept or not, the answer follows
    the leader's decision as ``duties.conflicts_in_case`` does."""
    registered(services, who)
    propose = ready(services, "propose")[0]

    def conflicts():
        with services.db.session() as s:
            return services.runtime.begin_completion(s, propose, who("so1")).task.case_conflicts

    assert conflicts() is False
    with services.db.session() as s:
        instance_id = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == propose))
        row = RecusalConflict(
            instance_id=instance_id, username="xx9", kind="kinship", reason="亲属", declared_by="xx9", decision="keep"
        )
        s.add(row)
    assert conflicts() is False  # kept by the leader: binds no one
    with services.db.session() as s:
        s.get(RecusalConflict, row.id).decision = None
    assert conflicts() is True  # undecided: binding


def test_open_rows_and_subscriptions_beside_the_task_are_known_from_its_read_and_kept_in_line(services, who):
    """The completion's sync reads the instance's other open rows and its subscriptions back only when the
    task read says there are some (``others_open``, ``subscribed``): with none it reads neither, with some
    it still cancels a row and drops a subscription the engine no longer has."""
    registered(services, who)
    propose = ready(services, "propose")[0]

    def flags():
        with services.db.session() as s:
            pending = services.runtime.begin_completion(s, propose, who("so1"))
            return pending.task.others_open, pending.instance.subscribed

    assert flags() == (False, False)
    with services.db.session() as s:
        instance_id = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == propose))
        stray = HumanTask(
            instance_id=instance_id,
            task_uuid=str(uuid.uuid4()),
            spec_id="gone",
            process_key="gt_test_clue",
            name="gone",
            status="ready",
        )
        s.add(stray)
        s.add(MessageSubscription(instance_id=instance_id, message_name="nobody_sends", correlation_key="XS-9"))
        s.flush()
        stray_id = stray.id
    assert flags() == (True, True)
    services.runtime.complete_task(propose, actor=SYSTEM_PRINCIPAL, data={"disposal": "liaojie"})
    with services.db.session() as s:
        assert s.get(HumanTask, stray_id).status == "cancelled"
        assert s.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == instance_id)).all() == []


def test_a_lone_task_completes_without_reading_back_rows_or_subscriptions(services, who):
    registered(services, who)
    propose = ready(services, "propose")[0]
    seen: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", spy)
    try:
        outcome = services.runtime.complete_task(propose, actor=SYSTEM_PRINCIPAL, data={"disposal": "chubu_heshi"})
    finally:
        event.remove(services.db.engine, "before_cursor_execute", spy)
    assert len(outcome.created_tasks) == 1  # the next step's row is still opened
    assert not [q for q in seen if q.lstrip().startswith("SELECT message_subscription.id")]
    assert not [
        q for q in seen if q.lstrip().startswith("SELECT human_task.id, human_task.task_uuid, human_task.assignee")
    ]
