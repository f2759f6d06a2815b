"""The inbox page's one use case (engine/tasks/inbox_screen.py) answers what the separate use cases answer,
from one read-only session."""

from __future__ import annotations

from sqlalchemy import event

from engine.cockpit import operations as cockpit
from engine.tasks import actions
from engine.tasks import inbox as inbox_q
from engine.tasks import operations as tasks
from engine.tasks.inbox_screen import inbox_screen
from tests.engine.usecases import REVEAL, ready, registered

PROPOSAL = {"disposal": "chubu_heshi", "reason": "需核实"}


def test_the_screen_answers_as_the_separate_use_cases(services, who, frozen_clock):
    registered(services, who)
    urged = ready(services, "propose")[0]
    actions.urge_task(services, who("boss"), urged, "请尽快")
    registered(services, who)
    [proposed] = [t for t in ready(services, "propose") if t != urged]
    tasks.submit_task(services, who("so1"), proposed, dict(PROPOSAL), reveal=REVEAL)
    actions.copy_case(services, who("boss"), ready(services, "approve")[0], ["so1"], "请阅知")
    so1 = who("so1")
    checkouts: list[int] = []
    count = lambda *_: checkouts.append(1)  # noqa: E731
    event.listen(services.db.engine, "checkout", count)
    try:
        screen = inbox_screen(services, so1, inbox_q.InboxQuery(per_page=5), land=True)
    finally:
        event.remove(services.db.engine, "checkout", count)
    assert len(checkouts) == 1  # one connection for the whole page
    # He holds nothing: he lands on 可认领, where the urged proposal waits.
    assert screen.result.query.tab == "group" and [i.id for i in screen.result.items] == [urged]
    apart = tasks.inbox(services, so1, inbox_q.InboxQuery(tab="group", per_page=5), with_choices=True)
    assert (screen.result, screen.choices) == apart
    assert screen.urged == actions.urged_tasks(services, [urged]) == {urged}
    assert screen.unread_copies == actions.unread_copies(services, so1) == 1
    assert screen.unread_notifications == cockpit.unread_notifications(services, so1)
    # Asked for a tab, he stays on it (the API's inbox never lands).
    mine = inbox_screen(services, so1, inbox_q.InboxQuery(tab="mine", per_page=5))
    assert mine.result.query.tab == "mine" and mine.result.items == [] and mine.urged == frozenset()
    assert tasks.inbox(services, so1, inbox_q.InboxQuery(per_page=5))[0].query.tab == "mine"
