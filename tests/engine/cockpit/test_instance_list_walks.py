"""The cockpit's instance lists, read per commission (issue 16), give the very rows and totals of before.

``list_instances`` with a status walks each overseen commission's newest instances on the index
(owner_unit, status, updated_at, id) and asks ``overdue`` row by row (engine/instances/operations.py
``_overseen_page``). ``old_list_instances`` below is the query it replaced, kept here as the oracle: for
the county, its neighbour, the prefecture over both, a need-to-know officer outside the cockpit and the
engine itself, every filter alone and with each status, overdue or not, page by page, both must agree —
on a data set with overdue instances in two counties, a prefecture-owned one, one owned by nobody, ties
in ``updated_at`` across commissions, and instances a manager finds by need to know outside his scope.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import and_, func, not_, or_, select, union_all, update
from sqlalchemy.orm import Session

from engine import clock
from engine.access import visibility
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.instances import operations as instance_ops
from engine.instances import queries, rows
from engine.instances.operations import InstancePage
from engine.instances.queries import InstanceFilter
from engine.models import HumanTask, ProcessDefinition, ProcessInstance

from .conftest import NOW, end_of
from .test_scope import neighbour  # noqa: F401  (the fixture: the prefecture and its second county)


# --------------------------------------------------------------------------- the oracle: the list before
def old_list_instances(services: Any, principal: Any, f: InstanceFilter, *, oversight: bool = False) -> InstancePage:
    """``list_instances`` as it was before the per-commission walk (commit 0d9e0a7)."""
    if oversight:
        instance_ops._require_oversight(services, principal)
    now = clock.now()
    where = queries.conditions(f, now)
    newest_first = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    with services.db.session() as s:
        oversee = instance_ops._oversee(services, s, principal)
        visible_ids = visibility.visible_instance_ids(principal)
        if oversee and visible_ids is not None:
            ids, total = _old_overseen_page(s, oversee, visible_ids, where, f)
        else:
            scope = [] if visible_ids is None else [visibility.instance_visible_clause(principal)]
            ids = (
                select(ProcessInstance.id)
                .where(*scope, *where)
                .order_by(*newest_first)
                .offset((f.page - 1) * f.per_page)
                .limit(f.per_page)
                .subquery()
            )
            total = instance_ops._count(s, visible_ids, where)
        found = s.execute(
            select(*rows.COLUMNS)
            .join(ids, ids.c.id == ProcessInstance.id)
            .join(ProcessDefinition, rows.DEFINITION)
            .order_by(*newest_first),
            {"now": now},
        ).all()
    return InstancePage(filter=f, rows=[rows.row(r) for r in found], total=total)


def _old_overseen_page(s: Session, oversee: Any, visible_ids: Any, where: list[Any], f: InstanceFilter) -> Any:
    owned = visibility.overseen_clause(oversee)
    apart = and_(ProcessInstance.id.in_(visible_ids), or_(ProcessInstance.owner_unit.is_(None), not_(owned)))
    newest = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    parts = [
        select(ProcessInstance.id, ProcessInstance.updated_at)
        .where(cond, *where)
        .order_by(*newest)
        .limit(f.page * f.per_page)
        for cond in (owned, apart)
    ]
    wrapped = [p.subquery() for p in parts]
    both = union_all(*(select(w.c.id, w.c.updated_at) for w in wrapped)).subquery()
    ids = (
        select(both.c.id)
        .order_by(both.c.updated_at.desc(), both.c.id.desc())
        .offset((f.page - 1) * f.per_page)
        .limit(f.per_page)
        .subquery()
    )
    total = sum(
        s.scalar(select(func.count()).select_from(ProcessInstance).where(cond, *where)) or 0 for cond in (owned, apart)
    )
    return ids, total


# --------------------------------------------------------------------------- the data set
@pytest.fixture
def varied(services, who, seeded, neighbour):  # noqa: F811
    """Five more instances: two of the neighbour (one overdue), one of the prefecture itself (overdue),
    one owned by nobody, one of the county started by the neighbour's secretary (his need to know);
    then ``updated_at`` set to three moments only, so that commissions tie with each other."""
    nb_cm, cm1 = who("nb_cm"), who("cm1")
    more = [services.runtime.start("gt_test_clue", actor=nb_cm).instance_id for _ in range(2)]
    more += [services.runtime.start("gt_test_clue", actor=cm1).instance_id for _ in range(3)]
    nb_overdue, _, pref_own, nobodys, nb_started = more
    ties = (NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1))
    with services.db.session() as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id == pref_own).values(owner_unit="pref"))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == nobodys).values(owner_unit=None))
        s.execute(update(ProcessInstance).where(ProcessInstance.id == nb_started).values(started_by="nb_boss"))
        s.execute(
            update(HumanTask)
            .where(HumanTask.instance_id.in_([nb_overdue, pref_own, nobodys]), HumanTask.status == "ready")
            .values(due_at=end_of(dt.date(2024, 5, 2)))
        )
        every = sorted(s.scalars(select(ProcessInstance.id)))
        for i, instance_id in enumerate(every):
            s.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(updated_at=ties[i % 3]))
        units = set(s.scalars(select(ProcessInstance.owner_unit)))
    assert units == {"cdi", "nb_cdi", "pref", None} and len(every) == 16
    return every


def _filters() -> list[InstanceFilter]:
    """Each status with overdue or not, three pages of two; every other filter alone, with the cockpit's
    default status and with none, overdue or not, on two pages."""
    found = []
    for status, late, page in itertools.product((None, *queries.STATUSES), (None, True, False), (1, 2, 3, 5)):
        found.append(InstanceFilter(status=status, overdue=late, page=page, per_page=2))
    others = [
        {"stage": "审查调查"},
        {"stage": "nothing"},
        {"mechanism": "nothing"},
        {"platform": "nothing"},
        {"process_key": "gt_test_clue"},
        {"process_key": "other"},
        {"unit": "jc1"},
        {"unit": "nb_jc1"},
        {"business_key": "XS-"},
        {"business_key": "NB"},
    ]
    for other, status, late, page in itertools.product(others, ("running", None), (None, True, False), (1, 2)):
        found.append(InstanceFilter(status=status, overdue=late, page=page, per_page=2, **other))
    return found


@pytest.mark.parametrize("name", ["boss", "nb_boss", "pref_lead", "cm1", "so1", "system"])
def test_every_filter_gives_the_rows_and_total_of_before(services, who, varied, name):
    person = SYSTEM_PRINCIPAL if name == "system" else who(name)
    managers = ("boss", "nb_boss", "pref_lead")
    modes = (True, False) if name in managers else (False,)
    seen_any = seen_overdue = 0
    for f, oversight in itertools.product(_filters(), modes):
        new = instance_ops.list_instances(services, person, f, oversight=oversight)
        old = old_list_instances(services, person, f, oversight=oversight)
        assert (new.total, new.rows) == (old.total, old.rows), (name, oversight, f)
        seen_any += len(new.rows)
        seen_overdue += sum(r.overdue for r in new.rows)
    assert seen_any and (seen_overdue or name == "cm1"), "the data set must give rows to compare"


def test_the_prefectures_page_merges_its_commissions_newest_first(services, who, varied):
    """The prefecture's running list: its own instance, both counties' and — tied in ``updated_at`` —
    ordered by id within each moment, across the commission walks."""
    pref = who("pref_lead")
    pages = [
        instance_ops.list_instances(
            services, pref, InstanceFilter(status="running", page=p, per_page=3), oversight=True
        )
        for p in (1, 2, 3, 4)
    ]
    listed = [r for page in pages for r in page.rows]
    assert [(r.updated_at, r.id) for r in listed] == sorted(((r.updated_at, r.id) for r in listed), reverse=True)
    assert len({r.id for r in listed}) == len(listed) == pages[0].total
    assert {r.owner_unit for r in listed} == {"cdi", "nb_cdi", "pref"}
    late = instance_ops.list_instances(
        services, pref, InstanceFilter(status="running", overdue=True, per_page=50), oversight=True
    )
    assert {r.owner_unit for r in late.rows} == {"cdi", "nb_cdi", "pref"} and all(r.overdue for r in late.rows)


def test_the_unfiltered_list_walks_the_statuses_present_not_a_list_in_the_code(services, who, varied):
    """Without a status filter PostgreSQL walks each commission once per status found in the table
    (``_present_statuses``): an instance whose status no list in the code names is still listed, in its
    place, and counted, as the sorted list of before has it."""
    pref = who("pref_lead")
    with services.db.session() as s:
        odd = s.scalars(
            select(ProcessInstance.id).where(ProcessInstance.owner_unit == "cdi").order_by(ProcessInstance.id)
        ).first()
        s.execute(update(ProcessInstance).where(ProcessInstance.id == odd).values(status="archived"))
    for oversight in (True, False):
        f = InstanceFilter(per_page=50)
        new = instance_ops.list_instances(services, pref, f, oversight=oversight)
        old = old_list_instances(services, pref, f, oversight=oversight)
        assert (new.total, new.rows) == (old.total, old.rows)
        assert odd in {r.id for r in new.rows}
    # deeper than EVERY_STATUS_KEEP the owned part is sorted whole, and still agrees
    deep = instance_ops.EVERY_STATUS_KEEP // 2 + 1
    for page in (1, 2, deep):
        f = InstanceFilter(page=page, per_page=2)
        new, old = instance_ops.list_instances(services, pref, f), old_list_instances(services, pref, f)
        assert (new.total, new.rows) == (old.total, old.rows), page
