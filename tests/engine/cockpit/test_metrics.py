"""Outcome metrics (engine/cockpit/metrics.py) against figures computed by hand, on the real library.

The clues A, B, C (青湖县) and N (共和县) are tests/metrics_data.py's: see its table for every date and
the working days each measure comes to.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock
from engine.cockpit import metrics, operations
from engine.config import Config
from engine.errors import Forbidden, ValidationError
from engine.services import Services
from tests.metrics_data import START, at, pilot, ready, run_until, seed_clues
from tests.processes.driver import Walk

APRIL_MAY = {"date_from": "2024-04-01", "date_to": "2024-05-31"}


@pytest.fixture
def frozen():
    with clock.frozen(START) as f:
        yield f


@pytest.fixture
def walk(db, frozen):
    return Walk(db, frozen)


@pytest.fixture
def services(db, walk, tmp_path) -> Services:
    # computed live: these tests move the clock and read again at once (test_snapshots.py tests the snapshots)
    config = Config.from_env(
        database_url=db.url, instance_dir=tmp_path, attachments_dir=tmp_path / "files", cockpit_snapshots=False
    )
    return Services(config, db=db)


@pytest.fixture
def seeded(walk, frozen):
    seed_clues(walk, frozen)
    return walk


def who(services, username):
    from engine.access.principal import load_principal

    with services.db.session() as s:
        return load_principal(s, username)


def test_every_cycle_median_and_p90_in_working_days(services, seeded):
    m = operations.outcome_metrics(services, who(services, "machengzhi"), **APRIL_MAY)
    cur = m.current
    assert cur.period == metrics.Period(dt.date(2024, 4, 1), dt.date(2024, 5, 31))
    got = {s.metric: (s.count, s.median, s.p90) for s in cur.cycles}
    # [1, 2, 4]: median 2, p90 2 + (4 − 2) × 0.8; [1, 10, 20]; [2, 14, 22]
    assert got["register_dispose"] == (3, 2.0, pytest.approx(3.6))
    assert got["dispose_close"] == (3, 10.0, pytest.approx(18.0))
    assert got["register_close"] == (3, 14.0, pytest.approx(20.4))
    assert got["found_rectified"] == (0, None, None)
    assert cur.sources == {"petition": 1, "inspection": 1, "resident": 0, "audit": 1, "x_department": 0, "other": 0}
    assert cur.four_forms == {"first": 1, "second": 0, "third": 0, "fourth": 0, "none": 2}
    # each platform's cycle per instance: P5 from the handover's registration to its last step (A 14,
    # B 22, C 2); the 室组地 and 片区协作 steps all ran on their first day (0)
    assert [(s.slice, s.count, s.median) for s in cur.platform_cycles] == [
        ("L1", 1, 0.0),
        ("L4", 1, 0.0),
        ("P5", 3, 14.0),
    ]
    assert cur.funnel == [("registered", 3), ("disposed", 3), ("case_filed", 0), ("closed", 3)]
    # every step of A, B, C (their 室组地 and 片区协作 steps too) is a 处置问题 step
    assert cur.stages == [("goal", 0), ("discover", 0), ("dispose", 3), ("rectify", 0)]
    april, may = cur.monthly
    assert (april.month, april.registered, april.disposed, april.closed) == ("2024-04", 3, 3, 2)
    assert april.median_register_close == 8.0  # A 14, C 2
    assert (may.month, may.registered, may.closed, may.median_register_close) == ("2024-05", 0, 1, 22.0)
    # the previous period (2 months before): nothing
    assert m.baseline.period == metrics.Period(dt.date(2024, 1, 31), dt.date(2024, 3, 31))
    assert m.baseline.cycle("register_close").count == 0 and not m.baseline_chosen


def test_linkage_mode_comparison(services, seeded):
    m = operations.outcome_metrics(services, who(services, "machengzhi"), slice_by="linkage", **APRIL_MAY)
    close = {s.slice: s.median for s in m.current.sliced if s.metric == "register_close"}
    assert close == {"none": 14.0, "shizudi": 22.0, "zone": 2.0}
    dispose = {s.slice: s.median for s in m.current.sliced if s.metric == "register_dispose"}
    assert dispose == {"none": 4.0, "shizudi": 2.0, "zone": 1.0}
    effort = {e.slice: e.cases for e in m.current.effort_sliced}
    assert effort == {"none": 1, "shizudi": 1, "zone": 1}
    assert m.current.effort.cases == 3


def test_staff_effort_sums_each_step_in_working_days(services, seeded):
    """A's steps: all same-day but 处置审批 (1–8 April: 4) and 办结销号 (8–22 April: 10)."""
    m = operations.outcome_metrics(services, who(services, "machengzhi"), slice_by="linkage", **APRIL_MAY)
    a = next(e for e in m.current.effort_sliced if e.slice == "none")
    assert a.workdays == 14 and a.median_workdays == 14.0


def test_a_neighbouring_commission_is_never_counted(services, seeded):
    county = operations.outcome_metrics(services, who(services, "machengzhi"), slice_by="unit", **APRIL_MAY)
    assert county.current.sources["petition"] == 1  # A only, not 共和县's N
    assert {u.unit for u in county.current.by_unit} == {"qh_cdi"}
    prefecture = operations.outcome_metrics(services, who(services, "majun"), slice_by="unit", **APRIL_MAY)
    assert prefecture.current.sources["petition"] == 2
    assert {(u.unit, u.registered, u.closed) for u in prefecture.current.by_unit} == {
        ("qh_cdi", 3, 3),
        ("gh_cdi", 1, 0),
    }
    neighbour = operations.outcome_metrics(services, who(services, "lixin"), **APRIL_MAY)
    assert neighbour.current.funnel[0] == ("registered", 1)
    assert neighbour.current.cycle("register_close").count == 0


def test_a_chosen_baseline_and_bad_input(services, seeded):
    boss = who(services, "machengzhi")
    m = operations.outcome_metrics(
        services, boss, date_from="2024-05-01", date_to="2024-05-31", base_from="2024-04-01", base_to="2024-04-30"
    )
    assert m.baseline_chosen and m.baseline.cycle("register_close").count == 2
    assert m.current.cycle("register_close").count == 1
    for bad, field in [
        ({"date_from": "2024-13-01"}, "date_from"),
        ({"date_from": "2024-05-01", "date_to": "2024-04-01"}, "date_to"),
        ({"base_from": "2024-01-01"}, "base_to"),
        ({"slice_by": "colour"}, "slice"),
        ({"date_from": "2019-01-01", "date_to": "2024-01-01"}, "date_to"),
    ]:
        with pytest.raises(ValidationError) as err:
            operations.outcome_metrics(services, boss, **bad)
        assert field in err.value.fields
    with pytest.raises(Forbidden):
        operations.outcome_metrics(services, who(services, "wangfang"), **APRIL_MAY)


# --------------------------------------------------------------------------- overdue across May Day
@pytest.fixture
def overdue_seeded(walk, frozen):
    """O: registered Fri 26 April; 分办 due Tue 30 April (Sun 28 worked), done Mon 6 May: late by one
    working day; its 审核 due Tue 7 May stays open. P: registered Tue 30 April, 分办 the same day (on
    time), 审核 due Mon 6 May (the holiday in between) done on 6 May: on time, six calendar days later."""
    o = pilot(walk, frozen, clue_no="XS-2024-0011")
    at(frozen, 2024, 4, 26)
    o.send("gt_msg_clue_handover", "XS-2024-0011", {})
    o.complete(ready(o, "gt_p5_intake_handover", "t_screen"))  # 管辖: this level, the same day
    o.complete(ready(o, "gt_p5_intake_handover", "t_register"))
    p = pilot(walk, frozen, clue_no="XS-2024-0012")
    at(frozen, 2024, 4, 30)
    p.send("gt_msg_clue_handover", "XS-2024-0012", {})
    p.complete(ready(p, "gt_p5_intake_handover", "t_screen"))  # 管辖: this level, the same day
    p.complete(ready(p, "gt_p5_intake_handover", "t_register"))
    p.complete(ready(p, "gt_p5_clue", "t_route"))
    at(frozen, 2024, 5, 6)
    o.complete(ready(o, "gt_p5_clue", "t_route"))
    p.complete(ready(p, "gt_p5_clue", "t_route_appr"))
    return o, p


def test_overdue_count_and_rate_across_the_holiday(services, frozen, overdue_seeded):
    boss = who(services, "machengzhi")
    m = operations.outcome_metrics(services, boss, slice_by="platform", **APRIL_MAY)
    assert (m.current.overdue.total, m.current.overdue.hits, m.current.overdue.rate) == (4, 1, 0.25)
    at(frozen, 2024, 5, 8)  # O's 审核 (due 7 May) is still open: late too
    m = operations.outcome_metrics(services, boss, slice_by="platform", **APRIL_MAY)
    assert (m.current.overdue.total, m.current.overdue.hits) == (4, 2)
    assert [(r.slice, r.total, r.hits) for r in m.current.overdue_sliced] == [("P5", 4, 2)]


# --------------------------------------------------------------------------- rectification on time
def rectification(walk, frozen, *, no, started, checked, late):
    """An audit's problem list with one item (ZG-17, due 30 September): 销号 at ``checked``; ``late``
    lets the item's limit run out first (督办单)."""
    p = pilot(walk, frozen, rectification_no=no, ledger_items=["ZG-17"], plan_adequate=True, verify_passed=True,
              accountability_needed=False, source_type="audit")  # fmt: skip
    if late:
        p.expire = {"b_due"}
    at(frozen, *started)
    p.send(
        "gt_msg_rectification_needed",
        no,
        {"source_type": "audit", "host_unit": "qh_nmj_dz", "supervision_unit": "qh_jc2", "resident_unit": "qh_pz3"},
    )
    run_until(p, "gt_p7_item", "t_so_check")
    at(frozen, *checked)
    p.complete(ready(p, "gt_p7_item", "t_so_check"))
    p.run()
    return p


def test_problem_found_to_rectified_and_completion_on_time(services, walk, frozen):
    rectification(walk, frozen, no="ZG-2024-101", started=(2024, 7, 15), checked=(2024, 8, 15), late=False)
    rectification(walk, frozen, no="ZG-2024-102", started=(2024, 8, 16), checked=(2024, 10, 31), late=True)
    m = operations.outcome_metrics(
        services, who(services, "machengzhi"), date_from="2024-07-01", date_to="2024-10-31", slice_by="stage"
    )
    # 15 July → 15 August: 23 working days; 16 August → 31 October: 50 (中秋 15–17 September and
    # 国庆 1–7 October off; Saturday 14 September, Sunday 29 September and Saturday 12 October worked)
    stat = m.current.cycle("found_rectified")
    assert (stat.count, stat.median) == (2, 36.5)
    assert (m.current.on_time.total, m.current.on_time.hits, m.current.on_time.rate) == (2, 1, 0.5)
    assert [(r.slice, r.total, r.hits) for r in m.current.on_time_sliced] == [("rectify", 2, 1)]
