"""Engine state in and out of the database, without the process spec.

SpiffWorkflow's serializer writes the whole spec into every instance (19 of a fresh instance's 23 KB)
and parses it back on every load. We keep specs once per deployed version, restored once per process
and cached, and store only the task tree and data per instance. Loading rebuilds the workflow around
the cached spec objects; the sandboxed script engine is attached every time, because SpiffWorkflow
does not serialize it and would otherwise fall back to its unrestricted default.
"""
from __future__ import annotations

import threading
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
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


def spec_to_dict(spec) -> dict:
    return serializer().registry.convert(spec)


def spec_from_dict(dct: dict):
    return serializer().registry.restore(dct)


def dump(workflow: BpmnWorkflow) -> bytes:
    dct = serializer().to_dict(workflow)
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    dct["serializer_version"] = SERIALIZER_VERSION
    return orjson.dumps(dct)


def load(state: bytes | str, spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
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
    workflow.bpmn_events = registry.restore(dct.pop("bpmn_events", []))
    return workflow
