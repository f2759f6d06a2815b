"""engine/instances/operations.py: one instance list and one instance detail for every channel."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from engine.errors import Forbidden, NotVisible, ValidationError
from engine.instances import operations as instances
from engine.instances.queries import InstanceFilter
from engine.tasks import operations as tasks
from tests.engine.usecases import REVEAL, events, ready, registered


def test_one_instance_list_for_need_to_know_and_oversight(services, who):
    registered(services, who)
    instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="JB-1")
    keys = lambda page: sorted(r.business_key for r in page.rows)  # noqa: E731
    assert keys(instances.list_instances(services, who("cm1"), InstanceFilter())) == ["JB-1", "XS-9"]
    assert keys(instances.list_instances(services, who("cm1"), InstanceFilter(business_key="xs-"))) == ["XS-9"]
    assert keys(instances.list_instances(services, who("cm1"), InstanceFilter(unit="jc1"))) == ["XS-9"]
    assert keys(instances.list_instances(services, who("so2"), InstanceFilter())) == []
    # Oversight: the commission leader sees every instance's metadata, the officer may not oversee.
    assert keys(instances.list_instances(services, who("boss"), InstanceFilter(), oversight=True)) == ["JB-1", "XS-9"]
    with pytest.raises(Forbidden) as refused:
        instances.list_instances(services, who("so1"), InstanceFilter(), oversight=True)
    assert refused.value.message == "cockpit_only"
    page = instances.list_instances(services, who("cm1"), InstanceFilter(per_page=1))
    assert page.total == 2 and page.pages == 2 and len(page.rows) == 1


def test_show_instance_reads_records_once_and_never_in_oversight(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    handler = instances.show_instance(services, who("so1"), started.instance_id, reveal=REVEAL)
    assert handler.may_read and handler.confidential_withheld and "reporter_name" not in handler.data
    boss = instances.show_instance(services, who("boss"), started.instance_id, reveal=REVEAL, channel="api")
    assert boss.data["reporter_name"] == "李检举" and not boss.confidential_withheld
    assert events(services, "confidential_viewed") == [("boss", started.instance_id, None)]
    cockpit = instances.show_instance(services, who("boss"), started.instance_id, reveal=REVEAL, oversight=True)
    assert cockpit.steps == [] and not cockpit.may_read and cockpit.timeline
    assert len(events(services, "confidential_viewed")) == 1
    with pytest.raises(NotVisible) as refused:
        instances.show_instance(services, who("so2"), started.instance_id, reveal=REVEAL)
    assert refused.value.reason == "instance_not_visible"


def test_instance_actions_are_for_the_overseers_never_an_administrator(services, who):
    started, _ = registered(services, who)
    with pytest.raises(Forbidden) as refused:
        instances.act_on_instance(services, who("so1"), started.instance_id, "suspend")
    assert refused.value.message == "cockpit_only"
    for kind in ("admin", "secadmin", "auditadmin"):  # 三员分立: stopping a case is a decision about the case
        with pytest.raises(Forbidden):
            instances.act_on_instance(services, who(kind), started.instance_id, "suspend")
    instances.act_on_instance(services, who("boss"), started.instance_id, "suspend", reason="核查")
    assert instances.show_instance(
        services, who("boss"), started.instance_id, reveal=REVEAL, oversight=True
    ).instance.status == ("suspended")
    with pytest.raises(ValidationError):
        instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="X" * 121)


def _statements(services, call) -> list[str]:
    """The SQL statements ``call()`` sends, but the working-day calendar's re-read (at most every 10 s,
    whenever a slow machine crosses that moment)."""
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM work_calendar" not in statement:
            seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(services.db.engine, "before_cursor_execute", capture)
    return seen


def test_show_instance_names_the_chosen_units_without_reading_option_lists(services, who):
    """The detail names the unit a record chose (``x-options: units:…``) from one lookup of that unit, not
    from the form's option lists (units holding the role, every unit's order): a fixed number of
    statements whatever the number of steps (benchmarks: instance detail at province scale)."""
    started, _ = registered(services, who)
    so1 = who("so1")
    show = lambda: instances.show_instance(services, so1, started.instance_id, reveal=REVEAL)  # noqa: E731
    show()  # the process's unit names (engine.organisation.names) are read once, then served from memory
    one_step = _statements(services, show)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    two_steps = _statements(services, show)
    assert len(two_steps) == len(one_step)
    assert not [q for q in two_steps if "membership" in q or "unit.sort" in q]
    shown = {row.name: row.value for step in show().steps for row in step.shown}
    assert shown["handling_unit"] == "第一监督检查室" and shown["disposal"] == "初步核实"
    english = instances.show_instance(services, so1, started.instance_id, reveal=REVEAL, locale="en")
    assert {r.name: r.value for r in english.steps[0].shown}["handling_unit"] == "1st Supervision Office"


def test_the_apis_detail_reads_neither_attachments_nor_peoples_names(services, who):
    """The API's detail shows no attachment list and no display names, so it reads neither: two statements
    fewer than the page's on the API's most frequent read (issue 11's instance-detail benchmark)."""
    started, _ = registered(services, who)
    so1 = who("so1")
    page = lambda: instances.show_instance(services, so1, started.instance_id, reveal=REVEAL)  # noqa: E731
    api = lambda: instances.show_instance(services, so1, started.instance_id, reveal=REVEAL, for_page=False)  # noqa: E731
    page()
    on_page, on_api = _statements(services, page), _statements(services, api)
    assert [q for q in on_page if "FROM attachment" in q]
    assert not [q for q in on_api if "FROM attachment" in q]
    names = lambda queries: [q for q in queries if "app_user.display_name" in q]  # noqa: E731
    assert len(names(on_api)) == len(names(on_page)) - 1  # the submitters' names stay: records carry them
    assert len(on_api) == len(on_page) - 2
    assert [s.data for s in api().steps] == [s.data for s in page().steps]  # the same records either way
