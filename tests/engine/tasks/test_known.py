"""Facts known to the case are not asked again (engine/tasks/known.py, issue 15)."""

from __future__ import annotations

import copy
import dataclasses

import pytest
from sqlalchemy import select

from engine.definitions import load_bundle
from engine.instances import operations as instances
from engine.models import TaskSubmission
from engine.tasks import known
from engine.tasks import operations as tasks
from tests.conftest import FIXTURES
from tests.engine.usecases import REGISTER, REVEAL, ready


@pytest.fixture
def library():
    """The test library whose 提出处置意见 form asks the 登记's 主要问题 again, marked ``x-ask-once``."""
    bundle = load_bundle(FIXTURES / "lib")
    propose = copy.deepcopy(bundle.forms["propose"])
    propose["properties"]["summary"] = {"type": "string", "title": "主要问题", "x-ask-once": True}
    propose["required"] = [*propose.get("required", []), "summary"]
    return dataclasses.replace(bundle, forms={**bundle.forms, "propose": propose})


def test_latest_takes_the_newest_record_holding_a_value():
    records = [{"a": ""}, {"a": "new", "b": []}, {"a": "old", "b": ["x"]}]
    assert known.latest(["a", "b", "c"], records) == {"a": "new", "b": ["x"]}


def test_a_known_fact_is_prefilled_and_not_required_again(services, who):
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    tasks.submit_task(services, who("cm1"), started.own_task, dict(REGISTER), reveal=REVEAL)
    [propose] = ready(services, "propose")
    page = tasks.show_task(services, who("so1"), propose, reveal=REVEAL)
    assert page.values["summary"] == REGISTER["summary"]  # prefilled from the 登记 record
    # left out of the submission (an API client): completed with the known value, not refused as missing
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    with services.db.session() as s:
        record = s.scalar(select(TaskSubmission.data).where(TaskSubmission.task_id == propose))
    assert record["summary"] == REGISTER["summary"]


def test_an_unknown_fact_is_still_asked(services, who):
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    tasks.submit_task(
        services, who("cm1"), started.own_task, {k: v for k, v in REGISTER.items() if k != "summary"}, reveal=REVEAL
    )
    [propose] = ready(services, "propose")
    assert "summary" not in tasks.show_task(services, who("so1"), propose, reveal=REVEAL).values
    from engine.errors import ValidationError

    with pytest.raises(ValidationError) as missing:
        tasks.submit_task(services, who("so1"), propose, {"disposal": "liaojie", "reason": "了结"}, reveal=REVEAL)
    assert missing.value.fields == {"summary": "此项为必填项"}
    tasks.submit_task(
        services, who("so1"), propose, {"disposal": "liaojie", "reason": "了结", "summary": "另行表述"}, reveal=REVEAL
    )
