"""A small driver over the real engine for walking the process library (tests/processes).

Everything that also serves ``guantong demo`` (filling forms from their schemas, choosing an eligible
officer, completing, letting timers fire) is ``demo.autopilot.Autopilot``; this module adds what only the
tests need: the library deployed once per test database, the BPMN model read with lxml (gateway flows,
boundary timers) and the record of which flows and timers a walk traversed, read back from the
instances' engine state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from demo.autopilot import Autopilot, Seq, boundary_timer_map  # noqa: F401  (Seq re-exported for tests)
from engine import clock
from engine.definitions import compile_bundle, load_bundle
from engine.definitions.repository import DefinitionRepository
from engine.models import HumanTask, ProcessInstance
from engine.organisation.directory import import_organisation, load_file
from engine.runtime.core import Runtime

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
BPMN_FILES = sorted((PROCESSES / "bpmn").glob("*.bpmn"))
ORGANISATION = ROOT / "demo" / "organisation.yaml"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
LOCAL = clock.LOCAL_TZ


@lru_cache(maxsize=1)
def compiled_library():
    """The library compiled once per test session (deploy stores it per database)."""
    return compile_bundle(load_bundle(PROCESSES))


@lru_cache(maxsize=1)
def organisation_data():
    """The demo county without passwords (hashing 45 passwords per test database costs seconds)."""
    data = dict(load_file(ORGANISATION))
    data.pop("default_password", None)
    return data


@lru_cache(maxsize=1)
def timers_by_task():
    return boundary_timer_map(BPMN_FILES)


@dataclass(frozen=True)
class Model:
    """What must be traversed: every outgoing flow of every exclusive/inclusive gateway, every boundary timer."""

    flows: dict[tuple[str, str, str], str]  # (process, source, target) -> flow id
    gateway_flows: set[tuple[str, str]]  # (process, flow id)
    boundary_timers: set[tuple[str, str]]  # (process, event id)
    catch_timers: set[tuple[str, str]]  # intermediate timer catch events


@lru_cache(maxsize=1)
def model() -> Model:
    flows, gateway_flows, boundary, catch = {}, set(), set(), set()
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for process in root.iterfind("bpmn:process", NS):
            pid = process.get("id")
            gateways = {
                g.get("id")
                for tag in ("exclusiveGateway", "inclusiveGateway")
                for g in process.iterfind(f".//bpmn:{tag}", NS)
            }
            for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
                key = (pid, flow.get("sourceRef"), flow.get("targetRef"))
                assert key not in flows, f"two flows {key}: the walk record could not tell them apart"
                flows[key] = flow.get("id")
                outs = [
                    f
                    for f in process.iterfind(".//bpmn:sequenceFlow", NS)
                    if f.get("sourceRef") == flow.get("sourceRef")
                ]
                if flow.get("sourceRef") in gateways and len(outs) > 1:
                    gateway_flows.add((pid, flow.get("id")))
            for event in process.iterfind(".//bpmn:boundaryEvent", NS):
                if event.find("bpmn:timerEventDefinition", NS) is not None:
                    boundary.add((pid, event.get("id")))
            for event in process.iterfind(".//bpmn:intermediateCatchEvent", NS):
                if event.find("bpmn:timerEventDefinition", NS) is not None:
                    catch.add((pid, event.get("id")))
    return Model(flows, gateway_flows, boundary, catch)


def _bpmn_id(task) -> str | None:
    spec = task.task_spec
    bpmn_id = getattr(spec, "bpmn_id", None)
    if bpmn_id:
        return bpmn_id
    # SpiffWorkflow wraps a task that has boundary events in "<id>.BoundaryEventSplit/Join" tasks
    name = getattr(spec, "name", "") or ""
    return name.split(".", 1)[0] if "." in name else None


class Recorder:
    """Which BPMN flows and timers the engine traversed, noted the moment each task completes.

    The engine compacts finished history out of an instance's task tree (engine.state.compact), so
    the tree at the end of a walk no longer shows the whole path. Instead we watch SpiffWorkflow set
    tasks COMPLETED while the real engine runs: at that moment the task's parent is still there, and a
    flow source→target was taken when a task of the target completes as the child of a task of the source
    (over SpiffWorkflow's own wrapper tasks). A timer event fired when its task completed.
    """

    _active: Recorder | None = None
    _original = None

    def __init__(self):
        self.flows: set[tuple[str, str]] = set()
        self.timers: set[tuple[str, str]] = set()
        self.completed: list[tuple[str, str]] = []

    def note(self, task) -> None:
        pid = task.workflow.spec.name
        target = _bpmn_id(task)
        if target is None:
            return
        m = model()
        if (pid, target) in m.boundary_timers or (pid, target) in m.catch_timers:
            self.timers.add((pid, target))
        self.completed.append((pid, target))
        parent = task.parent
        while parent is not None and _bpmn_id(parent) == target and parent.task_spec is not task.task_spec:
            parent = parent.parent
        if parent is None:
            return
        flow = m.flows.get((pid, _bpmn_id(parent), target))
        if flow:
            self.flows.add((pid, flow))

    def __enter__(self):
        if Recorder._original is None:
            Recorder._original = Task._set_state

            def _set_state(task, value):
                was = task._state
                Recorder._original(task, value)
                if value == TaskState.COMPLETED and was != TaskState.COMPLETED and Recorder._active is not None:
                    Recorder._active.note(task)

            Task._set_state = _set_state
        Recorder._active = self
        return self

    def __exit__(self, *exc):
        Recorder._active = None
        return False


class Walk:
    """One walk through the library on one test database, with the clock frozen at ``start``."""

    def __init__(self, db, frozen, **autopilot):
        self.db = db
        self.clock = frozen
        self.repo = DefinitionRepository(db)
        self.version_id, _ = self.repo.deploy(compiled_library(), actor="tester")
        with db.session() as session:
            import_organisation(session, organisation_data(), known_roles=None)
        self.runtime = Runtime(db, self.repo)
        self.recorder = Recorder()
        self.pilot = Autopilot(self.runtime, boundary_timers=timers_by_task(), clock_source=frozen, **autopilot)

    # convenience passthroughs
    def start(self, process_key, data=None, actor=None, business_key=None):
        return self.pilot.start(process_key, data, actor=actor, business_key=business_key)

    def send(self, name, correlation_key, payload=None):
        return self.pilot.send(name, correlation_key, payload)

    def run(self, **kw):
        return self.pilot.run(**kw)

    def task(self, spec_id: str, process_key: str | None = None) -> HumanTask:
        tasks = [t for t in self.pilot.ready_tasks(spec_id) if process_key is None or t.process_key == process_key]
        assert tasks, (
            f"no ready task {spec_id}; ready: {[(t.process_key, t.spec_id) for t in self.pilot.ready_tasks()]}"
        )
        assert len(tasks) == 1, f"{len(tasks)} ready tasks {spec_id}"
        return tasks[0]

    def tasks(self, spec_id: str) -> list[HumanTask]:
        return self.pilot.ready_tasks(spec_id)

    def complete(self, spec_id: str, actor: str | None = None, **values):
        task = self.task(spec_id)
        self.pilot.complete(task, values, actor=actor)
        return task

    def until(self, spec_id: str, max_steps: int = 200) -> HumanTask:
        self.pilot.run(until=spec_id, max_steps=max_steps)
        return self.task(spec_id)

    def at(self, *args) -> None:
        """Move the clock to a local moment: at(2024, 3, 21) or at(2024, 3, 21, 15)."""
        y, m, d, *rest = args
        self.clock.set(dt.datetime(y, m, d, rest[0] if rest else 10, tzinfo=LOCAL))

    def instances(self, process_key: str | None = None) -> list[ProcessInstance]:
        with self.db.session() as session:
            q = select(ProcessInstance).order_by(ProcessInstance.id)
            if process_key:
                q = q.where(ProcessInstance.process_key == process_key)
            rows = session.scalars(q).all()
            for r in rows:
                session.expunge(r)
        return rows

    def done_specs(self) -> list[tuple[str, str]]:
        return [(s.process_key, s.spec_id) for s in self.pilot.steps if s.kind == "completed"]

    def __enter__(self):
        self.recorder.__enter__()
        return self

    def __exit__(self, *exc):
        return self.recorder.__exit__(*exc)


def local_date(moment: dt.datetime | None) -> dt.date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL).date()


def units(task: HumanTask) -> set[str]:
    return {c.unit_code for c in task.candidates}
