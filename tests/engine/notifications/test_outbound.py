"""Notices of new work and their delivery by e-mail: a local SMTP server (aiosmtpd) in a thread receives
each message once, however often the worker runs, and the message names only the step and the key."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.instances import operations as instances
from engine.models import Notification, NotificationDelivery, UserContact
from engine.notifications import outbound
from engine.scheduling.worker import Worker
from engine.tasks import operations as tasks
from tests.engine.usecases import REGISTER, ready, registered


class Inbox:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), f"{mail['Subject']}\n{mail.get_content()}"))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _contacts(services, **emails):
    with services.db.session() as s:
        for username, email in emails.items():
            s.merge(UserContact(username=username, email=email))


def test_new_work_reaches_the_smtp_server_once_with_only_step_and_key(services, who, smtp):
    inbox, port = smtp
    _contacts(services, so1="so1@example.test", so1b="so1b@example.test", cm1="cm1@example.test")
    registered(services, who)  # the 登记 step done: 提出处置意见 arrives at 第一监督检查室
    channel = outbound.SmtpChannel(host="127.0.0.1", port=port, sender="guantong@example.test")
    first = Worker(services, channels=[channel], name="w1")
    second = Worker(services, channels=[channel], name="w2")
    first.run_once()
    first.run_once()
    second.run_once()
    received = sorted(to for tos, _ in inbox.messages for to in tos)
    assert received == ["so1@example.test", "so1b@example.test"]  # each officer of the office, once
    body = inbox.messages[0][1]
    assert "提出处置意见" in body and "XS-9" in body
    assert REGISTER["summary"] not in body and "李检举" not in body  # no case content leaves the system
    with services.db.session() as s:
        notes = s.scalars(select(Notification.kind).where(Notification.task_id.is_not(None))).all()
        statuses = s.scalars(select(NotificationDelivery.status)).all()
    assert notes.count("arrived") == 1 and statuses == ["sent", "sent"]


def test_a_handed_over_task_is_notified_to_its_new_holder_but_a_claim_is_not(services, who, smtp):
    inbox, port = smtp
    _contacts(services, so1="so1@example.test", so1b="so1b@example.test")
    registered(services, who)
    worker = Worker(services, channels=[outbound.SmtpChannel(host="127.0.0.1", port=port)], name="w")
    worker.run_once()
    inbox.messages.clear()
    propose = ready(services, "propose")[0]
    tasks.claim_task(services, who("so1"), propose)
    worker.run_once()
    assert inbox.messages == []  # he took it himself
    tasks.reassign_task(services, who("so1lead"), propose, "so1b")
    worker.run_once()
    worker.run_once()
    assert [tos for tos, _ in inbox.messages] == [["so1b@example.test"]]
    assert "转交" in inbox.messages[0][1]


def test_a_failing_server_is_recorded_and_not_retried(services, who):
    # The test library's 登记 names no candidate unit: its notice goes to the owning commission's leader.
    _contacts(services, boss="boss@example.test")
    instances.start_instance(services, who("cm1"), "gt_test_clue")
    dead = outbound.SmtpChannel(host="127.0.0.1", port=_free_port(), timeout=2)
    worker = Worker(services, channels=[dead], name="w")
    worker.run_once()
    worker.run_once()
    with services.db.session() as s:
        rows = s.execute(select(NotificationDelivery.status, NotificationDelivery.error)).all()
    assert [r.status for r in rows] == ["failed"] and rows[0].error == "ConnectionRefusedError"


def test_channels_come_from_the_environment_and_hide_the_password():
    assert outbound.from_environment({}) == []
    (channel,) = outbound.from_environment(
        {"GUANTONG_SMTP_HOST": "mail.example.test", "GUANTONG_SMTP_PORT": "587", "GUANTONG_SMTP_PASSWORD": "s3cret!"}
    )
    assert channel.port == 587 and "s3cret" not in repr(channel)


def test_an_sms_gateway_receives_the_same_short_text(services, who):
    sent: list[tuple[str, str]] = []

    class Gateway:
        def send_text(self, mobile: str, text: str) -> None:
            sent.append((mobile, text))

    with services.db.session() as s:
        s.merge(UserContact(username="boss", mobile="13800000000"))
    instances.start_instance(services, who("cm1"), "gt_test_clue")
    worker = Worker(services, channels=[outbound.SmsChannel(Gateway())], name="w")
    worker.run_once()
    worker.run_once()
    assert len(sent) == 1 and sent[0][0] == "13800000000" and sent[0][1].startswith("【贯通】新待办")
    assert "登记线索" in sent[0][1]
