"""engine/instances/links.py through ``show_instance``: linked instances both ways (the instance that
started another by message, the ones it started, the rest of its case), and only those the person may
find — a hidden one is not even counted."""

from __future__ import annotations

from engine.instances import operations as instances
from engine.tasks import operations as tasks
from tests.engine.usecases import REGISTER, REVEAL, registered


def _links(services, who, username, instance_id, **kw):
    detail = instances.show_instance(services, who(username), instance_id, reveal=REVEAL, **kw)
    return [(link.relation, link.id) for link in detail.linked]


def _case(services, who):
    """A: the clue XS-9 (第一室 handles it); B: an instance A started by message (its starter 案管室's
    only); A2: a second instance under the same clue number, handled by 第二室."""
    a, _ = registered(services, who)
    b = services.runtime.start(
        "gt_test_waiter", actor=who("cm1"), data={"clue_no": "XS-9"}, parent_instance_id=a.instance_id, owner_unit="cdi"
    ).instance_id
    a2 = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    tasks.submit_task(services, who("cm1"), a2.own_task, {**REGISTER, "handling_unit": "jc2"}, reveal=REVEAL)
    return a.instance_id, b, a2.instance_id


def test_links_are_listed_both_ways(services, who):
    a, b, a2 = _case(services, who)
    assert _links(services, who, "cm1", a) == [("started", b), ("case", a2)]
    assert _links(services, who, "cm1", b) == [("source", a), ("case", a2)]
    assert _links(services, who, "cm1", a2) == [("case", a), ("case", b)]
    # The overseer (the commission's secretary, in the cockpit) finds all three, as metadata.
    assert _links(services, who, "boss", a, oversight=True) == [("started", b), ("case", a2)]


def test_a_linked_instance_the_person_may_not_find_is_left_out(services, who):
    a, _b, a2 = _case(services, who)
    # 第一室 handles A only: neither B (案管室's) nor A2 (第二室's) is listed, nor counted.
    assert _links(services, who, "so1", a) == []
    assert _links(services, who, "so2", a2) == []
