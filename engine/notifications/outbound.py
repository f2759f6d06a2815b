"""Notifications sent out of the system: a pluggable channel per medium, delivered by the worker at most once.

A notification (engine/models.py ``Notification``) is for a person or for a role in a unit. The worker
plans its deliveries once (``plan``: every active person it is for, by every configured channel for which
the person has an address in ``user_contact``) and then sends them (``send_pending``). Each delivery row
is claimed (pending → sending) in a transaction of its own before the message leaves, so a second worker,
or the same worker running again, finds it taken and never sends it twice; a worker that dies between
claim and send leaves it ``sending`` (at most once: a reminder lost is better than a reminder repeated
to a case officer's private mailbox). ``guantong`` operators see failed and stuck rows in the table.

What leaves the system is only the notification's own text, which names the step and the business key
(engine/scheduling/worker.py and engine/notifications/work.py write nothing else), never case content.

Channels: :class:`SmtpChannel` (smtplib; ``GUANTONG_SMTP_HOST``, ``_PORT``, ``_FROM``, ``_USER``,
``_STARTTLS``, and the password only from the environment, ``GUANTONG_SMTP_PASSWORD``, never logged or
stored) and :class:`SmsChannel` over an :class:`SmsGateway` (the interface a county's SMS provider
implements; none is bundled).
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.db import Database, affected
from engine.models import Membership, Notification, NotificationDelivery, NotificationOutbox, User, UserContact
from engine.notifications.work import claim

log = logging.getLogger(__name__)

KIND_LABELS = {
    "arrived": "新待办",
    "assigned": "转交待办",
    "reminder": "到期提醒",
    "overdue": "逾期",
    "escalation": "督办",
    "info": "消息",
}


@dataclass(frozen=True)
class Outgoing:
    """One message to one person: the address and the notification's text (step and business key)."""

    address: str
    subject: str
    text: str


class Channel(Protocol):
    """A way out of the system. ``address_of`` picks the person's address for it (None: not reachable)."""

    name: str

    def address_of(self, contact: UserContact) -> str | None: ...

    def send(self, message: Outgoing) -> None: ...


@dataclass
class SmtpChannel:
    host: str
    port: int = 25
    sender: str = "guantong@localhost"
    username: str | None = None
    starttls: bool = False
    timeout: float = 10.0
    _password: str | None = field(default=None, repr=False)  # from the environment only; never in a repr or log
    name: str = "email"

    def address_of(self, contact: UserContact) -> str | None:
        return contact.email or None

    def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self._password or "")
            smtp.send_message(mail)


class SmsGateway(Protocol):
    """What a county's SMS provider implements: one text to one mobile number."""

    def send_text(self, mobile: str, text: str) -> None: ...


@dataclass
class SmsChannel:
    gateway: SmsGateway
    name: str = "sms"

    def address_of(self, contact: UserContact) -> str | None:
        return contact.mobile or None

    def send(self, message: Outgoing) -> None:
        self.gateway.send_text(message.address, f"【贯通】{message.text}")


def from_environment(env: Mapping[str, str] | None = None) -> list[Channel]:
    """The channels the deployment configured: e-mail when ``GUANTONG_SMTP_HOST`` is set."""
    env = os.environ if env is None else env
    channels: list[Channel] = []
    host = env.get("GUANTONG_SMTP_HOST", "").strip()
    if host:
        channels.append(
            SmtpChannel(
                host=host,
                port=int(env.get("GUANTONG_SMTP_PORT", "25")),
                sender=env.get("GUANTONG_SMTP_FROM", "guantong@localhost"),
                username=env.get("GUANTONG_SMTP_USER") or None,
                starttls=env.get("GUANTONG_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
                _password=env.get("GUANTONG_SMTP_PASSWORD") or None,
            )
        )
    return channels


def _recipients(session: Session, note: Notification) -> list[str]:
    """The active people a notification is for: the person named, else the role's holders in the unit
    (the unit's leaders for a notice to a unit without a role)."""
    if note.username:
        return [note.username]
    query = select(User.username).join(Membership, Membership.user_id == User.id).where(User.active.is_(True))
    if note.unit_code is None:
        return []  # a notice of no unit is read in the system only: nobody's mailbox for a whole role
    query = query.where(Membership.unit_code == note.unit_code)
    query = (
        query.where(Membership.role_code == note.role_code)
        if note.role_code
        else query.where(Membership.is_leader.is_(True))
    )
    return sorted(set(session.scalars(query)))


def plan(session: Session, channels: Sequence[Channel], *, batch: int = 200) -> int:
    """Resolve the recipients and addresses of notifications not planned yet; how many deliveries."""
    notes = session.scalars(
        select(Notification)
        .where(~exists().where(NotificationOutbox.notification_id == Notification.id))
        .order_by(Notification.id)
        .limit(batch)
    ).all()
    planned = 0
    for note in notes:
        if not claim(session, NotificationOutbox, notification_id=note.id, planned_at=clock.now()):
            continue  # another worker planned it
        people = _recipients(session, note) if channels else []
        contacts = {c.username: c for c in session.scalars(select(UserContact).where(UserContact.username.in_(people)))}
        for username in people:
            contact = contacts.get(username)
            for channel in channels:
                address = channel.address_of(contact) if contact else None
                if address and claim(
                    session,
                    NotificationDelivery,
                    notification_id=note.id,
                    channel=channel.name,
                    username=username,
                    address=address,
                    status="pending",
                    created_at=clock.now(),
                ):
                    planned += 1
    session.flush()
    return planned


def send_pending(db: Database, channels: Sequence[Channel], worker: str, *, batch: int = 50) -> int:
    """Claim and send pending deliveries, each at most once; how many were sent."""
    by_name = {c.name: c for c in channels}
    if not by_name:
        return 0
    with db.session() as s:
        pending = s.execute(
            select(NotificationDelivery.id, NotificationDelivery.channel)
            .where(NotificationDelivery.status == "pending", NotificationDelivery.channel.in_(sorted(by_name)))
            .order_by(NotificationDelivery.id)
            .limit(batch)
        ).all()
    sent = 0
    for delivery_id, channel_name in pending:
        with db.session() as s:  # the claim commits before anything leaves
            claimed = affected(
                s.execute(
                    update(NotificationDelivery)
                    .where(and_(NotificationDelivery.id == delivery_id, NotificationDelivery.status == "pending"))
                    .values(status="sending", claimed_by=worker[:80], claimed_at=clock.now())
                    .execution_options(synchronize_session=False)
                )
            )
            if claimed != 1:
                continue
            row = s.execute(
                select(NotificationDelivery.address, Notification.kind, Notification.message)
                .join(Notification, Notification.id == NotificationDelivery.notification_id)
                .where(NotificationDelivery.id == delivery_id)
            ).one()
        message = Outgoing(
            address=row.address,
            subject=f"贯通：{KIND_LABELS.get(row.kind, '通知')}",
            text=f"{row.message}\n请登录贯通系统办理。",
        )
        status, error = "sent", None
        try:
            by_name[channel_name].send(message)
            sent += 1
        except Exception as exc:
            status, error = "failed", type(exc).__name__  # the class only: a message may quote credentials
            log.warning("notification delivery %s by %s failed: %s", delivery_id, channel_name, error)
        with db.session() as s:
            s.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id == delivery_id)
                .values(status=status, sent_at=clock.now() if status == "sent" else None, error=error)
                .execution_options(synchronize_session=False)
            )
    return sent
