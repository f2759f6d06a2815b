"""The cockpit's instance page in one read: its detail, its diagram and who its open tasks may go to.

The page called three use cases (``show_instance``, ``show_diagram``, ``reassign_choices``), each with
its own transaction, its own cockpit check, commission scope and gate, and each reading the instance's
row and tasks again. Here the person is authorized once (the cockpit's roles, then the instance gate
with the commissions they oversee, which is also the gate the reassign form needs), and everything is
read in one transaction from the same rows, by the same functions those use cases call
(engine/instances/operations.py ``detail_of``, ``diagram_of``, ``choices_of``): the page shows what the
API's detail and diagram show.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import clock
from engine.access.principal import Principal
from engine.access.reveal import Reveal
from engine.instances import diagram
from engine.instances import operations as ops
from engine.services import Services
from engine.tasks import inbox as inbox_q


@dataclass(frozen=True)
class InstanceOversight:
    """What the cockpit's instance page shows."""

    detail: ops.InstanceDetail
    diagram: diagram.InstanceDiagram
    assignees: dict[int, list[tuple[str, str]]]  # open task id -> (username, name) it may be handed to


def oversee_instance(
    services: Services,
    principal: Principal,
    instance_id: int,
    *,
    reveal: Reveal,
    soon_workdays: int = inbox_q.DUE_SOON_WORKDAYS,
) -> InstanceOversight:
    """The instance as its overseer sees it (metadata, never records): refused (Forbidden) to anyone
    without a cockpit role, (NotVisible, audited by the caller) for an instance outside the commissions
    the person oversees and their need to know, (NotFound) for no such instance."""
    ops._require_oversight(services, principal)
    now = clock.now()
    with services.db.session() as s:
        oversee = ops._oversee(services, s, principal)
        row, works_on, _ = ops._gated_row(s, principal, instance_id, now, oversee)
        task_rows = ops._task_rows(s, instance_id)
        detail = ops.detail_of(
            s,
            services,
            principal,
            row,
            works_on,
            task_rows,
            oversee=oversee,
            reveal=reveal,
            oversight=True,
            locale="zh_CN",
            soon_workdays=soon_workdays,
            channel=None,
            for_page=True,
            now=now,
        )
        drawn = ops.diagram_of(
            s,
            services,
            principal,
            row,
            works_on,
            task_rows,
            oversight=True,
            soon_workdays=soon_workdays,
            now=now,
            names=detail.names,  # the detail's names hold every task's holder: the diagram's too
            fired=detail.fired_timers,  # read with the timeline (None where it was cut at its limit)
        )
        assignees = ops.choices_of(s, instance_id, task_rows)
    return InstanceOversight(detail=detail, diagram=drawn, assignees=assignees)
