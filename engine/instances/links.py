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

from sqlalchemy import Integer, bindparam, select, union_all
from sqlalchemy.orm import Session

from engine.access import visibility
from engine.access.principal import Principal
from engine.instances import rows
from engine.instances.cases import INSTANCE, same_case
from engine.models import ProcessDefinition, ProcessInstance

SOURCE, STARTED, CASE = "source", "started", "case"
ORDER = {SOURCE: 0, STARTED: 1, CASE: 2}


@dataclass(frozen=True)
class Link(rows.InstanceRow):
    """A linked instance: its row as the instance list shows it, and how it is linked."""

    relation: str = CASE  # source | started | case


# Built once (the instance detail asks it on every call): the instances linked either way, and the case's.
# The ids come first, each part an index range (the parent by key, the children by ix_instance_parent,
# the case's by case_reference), then their rows by key: one OR of the three over process_instance made
# PostgreSQL read all of it on every detail (300 ms at 100,000 instances, docs/benchmarks.md section 3).
_LINKED_IDS = union_all(
    select(bindparam("parent", type_=Integer).label("id")),
    select(ProcessInstance.id).where(ProcessInstance.parent_instance_id == INSTANCE),
    same_case(INSTANCE),
).subquery()
_LINKED = (
    select(*rows.COLUMNS)
    .join(ProcessDefinition, rows.DEFINITION)
    .where(ProcessInstance.id != INSTANCE, ProcessInstance.id.in_(select(_LINKED_IDS.c.id)))
)


def linked(
    session: Session,
    principal: Principal,
    instance_id: int,
    *,
    parent: int | None,
    now: dt.datetime,
    oversee: Collection[str] | None = None,
) -> list[Link]:
    """The visible instances linked to ``instance_id`` (which the caller has already let the person see),
    source first, then those it started, then the rest of the case, each oldest first. ``parent``: the
    instance's ``parent_instance_id``, which the caller has read with the instance (one read fewer)."""
    found = session.execute(
        _LINKED, {"instance_id": instance_id, "parent": parent if parent is not None else -1, "now": now}
    ).all()
    links = []
    for r in found:
        # One narrowed probe per linked instance (a case has a handful): the gate's union of everything
        # the person may find is never collected for a detail read.
        if not visibility.can_see_instance(session, principal, r.id, oversee=oversee):
            continue
        relation = SOURCE if r.id == parent else STARTED if r.parent_instance_id == instance_id else CASE
        links.append(Link(**vars(rows.row(r)), relation=relation))
    return sorted(links, key=lambda link: (ORDER[link.relation], link.started_at, link.id))
