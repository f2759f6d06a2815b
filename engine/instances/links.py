"""The instances linked to one instance, both ways, as its page and the API's detail list them.

Three kinds of link, each already recorded when the instances were started or acquired a number:
- ``source``: the instance that started this one by a message (``parent_instance_id``): the 巡察 round
  that handed over a clue (gt_l2_round → P5), the case whose finding asked for rectification (→ P7/M3);
- ``started``: the instances this one started that way (the other direction of ``source``);
- ``case``: the other instances of the same case (``case_reference``, engine/instances/cases.py): the
  clue, the 初核 and the case that followed, a later appeal naming the case number.
(A call activity runs inside the calling instance, engine/instances/cases.py: its steps are on this
instance's own diagram, not a separate instance.)

Only the instances the person may find are listed, through the same gate as the instance page
(engine/access/visibility.py, with a manager's overseen commissions): a link to one the person may not
see is left out altogether, not counted or hinted at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.access import visibility
from engine.access.principal import Principal
from engine.instances.cases import linked_clause
from engine.models import ProcessDefinition, ProcessInstance

SOURCE, STARTED, CASE = "source", "started", "case"
ORDER = {SOURCE: 0, STARTED: 1, CASE: 2}


@dataclass(frozen=True)
class Link:
    relation: str  # source | started | case
    id: int
    process_key: str
    process_name: str
    title: str | None
    business_key: str | None
    status: str
    stage: str | None
    platform: str | None
    started_at: dt.datetime


def linked(
    session: Session,
    principal: Principal,
    instance_id: int,
    *,
    parent: int | None,
    oversee: Collection[str] | None = None,
) -> list[Link]:
    """The visible instances linked to ``instance_id`` (which the caller has already let the person see),
    source first, then those it started, then the rest of the case, each oldest first. ``parent``: the
    instance's ``parent_instance_id``, which the caller has read with the instance (one read fewer)."""
    rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.process_key,
            ProcessInstance.title,
            ProcessInstance.business_key,
            ProcessInstance.status,
            ProcessInstance.stage,
            ProcessInstance.started_at,
            ProcessInstance.parent_instance_id,
            ProcessInstance.summary,
            ProcessDefinition.name,
            ProcessDefinition.platform,
        )
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(
            ProcessInstance.id != instance_id,
            or_(
                ProcessInstance.id == (parent if parent is not None else -1),
                ProcessInstance.parent_instance_id == instance_id,
                linked_clause(ProcessInstance.id, instance_id),
            ),
        )
    ).all()
    links = []
    for r in rows:
        # One narrowed probe per linked instance (a case has a handful): the gate's union of everything
        # the person may find is never collected for a detail read.
        if not visibility.can_see_instance(session, principal, r.id, oversee=oversee):
            continue
        relation = SOURCE if r.id == parent else STARTED if r.parent_instance_id == instance_id else CASE
        links.append(
            Link(
                relation=relation,
                id=r.id,
                process_key=r.process_key,
                process_name=(r.summary or {}).get("process_name") or r.name or r.process_key,
                title=r.title,
                business_key=r.business_key,
                status=r.status,
                stage=r.stage,
                platform=r.platform,
                started_at=r.started_at,
            )
        )
    return sorted(links, key=lambda link: (ORDER[link.relation], link.started_at, link.id))
