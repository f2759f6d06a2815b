"""Run one named walk of paths.PATHS on a database and keep what it traversed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from engine import clock
from engine.models import HumanTask

from .driver import Walk
from .paths import BASE, PATHS

# path name -> (flows, timers) traversed, filled by every walk in this session
TRAVERSED: dict[str, tuple[set, set]] = {}


class Refusal:
    """不同意 the first time a walk reaches each refusing approval step of an instance, 同意 afterwards.

    Keyed by the task row: the decision and the 批示 of one submission agree, and the step reopened
    after the drafter's rework is a new row, which the approver then agrees to.
    """

    def __init__(self):
        self.first: dict[tuple[int, str, str], int] = {}

    def refused(self, task) -> bool:
        # a called process runs inside its caller's instance: its steps are told apart by process
        return self.first.setdefault((task.instance_id, task.process_key, task.spec_id), task.id) == task.id

    def decision(self, task) -> str:
        return "reject" if self.refused(task) else "approve"

    def opinion(self, task) -> str:
        return "不同意：事实和依据不充分，请补充后重报。" if self.refused(task) else "同意，请按程序抓紧办理。"


def _per_task(spec: dict) -> dict:
    per_task = dict(spec.get("per_task") or {})
    refusal = Refusal()  # fresh per walk: a walk runs once per database
    for key in spec.get("refuse", ()):
        per_task[key] = {**per_task.get(key, {}), "decision": refusal.decision, "opinion": refusal.opinion}
    return per_task


def walk(db, name: str) -> Walk:
    spec = PATHS[name]
    start_at = dt.datetime(*spec.get("at", (2024, 3, 4)), 10, tzinfo=clock.LOCAL_TZ)
    with clock.frozen(start_at) as frozen:
        w = Walk(
            db,
            frozen,
            values={**BASE, **spec.get("values", {})},
            per_task=_per_task(spec),
            actors=spec.get("actors"),
            expire=spec.get("expire", ()),
            leave=spec.get("leave", ()),
        )
        with w:
            kind, *args = spec["start"]
            if kind == "msg":
                message, payload = args[0], dict(args[1] or {})
                result = w.send(message, payload.pop("correlation", None), payload)
                assert result["status"] == "started", result
            elif kind == "schedule":
                from engine.scheduling.worker import Worker

                w.at(*args[0])
                Worker(_Services(w)).start_scheduled()
                mine = [i.id for i in w.instances(spec["only_process"])]
                assert mine, f"the scheduler started no {spec['only_process']} on {args[0]}"
                w.pilot.roots.update(mine)
            else:
                w.start(kind, args[0], actor=args[1])
            w.run(max_steps=spec.get("max_steps", 300))
        TRAVERSED[name] = (w.recorder.flows, w.recorder.timers)
        w.end = clock.now()
    return w


class _Services:
    def __init__(self, w: Walk):
        self.runtime = w.runtime
        self.db = w.db
        self.definitions = w.repo


def check_walk(w: Walk, name: str) -> None:
    spec = PATHS[name]
    done = {s for _, s in w.done_specs()}
    missing = [s for s in spec.get("expect", []) if s not in done]
    assert not missing, f"{name}: never reached {missing}; did {w.done_specs()}"
    # every approval the walk refuses was reached (test_completeness checks that its 不同意 flow was taken)
    steps = w.done_specs()
    never = [key for key in spec.get("refuse", ()) if tuple(key.split(":")) not in steps]
    assert not never, f"{name}: refusing approvals never reached {never}"
    leave = set(spec.get("leave", ()))
    started = {i.process_key for i in w.instances()}
    assert leave <= started, f"{name}: messages never started {sorted(leave - started)}"
    scope = w.pilot.scope()
    unfinished = [(i.process_key, i.id, i.status) for i in w.instances() if i.status != "completed" and i.id in scope]
    assert not unfinished, f"{name}: instances left unfinished {unfinished}"
    with w.db.session() as session:
        tasks = session.scalars(select(HumanTask)).all()
        for t in tasks:
            assert t.role, f"{t.spec_id} has no role"
            assert t.has_candidates, f"{t.process_key}/{t.spec_id} has no candidate unit: open to every {t.role}"
            if t.due_key:
                assert t.due_at is not None, f"{t.spec_id}: due key {t.due_key} but no due date"
        open_tasks = [(t.process_key, t.spec_id) for t in tasks if t.status == "ready" and t.instance_id in scope]
    assert not open_tasks, f"{name}: tasks left open {open_tasks}"
