"""The library's files are its source: each one is read here as the engine and the studio read it.

Designers edit ``processes/bpmn/*.bpmn`` in the studio or in a BPMN modeler and ``processes/forms/*.json``
as JSON; nothing generates them any more (tools/bpmn_layout only re-lays out a diagram a designer names).
So what a generator used to guarantee is checked on the files themselves:

- each BPMN file conforms to the BPMN schema and SpiffWorkflow's parser (the engine's own
  ``SpiffBpmnParser``) turns every one of its flow elements into a task spec;
- each ``formKey`` a user task names has its form file, which is a valid JSON Schema (2020-12, what the
  engine validates submissions with), and no form file is left over that no task names;
- a message that starts another process carries every owner unit variable (roles.yaml ``owner_var``), so
  the new instance's tasks reach the same commission (the generator used to append them).

That every file also opens in bpmn-js without a warning is ``test_render.py`` (one browser, all files).
"""

from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .driver import BPMN_FILES, PROCESSES

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FORMS = PROCESSES / "forms"
# Flow elements SpiffWorkflow turns into task specs (lanes, flows and data are not tasks).
FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "intermediateThrowEvent",
    "intermediateCatchEvent",
    "boundaryEvent",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "task",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
}


def _tree(path: Path):
    return etree.parse(str(path))


@lru_cache(maxsize=1)
def _parser() -> SpiffBpmnParser:
    """Every file added to one parser, as deploy does: call activities resolve across files."""
    parser = SpiffBpmnParser()
    for path in BPMN_FILES:
        parser.add_bpmn_xml(_tree(path).getroot(), filename=path.name)
    return parser


def test_the_library_is_read_from_its_folder():
    assert len(BPMN_FILES) >= 30, "processes/bpmn lost its files"
    assert len(list(FORMS.rglob("*.json"))) >= 100, "processes/forms lost its files"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_every_file_parses_in_spiffworkflow(path):
    root = _tree(path).getroot()
    VALIDATOR.validate(root, path.name)  # raises with the line on a schema violation
    processes = root.findall("bpmn:process", NS)
    assert processes, f"{path.name} defines no process"
    for process in processes:
        spec = _parser().get_spec(process.get("id"))
        elements = {
            el.get("id")
            for el in process.iter()
            if isinstance(el.tag, str) and etree.QName(el).localname in FLOW_NODE_TAGS
        }
        missing = elements - set(spec.task_specs)
        assert not missing, f"{path.name}: SpiffWorkflow made no task of {sorted(missing)}"
        assert len(elements) > 2, f"{path.name}: {process.get('id')} is empty"


def _form_keys() -> dict[str, list[str]]:
    """formKey -> the tasks (file:id) that name it."""
    keys: dict[str, list[str]] = {}
    for path in BPMN_FILES:
        for prop in _tree(path).getroot().iterfind(".//spiffworkflow:property[@name='formKey']", NS):
            task = prop.getparent().getparent().getparent()
            keys.setdefault(prop.get("value"), []).append(f"{path.name}:{task.get('id')}")
    return keys


FORM_KEYS = _form_keys()


@pytest.mark.parametrize("key", sorted(FORM_KEYS))
def test_every_referenced_form_is_a_json_schema(key):
    file = FORMS / f"{key}.json"
    assert file.is_file(), f"forms/{key}.json is missing (named by {FORM_KEYS[key]})"
    schema = json.loads(file.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object" and schema.get("properties"), f"forms/{key}.json has no fields"
    assert schema.get("title"), f"forms/{key}.json has no title (the task page's heading)"


def test_no_form_file_is_left_without_a_task():
    files = {p.relative_to(FORMS).with_suffix("").as_posix() for p in FORMS.rglob("*.json")}
    assert len(FORM_KEYS) > 100
    assert files - set(FORM_KEYS) == set(), "form files no user task names (delete them or name them)"


def _owner_vars() -> set[str]:
    roles = yaml.safe_load((PROCESSES / "roles.yaml").read_text(encoding="utf-8"))["roles"]
    return {r["owner_var"] for r in roles if r.get("owner_var")}


def _starting_payloads():
    """(file, element id, message, payload expression) of every payload sent with a message that starts a process."""
    starts, sent = set(), []
    for path in BPMN_FILES:
        root = _tree(path).getroot()
        names = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("bpmn:message", NS)}
        for definition in root.iterfind(".//bpmn:startEvent/bpmn:messageEventDefinition", NS):
            starts.add(names.get(definition.get("messageRef")))
        for payload in root.iterfind(".//spiffworkflow:messagePayload", NS):
            carrier = payload.getparent().getparent()  # a send task or a message event definition
            sent.append((path.name, carrier.get("id"), names.get(carrier.get("messageRef")), payload.text or ""))
    return [item for item in sent if item[2] in starts]


def test_messages_that_start_a_process_carry_the_owner_units():
    owner = _owner_vars()
    payloads = _starting_payloads()
    assert len(owner) >= 5 and len(payloads) >= 10
    wrong = []
    for file, element, message, expression in payloads:
        body = ast.parse(expression.strip(), mode="eval").body
        keys = {k.value for k in body.keys if isinstance(k, ast.Constant)} if isinstance(body, ast.Dict) else set()
        if owner - keys:
            wrong.append(f"{file}:{element} ({message}) lacks {sorted(owner - keys)}")
    assert not wrong, "a started process would lose its owning commission:\n  " + "\n  ".join(wrong)


def test_no_file_sends_its_reader_to_a_generator():
    """A file that said "generated from a description, edit that and regenerate" would send a designer to
    sources that no longer exist; the files are the sources now."""
    stale = [p.name for p in BPMN_FILES if "tools/bpmn_layout/specs" in p.read_text(encoding="utf-8")]
    assert not stale, f"remove the generator's note (the first comment) from {stale}"


def _approval_routes():
    """(file, task id, whether its refusal goes back) for every user task with the approval form."""
    for path in BPMN_FILES:
        root = _tree(path).getroot()
        elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
        flows = list(root.iter(f"{{{NS['bpmn']}}}sequenceFlow"))
        for prop in root.iterfind(".//bpmn:userTask//spiffworkflow:property[@name='formKey'][@value='approval']", NS):
            task = prop.getparent().getparent().getparent()
            after = [elements[f.get("targetRef")] for f in flows if f.get("sourceRef") == task.get("id")]
            refuses = False
            for gateway in after:
                if etree.QName(gateway).localname != "exclusiveGateway" or not gateway.get("default"):
                    continue
                conditions = [
                    (f.findtext("bpmn:conditionExpression", default="", namespaces=NS) or "").strip()
                    for f in flows
                    if f.get("sourceRef") == gateway.get("id")
                ]
                refuses = "decision == 'reject'" in conditions
            yield path.name, task.get("id"), len(after) == 1 and refuses


def test_every_approval_can_refuse():
    """CONVENTIONS.md "不同意": an approval task leads straight to a "同意？" gateway whose default goes on
    and whose ``decision == 'reject'`` flow goes back. The retired generator drew that pair from one
    attribute; now it is drawn in the file, so a step added in the studio without it is caught here."""
    routes = list(_approval_routes())
    assert len(routes) >= 30
    missing = [f"{file}:{task}" for file, task, refuses in routes if not refuses]
    assert not missing, f"approval tasks whose 不同意 goes nowhere: {missing}"
