"""The cockpit's snapshots (engine/cockpit/snapshots.py): identical to the live figures, read instead of
recomputed while they exist, refreshed by the worker within its bounds, found only through the
principal's own scope.

The May Day county of conftest.py, its prefecture and neighbour (test_scope.py ``neighbour``); the
snapshots are switched on in ``snap`` (a Config built directly leaves them off).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from unittest import mock

import pytest
from sqlalchemy import event, func, select, update

from engine import clock
from engine.cockpit import deadline_groups, figures, operations, snapshots
from engine.cockpit.lazy import LazyList
from engine.errors import Forbidden, ValidationError
from engine.models import CockpitSnapshot, HumanTask
from engine.scheduling.worker import Worker
from engine.tasks.inbox import DueInfo

from .conftest import NOW
from .test_scope import neighbour  # noqa: F401 - the neighbouring county's fixture

APRIL_MAY = {"date_from": "2024-04-01", "date_to": "2024-05-31"}


@pytest.fixture
def snap(services):
    services.config.cockpit_snapshots = True
    return services


def _all_kinds(services, principal, *, fresh: bool = False) -> dict[str, snapshots.Dated]:
    return {
        "overview": operations.overview_dated(services, principal, soon_workdays=2, fresh=fresh),
        "deadlines": operations.deadlines_dated(services, principal, soon_workdays=2, fresh=fresh),
        "durations": operations.durations_dated(services, principal, fresh=fresh),
        "metrics": operations.metrics_dated(services, principal, slice_by="unit", fresh=fresh, **APRIL_MAY),
        "heatmap": operations.heatmap_dated(services, principal, process_key="gt_test_clue", fresh=fresh, **APRIL_MAY),
    }


def _rows(services) -> list[CockpitSnapshot]:
    with services.db.session() as s:
        rows = list(s.scalars(select(CockpitSnapshot).order_by(CockpitSnapshot.id)))
        s.expunge_all()
    return rows


def _statements(services):
    seen: list[str] = []

    def capture(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", capture)
    return seen, lambda: event.remove(services.db.engine, "before_cursor_execute", capture)


def test_a_page_from_a_snapshot_equals_the_live_page_for_every_kind(snap, who, seeded):
    boss = who("boss")
    first = _all_kinds(snap, boss)  # absent: computed live and stored
    assert not any(d.from_snapshot for d in first.values())
    assert {r.kind for r in _rows(snap)} == set(snapshots.KINDS)
    again = _all_kinds(snap, boss)
    for kind in snapshots.KINDS:
        assert again[kind].from_snapshot, kind
        assert again[kind].data == first[kind].data, kind
        assert again[kind].computed_at == first[kind].computed_at == NOW
    # the figures are the real ones, not empty: the May Day county's overdue A, due soon B and C
    assert again["deadlines"].data.totals == {"overdue": 1, "due_soon": 2}
    assert isinstance(again["overview"].data.matrix, dict) and again["overview"].data.running >= 4


def test_a_fresh_snapshot_is_read_without_recomputing(snap, who, seeded, steady_caches):
    boss = who("boss")
    operations.deadlines_dated(snap, boss, soon_workdays=2)
    seen, stop = _statements(snap)
    try:
        with mock.patch.object(figures, "deadlines", side_effect=AssertionError("recomputed")):
            dated = operations.deadlines_dated(snap, boss, soon_workdays=2)
    finally:
        stop()
    assert dated.from_snapshot
    assert not [q for q in seen if "human_task" in q]  # no scan of the tasks at all
    assert len(seen) == 3  # the principal's scope (his commission, the tree under it) and one snapshot row
    assert "cockpit_snapshot" in seen[-1]


def test_a_stale_snapshot_is_served_with_its_age_and_refreshed_by_the_worker(snap, who, seeded, now):
    boss = who("boss")
    operations.deadlines_dated(snap, boss, soon_workdays=2)
    with snap.db.session() as s:  # a change after the snapshot: A's and B's tasks are done
        s.execute(update(HumanTask).where(HumanTask.id.in_([seeded.propose["A"]])).values(status="completed"))
    now.advance(minutes=7)
    stale = operations.deadlines_dated(snap, boss, soon_workdays=2)
    assert stale.from_snapshot and stale.age_minutes() == 7
    assert stale.data.totals["overdue"] == 1  # still the figures as of their time, and they say so
    report = snapshots.refresh_pass(snap.db, snap.config, precompute=False)
    assert report.refreshed == 1 and report.failed == 0
    fresh = operations.deadlines_dated(snap, boss, soon_workdays=2)
    assert fresh.from_snapshot and fresh.age_minutes() == 0
    assert fresh.data.totals["overdue"] == 0


def test_the_refresh_button_recomputes_only_a_snapshot_older_than_the_minimum_age(snap, who, seeded, now):
    boss = who("boss")
    first = operations.overview_dated(snap, boss)
    now.advance(seconds=10)
    with mock.patch.object(figures, "overview", side_effect=AssertionError("recomputed")):
        pressed = operations.overview_dated(snap, boss, fresh=True)  # 10 s old: the stored one again
    assert pressed.from_snapshot and pressed.computed_at == first.computed_at
    now.advance(seconds=25)
    pressed = operations.overview_dated(snap, boss, fresh=True)
    assert not pressed.from_snapshot and pressed.computed_at == NOW + dt.timedelta(seconds=35)
    assert operations.overview_dated(snap, boss).computed_at == pressed.computed_at  # and it was stored


def test_a_pass_is_bounded_by_count_and_time_oldest_first(snap, who, seeded, now):
    boss = who("boss")
    operations.overview_dated(snap, boss, soon_workdays=1)
    now.advance(minutes=1)
    for soon in (2, 3, 4):
        operations.overview_dated(snap, boss, soon_workdays=soon)
    now.advance(minutes=10)
    snap.config.snapshot_pass_limit = 2
    report = snapshots.refresh_pass(snap.db, snap.config, precompute=False)
    assert (report.refreshed, report.created) == (2, 0)
    refreshed = {r.params for r in _rows(snap) if r.computed_at == clock.now()}
    assert '{"soon":1}' in refreshed and len(refreshed) == 2  # the oldest first
    snap.config.snapshot_pass_limit, snap.config.snapshot_pass_seconds = 20, 0.0
    assert snapshots.refresh_pass(snap.db, snap.config, precompute=False).written == 0  # no time left


def test_the_pass_computes_the_managers_default_pages_ahead(snap, who, seeded):
    report = snapshots.refresh_pass(snap.db, snap.config)
    defaults = {kind for kind, _ in snapshots.default_params(NOW.date())}
    assert report.created == len(defaults) * len(snapshots.manager_scopes(snap.db, snap.config)) > 0
    with mock.patch.object(figures, "overview", side_effect=AssertionError("recomputed")):
        first_visit = operations.overview_dated(snap, who("boss"))
    assert first_visit.from_snapshot
    assert snapshots.refresh_pass(snap.db, snap.config).created == 0  # nothing missing any more


def test_snapshots_nobody_read_for_long_are_deleted_and_old_formats_ignored(snap, who, seeded, now):
    boss = who("boss")
    operations.overview_dated(snap, boss)
    operations.deadlines_dated(snap, boss)
    now.advance(days=20)
    operations.deadlines_dated(snap, boss)  # read again: kept
    now.advance(days=15)
    report = snapshots.refresh_pass(snap.db, snap.config, precompute=False)
    assert report.deleted == 1
    assert [r.kind for r in _rows(snap)] == ["deadlines"]
    with snap.db.session() as s:
        s.execute(update(CockpitSnapshot).values(version=snapshots.FORMAT_VERSION - 1, payload="{}"))
    dated = operations.deadlines_dated(snap, boss)
    assert not dated.from_snapshot and dated.data.totals  # recomputed, the old payload never read
    assert [r.version for r in _rows(snap)] == [snapshots.FORMAT_VERSION]


def test_a_county_never_receives_the_prefectures_snapshot_nor_the_reverse(snap, who, seeded, neighbour):  # noqa: F811
    boss, nb_boss, pref = who("boss"), who("nb_boss"), who("pref_lead")
    county = {kind: d.data for kind, d in _all_kinds(snap, boss).items()}
    prefecture = {kind: d.data for kind, d in _all_kinds(snap, pref).items()}
    neighbours = {kind: d.data for kind, d in _all_kinds(snap, nb_boss).items()}
    assert len(_rows(snap)) == 3 * len(snapshots.KINDS)  # one row per scope and kind
    for kind in snapshots.KINDS:
        assert _all_kinds(snap, boss)[kind].data == county[kind]
        assert _all_kinds(snap, pref)[kind].data == prefecture[kind]
        assert _all_kinds(snap, nb_boss)[kind].data == neighbours[kind]
    assert county["overview"].running < prefecture["overview"].running
    assert {g.unit for g in operations.deadlines(snap, boss, soon_workdays=2).groups} == {"jc1", "jc2"}
    assert {g.unit for g in operations.deadlines(snap, pref, soon_workdays=2).groups} == {"jc1", "jc2", "nb_jc1"}
    # a row whose hash matches but whose scope differs is never taken for this scope
    with snap.db.session() as s:
        s.execute(update(CockpitSnapshot).where(CockpitSnapshot.scope == '["cdi"]').values(scope='["cdi","x"]'))
    assert not operations.overview_dated(snap, boss, soon_workdays=2).from_snapshot


def test_a_person_without_a_cockpit_role_is_refused_before_any_snapshot_is_read(snap, who, seeded):
    operations.overview_dated(snap, who("boss"))
    with mock.patch.object(snapshots, "find", side_effect=AssertionError("read")):
        with pytest.raises(Forbidden):
            operations.overview_dated(snap, who("cm1"))
        with pytest.raises(Forbidden):
            operations.metrics_dated(snap, who("cm1"), fresh=True)
    with snap.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CockpitSnapshot)) == 1


def test_the_workers_pass_refreshes_the_snapshots(snap, who, seeded, now):
    operations.overview_dated(snap, who("boss"))
    now.advance(minutes=6)
    counts = Worker(snap, channels=[]).run_once()
    assert counts["snapshots"] >= 1
    assert operations.overview_dated(snap, who("boss")).age_minutes() == 0


def test_round_trip_keeps_types_the_pages_use(snap, who, seeded):
    boss = who("boss")
    live = operations.deadlines_dated(snap, boss, soon_workdays=2).data
    back = snapshots.loads("deadlines", snapshots.dumps("deadlines", live))
    assert back == live
    item = back.groups[0].items[0]
    assert isinstance(item.due.due_at, dt.datetime) and item.due.due_at.tzinfo is not None
    assert dataclasses.asdict(back) == dataclasses.asdict(live)


def test_a_figure_that_can_no_longer_be_computed_is_dropped_not_served_for_ever(snap, who, seeded, now):
    boss = who("boss")
    operations.heatmap_dated(snap, boss, process_key="gt_test_clue", **APRIL_MAY)
    with snap.db.session() as s:  # as if the process had gone: its key no longer names one
        s.execute(
            update(CockpitSnapshot)
            .where(CockpitSnapshot.kind == "heatmap")
            .values(params=snapshots.params_text({"process": "gone", **APRIL_MAY}))
        )
    now.advance(minutes=6)
    report = snapshots.refresh_pass(snap.db, snap.config, precompute=False)
    assert (report.refreshed, report.failed) == (0, 1)
    assert _rows(snap) == []
    with pytest.raises(ValidationError):
        operations.heatmap_dated(snap, boss, process_key="gone", **APRIL_MAY)


def _deadlines() -> figures.Deadlines:
    """Three groups as ``figures.deadlines`` makes them: task 1 is a candidate of two units (in two
    groups), task 3 has neither unit nor role."""
    at = dt.datetime(2024, 5, 8, 18, tzinfo=clock.LOCAL_TZ)

    def item(n: int, units: list[str], role: str | None, state: str) -> figures.DeadlineItem:
        due = DueInfo(state=state, due_at=at, workdays_left=-1 if state == "overdue" else 2, estimated=n == 3)
        return figures.DeadlineItem(
            n, 100 + n, "提出处置意见", "gt_test_clue", f"XS-{n}", "关于张三的线索", role, None, None, units, due
        )

    one, two, three = (
        item(1, ["jc1", "jc2"], "office", "overdue"),
        item(2, ["jc1"], "office", "due_soon"),
        item(3, [], None, "due_soon"),
    )
    groups = [
        figures.DeadlineGroup("jc1", "office", 1, 1, LazyList([one, two])),
        figures.DeadlineGroup("jc2", "office", 1, 0, LazyList([one])),
        figures.DeadlineGroup(None, None, 0, 1, LazyList([three])),
    ]
    return figures.Deadlines(groups, {"overdue": 1, "due_soon": 2}, truncated=False, soon_workdays=2)


def test_deadline_items_are_read_back_undecoded_and_decoded_only_as_far_as_shown():
    live = _deadlines()
    text = snapshots.dumps("deadlines", live)
    back = snapshots.loads("deadlines", text)
    assert all(isinstance(g.items, LazyList) and not g.items.decoded for g in back.groups)
    assert [len(g.items) for g in back.groups] == [2, 1, 1]  # counted without decoding
    assert back == live and snapshots.loads("deadlines", snapshots.dumps("deadlines", back)) == live
    assert back.groups[0].items[0] == back.groups[1].items[0] == live.groups[0].items[0]  # the shared task
    assert back.groups[2].items[0].units == [] and back.groups[2].unit is None and back.groups[2].role is None
    fresh = snapshots.loads("deadlines", text)
    shown = deadline_groups.preview(fresh, per_group=1)
    assert shown.groups == deadline_groups.preview(live, per_group=1).groups
    assert fresh.groups[0].items._raw and not fresh.groups[0].items.decoded  # only its first task was read
    for unit, role in (("jc1", "office"), ("", ""), ("jc2", "office"), ("nowhere", "")):
        page = deadline_groups.group_page(snapshots.loads("deadlines", text), unit=unit, role=role, per_page=1, page=2)
        assert page == deadline_groups.group_page(live, unit=unit, role=role, per_page=1, page=2), unit


def test_an_old_format_deadlines_row_is_recomputed_not_misread(snap, who, seeded):
    boss = who("boss")
    live = operations.deadlines_dated(snap, boss, soon_workdays=2).data
    old = snapshots.encode(live)  # version 1 kept a group's items as a plain JSON list
    for group in old["groups"]:
        group["items"] = json.loads(group["items"][1])
    with snap.db.session() as s:
        s.execute(update(CockpitSnapshot).values(version=1, payload=json.dumps(old, ensure_ascii=False)))
    dated = operations.deadlines_dated(snap, boss, soon_workdays=2)
    assert not dated.from_snapshot and dated.data == live
    assert [r.version for r in _rows(snap)] == [snapshots.FORMAT_VERSION] == [2]
    again = operations.deadlines_dated(snap, boss, soon_workdays=2)
    assert again.from_snapshot and again.data == live and again.data.groups[0].items[0] == live.groups[0].items[0]
