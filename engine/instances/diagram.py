"""Where an instance stands on its diagram: per BPMN element, its state and who held it, when, how long.

The instance page (officers' and cockpit's) and ``GET /api/v1/instances/<id>/diagram`` draw the
deployed version's BPMN with bpmn-js and put a marker on each element: ``completed``, ``active`` (a
ready user task, or a call activity whose called process is running), ``waiting`` (a timer or message
catch event the engine waits on), ``overdue`` (an active task past its due date, counted in working days
when the task was created: engine/scheduling), ``failed`` (the element an automatic step failed on);
and the sequence flows taken (``path``).

Where the facts come from, and why not from the engine alone: Guantong compacts the engine's task tree
to its live part (engine/runtime/state.py ``compact``), so the engine state says what is running and
waiting now and what finished just before it, not the whole history. The rest is in our own tables:
``human_task`` (every user task, also of called processes, with its holder, times and due date) and the
audit trail (timers that fired). What neither holds (a gateway or script task that ran long ago) is
inferred from the diagram: an element reached by a single incoming flow was reached through it, so its
source ran too; a flow is taken when its source completed and its target was reached. The inference
never adds an element that did not run on a path with one way in, and a branch not taken stays unmarked.

What a person learns is cut to what the gate allows (the same ``level`` as the instance detail):
``full`` (the handling commission's lanes that read the whole file, and the cockpit's overseers, who see
metadata: names, times) — everything; ``status`` (the starter, or an overseer on the officer's page, who
may follow a matter but not read its file) — the markers and path, but no one's name and no error text;
``addressed`` (an outside lane that reads only what its open task declares) — its own tasks and the steps
whose records it reads, nothing of the path, waiting events or failures, which would tell it how the
case went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.definitions.xmlsafe import parse_xml
from engine.models import AuditEvent, DefinitionFile, ProcessDefinition
from engine.scheduling.workdays import WorkCalendar

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FULL, STATUS, ADDRESSED = "full", "status", "addressed"
MARKERS = ("completed", "active", "waiting", "overdue", "failed")


@dataclass(frozen=True)
class Visit:
    """One time a user task element was held: one ``human_task`` row."""

    task_id: int
    name: str
    status: str  # ready | completed | cancelled
    holder: str | None  # username of the assignee or completer (None where the level hides names)
    holder_name: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: int | None  # how long it was held (until now while open)
    workdays: int | None  # the same in working days (engine/scheduling)
    due_at: dt.datetime | None
    due_state: str  # none | ok | due_soon | overdue (ready tasks only)
    due_estimated: bool
    late: bool  # finished after its due date, or still open past it


@dataclass
class ElementState:
    id: str
    markers: set[str] = field(default_factory=set)
    visits: list[Visit] = field(default_factory=list)
    waiting_until: dt.datetime | None = None  # a waiting timer's moment
    error: str | None = None  # a failed step's message (full level only)


@dataclass(frozen=True)
class InstanceDiagram:
    instance_id: int
    process_key: str
    version: int
    filename: str
    xml: str
    level: str
    elements: dict[str, ElementState]
    path: list[str]  # the ids of the sequence flows taken

    def markers(self, marker: str) -> list[str]:
        return sorted(e.id for e in self.elements.values() if marker in e.markers)


@dataclass(frozen=True)
class Graph:
    """The instance's process as drawn: its flow nodes, sequence flows and call activities."""

    nodes: dict[str, str]  # id -> local tag name
    flows: dict[str, tuple[str, str]]  # id -> (source, target)
    attached: dict[str, str]  # boundary event -> the activity it sits on
    calls: dict[str, str]  # called process id -> the call activity's id

    def incoming(self, node: str) -> list[str]:
        return [f for f, (_, target) in self.flows.items() if target == node]


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def read_graph(xml: str, filename: str, process_key: str) -> Graph:
    """The process ``process_key`` of a BPMN file (parsed with the deploy's safe parser)."""
    root = parse_xml(xml, filename).getroot()
    process = next(
        (p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == process_key),
        None,
    )
    nodes: dict[str, str] = {}
    flows: dict[str, tuple[str, str]] = {}
    attached: dict[str, str] = {}
    calls: dict[str, str] = {}
    if process is None:
        return Graph(nodes, flows, attached, calls)
    for el in process.iter():
        if not isinstance(el.tag, str) or el is process or el.get("id") is None:
            continue
        tag, ident = _local(el), str(el.get("id"))
        if tag == "sequenceFlow":
            flows[ident] = (str(el.get("sourceRef")), str(el.get("targetRef")))
        elif tag in ("lane", "laneSet", "message", "textAnnotation", "association", "dataObject"):
            continue
        elif el.getparent() is not None and _local(el.getparent()) in ("process", "subProcess"):
            nodes[ident] = tag
            if tag == "boundaryEvent" and el.get("attachedToRef"):
                attached[ident] = str(el.get("attachedToRef"))
            if tag == "callActivity" and el.get("calledElement"):
                calls[str(el.get("calledElement"))] = ident
    return Graph(nodes, flows, attached, calls)


def called_processes(graph: Graph, loaded: Any) -> dict[str, str]:
    """Every process the instance's call activities run, directly or through other called processes,
    mapped to the call activity of the instance's own diagram under which it runs."""
    from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity

    found = dict(graph.calls)
    stack = list(graph.calls.items())
    while stack:
        process_id, top = stack.pop()
        if process_id not in loaded.catalogue:  # a called process outside this version: nothing to map
            continue
        for task_spec in loaded.spec(process_id).task_specs.values():
            if isinstance(task_spec, CallActivity) and task_spec.spec not in found:
                found[task_spec.spec] = top
                stack.append((task_spec.spec, top))
    return found


def definition_file(session: Session, version_id: int, process_key: str) -> tuple[str, str]:
    """(file name, BPMN XML) of the file that defines ``process_key`` in a deployed version."""
    row = session.execute(
        select(DefinitionFile.filename, DefinitionFile.content)
        .join(
            ProcessDefinition,
            (ProcessDefinition.version_id == DefinitionFile.version_id)
            & (ProcessDefinition.filename == DefinitionFile.filename),
        )
        .where(ProcessDefinition.version_id == version_id, ProcessDefinition.process_key == process_key)
        .limit(1)
    ).one()
    return str(row.filename), str(row.content)


def live_states(workflow: Any) -> tuple[dict[str, set[str]], dict[str, dt.datetime]]:
    """Markers from the engine's live task tree (the instance's own process, not called ones): what
    finished in the kept part, what runs or waits now, what is in error; and waiting timers' moments."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
    from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
    from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
    from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
    from SpiffWorkflow.util.task import TaskState

    markers: dict[str, set[str]] = {}
    until: dict[str, dt.datetime] = {}
    for task in workflow.tasks.values():
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        mark = markers.setdefault(bpmn_id, set())
        if task.state == TaskState.COMPLETED:
            mark.add("completed")
        elif task.state == TaskState.ERROR:
            mark.add("failed")
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            if isinstance(spec, SubWorkflowTask):
                mark.add("active")
            elif (
                isinstance(spec, CatchingEvent)
                and not isinstance(spec, BoundaryEvent)
                and task.state == TaskState.WAITING
            ):
                mark.add("waiting")
                definition = getattr(spec, "event_definition", None)
                if isinstance(definition, TimerEventDefinition):
                    value = task._get_internal_data("event_value")
                    value = value.get("next") if isinstance(value, dict) else value
                    try:
                        if isinstance(value, str):
                            until[bpmn_id] = TimerEventDefinition.get_datetime(value)
                    except (TypeError, ValueError):
                        pass
        if not mark:
            del markers[bpmn_id]
    return markers, until


def fired_timers(session: Session, instance_id: int) -> set[str]:
    """The timer elements the audit trail says fired (a deadline's boundary event, a waiting period)."""
    fired: set[str] = set()
    for detail in session.scalars(
        select(AuditEvent.detail).where(AuditEvent.instance_id == instance_id, AuditEvent.action == "timer_fired")
    ):
        fired.update(str(t) for t in (detail or {}).get("timers") or [])
    return fired


def infer_path(graph: Graph, markers: dict[str, set[str]]) -> list[str]:
    """Complete the history the compacted engine state no longer holds (see the module's docstring)
    and return the flows taken. ``markers`` is updated in place with the elements inferred completed."""
    reached = {n for n, m in markers.items() if m & {"completed", "active", "waiting", "failed", "overdue"}}
    stack = list(reached)
    while stack:
        node = stack.pop()
        incoming = graph.incoming(node)
        if len(incoming) != 1:
            continue
        source = graph.flows[incoming[0]][0]
        if source in graph.nodes and source not in reached:
            markers.setdefault(source, set()).add("completed")
            reached.add(source)
            stack.append(source)
    done = {n for n, m in markers.items() if "completed" in m}
    return sorted(f for f, (source, target) in graph.flows.items() if source in done and target in reached)


def build(
    *,
    instance_id: int,
    process_key: str,
    version_id: int,
    filename: str,
    xml: str,
    level: str,
    graph: Graph,
    calls: Mapping[str, str],
    tasks: Iterable[Any],
    names: Mapping[str, str],
    live: dict[str, set[str]],
    waiting_until: Mapping[str, dt.datetime],
    fired: set[str],
    error: Mapping[str, Any] | None,
    status: str,
    calendar: WorkCalendar,
    now: dt.datetime,
) -> InstanceDiagram:
    """The per-element states and the path, for ``level`` (``tasks``: the TaskLines the person may see
    of the instance, already cut by the need-to-know gate for an addressed reader)."""
    markers: dict[str, set[str]] = {}
    if level != ADDRESSED:
        for element, mark in live.items():
            if element in graph.nodes:
                markers.setdefault(element, set()).update(mark)
        for element in fired:
            if element in graph.nodes:
                markers.setdefault(element, set()).add("completed")
        if status == "error" and error and error.get("element") in graph.nodes:
            markers.setdefault(str(error["element"]), set()).add("failed")
    visits: dict[str, list[Visit]] = {}
    for t in tasks:
        target: str | None = t.spec_id if t.process_key == process_key else calls.get(t.process_key)
        if target is None or target not in graph.nodes:
            continue
        element = target
        holder = t.completed_by or t.assignee
        end = t.completed_at if t.status != "ready" else now
        late = t.due_at is not None and (end or now) > t.due_at and t.status != "cancelled"
        visits.setdefault(element, []).append(
            Visit(
                task_id=t.id,
                name=t.name,
                status=t.status,
                holder=holder if level == FULL else None,
                holder_name=names.get(holder, holder) if level == FULL and holder else None,
                started_at=t.created_at,
                finished_at=t.completed_at,
                seconds=int((end - t.created_at).total_seconds()) if end else None,
                workdays=calendar.workdays_between(_day(t.created_at), _day(end)) if end else None,
                due_at=t.due_at,
                due_state=t.due.state,
                due_estimated=t.due.estimated,
                late=late,
            )
        )
        mark = markers.setdefault(element, set())
        if t.status == "ready":
            mark.add("active")
            if t.due.state == "overdue":
                mark.add("overdue")
        elif t.status == "completed" and element == t.spec_id:
            mark.add("completed")
    for mark in markers.values():
        if mark & {"active", "waiting", "failed"}:
            mark.discard("completed")  # a loop's earlier pass: it stands here now
    path = infer_path(graph, markers) if level != ADDRESSED else []
    elements: dict[str, ElementState] = {}
    for element, mark in markers.items():
        if not mark:
            continue
        state = ElementState(id=element, markers=set(mark), visits=visits.get(element, []))
        state.waiting_until = waiting_until.get(element) if "waiting" in mark else None
        if "failed" in mark and level == FULL and error:
            state.error = str(error.get("message") or "")[:500] or None
        elements[element] = state
    for element, held in visits.items():
        elements.setdefault(element, ElementState(id=element, visits=held))
    return InstanceDiagram(
        instance_id=instance_id,
        process_key=process_key,
        version=version_id,
        filename=filename,
        xml=xml,
        level=level,
        elements=elements,
        path=path,
    )


def _day(moment: dt.datetime) -> dt.date:
    """The local (China) calendar day of a moment, the unit working days are counted in."""
    return moment.astimezone(clock.LOCAL_TZ).date()
