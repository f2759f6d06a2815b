"""Recusal and separation of duties on the real library: the paths of 初核's conflict loop and a person
who investigated the case, later given the hearing role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access import duties
from engine.errors import Forbidden, ValidationError
from engine.models import HumanTask, Membership, RecusalConflict, User

from .driver import Walk
from .paths import BASE, REPORT
from .walks import check_walk, walk


def _conflicts(db):
    with db.session() as s:
        return [
            (c.username, c.self_declared, c.decision, c.decided_by, bool(c.decision_reason))
            for c in s.scalars(select(RecusalConflict).order_by(RecusalConflict.id))
        ]


def _done(w, spec_id):
    return sorted(st.actor for st in w.pilot.steps if st.spec_id == spec_id and st.kind == "completed")


def test_a_kept_member_is_kept_by_the_leaders_recorded_decision(db):
    w = walk(db, "report_verify_recusal_kept")
    check_walk(w, "report_verify_recusal_kept")
    # 王芳 declared, 韩伟 (分管领导) kept her with his reason; she did not declare again, and signed
    assert _conflicts(db) == [("wangfang", True, "keep", "hanwei", True)]
    assert _done(w, "t_recusal") == ["chenhao", "guoxia", "wangfang"]
    assert _done(w, "t_sign") == ["chenhao", "guoxia", "wangfang"]


def test_the_loop_bound_hands_the_decision_to_the_secretary_never_to_the_conflicted_member(db):
    w = walk(db, "report_verify_recusal_bound")
    check_walk(w, "report_verify_recusal_bound")
    conflicts = _conflicts(db)
    # every member declared a conflict; every conflict was decided by a leader with a reason
    assert {c[0] for c in conflicts} == {"guoxia", "liuyang", "zhaolei", "yangfan", "wujun", "dawa", "suonan", "zhaxi"}
    assert all(c[1] and c[2] in ("keep", "replace") and c[4] for c in conflicts)
    assert _done(w, "t_adjust") == ["hanwei"] * 3 and _done(w, "t_adjust_sec") == ["machengzhi"]
    kept = {c[0] for c in conflicts if c[2] == "keep"}
    assert kept == {"suonan", "zhaxi"} and {c[3] for c in conflicts if c[0] in kept} == {"machengzhi"}
    # nobody still bound by a conflict signed the 初核 report
    assert _done(w, "t_sign") == ["suonan", "zhaxi"]


def test_who_investigated_may_not_hear_the_case_even_given_the_hearing_role(db):
    """杨帆 investigated; he is later given a 案件审理室 role. Nobody typed his name (the transfer lists
    only 吴军): the hearing's steps refuse him because he really did the investigation's steps."""
    import datetime as dt

    from engine import clock

    values = {
        **BASE,
        "disposal_method": "chubu_heshi",
        "has_conflict": False,
        "verify_result": "file_case",
        "detention_proposed": False,
        "investigator_users": ["wujun"],
    }
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)) as frozen:
        w = Walk(db, frozen, values=values, actors={"gt_p5_case:t_invest": "yangfan"})
        with w:
            w.start(REPORT[0], REPORT[1], actor=REPORT[2])
            w.run(until=lambda ready: any(t.process_key == "gt_p5_hearing" for t in ready))
            accept = w.task("t_accept", "gt_p5_hearing")
            assert accept.separate_from == ["wujun"]  # yangfan is not typed anywhere
            with db.session() as s:  # the hearing office takes him in
                user_id = s.scalar(select(User.id).where(User.username == "yangfan"))
                s.add(Membership(user_id=user_id, unit_code="qh_sl", role_code="hearing_office"))
            runtime = w.runtime
            yangfan, xuqing = w.pilot.principal("yangfan"), w.pilot.principal("xuqing")
            with pytest.raises(Forbidden) as claim:
                runtime.claim(accept.id, actor=yangfan)
            assert claim.value.details["reason"] == "separation_of_functions"
            with pytest.raises(Forbidden):
                runtime.complete_task(accept.id, actor=yangfan, data={"hearing_accept": "accept"})
            with pytest.raises(ValidationError) as handed:  # 徐青 (审理室主任) may not hand it to him
                runtime.reassign(accept.id, actor=xuqing, to_username="yangfan")
            assert "审查调查" in handed.value.fields["assignee"]
            with db.session() as s:
                row = s.get(HumanTask, accept.id)
                bars = duties.bars(s, row)
                from engine.tasks.inbox import eligible_assignees

                assert "yangfan" in bars and "yangfan" not in {u for u, _ in eligible_assignees(s, row, bars)}
            assert "yangfan" not in w.pilot.eligible(accept)
            runtime.claim(accept.id, actor=xuqing)
