"""P8's 政治生态 indicators gathered from P2/P5/P7 (engine/cockpit/ecology.py), against hand counts.

Seeded on the real library (tests/metrics_data.py's clues, then a rectification closed on time, one
closed after a 督办单 and one 月例会 risk alert), then a semiannual 研判 for 2024H1 of 农牧局 (qh_nmj_dz,
被反映单位 of every clue and the unit carrying out both rectifications) and 县医院 (qh_yy_dw):

=========================  ======================================================================
qh_nmj_dz                  clues 3 (A 信访, B 巡察, C 审计; none marked 重复件), 立案 0, 四种形态:
                           first 1 (B), rectified 2 (one on time: the other
                           needed a 督办单, issued on 8 October, outside H1), rate 50 %
qh_yy_dw                   the P2 risk alert of 5 June only
共和县's clue N             never counted (a neighbouring commission)
=========================  ======================================================================

Score (max 100, DEFAULT_DEDUCTIONS): 农牧局 100 − 1 (first form) = 99 → 好;
县医院 100 − 2 (a risk alert) = 98 → 好.
"""

# ruff: noqa: F811 - the fixtures imported from test_metrics are parameters of the tests
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.cockpit import ecology
from engine.errors import ValidationError
from engine.models import AuditEvent, HumanTask
from engine.tasks import operations as tasks
from tests.metrics_data import at, pilot, ready, run_until, seed_clues

from .test_metrics import frozen, rectification, services, walk  # noqa: F401 - the seeded clues' fixtures

REVEAL = Reveal(Sealer("test-secret"), frozenset({"commission_secretary"}))
UNITS = ["qh_nmj_dz", "qh_yy_dw"]
SETTINGS = {
    "grades": {
        "political_ecology": {
            "max_points": 100,
            "scale": [
                {"code": "hao", "title": "好", "min": 90},
                {"code": "jiaohao", "title": "较好", "min": 80},
                {"code": "yiban", "title": "一般", "min": 60},
                {"code": "cha", "title": "差", "min": 0},
            ],
        }
    }
}


def scheduled(walk, frozen, day, process_key, **values):
    """Start the schedules due on ``day`` and follow the one ``process_key`` instance."""
    from engine.scheduling.worker import Worker
    from tests.processes.walks import _Services

    at(frozen, *day)
    Worker(_Services(walk)).start_scheduled()
    p = pilot(walk, frozen, **values)
    with walk.db.session() as s:
        p.roots.update(
            s.scalars(
                select(HumanTask.instance_id).where(HumanTask.process_key == process_key, HumanTask.status == "ready")
            )
        )
    assert p.roots, f"no {process_key} started on {day}"
    return p


@pytest.fixture
def seeded(walk, frozen):
    return seed_ecology(walk, frozen)


def seed_ecology(walk, frozen):
    """The module docstring's data set; the 研判 stands at 案管室's 报送 (t_cm)."""
    seed_clues(walk, frozen)  # ends on 3 June
    rectification(walk, frozen, no="ZG-2024-201", started=(2024, 6, 3), checked=(2024, 6, 14), late=False)
    rectification(walk, frozen, no="ZG-2024-202", started=(2024, 6, 4), checked=(2024, 6, 20), late=True)
    meeting = scheduled(
        walk, frozen, (2024, 6, 5), "gt_p2_info",
        risk_alert=True, risk_units=["qh_yy_dw"], adjust_tasks=False, clue_found=False,
    )  # fmt: skip
    meeting.leave = {"gt_m2_risk"}  # the risk check it starts is not worked: its clue would count too
    meeting.run()
    eco = scheduled(
        walk, frozen, (2024, 7, 1), "gt_p8_eco",
        period_type="semiannual", eco_period="2024H1", scope_units=UNITS, problem_units=[], warning_units=[],
    )  # fmt: skip
    run_until(eco, "gt_p8_eco", "t_cm")
    return eco


def step(eco, spec_id):
    return ready(eco, "gt_p8_eco", spec_id)


def rows(view):
    """The indicator rows as the page's form shows them (``rows.N.field``)."""
    shown: dict[int, dict[str, str]] = {}
    for key, value in view.values.items():
        if key.startswith("rows."):
            _, n, name = key.split(".")
            shown.setdefault(int(n), {})[name] = value
    assert sorted(shown) == list(range(len(shown)))
    return {(r["unit"], r["indicator"]): float(r["value"]) for r in shown.values()}


def test_the_case_office_step_opens_with_p5_figures_and_their_sources(services, seeded):
    task = step(seeded, "t_cm")
    holder = seeded.actor_for(task)
    view = tasks.show_task(services, holder, task.id, reveal=REVEAL)
    got = rows(view)
    assert got[("qh_nmj_dz", "问题线索数")] == 3
    assert got[("qh_nmj_dz", "立案数")] == 0
    assert got[("qh_nmj_dz", "第一种形态人次")] == 1
    assert got[("qh_nmj_dz", "第二种形态人次")] == 0
    assert got[("qh_yy_dw", "问题线索数")] == 0
    assert len(got) == 2 * 6  # two units × six figures
    gathered = view.gathered
    assert gathered is not None and gathered.period == ecology.Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    clues = next(f for f in gathered.figures if f.unit == "qh_nmj_dz" and f.kind == "clues")
    assert clues.source.platform == "P5" and clues.source.period == "2024-01-01 – 2024-06-30"
    assert len(clues.source.instances) == 3  # A, B, C: not 共和县's N
    first = next(f for f in gathered.figures if f.unit == "qh_nmj_dz" and f.kind == "form_first")
    assert len(first.source.instances) == 1 and set(first.source.instances) < set(clues.source.instances)


def test_the_inspection_office_step_opens_with_p7_figures(services, seeded):
    task = step(seeded, "t_ib")
    view = tasks.show_task(services, seeded.actor_for(task), task.id, reveal=REVEAL)
    got = rows(view)
    assert got[("qh_nmj_dz", "整改销号数")] == 2
    assert got[("qh_nmj_dz", "按期整改销号数")] == 1
    assert got[("qh_nmj_dz", "整改按期完成率（%）")] == 50.0
    assert got[("qh_nmj_dz", "逾期督办单数")] == 0  # issued 8 October, when the limit ran out: not in H1
    assert ("qh_yy_dw", "整改按期完成率（%）") not in got  # no rectification: no rate
    assert got[("qh_yy_dw", "整改销号数")] == 0


def test_a_changed_figure_needs_a_reason_and_is_audited(services, seeded):
    task = step(seeded, "t_cm")
    holder = seeded.actor_for(task)
    view = tasks.show_task(services, holder, task.id, reveal=REVEAL)
    assert view.gathered is not None
    changed = [dict(r) for r in view.gathered.values()["rows"]]
    changed[0]["value"] = changed[0]["value"] + 2
    with pytest.raises(ValidationError) as err:
        tasks.submit_task(services, holder, task.id, {"rows": changed}, reveal=REVEAL)
    assert "adjust_reason" in err.value.fields
    tasks.submit_task(
        services, holder, task.id, {"rows": changed, "adjust_reason": "另有2件纸质移交线索未录入"}, reveal=REVEAL
    )
    with services.db.session() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "ecology_adjusted", AuditEvent.task_id == task.id)
        ).one()
    detail = event.detail
    assert detail["reason"] == "另有2件纸质移交线索未录入"
    assert detail["changes"] == [
        {
            "unit": changed[0]["unit"],
            "indicator": changed[0]["indicator"],
            "gathered": view.gathered.values()["rows"][0]["value"],
            "submitted": changed[0]["value"],
        }
    ]


def test_figures_submitted_as_gathered_need_no_reason(services, seeded):
    task = step(seeded, "t_ib")
    holder = seeded.actor_for(task)
    view = tasks.show_task(services, holder, task.id, reveal=REVEAL)
    assert view.gathered is not None
    tasks.submit_task(services, holder, task.id, view.gathered.values(), reveal=REVEAL)
    with services.db.session() as s:
        assert not s.scalars(select(AuditEvent).where(AuditEvent.action == "ecology_adjusted")).all()


def test_the_judgement_proposes_scores_graded_by_the_settings(services, seeded):
    run_until(seeded, "gt_p8_eco", "t_judge")
    task = step(seeded, "t_judge")
    holder = seeded.actor_for(task)
    view = tasks.show_task(services, holder, task.id, reveal=REVEAL)
    assert view.values["unit_grades.1.grade"] == "hao"
    assert view.gathered.values()["unit_grades"] == [
        {"unit": "qh_nmj_dz", "score": 99.0, "grade": "hao"},
        {"unit": "qh_yy_dw", "score": 98.0, "grade": "hao"},
    ]
    nmj = view.gathered.scores[0]
    assert dict(nmj.deductions) == {"form_first": 1.0}
    # a grade that does not match its score under grades.political_ecology is refused
    wrong = [{"unit": "qh_nmj_dz", "score": 75, "grade": "jiaohao"}, {"unit": "qh_yy_dw", "score": 98, "grade": "hao"}]
    with pytest.raises(ValidationError) as err:
        tasks.submit_task(services, holder, task.id, {"unit_grades": wrong, "adjust_reason": "会商扣分"}, reveal=REVEAL)
    assert "一般" in err.value.fields["unit_grades"]


def test_the_scale_and_deductions_come_from_the_settings():
    max_points, scale, deductions = ecology.grade_scale(SETTINGS)
    assert max_points == 100 and [g.code for g in scale] == ["hao", "jiaohao", "yiban", "cha"]
    assert ecology.grade_for(89.5, scale).code == "jiaohao" and ecology.grade_for(0, scale).code == "cha"
    custom = {"grades": {"political_ecology": {**SETTINGS["grades"]["political_ecology"], "deductions": {"cases": 20}}}}
    _, _, deductions = ecology.grade_scale(custom)
    assert ecology.score_of({"cases": 2, "form_first": 1}, 100, deductions) == (
        59.0,
        [("cases", 40.0), ("form_first", 1.0)],
    )
    with pytest.raises(ValueError):
        ecology.grade_scale({"grades": {}})


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", (2024, 1, 1), (2024, 12, 31)),
        ("2024H2", (2024, 7, 1), (2024, 12, 31)),
        ("2024Q4", (2024, 10, 1), (2024, 12, 31)),
        ("2024Q1", (2024, 1, 1), (2024, 3, 31)),
        ("巡察前专项", (2023, 7, 3), (2024, 7, 1)),
    ],
)
def test_the_assessed_period(text, start, end):
    assert ecology.assessed_period(text, dt.date(2024, 7, 1)) == ecology.Period(dt.date(*start), dt.date(*end))


def test_a_late_item_counts_its_order_in_the_period_it_was_issued(services, seeded):
    """The 督办单 of ZG-2024-202 (8 October) counts in H2, where neither rectification was closed."""
    h2 = ecology.Period(dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    with services.db.session() as s:
        counted = ecology.gather(s, scope=frozenset({"qh_cdi"}), period=h2, units=UNITS)
        neighbour = ecology.gather(s, scope=frozenset({"gh_cdi"}), period=h2, units=UNITS)
    assert counted.counts == {("qh_nmj_dz", "rectify_orders"): 1}
    assert neighbour.counts == {}  # another commission's scope counts none of 青湖县's instances
