"""engine/numbering: 线索编号 and 文号 issued from per-commission, per-year sequences, gap-free.

The test library's 登记 form is given ``"x-issued": "clue"`` for these tests: the system, not 案管室,
fills 线索编号 when the step is completed.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from engine import clock
from engine.definitions import compile_bundle, load_bundle
from engine.errors import DeployError, ValidationError
from engine.forms.submission import Posted
from engine.instances import operations as instances
from engine.models import AuditEvent, HumanTask, IssuedNumber, NumberSequence, ProcessInstance, Unit
from engine.numbering import sequences as numbering
from engine.tasks import operations as tasks
from tests.conftest import FIXTURES
from tests.engine.usecases import REVEAL

NUMBERING = {"clue": {"title": "线索编号", "format": "{agency}线〔{year}〕{seq}号"}}
REGISTER = {"handling_unit": "jc1", "summary": "反映问题", "reporter_name": "李检举"}


@pytest.fixture
def library():
    bundle = load_bundle(FIXTURES / "lib")
    bundle.forms["register"]["properties"]["clue_no"]["x-issued"] = "clue"
    bundle.settings["numbering"] = NUMBERING
    return bundle


@pytest.fixture
def services(county):
    with county.db.session() as s:
        s.get(Unit, "cdi").doc_prefix = "测纪"
    return county


def _start(services, who) -> int:
    started = instances.start_instance(services, who("cm1"), "gt_test_clue")
    assert started.own_task is not None
    return started.own_task


def _ledger(services) -> list[tuple[int, str]]:
    with services.db.session() as s:
        return [(r.value, r.number) for r in s.scalars(select(IssuedNumber).order_by(IssuedNumber.id))]


def test_settings_are_checked_at_deploy():
    assert (
        numbering.rules({"numbering": NUMBERING})["clue"].render(agency="青纪", year=2027, seq=3) == "青纪线〔2027〕3号"
    )
    for bad in (
        {"clue": {"format": "XS-{seq}"}},  # no year
        {"clue": {"format": "{agency}〔{year}〕{seq}{title}号"}},  # an unknown placeholder
        {"Clue!": {"format": "{year}-{seq}"}},
        {"clue": "XS"},
    ):
        with pytest.raises(ValueError):
            numbering.rules({"numbering": bad})
    bundle = load_bundle(FIXTURES / "lib")
    bundle.forms["register"]["properties"]["clue_no"]["x-issued"] = "nowhere"
    with pytest.raises(DeployError) as refused:
        compile_bundle(bundle)
    assert "x-issued 'nowhere' is not a sequence" in str(refused.value.problems)


def test_the_library_issues_its_numbers_from_sequences_it_defines():
    """Every x-issued field of processes/ names a sequence of its settings.yaml (the deploy checks it)."""
    bundle = load_bundle(FIXTURES.parent.parent / "processes")
    assert numbering.check_forms(bundle.forms, bundle.settings) == []
    issued = {key: numbering.issued_fields(schema) for key, schema in bundle.forms.items()}
    assert issued["p5_clue_register"] == {"clue_no": "clue"}
    assert issued["p5_inquiry_letter"] == {"letter_no": "inquiry_letter"}
    assert issued["supervision_order"] == {"order_no": "supervision_order"}


def test_completion_issues_the_next_number_and_the_instance_is_known_by_it(services, who):
    with clock.frozen(dt.datetime(2027, 3, 4, 10, 0, tzinfo=clock.LOCAL_TZ)):
        first, second = _start(services, who), _start(services, who)
        view = tasks.show_task(services, who("cm1"), first, reveal=REVEAL)
        assert [f.widget for f in view.fields if f.name == "clue_no"] == ["issued"]
        tasks.submit_task(services, who("cm1"), second, Posted({k: [v] for k, v in REGISTER.items()}), reveal=REVEAL)
        done = tasks.submit_task(services, who("cm1"), first, dict(REGISTER), reveal=REVEAL)
    assert _ledger(services) == [(1, "测纪线〔2027〕1号"), (2, "测纪线〔2027〕2号")]
    with services.db.session() as s:
        keys = dict(s.execute(select(ProcessInstance.id, ProcessInstance.business_key)).all())
        events = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "number_issued")).all()
    assert keys[done.instance_id] == "测纪线〔2027〕2号"  # the business key follows the issued number
    assert [e["number"] for e in events] == ["测纪线〔2027〕1号", "测纪线〔2027〕2号"]
    with clock.frozen(dt.datetime(2028, 1, 2, 9, 0, tzinfo=clock.LOCAL_TZ)):
        third = _start(services, who)
        tasks.submit_task(services, who("cm1"), third, dict(REGISTER), reveal=REVEAL)
    assert _ledger(services)[-1] == (1, "测纪线〔2028〕1号")  # a new year starts again at 1


def test_a_refused_completion_burns_no_number_and_a_typed_number_is_refused(services, who):
    task_id = _start(services, who)
    with pytest.raises(ValidationError) as refused:
        tasks.submit_task(services, who("cm1"), task_id, {**REGISTER, "clue_no": "XS-1"}, reveal=REVEAL)
    assert refused.value.fields == {"clue_no": numbering.TYPED_MESSAGE}
    with pytest.raises(ValidationError) as invalid:
        tasks.submit_task(services, who("cm1"), task_id, {**REGISTER, "handling_unit": "nowhere"}, reveal=REVEAL)
    assert set(invalid.value.fields) == {"handling_unit"}
    assert _ledger(services) == []
    with services.db.session() as s:
        assert s.scalars(select(NumberSequence.last_value)).all() in ([], [0])
    tasks.submit_task(services, who("cm1"), task_id, dict(REGISTER), reveal=REVEAL)
    assert [value for value, _ in _ledger(services)] == [1]


def test_each_commission_counts_its_own(services, db):
    with db.session() as s:
        values = [numbering.next_value(s, "cdi", "clue", 2027) for _ in range(3)]
        values.append(numbering.next_value(s, "other", "clue", 2027))
        values.append(numbering.next_value(s, "cdi", "case", 2027))
    assert values == [1, 2, 3, 1, 1]


def test_numbers_are_unique_and_gap_free_under_concurrent_completions(services, who, db):
    """Eight officers complete their registrations at the same moment: numbers 1..8, each once.

    On PostgreSQL the completions really overlap (each waits on the counter row's lock); on SQLite
    they queue on the database's write lock."""
    count = 8
    task_ids = [_start(services, who) for _ in range(count)]
    principal = who("cm1")
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def complete(task_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            tasks.submit_task(services, principal, task_id, dict(REGISTER), reveal=REVEAL)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=complete, args=(t,)) for t in task_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    ledger = _ledger(services)
    assert [value for value, _ in ledger] == list(range(1, count + 1))
    with db.session() as s:
        assert s.scalar(select(NumberSequence.last_value)) == count
        done = s.scalars(select(HumanTask.status).where(HumanTask.id.in_(task_ids))).all()
        keys = s.scalars(select(ProcessInstance.business_key)).all()
    assert set(done) == {"completed"}
    assert sorted(keys) == sorted(number for _, number in ledger)
