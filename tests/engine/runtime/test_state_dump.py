"""The stored state is SpiffWorkflow's own dictionary without the specs, built without converting them."""

from __future__ import annotations

import orjson
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.models import ProcessInstance
from engine.runtime import state
from tests.engine.bpmn_templates import caller_process, loop_process


def _spiffs_own(workflow) -> dict:
    """What the runtime stored before: the serializer's whole dictionary, specs dropped afterwards."""
    dct = state.serializer().to_dict(workflow)
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    dct["bpmn_events"] = []
    dct["serializer_version"] = SERIALIZER_VERSION
    return dct


def test_the_state_is_spiffworkflows_dictionary_without_the_specs(db, repo, runtime, library):
    from engine.definitions import compile_bundle

    repo.deploy(compile_bundle(library.with_bpmn("loop.bpmn", loop_process(5).encode())))
    outcome = runtime.start("gt_test_loop", data={"i": 0, "when": "2026-11-30"})
    with db.session() as s:
        row = s.get(ProcessInstance, outcome.instance_id)
    loaded = repo.loaded(row.version_id)
    workflow = runtime._load(row, loaded)
    built = state.to_dict(workflow)
    assert "spec" not in built and "subprocess_specs" not in built
    # Key for key and byte for byte what the serializer's own path gives (key order included).
    assert orjson.dumps(built) == orjson.dumps(_spiffs_own(workflow))
    assert state.dump(workflow) == orjson.dumps(_spiffs_own(workflow))
    # And it loads back into the same instance, which goes on.
    again = state.load(
        state.dump(workflow), loaded.spec("gt_test_loop"), loaded.subprocess_specs("gt_test_loop"), loaded.script_engine
    )
    assert {str(t.id) for t in again.get_tasks()} == {str(t.id) for t in workflow.get_tasks()}
    done = runtime.complete_task(outcome.created_tasks[0], actor=SYSTEM_PRINCIPAL, data={"approved": True})
    assert done.status == "completed"


def test_a_called_process_is_kept_as_the_serializer_keeps_it(db, repo, runtime, library):
    """An instance waiting inside a called process: its subprocess part is the serializer's own."""
    from engine.definitions import compile_bundle

    bundle = library.with_bpmn("loop.bpmn", loop_process(3).encode())
    repo.deploy(compile_bundle(bundle.with_bpmn("caller.bpmn", caller_process("gt_test_loop").encode())))
    outcome = runtime.start("gt_test_caller", data={"i": 0})
    with db.session() as s:
        row = s.get(ProcessInstance, outcome.instance_id)
    workflow = runtime._load(row, repo.loaded(row.version_id))
    assert workflow.subprocesses  # the called process runs as a subprocess of this instance
    assert state.dump(workflow) == orjson.dumps(_spiffs_own(workflow))
