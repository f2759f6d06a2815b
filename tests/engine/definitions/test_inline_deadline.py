"""A time limit written on the task as a duration (``dueIn="5 workdays"``, issue 17's panel): deploy
accepts a count of workdays, months or days and refuses anything else, naming the task; the due date
is the one the settings entry of the same length gives, with the default reminder and no escalation."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.definitions.compiler import compile_bundle
from engine.errors import DeployError
from engine.scheduling.deadlines import DeadlinePolicy, inline_rule

FILE = "clue_simple.bpmn"
DUE = '<spiffworkflow:property name="dueIn" value="propose"/>'


def _with_due(library, value):
    content = library.bpmn[FILE].decode()
    assert DUE in content
    return library.with_bpmn(
        FILE, content.replace(DUE, f'<spiffworkflow:property name="dueIn" value="{value}"/>').encode()
    )


@pytest.mark.parametrize("value", ["5 workdays", "3 months", "30 days"])
def test_a_duration_is_a_time_limit(library, value):
    compiled = compile_bundle(_with_due(library, value))
    assert compiled.catalogue["gt_test_clue"]["tasks"]["propose"]["due_in"] == value


@pytest.mark.parametrize("value", ["5 weeks", "0 workdays", "5workdays", "1000 days", "five workdays"])
def test_anything_else_is_refused_naming_the_task(library, value):
    with pytest.raises(DeployError) as info:
        compile_bundle(_with_due(library, value))
    found = [p for p in info.value.problems if p["element"] == "propose"]
    assert found and f"dueIn '{value}'" in found[0]["reason"] and "5 workdays" in found[0]["reason"]


def test_the_due_date_is_the_settings_one_of_the_same_length(library):
    policy = DeadlinePolicy(library.settings)
    start = dt.date(2024, 4, 3)  # before the Qingming holiday: working days skip it
    assert policy.due_date("5 workdays", start) == policy.due_date("propose", start)  # propose: 5 workdays
    assert policy.due_date("3 months", start) == policy.calendar.add_months(start, 3)
    rule = policy.rule("15 workdays")
    assert rule.reminder_before_workdays == 2 and rule.escalate_to is None
    assert policy.find("propose") is policy.rules["propose"]
    assert policy.find("5 weeks") is None and inline_rule("5 weeks") is None
    with pytest.raises(KeyError):
        policy.rule("nonexistent")
