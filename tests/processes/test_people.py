"""People, not text, on the real library (issue 15): a real-name clue walked to 初核, where the 核查组 is
picked from accounts and each member's 回避声明 reaches him and he can act on it at once.

Before, the team was typed as names; each 回避声明 was addressed to a name no account carried, and the
case stalled at 初核 with nobody able to act.
"""

from __future__ import annotations

import datetime as dt

import pytest

from demo.autopilot import FormFillError
from engine import clock
from engine.access.principal import load_principal
from engine.tasks import inbox as inbox_q

from .driver import Walk
from .paths import BASE


@pytest.fixture
def at_plan(db):
    """A real-name report registered by 信访室 and sent to 初核 at 第二监督检查室, standing at 制定初核方案."""
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen, values={**BASE, "real_name": True, "disposal_method": "chubu_heshi"})
        with w:
            w.start("gt_p5_intake_report", actor="zhoujing")
            w.until("t_plan")
            yield w


def test_a_typed_name_is_refused_naming_the_field_and_the_value(at_plan):
    with pytest.raises(FormFillError) as refused:
        at_plan.complete("t_plan", verify_team=["wangfang", "张三"])
    message = refused.value.details["fields"]["verify_team"]
    assert "核查组成员" in message and "张三" in message
    assert at_plan.task("t_plan")  # nothing changed: the plan still waits


def test_each_members_declaration_reaches_his_account_and_he_acts_on_it(at_plan, db):
    # a 监督检查室 officer and the 派驻第一组 head, picked from the organisation (室组地联动)
    at_plan.complete("t_plan", verify_team=["wangfang", "zhaolei"], team_leader="wangfang")
    declarations = at_plan.tasks("t_recusal")
    assert sorted(t.assignee for t in declarations) == ["wangfang", "zhaolei"]
    mine = next(t for t in declarations if t.assignee == "zhaolei")
    with db.session() as s:  # in his own 我的待办, though 第二监督检查室 is not his unit
        zhaolei = load_principal(s, "zhaolei")
        listed = inbox_q.list_tasks(s, zhaolei, inbox_q.InboxQuery(tab="mine"))
    assert mine.id in {i.id for i in listed.items}
    at_plan.pilot.complete(mine, {"has_conflict": False}, actor="zhaolei")
    other = next(t for t in declarations if t.assignee == "wangfang")
    at_plan.pilot.complete(other, {"has_conflict": False}, actor="wangfang")
    assert not at_plan.tasks("t_recusal")  # both declared: the plan goes on to the leaders
    assert at_plan.task("t_appr")
