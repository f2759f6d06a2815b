"""The officers' inbox page (``GET /inbox``) as one use case: everything the page shows, from one read.

The page shows a tab of the person's tasks with every tab's badge and the filter menus
(``operations.read_inbox``), the 被催办 mark of the tasks on it, the 待阅 badge (copies sent to him he has
not opened) and the navigation bar's notification bell. Each used to be its own use case with its own
transaction and pooled connection: five connection checkouts for one page (six when the person landed
on 可认领), and on PostgreSQL a BEGIN and a COMMIT round trip around each of the three small counts. Here
they are read in one ``Database.reading`` session (autocommit on PostgreSQL: no BEGIN, no COMMIT), one
checkout for the whole page (issue 19).

Nothing is decided here that the separate use cases did not decide: the inbox is scoped to the person
by its own rules, the urged marks are asked only for the tasks of his page, the copies and the
notifications counted are those addressed to him. This module sits beside ``operations`` and ``actions``
(which imports ``operations``) rather than in either, so neither has to import the other's neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.access.principal import Principal
from engine.cockpit import notifications
from engine.services import Services
from engine.tasks import actions, operations
from engine.tasks import inbox as inbox_q


@dataclass(frozen=True)
class InboxScreen:
    """What the inbox page shows, read together."""

    result: inbox_q.InboxPage
    choices: dict[str, list[Any]]
    urged: frozenset[int]  # the tasks of ``result`` someone urged (催办)
    unread_copies: int  # the 待阅 badge
    unread_notifications: int  # the navigation bar's bell


def inbox_screen(
    services: Services,
    principal: Principal,
    query: inbox_q.InboxQuery,
    *,
    soon_workdays: int = operations.DUE_SOON_WORKDAYS,
    land: bool = False,
) -> InboxScreen:
    """The inbox page for the person: ``query``'s tab (``land``: the tab chosen for him when he chose
    none, ``inbox_q.landed``) with its badges and menus, its urged tasks, and his unread copies and
    notifications, in one read-only session."""
    with services.db.reading() as s:
        result, choices = operations.read_inbox(
            s, principal, query, soon_workdays=soon_workdays, with_choices=True, land=land
        )
        assert choices is not None  # asked for
        return InboxScreen(
            result=result,
            choices=choices,
            urged=actions.urged_among(s, [item.id for item in result.items]),
            unread_copies=actions.count_unread_copies(s, principal),
            unread_notifications=notifications.unread_count(s, principal),
        )
