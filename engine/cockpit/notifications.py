"""A person's notifications: those sent to them by name, and those sent to a role they hold in a unit.

A notification to a role in a unit is the unit's: any holder of the role there, and the unit's leaders,
may read it, and each of them has his own read state (``notification_read``, issue 15): a colleague
opening the office's reminder does not take it off the others' bell. The notice's own ``read_at`` still
records when the office first saw it (the cockpit's watch list reads that). Notices about a case go to the owning unit only (engine/scheduling/worker.py): the task's
candidate units, the owning commission's units for an escalation, never to holders of the role in other
commissions; they name the step and the business key, never a title or what was recorded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.access.principal import Principal
from engine.errors import Forbidden, NotFound
from engine.models import Notification, NotificationRead

from .figures import NOTICE_COLUMNS, Notice, notices, pages_for

NOT_YOURS = "notification_not_yours"  # the reason on the ``access_denied`` audit event


def addressed_to(p: Principal) -> ColumnElement[bool]:
    """Notifications for the person: to them by name; to a role in one of the units where they hold it;
    any notice to a unit they lead (a task's notices reach its candidate units' leaders). A notice to a
    role in no unit is for every holder only when it names no case (``instance_id`` empty: a message that
    expired unclaimed, of no known owner); one about a case always names its unit."""
    clauses = [Notification.username == p.username]
    for role in sorted(p.roles):
        units = sorted(p.units_for(role))
        clauses.append(
            and_(
                Notification.username.is_(None),
                Notification.role_code == role,
                or_(
                    and_(Notification.unit_code.is_(None), Notification.instance_id.is_(None)),
                    Notification.unit_code.in_(units),
                ),
            )
        )
    if p.leader_of:
        clauses.append(and_(Notification.username.is_(None), Notification.unit_code.in_(sorted(p.leader_of))))
    return or_(*clauses)


def _read_by(p: Principal) -> ColumnElement[bool]:
    return exists().where(NotificationRead.notification_id == Notification.id, NotificationRead.username == p.username)


def unread_by(p: Principal) -> ColumnElement[bool]:
    """Not yet read by the person: his own notice unread, or a unit's notice he has not opened himself."""
    return or_(
        and_(Notification.username.is_not(None), Notification.read_at.is_(None)),
        and_(Notification.username.is_(None), ~_read_by(p)),
    )


def _read_at(p: Principal) -> ColumnElement[object]:
    """When the person read the notice (his own: the notice's; a unit's: his reading of it)."""
    own_reading = (
        select(NotificationRead.read_at)
        .where(NotificationRead.notification_id == Notification.id, NotificationRead.username == p.username)
        .scalar_subquery()
    )
    return case((Notification.username.is_(None), own_reading), else_=Notification.read_at).label("read_at")


def unread_count(session: Session, p: Principal) -> int:
    """The bell's count: asked on every page a signed-in person opens (web/cockpit/views.py ``_nav``)."""
    return session.scalar(_unread_count_statement(p.username, p.memberships, p.leader_of)) or 0


@functools.lru_cache(maxsize=256)
def _unread_count_statement(
    username: str, memberships: frozenset[tuple[str, str]], leader_of: frozenset[str]
) -> Select[int]:
    """The bell's statement for one person, built once and kept (as the inbox's tab rules are).

    Built with SQLAlchemy's operators each time, it cost more than running it: an OR per role, each
    comparison coerced: 1.1 of the bell's 1.3 ms on SQLite (issue 19), on every page of every signed-in
    person. It is a pure function of the name, the (unit, role) pairs and the led units, all in the key,
    so a change of memberships (read afresh on every request) is a new key at once; bounded per web
    process to the few hundred people most recently seen."""
    p = Principal(username=username, memberships=memberships, leader_of=leader_of)
    return select(func.count()).select_from(Notification).where(addressed_to(p), unread_by(p))


@dataclass(frozen=True)
class NoticePage:
    rows: list[Notice]  # unread first, then newest first
    total: int
    page: int
    pages: int
    unread_only: bool


def listing(
    session: Session, p: Principal, *, unread_only: bool = False, page: int = 1, per_page: int = 20
) -> NoticePage:
    where = [addressed_to(p)]
    if unread_only:
        where.append(unread_by(p))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    read_at = _read_at(p)
    columns = [c for c in NOTICE_COLUMNS if c is not Notification.read_at]
    rows = session.execute(
        select(*columns, read_at)
        .where(*where)
        .order_by(read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return NoticePage(
        rows=notices(rows), total=total, page=page, pages=pages_for(total, per_page), unread_only=unread_only
    )


def mark_read(session: Session, p: Principal, notification_id: int) -> bool:
    """Mark one of the person's notifications read for him; False when he had read it already."""
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFound(f"no notification {notification_id}", notification=notification_id)
    mine = session.scalar(select(Notification.id).where(Notification.id == notification_id, addressed_to(p)))
    if mine is None:
        raise Forbidden(NOT_YOURS, rule=NOT_YOURS, notification=notification_id)
    if row.username is None:  # a unit's notice: his own reading of it
        if session.get(NotificationRead, (notification_id, p.username)) is not None:
            return False
        session.add(NotificationRead(notification_id=notification_id, username=p.username, read_at=clock.now()))
        if row.read_at is None:
            row.read_at = clock.now()  # the office has seen it
        return True
    if row.read_at is not None:
        return False
    row.read_at = clock.now()
    return True


def mark_all_read(session: Session, p: Principal) -> int:
    """Mark every notification the person has not read read for him; how many there were."""
    at = clock.now()
    units = session.scalars(
        select(Notification.id).where(addressed_to(p), Notification.username.is_(None), ~_read_by(p))
    ).all()
    if units:
        session.execute(
            insert(NotificationRead), [{"notification_id": i, "username": p.username, "read_at": at} for i in units]
        )
        session.execute(
            update(Notification)
            .where(Notification.id.in_(units), Notification.read_at.is_(None))
            .values(read_at=at)
            .execution_options(synchronize_session=False)
        )
    result = session.execute(
        update(Notification)
        .where(addressed_to(p), Notification.username.is_not(None), Notification.read_at.is_(None))
        .values(read_at=at)
        .execution_options(synchronize_session=False)
    )
    return len(units) + int(getattr(result, "rowcount", 0) or 0)
