"""Notifications: each person's own (by name, to a role they hold in their unit or — naming no case — in
any unit, or to a unit they lead), marked read by the use cases; another person's is refused, a missing one is not found, and neither changes anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.cockpit import operations
from engine.errors import Forbidden, NotFound
from engine.models import Notification


def _notify(services, **kw) -> int:
    with services.db.session() as s:
        row = Notification(kind=kw.pop("kind", "reminder"), message=kw.pop("message"), **kw)
        s.add(row)
        s.flush()
        return row.id


def _unread(services) -> set[int]:
    with services.db.session() as s:
        return set(s.scalars(select(Notification.id).where(Notification.read_at.is_(None))))


@pytest.fixture
def notes(services, now):
    return {
        "mine": _notify(services, username="cm1", message="给冯丽本人"),
        "unit": _notify(services, role_code="case_management", unit_code="ags", message="给案管室"),
        "anywhere": _notify(services, kind="escalation", role_code="case_management", message="给所有案管角色"),
        "other_unit": _notify(services, role_code="case_management", unit_code="jc1", message="给第一室的案管角色"),
        "other_role": _notify(services, role_code="supervision_office", unit_code="ags", message="给监督检查室角色"),
        "someone": _notify(services, username="cm2", message="给高远本人"),
        # about a case but to no unit (written before notices were scoped): nobody's, not every holder's
        "case_anywhere": _notify(
            services, kind="escalation", role_code="case_management", instance_id=42, message="督办：XS-42"
        ),
    }


def test_each_person_lists_their_own(services, who, notes):
    cm1 = who("cm1")
    page = operations.list_notifications(services, cm1)
    assert {n.id for n in page.rows} == {notes["mine"], notes["unit"], notes["anywhere"]}
    assert (page.total, page.page, page.pages, page.unread_only) == (3, 1, 1, False)
    assert operations.unread_notifications(services, cm1) == 3
    # 高远 leads 案管室: he also reads what went to another role there (a unit's notices reach its leaders)
    assert {n.id for n in operations.list_notifications(services, who("cm2")).rows} == {
        notes["unit"],
        notes["anywhere"],
        notes["someone"],
        notes["other_role"],
    }
    paged = operations.list_notifications(services, cm1, page=2, per_page=2)
    assert (len(paged.rows), paged.total, paged.pages) == (1, 3, 2)


def test_marking_read_one_then_all(services, who, notes):
    cm1 = who("cm1")
    assert operations.mark_notification_read(services, cm1, notes["mine"]) is True
    assert operations.mark_notification_read(services, cm1, notes["mine"]) is False  # already read
    assert operations.unread_notifications(services, cm1) == 2
    page = operations.list_notifications(services, cm1)
    assert page.rows[-1].id == notes["mine"] and page.rows[-1].read_at is not None  # unread first
    assert notes["mine"] not in {n.id for n in operations.list_notifications(services, cm1, unread_only=True).rows}
    # The unit's notification read by a colleague stays unread for him: each holder has his own read state.
    cm2 = who("cm2")
    assert operations.mark_notification_read(services, cm2, notes["unit"]) is True
    assert operations.mark_notification_read(services, cm2, notes["unit"]) is False
    assert operations.unread_notifications(services, cm1) == 2
    unit_row = next(n for n in operations.list_notifications(services, cm1).rows if n.id == notes["unit"])
    assert unit_row.read_at is None
    assert operations.mark_all_notifications_read(services, cm1) == 2
    assert operations.unread_notifications(services, cm1) == 0
    assert operations.mark_all_notifications_read(services, cm1) == 0
    # 高远 read the unit's notice himself, not the one to every 案管 holder that 冯丽 read
    assert {n.id for n in operations.list_notifications(services, cm2, unread_only=True).rows} == {
        notes["anywhere"],
        notes["someone"],
        notes["other_role"],
    }
    # the notice's own read_at: when the office first saw it (the cockpit's watch list)
    assert _unread(services) == {notes["other_unit"], notes["other_role"], notes["someone"], notes["case_anywhere"]}


def test_another_persons_notification_is_refused_and_a_missing_one_not_found(services, who, notes):
    cm1 = who("cm1")
    for foreign in ("other_unit", "other_role", "someone", "case_anywhere"):
        with pytest.raises(Forbidden) as refused:
            operations.mark_notification_read(services, cm1, notes[foreign])
        assert refused.value.message == "notification_not_yours"
        assert refused.value.details["notification"] == notes[foreign]
    with pytest.raises(NotFound):
        operations.mark_notification_read(services, cm1, 999_999)
    assert _unread(services) == set(notes.values())


def test_the_bell_keeps_its_statement_per_person_and_follows_a_change_of_memberships(services, who, notes):
    """The bell's statement is built once per person (it is asked on every page) and keyed by everything it
    depends on: a role given or taken away counts at once, and two people never share a count."""
    import dataclasses

    from engine.cockpit import notifications

    notifications._unread_count_statement.cache_clear()
    cm1 = who("cm1")
    assert operations.unread_notifications(services, cm1) == 3
    assert operations.unread_notifications(services, cm1) == 3
    info = notifications._unread_count_statement.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    # given the supervision role in 案管室: that role's notice there is his too, from the next page on
    promoted = dataclasses.replace(cm1, memberships=cm1.memberships | {("ags", "supervision_office")})
    assert operations.unread_notifications(services, promoted) == 4
    # the role taken away again: back to three; someone else with the same roles: his own notices, not cm1's
    assert operations.unread_notifications(services, cm1) == 3
    twin = dataclasses.replace(cm1, username="cm9")
    assert operations.unread_notifications(services, twin) == 2
