"""The managers' operations on an instance (suspend, resume, cancel, retry, reassign from the cockpit)
each require a reason: an empty one is refused naming the field and changes nothing; a given one is
audited with the action and shown on the cockpit's timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, NotFound, NotVisible, ProcessError, ValidationError
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine.usecases import REVEAL, ready, registered


def _status(services, instance_id):
    with services.db.session() as s:
        return s.get(ProcessInstance, instance_id).status


def _reasons(services, instance_id):
    with services.db.session() as s:
        return [
            (e.action, e.actor, (e.detail or {}).get("reason"))
            for e in s.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.instance_id == instance_id,
                    AuditEvent.action.in_(("suspended", "resumed", "cancelled", "retried", "reassigned")),
                )
                .order_by(AuditEvent.id)
            )
        ]


@pytest.mark.parametrize("reason", [None, "", "   ", "\x00"])
def test_an_action_without_a_reason_is_refused_naming_the_field_and_changes_nothing(services, who, reason):
    started, _ = registered(services, who)
    with pytest.raises(ValidationError) as refused:
        instances.act_on_instance(services, who("boss"), started.instance_id, "suspend", reason=reason)
    assert refused.value.status == 422 and set(refused.value.fields) == {"reason"}
    assert _status(services, started.instance_id) == "running" and _reasons(services, started.instance_id) == []


def test_every_action_is_audited_with_its_reason(services, who):
    started, _ = registered(services, who)
    iid, boss = started.instance_id, who("boss")
    instances.act_on_instance(services, boss, iid, "suspend", reason="等待审计报告")
    instances.act_on_instance(services, boss, iid, "resume", reason="审计报告已到")
    failure = ProcessError("process step gw_disposal failed", element="gw_disposal")
    services.runtime.record_failure(iid, failure, max_attempts=1)
    with pytest.raises(ValidationError):
        instances.act_on_instance(services, boss, iid, "retry", reason=" ")
    assert _status(services, iid) == "error"
    instances.act_on_instance(services, boss, iid, "retry", reason="网关条件已修正")
    with pytest.raises(ValidationError) as too_long:
        instances.act_on_instance(services, boss, iid, "cancel", reason="长" * 501)
    assert set(too_long.value.fields) == {"reason"}
    instances.act_on_instance(services, boss, iid, "cancel", reason="重复登记")
    assert _reasons(services, iid) == [
        ("suspended", "boss", "等待审计报告"),
        ("resumed", "boss", "审计报告已到"),
        ("retried", "boss", "网关条件已修正"),
        ("cancelled", "boss", "重复登记"),
    ]
    timeline = instances.show_instance(services, boss, iid, reveal=REVEAL, oversight=True).timeline
    assert [e.detail.get("reason") for e in timeline if e.action == "resumed"] == ["审计报告已到"]


def test_an_overseer_reassigns_a_task_from_the_cockpit_with_a_reason(services, who):
    started, _ = registered(services, who)
    iid, propose = started.instance_id, ready(services, "propose")[0]
    choices = instances.reassign_choices(services, who("boss"), iid)
    assert [u for u, _ in choices[propose]] == ["so1", "so1b", "so1lead"]
    with pytest.raises(ValidationError) as refused:
        instances.reassign_on_instance(services, who("boss"), iid, propose, "so1b", reason="")
    assert set(refused.value.fields) == {"reason"}
    with pytest.raises(ValidationError) as outside_pool:
        instances.reassign_on_instance(services, who("boss"), iid, propose, "so2", reason="换人")
    assert set(outside_pool.value.fields) == {"assignee"}
    with pytest.raises(NotFound):  # not a task of this instance
        instances.reassign_on_instance(services, who("boss"), iid, propose + 1000, "so1b", reason="换人")
    with pytest.raises(NotVisible):
        instances.reassign_on_instance(services, who("boss"), iid + 1000, propose, "so1b", reason="换人")
    with pytest.raises(Forbidden):  # not an overseer: the task unit's leader uses the task page's reassign
        instances.reassign_on_instance(services, who("so1"), iid, propose, "so1b", reason="换人")
    with services.db.session() as s:
        assert s.get(HumanTask, propose).assignee is None
    instances.reassign_on_instance(services, who("boss"), iid, propose, "so1b", reason="刘洋回避")
    with services.db.session() as s:
        assert s.get(HumanTask, propose).assignee == "so1b"
    assert _reasons(services, iid) == [("reassigned", "boss", "刘洋回避")]
    timeline = instances.show_instance(services, who("boss"), iid, reveal=REVEAL, oversight=True).timeline
    assert [(e.detail.get("assignee"), e.detail.get("reason")) for e in timeline if e.action == "reassigned"] == [
        ("so1b", "刘洋回避")
    ]
