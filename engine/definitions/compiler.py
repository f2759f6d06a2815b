"""Check a bundle against the BPMN schema and Guantong's rules, then parse it with SpiffWorkflow.

Nothing here touches the database. Every finding names the file, the element id and the reason, and
all findings are reported together so a designer can fix a file in one pass. Only a bundle with no
findings yields a ``CompiledBundle``; deploy stores that or nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.definitions import addressing, dataflow, lint
from engine.definitions.bundle import Bundle
from engine.definitions.xmlsafe import parse_xml
from engine.documents import catalogue as documents
from engine.errors import DeployError
from engine.numbering import sequences as numbering
from engine.runtime.sandbox import SandboxViolation, check_timer_expression, compile_expression, compile_script
from engine.scheduling.deadlines import inline_rule

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
BPMN = "{{{}}}".format(NS["bpmn"])

STAGES = {"goal", "discover", "dispose", "rectify"}
MECHANISMS = {"M1", "M2", "M3"}
PLATFORMS = {f"P{i}" for i in range(1, 9)} | {f"L{i}" for i in range(1, 5)} | {"M"}
RESERVED_KEYS = {"typename"}

USER_TASK_PROPS = {
    "formKey",
    "dueIn",
    "dueFrom",
    "unitVar",
    "assigneeVar",
    "stage",
    "platform",
    "mechanism",
    "separateFrom",
    "reads",
    "readsFiles",
    "separateFromSteps",
    "noDueReason",
}
# A role's reading scope (roles.yaml ``reads``): the whole file of the instances its tasks belong to, or
# only what each task declares (engine/access/need_to_know.py).
READS_FILE, READS_ADDRESSED = "file", "addressed"
READ_SCOPES = (READS_FILE, READS_ADDRESSED)
READS_NONE = "none"  # the declaration of a task that reads nothing earlier (only what its holder writes)


@dataclass
class CompiledBundle:
    bundle: Bundle
    bundle_hash: str
    specs: dict[str, dict[str, Any]]  # process id -> serialized spec
    catalogue: dict[str, dict[str, Any]]  # process id -> metadata (tags, lanes, tasks, events, dependencies)
    process_hashes: dict[str, str] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # shown and marked, not refusing the deploy

    def specs_json(self) -> str:
        return json.dumps(self.specs, ensure_ascii=False, separators=(",", ":"))


class RoleCatalogue:
    """Lane names (Chinese or code) to role codes."""

    def __init__(self, raw: dict[str, Any] | list[dict[str, Any]]):
        entries = raw.get("roles", raw) if isinstance(raw, dict) else raw
        if isinstance(entries, dict):
            entries = [{"code": code, **(value or {})} for code, value in entries.items()]
        self.roles: dict[str, dict[str, Any]] = {}
        self._by_name: dict[str, str] = {}
        for entry in entries or []:
            if not isinstance(entry, dict) or "code" not in entry:
                continue
            code = str(entry["code"])
            self.roles[code] = entry
            self._by_name[code] = code
            for name_key in ("zh", "name", "en", "ref"):
                if entry.get(name_key):
                    self._by_name[str(entry[name_key]).strip()] = code

    def resolve(self, lane_name: str | None) -> str | None:
        if not lane_name:
            return None
        return self._by_name.get(lane_name.strip())

    def reads(self, code: str | None) -> str:
        """The role's reading scope; a catalogue from before the rule (no ``reads``) reads the file, as
        every lane did then (deploy now refuses such a catalogue, so only old versions have one)."""
        value = (self.roles.get(code or "") or {}).get("reads")
        return value if value in READ_SCOPES else READS_FILE


def _check_roles(roles: RoleCatalogue, findings: _Findings) -> None:
    """Every role says what its tasks may read: no lane reads the file by default."""
    for code, entry in roles.roles.items():
        if entry.get("reads") not in READ_SCOPES:
            findings.add(
                "roles.yaml",
                code,
                f"role '{code}' must say what its tasks read: reads: file | addressed "
                f"(got {entry.get('reads')!r}; need-to-know, processes/CONVENTIONS.md)",
            )


def _props(element: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for prop in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name"):
            result[prop.get("name")] = prop.get("value", "")
    return result


def _text(element: Any, path: str) -> str | None:
    node = element.find(path, NS)
    return node.text.strip() if node is not None and node.text and node.text.strip() else None


class _Findings:
    """Every finding of one compilation; each names the file, the element (id and, once the files are
    read, its name: a designer looks for 撰写谈话函询情况报告, not t_report) and the reason, and the
    newer rules a ``code`` and ``params`` the studio says in the reader's language."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.trees: dict[str, Any] = {}

    def add(
        self,
        file: str,
        element: str | None,
        reason: str,
        code: str | None = None,
        params: dict[str, str] | None = None,
        *,
        warning: bool = False,
    ) -> None:
        item: dict[str, Any] = {"file": file, "element": element, "reason": reason}
        if code:
            item["code"], item["params"] = code, params or {}
        (self.warnings if warning else self.items).append(item)

    def named(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            tree = self.trees.get(item.get("file") or "")
            if tree is not None and item.get("element") and "name" not in item:
                found = tree.getroot().xpath("//*[@id=$id]", id=item["element"])
                item["name"] = (found[0].get("name") or "").strip() or None if found else None
        return items

    def raise_if_any(self, what: str) -> None:
        if self.items:
            raise DeployError(
                f"{what}: {len(self.items)} problem(s) found; nothing was deployed",
                problems=self.named(self.items),
                warnings=self.named(self.warnings) or None,
            )


def _check_forms(bundle: Bundle, findings: _Findings) -> None:
    for key, schema in bundle.forms.items():
        file = f"forms/{key}.json"
        if not isinstance(schema, dict):
            findings.add(file, None, "a form must be a JSON object (a JSON Schema)")
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            findings.add(file, "/".join(map(str, exc.path)) or None, f"not a valid JSON Schema: {exc.message}")
        for name in schema.get("properties") or {}:
            if name in RESERVED_KEYS or name.startswith("_"):
                findings.add(file, name, f"field name '{name}' is reserved")


def _check_settings(bundle: Bundle, findings: _Findings) -> None:
    from engine.scheduling.deadlines import DeadlinePolicy

    try:
        DeadlinePolicy(bundle.settings)
    except (ValueError, TypeError) as exc:
        findings.add("settings.yaml", None, str(exc))
    try:
        numbering.rules(bundle.settings)
    except ValueError as exc:
        findings.add("settings.yaml", "numbering", str(exc))
    for file, name, reason in numbering.check_forms(bundle.forms, bundle.settings):
        findings.add(file, name, reason)
    for element, reason in documents.check(bundle.forms, bundle.settings):
        findings.add("settings.yaml", element, reason)


def compile_bundle(bundle: Bundle) -> CompiledBundle:
    findings = _Findings()
    if not bundle.bpmn:
        findings.add("-", None, "no BPMN files to deploy")
        findings.raise_if_any("deploy refused")
    roles = RoleCatalogue(bundle.roles)
    _check_roles(roles, findings)
    _check_forms(bundle, findings)
    _check_settings(bundle, findings)
    deadlines = set((bundle.settings.get("deadlines") or {}).keys())
    schedules = set((bundle.settings.get("schedules") or {}).keys())

    trees: dict[str, etree._ElementTree] = {}
    for filename, content in sorted(bundle.bpmn.items()):
        try:
            tree = parse_xml(content, filename)
        except DeployError as exc:
            findings.items.extend(exc.problems)
            continue
        try:
            VALIDATOR.validate(tree.getroot(), filename)
        except ValidationException as exc:
            findings.add(
                filename,
                getattr(exc, "id", None) or None,
                f"does not conform to the BPMN schema (line {getattr(exc, 'line_number', '?')}): {exc}",
            )
            continue
        trees[filename] = tree
    findings.trees = trees

    process_files: dict[str, str] = {}
    for filename, tree in trees.items():
        for process in tree.getroot().iterfind("bpmn:process", NS):
            pid = process.get("id")
            if pid in process_files:
                findings.add(filename, pid, f"process id already defined in {process_files[pid]}")
            process_files[pid] = filename

    catalogue: dict[str, dict[str, Any]] = {}
    for filename, tree in trees.items():
        messages = {m.get("id"): (m.get("name") or m.get("id")) for m in tree.getroot().iterfind("bpmn:message", NS)}
        for process in tree.getroot().iterfind("bpmn:process", NS):
            catalogue[process.get("id")] = _describe_process(
                filename, process, messages, roles, bundle, deadlines, schedules, process_files, findings
            )
    called = {c for meta in catalogue.values() for c in meta["calls"]}
    _check_separation(catalogue, process_files, findings)
    addressing.check(bundle.forms, trees, findings.add)
    for pid, meta in catalogue.items():
        entry = meta.pop("entry")
        if entry is None:
            # Not said: a process nobody calls, started by a person or a message or the scheduler.
            meta["executable"] = pid not in called
        else:
            meta["executable"] = entry == "true"
    _check_flow(trees, bundle, roles, catalogue, findings)
    findings.raise_if_any("deploy refused")

    parser = SpiffBpmnParser()
    try:
        for filename, tree in trees.items():
            parser.add_bpmn_xml(tree.getroot(), filename=filename)
    except ValidationException as exc:
        findings.add(exc.file_name or "?", getattr(exc, "id", None) or None, str(exc))
        findings.raise_if_any("deploy refused")

    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    specs: dict[str, dict[str, Any]] = {}
    for pid, filename in process_files.items():
        try:
            spec = parser.get_spec(pid)
            deps = parser.get_subprocess_specs(pid)
        except (ValidationException, SpiffWorkflowException) as exc:
            findings.add(getattr(exc, "file_name", None) or filename, getattr(exc, "id", None) or pid, str(exc))
            continue
        catalogue[pid]["dependencies"] = sorted(deps)
        specs[pid] = registry.convert(spec)
    findings.raise_if_any("deploy refused")

    process_hashes = {}
    for pid, meta in catalogue.items():
        h = hashlib.sha256()
        h.update(json.dumps(specs[pid], sort_keys=True, default=str).encode())
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        for form_key in sorted({t.get("form_key") for t in meta["tasks"].values() if t.get("form_key")}):
            h.update(json.dumps(bundle.forms.get(form_key), sort_keys=True).encode())
        process_hashes[pid] = h.hexdigest()
    return CompiledBundle(
        bundle=bundle,
        bundle_hash=bundle.content_hash(),
        specs=specs,
        catalogue=catalogue,
        process_hashes=process_hashes,
        warnings=findings.named(findings.warnings),
    )


def _check_flow(
    trees: dict[str, Any],
    bundle: Bundle,
    roles: RoleCatalogue,
    catalogue: dict[str, dict[str, Any]],
    findings: _Findings,
) -> None:
    """The structural rules (lint.py) and the data flow (dataflow.py) over every process together: a
    variable set in a caller and read in the process it calls is followed across the call."""
    for severity, found in lint.check(trees):
        findings.add(
            found.file, found.element, found.reason, found.code, found.params, warning=severity == lint.WARNING
        )
    owner = {str(e["owner_var"]) for e in roles.roles.values() if isinstance(e, dict) and e.get("owner_var")}
    executable = {pid: bool(meta.get("executable")) for pid, meta in catalogue.items()}
    for found in dataflow.check(trees, bundle.forms, owner, executable):
        findings.add(found.file, found.element, found.reason, found.code, found.params)


def _check_separation(catalogue: dict[str, dict[str, Any]], process_files: dict[str, str], findings: _Findings) -> None:
    """Every ``separateFromSteps`` entry names a user task of this deployment (``process:step``): a typo
    would silently separate from nobody."""
    for pid, meta in catalogue.items():
        for eid, task in meta["tasks"].items():
            for ref in task.get("separate_steps") or []:
                process, _, step = ref.partition(":")
                if step not in (catalogue.get(process) or {}).get("tasks", {}):
                    findings.add(
                        process_files.get(pid, pid),
                        eid,
                        f"separateFromSteps names '{ref}', which is not a user task of this deployment",
                    )


def _describe_process(
    filename: str,
    process: Any,
    messages: dict[str, str],
    roles: RoleCatalogue,
    bundle: Bundle,
    deadlines: set[str],
    schedules: set[str],
    process_files: dict[str, str],
    findings: _Findings,
) -> dict[str, Any]:
    pid = process.get("id")
    props = _props(process)
    meta = {
        "id": pid,
        "name": process.get("name") or pid,
        "file": filename,
        "entry": props.get("entry"),
        "stage": props.get("stage"),
        "mechanism": props.get("mechanism"),
        "platform": props.get("platform"),
        "business_key_var": props.get("businessKey"),
        "lanes": {},
        "tasks": {},
        "start": {"kind": "none"},
        "catch_messages": {},
        "throw_messages": {},
        "calls": [],
    }
    if meta["entry"] not in (None, "true", "false"):
        findings.add(filename, pid, "process property 'entry' must be 'true' or 'false'")
    if meta["stage"] not in STAGES:
        findings.add(filename, pid, f"process property 'stage' must be one of {sorted(STAGES)}, got {meta['stage']!r}")
    if meta["mechanism"] is not None and meta["mechanism"] not in MECHANISMS:
        findings.add(filename, pid, f"process property 'mechanism' must be one of {sorted(MECHANISMS)}")
    if meta["platform"] not in PLATFORMS:
        findings.add(
            filename, pid, f"process property 'platform' must be one of P1..P8, L1..L4 or M, got {meta['platform']!r}"
        )

    lane_of: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        name = (lane.get("name") or "").strip()
        role = roles.resolve(name)
        if role is None:
            findings.add(filename, lane.get("id"), f"lane '{name}' is not a role in roles.yaml")
        else:
            meta["lanes"][lane.get("id")] = {"name": name, "role": role}
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lane_of[ref.text.strip()] = lane.get("id")

    outgoing: dict[str, list[Any]] = {}
    for flow in process.iter(BPMN + "sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        condition = _text(flow, "bpmn:conditionExpression")
        if condition:
            _compile(findings, filename, flow.get("id"), condition, "condition")

    for element in process.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname
        eid = element.get("id")
        if tag in ("exclusiveGateway", "inclusiveGateway"):
            flows = outgoing.get(eid, [])
            if len(flows) > 1 and not element.get("default"):
                findings.add(filename, eid, f"{tag} has {len(flows)} outgoing flows but no default flow")
            for flow in flows:
                if (
                    len(flows) > 1
                    and flow.get("id") != element.get("default")
                    and _text(flow, "bpmn:conditionExpression") is None
                ):
                    findings.add(
                        filename, flow.get("id"), "a flow out of a gateway needs a condition (or be the default)"
                    )
        elif tag == "scriptTask":
            script = _text(element, "bpmn:script")
            if script:
                _compile(findings, filename, eid, script, "script")
        elif tag == "userTask":
            meta["tasks"][eid] = _describe_user_task(
                filename, element, lane_of, meta, roles, bundle, deadlines, findings
            )
        elif tag == "manualTask":
            meta["tasks"][eid] = _describe_user_task(
                filename, element, lane_of, meta, roles, bundle, deadlines, findings, require_form=False
            )
        elif tag == "callActivity":
            called = element.get("calledElement")
            if not called or called not in process_files:
                findings.add(
                    filename, eid, f"call activity calls '{called}', which is not a process in this deployment"
                )
            else:
                meta["calls"].append(called)
        elif tag == "timerEventDefinition":
            parent = element.getparent()
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                expr = _text(element, f"bpmn:{kind}")
                if expr is None:
                    continue
                try:
                    key = check_timer_expression(expr)
                except SandboxViolation as exc:
                    findings.add(filename, parent.get("id"), f"timer expression {expr!r}: {exc}")
                    continue
                fn = expr.strip().split("(", 1)[0]
                if fn == "schedule":
                    if key not in schedules:
                        findings.add(
                            filename,
                            parent.get("id"),
                            f"timer uses schedule '{key}', which is not in settings.yaml schedules",
                        )
                elif key not in deadlines:
                    findings.add(
                        filename,
                        parent.get("id"),
                        f"timer uses deadline '{key}', which is not in settings.yaml deadlines",
                    )
                if etree.QName(parent).localname == "startEvent":
                    meta["start"] = {"kind": "timer", "schedule": key}
        elif tag == "messageEventDefinition":
            parent = element.getparent()
            ref = element.get("messageRef")
            name = messages.get(ref, ref)
            parent_tag = etree.QName(parent).localname
            pprops = _props(parent)
            if parent_tag in ("startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask"):
                meta["catch_messages"][parent.get("id")] = {
                    "message": name,
                    "correlation_var": pprops.get("correlationVar"),
                }
                if parent_tag == "startEvent":
                    meta["start"] = {"kind": "message", "message": name}
            else:
                meta["throw_messages"][parent.get("id")] = {
                    "message": name,
                    "correlation_var": pprops.get("correlationVar"),
                }
        elif tag == "multiInstanceLoopCharacteristics":
            for sub in ("loopCardinality", "completionCondition"):
                expr = _text(element, f"bpmn:{sub}")
                if expr:
                    _compile(findings, filename, element.getparent().get("id"), expr, sub)
        elif tag in ("preScript", "postScript") and element.text and element.text.strip():
            _compile(findings, filename, element.getparent().getparent().get("id"), element.text, "script")
    _check_reads(filename, meta, bundle, findings)
    return meta


def _parse_reads(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _check_reads(filename: str, meta: dict[str, Any], bundle: Bundle, findings: _Findings) -> None:
    """The need-to-know rule of each task (regulations §6.4): a task in an ``addressed`` lane declares
    what it reads (``reads``: earlier steps of this process, or single fields ``step.field``; or
    ``none``) and whose uploads it sees (``readsFiles``); every name must be a step of this process and a
    field of that step's form. A task in a ``file`` lane reads the file and declares nothing."""
    tasks = meta["tasks"]
    for eid, task in tasks.items():
        declared, files = task.pop("_reads"), task.pop("_reads_files")
        if task["reads_scope"] != READS_ADDRESSED:
            if declared or files:
                findings.add(
                    filename,
                    eid,
                    f"lane '{task['lane']}' reads the whole file (roles.yaml reads: file); "
                    "'reads'/'readsFiles' apply to addressed lanes only",
                )
            continue
        if not declared:
            findings.add(
                filename,
                eid,
                f"task in lane '{task['lane']}' (roles.yaml reads: addressed) must declare what it reads: "
                "property 'reads' = earlier step ids or step.field of this process, or 'none' "
                "(need-to-know, processes/CONVENTIONS.md)",
            )
            continue
        reads: dict[str, list[str] | None] = {}
        if READS_NONE in declared and len(declared) > 1:
            findings.add(filename, eid, "reads 'none' cannot be combined with step names")
        elif declared != (READS_NONE,):
            for item in declared:
                step, _, name = item.partition(".")
                target = tasks.get(step) if step != eid else None
                if target is None:
                    findings.add(
                        filename, eid, f"reads '{item}': '{step}' is not another user task of process {meta['id']}"
                    )
                    continue
                if name:
                    schema = bundle.forms.get(target.get("form_key") or "")
                    fields = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
                    if name not in fields:
                        findings.add(
                            filename,
                            eid,
                            f"reads '{item}': the form '{target.get('form_key')}' of step '{step}' has no field '{name}'",
                        )
                        continue
                    if step not in reads or reads[step] is not None:
                        reads[step] = sorted({*(reads.get(step) or []), name})
                else:
                    reads[step] = None  # the whole record
        for step in files:
            if step == eid or step not in tasks:
                findings.add(filename, eid, f"readsFiles '{step}' is not another user task of process {meta['id']}")
        task["reads"] = reads
        task["reads_files"] = sorted({step for step in files if step in tasks and step != eid})


def _describe_user_task(
    filename: str,
    element: Any,
    lane_of: dict[str, str],
    meta: dict[str, Any],
    roles: RoleCatalogue,
    bundle: Bundle,
    deadlines: set[str],
    findings: _Findings,
    require_form: bool = True,
) -> dict[str, Any]:
    eid = element.get("id")
    props = _props(element)
    lane_id = lane_of.get(eid)
    lane = meta["lanes"].get(lane_id) if lane_id else None
    if lane_id is None:
        findings.add(filename, eid, "a user task must sit in a lane (the lane names the role that does it)")
    unknown = set(props) - USER_TASK_PROPS
    if unknown:
        findings.add(filename, eid, f"unknown task properties {sorted(unknown)}; allowed: {sorted(USER_TASK_PROPS)}")
    form_key = props.get("formKey")
    if require_form and not form_key:
        findings.add(filename, eid, "user task has no formKey property")
    elif form_key and form_key not in bundle.forms:
        findings.add(filename, eid, f"form '{form_key}' not found (expected forms/{form_key}.json)")
    due = props.get("dueIn")
    if due and due not in deadlines and inline_rule(due) is None:
        findings.add(
            filename,
            eid,
            f"dueIn '{due}' is not a deadline in settings.yaml (nor a duration such as '5 workdays', '3 months')",
        )
    if props.get("stage") and props["stage"] not in STAGES:
        findings.add(filename, eid, f"task property 'stage' must be one of {sorted(STAGES)}")
    instructions = element.find("bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS)
    separate = [v.strip() for v in (props.get("separateFrom") or "").split(",") if v.strip()]
    own_process = next(element.iterancestors(BPMN + "process")).get("id")
    steps = [
        step if ":" in step else f"{own_process}:{step}"
        for step in (v.strip() for v in (props.get("separateFromSteps") or "").split(","))
        if step
    ]
    return {
        "reads_scope": roles.reads(lane["role"]) if lane else READS_FILE,
        "_reads": _parse_reads(props.get("reads")),  # checked once every task of the process is known
        "_reads_files": _parse_reads(props.get("readsFiles")),
        "name": element.get("name") or eid,
        "lane": lane["name"] if lane else None,
        "role": lane["role"] if lane else None,
        "form_key": form_key,
        "due_in": due,
        "due_from": props.get("dueFrom"),
        "unit_var": props.get("unitVar"),
        "assignee_var": props.get("assigneeVar"),
        "separate_from": separate,
        "separate_steps": steps,
        "stage": props.get("stage") or meta["stage"],
        "mechanism": props.get("mechanism") or meta["mechanism"],
        "platform": props.get("platform") or meta["platform"],
        "instructions": (instructions.text or "").strip() if instructions is not None else "",
        "multi_instance": element.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None,
    }


def _compile(findings: _Findings, filename: str, element_id: str | None, source: str, kind: str) -> None:
    try:
        if kind == "script":
            compile_script(source)
        else:
            compile_expression(source)
    except SandboxViolation as exc:
        findings.add(filename, element_id, f"{kind} {source.strip()!r} refused: {exc}")
