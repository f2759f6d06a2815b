"""engine/instances/oversight.py: the cockpit's instance page in one read shows exactly what the three
use cases it replaces show (``show_instance``, ``show_diagram``, ``reassign_choices``), for instances in
different states; it is refused as they are; and it reads in one transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from engine import clock
from engine.access import duties
from engine.errors import Forbidden, NotFound, ProcessError
from engine.instances import drawing
from engine.instances import operations as instances
from engine.instances.oversight import oversee_instance
from engine.models import HumanTask
from engine.tasks import operations as tasks
from engine.tasks.inbox import eligible_assignees
from tests.engine.usecases import REVEAL, ready, registered


def at(year, month, day, hour=10):
    return dt.datetime(year, month, day, hour, 0, tzinfo=clock.LOCAL_TZ)


def _same_as_the_three_use_cases(services, boss, instance_id):
    one = oversee_instance(services, boss, instance_id, reveal=REVEAL)
    drawing.forget()  # the old path's diagram read from the database and parsed afresh
    detail = instances.show_instance(services, boss, instance_id, reveal=REVEAL, oversight=True)
    drawn = instances.show_diagram(services, boss, instance_id, oversight=True)
    assert one.detail == detail
    assert one.diagram == drawn
    assert (
        one.assignees
        == instances.reassign_choices(services, boss, instance_id)
        == _choices_from_orm(services, instance_id)
    )
    return one


def _choices_from_orm(services, instance_id):
    """The reassign choices as the form computed them before, from the ORM rows of the open tasks."""
    with services.db.session() as s:
        open_tasks = s.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "ready", HumanTask.personal.is_(False)
            )
        ).all()
        return {t.id: eligible_assignees(s, t, duties.bars(s, t)) for t in open_tasks}


def test_the_page_shows_what_the_three_use_cases_show_in_every_state(services, who):
    boss = who("boss")
    with clock.frozen(at(2024, 9, 27)) as frozen:
        running, _ = registered(services, who)  # active on 提出处置意见, its deadline timer waiting
        failed, _ = registered(services, who)
        services.runtime.record_failure(
            failed.instance_id, ProcessError("no gateway condition was true", element="gw_disposal"), max_attempts=1
        )
        closed, _ = registered(services, who)
        propose = ready(services, "propose")[-1]
        tasks.submit_task(services, who("so1"), propose, {"disposal": "liaojie", "reason": "查无实据"}, reveal=REVEAL)
        waiting = instances.start_instance(services, who("cm1"), "gt_test_waiter", business_key="XS-W")
        shown = {
            name: _same_as_the_three_use_cases(services, boss, i)
            for name, i in (
                ("running", running.instance_id),
                ("failed", failed.instance_id),
                ("closed", closed.instance_id),
                ("waiting", waiting.instance_id),
            )
        }
        assert shown["running"].diagram.markers("active") == ["propose"] and shown["running"].assignees
        assert shown["failed"].diagram.markers("failed") == ["gw_disposal"]
        assert shown["closed"].detail.instance.status == "completed"
        assert "end_closed" in shown["closed"].diagram.markers("completed")
        assert shown["waiting"].diagram.markers("waiting") == ["wait_result"]
        # Across the National Day holiday (1–7 October): overdue on 11 October, not on 9 October.
        frozen.set(at(2024, 10, 9))
        assert _same_as_the_three_use_cases(services, boss, running.instance_id).diagram.markers("overdue") == []
        frozen.set(at(2024, 10, 11))
        late = _same_as_the_three_use_cases(services, boss, running.instance_id)
        assert late.diagram.markers("overdue") == ["propose"]
        services.runtime.fire_due_timers()  # the deadline's boundary timer fires: escalated
        fired = _same_as_the_three_use_cases(services, boss, running.instance_id)
        assert "propose_late" in fired.diagram.markers("completed")
        assert fired.diagram.markers("active") == ["escalated"]


def test_refused_as_the_use_cases_it_replaces(services, who):
    started, _ = registered(services, who)
    with pytest.raises(Forbidden):
        oversee_instance(services, who("so1"), started.instance_id, reveal=REVEAL)
    with pytest.raises(Forbidden):  # 三员分立: the administrator oversees no case
        oversee_instance(services, who("admin"), started.instance_id, reveal=REVEAL)
    with pytest.raises(NotFound):
        oversee_instance(services, who("boss"), 999999, reveal=REVEAL)


def test_one_transaction_and_fewer_statements_than_the_three_use_cases(services, who, steady_caches):
    started, _ = registered(services, who)
    boss = who("boss")
    counted = {"statements": 0, "transactions": 0}

    def statement(*_):
        counted["statements"] += 1

    def begin(*_):
        counted["transactions"] += 1

    def count(read):
        counted.update(statements=0, transactions=0)
        event.listen(services.db.engine, "before_cursor_execute", statement)
        event.listen(services.db.engine, "begin", begin)
        try:
            read()
        finally:
            event.remove(services.db.engine, "before_cursor_execute", statement)
            event.remove(services.db.engine, "begin", begin)
        return dict(counted)

    def three():
        instances.show_instance(services, boss, started.instance_id, reveal=REVEAL, oversight=True)
        instances.show_diagram(services, boss, started.instance_id, oversight=True)
        instances.reassign_choices(services, boss, started.instance_id)

    oversee_instance(services, boss, started.instance_id, reveal=REVEAL)  # the version's drawing kept
    one = count(lambda: oversee_instance(services, boss, started.instance_id, reveal=REVEAL))
    before = count(three)
    assert one["transactions"] == 1 and before["transactions"] == 3
    assert one["statements"] < before["statements"]
