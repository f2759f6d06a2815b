"""What the use-case tests share: a county with the test library, people, and the clue registered."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access.principal import load_principal
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask
from engine.tasks import operations as tasks
from tests.county import county_services

REVEAL = Reveal(Sealer("test-secret"), frozenset({"commission_secretary"}))
REGISTER = {"clue_no": "XS-9", "handling_unit": "jc1", "summary": "反映问题", "reporter_name": "李检举"}


@pytest.fixture
def services(db, deployed, tmp_path):
    return county_services(db, tmp_path, "test-secret")


@pytest.fixture
def who(services):
    def load(username):
        with services.db.session() as s:
            return load_principal(s, username)

    return load


def ready(services, spec_id):
    with services.db.session() as s:
        return s.scalars(select(HumanTask.id).where(HumanTask.spec_id == spec_id, HumanTask.status == "ready")).all()


def events(services, action):
    with services.db.session() as s:
        return [
            (e.actor, e.instance_id, e.task_id)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def registered(services, who):
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    assert started.own_task is not None  # 案管室 starts it and registers it at once
    done = tasks.submit_task(services, who("cm1"), started.own_task, dict(REGISTER), reveal=REVEAL)
    return started, done
