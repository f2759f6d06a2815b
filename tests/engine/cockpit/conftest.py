"""A small county around the May Day holiday of 2024, seeded for the cockpit's hand-computed figures.

The clock stands at Monday 2024-05-06 10:00, the first working day after 劳动节 (1–5 May are holidays;
Sunday 28 April and Saturday 11 May are make-up working days). Eight instances of the test library's clue
process (tests/fixtures/lib), started by the 案管室 officer cm1:

========  ==========  ==================================================================================
instance  status      the task that stands
========  ==========  ==================================================================================
A         running     提出处置意见 at 第一室 (jc1), due Tue 30 April: overdue by 1 working day (six calendar days)
B         running     提出处置意见 at jc1, due Wed 8 May: 2 working days left, due soon
C         running     提出处置意见 at 第二室 (jc2), due Mon 13 May: 6 working days left, but its reminder was at
                      09:00 today: due soon
D         running     提出处置意见 at jc1, due 28 June: not on the deadlines page
E         running     登记线索 at 案管室, no due date
F         error       its gateway failed (``gw_disposal``), attempts used up
G         suspended
H         completed   started Wed 3 April 09:00, completed Mon 8 April 09:00 (Qingming): 120 hours, 2 working
                      days (4–6 April are holidays, Sunday 7 April is a make-up working day)
========  ==========  ==================================================================================

The 登记线索 tasks of A–D were completed (times rewritten to fixed moments, see ``REGISTER_TIMES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL, Principal, load_principal
from engine.errors import ProcessError
from engine.models import HumanTask, ProcessInstance
from engine.services import Services
from tests.county import county_services

TZ = clock.LOCAL_TZ
NOW = dt.datetime(2024, 5, 6, 10, 0, tzinfo=TZ)


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=TZ)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=TZ)


# (created, completed) of the 登记线索 task of A, B, C, D: (hours, working days)
REGISTER_TIMES = {
    "A": (local(2024, 4, 28, 9), local(2024, 4, 30, 9)),  # 48 h; from the make-up Sunday: 29, 30 April = 2
    "B": (local(2024, 4, 30, 9), local(2024, 5, 6, 11)),  # 146 h; across the holiday: 6 May = 1
    "C": (local(2024, 5, 6, 9), local(2024, 5, 6, 11)),  # 2 h; same day = 0
    "D": (local(2024, 4, 30, 16), local(2024, 5, 6, 8)),  # 136 h; 1
}
UNITS = {"A": "jc1", "B": "jc1", "C": "jc2", "D": "jc1"}
DUE = {
    "A": (end_of(dt.date(2024, 4, 30)), None),
    "B": (end_of(dt.date(2024, 5, 8)), None),
    "C": (end_of(dt.date(2024, 5, 13)), local(2024, 5, 6, 9)),
    "D": (end_of(dt.date(2024, 6, 28)), None),
}


@dataclass(frozen=True)
class Seeded:
    instances: dict[str, int]  # letter → instance id
    propose: dict[str, int]  # letter → id of the ready 提出处置意见 task


@pytest.fixture
def services(db, deployed, tmp_path) -> Services:
    return county_services(db, tmp_path, "test-secret-key-for-cockpit")


@pytest.fixture
def who(services):
    def load(username: str) -> Principal:
        with services.db.session() as s:
            return load_principal(s, username)

    return load


@pytest.fixture
def now():
    with clock.frozen(NOW) as frozen:
        yield frozen


@pytest.fixture
def seeded(services, who, now) -> Seeded:
    cm1 = who("cm1")
    ids = {letter: services.runtime.start("gt_test_clue", actor=cm1).instance_id for letter in "ABCDEFGH"}
    register = {}
    with services.db.session() as s:
        for letter, instance_id in ids.items():
            register[letter] = s.scalar(
                select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.spec_id == "register")
            )
    for letter, unit in UNITS.items():
        data = {"clue_no": f"XS-{letter}", "handling_unit": unit}
        services.runtime.complete_task(register[letter], actor=cm1, data=data, record=data)
    services.runtime.record_failure(
        ids["F"], ProcessError("no gateway condition was true", element="gw_disposal"), max_attempts=1
    )
    services.runtime.suspend(ids["G"], actor=SYSTEM_PRINCIPAL)
    services.runtime.cancel(ids["H"], actor=SYSTEM_PRINCIPAL)
    propose = {}
    with services.db.session() as s:
        for letter, (created, completed) in REGISTER_TIMES.items():
            s.execute(
                update(HumanTask)
                .where(HumanTask.id == register[letter])
                .values(created_at=created, completed_at=completed)
            )
        for letter, (due_at, reminder_at) in DUE.items():
            propose[letter] = s.scalar(
                select(HumanTask.id).where(
                    HumanTask.instance_id == ids[letter], HumanTask.spec_id == "propose", HumanTask.status == "ready"
                )
            )
            s.execute(
                update(HumanTask).where(HumanTask.id == propose[letter]).values(due_at=due_at, reminder_at=reminder_at)
            )
        s.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == ids["H"])
            .values(status="completed", started_at=local(2024, 4, 3, 9), completed_at=local(2024, 4, 8, 9))
        )
    return Seeded(instances=ids, propose=propose)
