"""三员分立 across the access layer: the kinds, no read-everything bypass, and refusals of administrators
recorded under a 三员 rule by the one place that writes ``access_denied``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access import sanyuan
from engine.access.denials import record_denial
from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.access.visibility import instance_data_clause, instance_visible_clause, visible_instance_ids
from engine.errors import Forbidden, NotVisible
from engine.models import AuditEvent


@pytest.mark.parametrize("kind", sanyuan.ADMIN_KINDS)
def test_no_administrator_finds_every_instance_only_the_engine_does(kind):
    admin = Principal("admin", admin_kind=kind)
    assert visible_instance_ids(admin) is not None
    assert str(instance_visible_clause(admin)) != "true" and str(instance_data_clause(admin)) != "true"
    assert visible_instance_ids(SYSTEM_PRINCIPAL) is None
    console = Principal("ops", console=True)  # the installation operator at the console acts as the engine
    assert console.is_system and visible_instance_ids(console) is None


def test_each_kind_passes_its_own_gate_only():
    people = {kind: Principal(f"{kind}admin", admin_kind=kind) for kind in sanyuan.ADMIN_KINDS}
    gates = {
        sanyuan.SYSTEM_ADMIN: sanyuan.require_system_admin,
        sanyuan.SECURITY_ADMIN: sanyuan.require_security_admin,
        sanyuan.AUDIT_ADMIN: sanyuan.require_audit_admin,
    }
    for kind, gate in gates.items():
        for other, person in people.items():
            if other == kind:
                gate(person)
            else:
                with pytest.raises(Forbidden):
                    gate(person)
        gate(SYSTEM_PRINCIPAL)
    sanyuan.require_organisation_reader(people["system"])
    sanyuan.require_organisation_reader(people["security"])
    with pytest.raises(Forbidden):
        sanyuan.require_organisation_reader(people["audit"])
    with pytest.raises(Forbidden) as refused:
        sanyuan.require_not_oneself(people["security"], "securityadmin")
    assert refused.value.details["reason"] == sanyuan.NOT_TO_ONESELF
    sanyuan.require_not_oneself(SYSTEM_PRINCIPAL, "system")


def test_an_administrators_refusal_is_recorded_under_the_sanyuan_rule(county):
    refused = NotVisible("instance 7 is not within your need to know", reason="instance_not_visible", instance=7)
    record_denial(county, refused.reason, actor="admin", instance_id=7, path="/instances/7")
    record_denial(county, refused.reason, actor="so1", instance_id=7, path="/instances/7")
    rule = Forbidden("nobody approves his own request", reason=sanyuan.OWN_REQUEST)
    record_denial(county, rule, actor="secadmin")
    with county.db.session() as s:
        events = [
            (e.actor, e.detail["reason"], e.detail.get("refused_by"), e.detail.get("admin_kind"), e.instance_id)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]
    assert events == [
        ("admin", sanyuan.OUTSIDE_DUTIES, "instance_not_visible", "system", 7),
        ("so1", "instance_not_visible", None, None, 7),
        ("secadmin", sanyuan.OWN_REQUEST, None, None, None),
    ]
