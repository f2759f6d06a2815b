"""Engine state in and out of the database, without the process spec.

SpiffWorkflow's serializer writes the whole spec into every instance (19 of a fresh instance's 23 KB)
and parses it back on every load. We keep specs once per deployed version, restored once per process
and cached, and store only the task tree and data per instance. Loading rebuilds the workflow around
the cached spec objects; the sandboxed script engine is attached every time, because SpiffWorkflow
does not serialize it and would otherwise fall back to its unrestricted default.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

_local = threading.local()


def serializer() -> BpmnWorkflowSerializer:
    """One serializer per thread: SpiffWorkflow's registry keeps mutable state while it works."""
    ser = getattr(_local, "serializer", None)
    if ser is None:
        ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        _local.serializer = ser
    return ser


def spec_to_dict(spec: Any) -> dict[str, Any]:
    converted: dict[str, Any] = serializer().registry.convert(spec)
    return converted


def spec_from_dict(dct: dict[str, Any]) -> Any:
    return serializer().registry.restore(dct)


def dump(workflow: BpmnWorkflow) -> bytes:
    """The stored state, without the messages thrown in this change.

    The runtime sends those (``workflow.get_events()``) in the same transaction as it stores the state;
    kept in the state, a message thrown by a step that the instance moves on from (a 巡察 round hands
    over a 直查快办 clue and goes on inspecting) would be sent again by every later change.
    """
    return orjson.dumps(to_dict(workflow))


def to_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """SpiffWorkflow's dictionary of the workflow without its specs, built without converting them.

    ``BpmnWorkflowSerializer.to_dict`` converts the whole process spec and every called process's spec
    (each task spec and its attributes) on every write, only for us to drop them: the same dictionary,
    key for key, is built here from the workflow converter's own parts (pinned by
    tests/engine/runtime/test_state_dump.py)."""
    registry = serializer().registry
    typename = registry.typenames[type(workflow)]
    converter = registry.convert_to_dict[typename].args[1].__self__
    assert isinstance(converter, WorkflowConverter)
    dct: dict[str, Any] = WorkflowConverter.to_dict(converter, workflow)
    dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = []
    dct["typename"] = typename
    dct["serializer_version"] = SERIALIZER_VERSION
    return dct


def load(state: bytes | str, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    ser = serializer()
    dct = orjson.loads(state)
    ser.migrate(dct)
    registry = ser.registry
    converter = registry.convert_from_dict[dct["typename"]].args[0].__self__
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    workflow.tasks = converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    converter.set_default_attributes(workflow, dct)
    converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    dct.pop("bpmn_events", None)  # sent when they were thrown (see dump); a state stored before kept them
    workflow.bpmn_events = []
    return workflow


# How many finished human steps above the live part the tree keeps: the steps an officer may 退回 to
# (engine/tasks/actions.py) through SpiffWorkflow's own reset, which needs the step and its parent in the tree.
RETURNABLE_STEPS = 8


def compact(workflow: BpmnWorkflow, keep_above: int = 2, keep_steps: int = RETURNABLE_STEPS) -> int:
    """Drop the finished history above the live part of the task tree; return how many tasks went.

    SpiffWorkflow keeps every completed task, so an instance's load, engine passes and save grow with
    its history (about 60 times slower after 1,000 completions) and a long-lived instance eventually
    hits the iterators' depth limit. Guantong keeps history in its own tables (human_task, submissions,
    audit), so the engine only needs the live part: we re-root each task tree a few levels above the
    deepest task that is an ancestor of every unfinished task (joins and boundary events look only
    below that point) and forget call-activity subprocesses whose calling task went with the history.
    The last ``keep_steps`` finished human steps above that point stay, with their parents, so that an
    officer can return the case to one of them (退回, 撤回) with ``reset_from_task_id``.
    """
    from SpiffWorkflow.util.task import TaskState

    removed = _compact_tree(workflow, keep_above, TaskState, keep_steps)
    for subprocess in list(workflow.subprocesses.values()):
        removed += _compact_tree(subprocess, keep_above, TaskState, keep_steps)
    while True:
        retained = set(workflow.tasks)
        for subprocess in workflow.subprocesses.values():
            retained.update(subprocess.tasks)
        orphans = [sp_id for sp_id in workflow.subprocesses if sp_id not in retained]
        if not orphans:
            break
        for sp_id in orphans:
            removed += len(workflow.subprocesses.pop(sp_id).tasks)
    return removed


def _compact_tree(wf: Any, keep_above: int, TaskState: Any, keep_steps: int = 0) -> int:
    live = [t for t in wf.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not live:
        return 0
    paths = []
    for task in live:
        path = []
        node = task
        while node is not None:
            path.append(node)
            node = node.parent
        paths.append(path[::-1])
    common = 0
    shortest = min(len(p) for p in paths)
    first = paths[0]
    while common < shortest and all(p[common] is first[common] for p in paths):
        common += 1
    new_root_index = max(0, common - 1 - keep_above)
    steps = 0
    for index in range(common - 1, 0, -1):
        if steps >= keep_steps:
            break
        node = first[index]
        if node.task_spec.manual and node.has_state(TaskState.COMPLETED):
            steps += 1
            new_root_index = min(new_root_index, index - 1)
    if new_root_index == 0:
        return 0
    new_root = first[new_root_index]
    kept = {}
    stack = [new_root]
    while stack:
        node = stack.pop()
        kept[node.id] = node
        stack.extend(child for child in node.children if child is not None)
    removed = len(wf.tasks) - len(kept)
    new_root._parent = None
    wf.task_tree = new_root
    wf.tasks = kept
    return removed
