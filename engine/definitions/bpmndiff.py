"""What changed between two versions of a BPMN file and its forms, element by element (the studio's 对比).

A text diff of two BPMN files mostly shows moved shapes and re-ordered attributes; a designer and the
approver of a deploy need to read "task 撰写谈话函询情况报告 removed, flow re-joined, the time limit of
审批情况报告 changed from 3 to 5 working days". So the files are read (xmlsafe, no DTD) and every element
of the processes that has an id — tasks, events, gateways, flows, lanes, the process itself — is
compared by id on the properties that change behaviour: its type, name, the references it makes
(source, target, default flow, called process, attached task), its condition, scripts, timers, message
payload and variable, multi-instance settings, its lane, and each of Guantong's extension properties
(``formKey``, ``dueIn``, ``unitVar`` …) on its own. Diagram positions (BPMN DI) are not compared.

Forms are compared field by field (added, removed, changed with the changed keys), and a form's
``required`` list as a property of the form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.definitions.xmlsafe import parse_xml

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
REFERENCES = ("sourceRef", "targetRef", "default", "calledElement", "attachedToRef", "cancelActivity", "messageRef")
TEXTS = {
    "condition": "bpmn:conditionExpression",
    "script": "bpmn:script",
    "preScript": "bpmn:extensionElements/spiffworkflow:preScript",
    "postScript": "bpmn:extensionElements/spiffworkflow:postScript",
    "instructions": "bpmn:extensionElements/spiffworkflow:instructionsForEndUser",
    "messagePayload": "bpmn:extensionElements/spiffworkflow:messagePayload",
    "documentation": "bpmn:documentation",
}


@dataclass(frozen=True)
class Change:
    """One property of an element: its value before and after (None: not set)."""

    property: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ElementChange:
    id: str
    kind: str  # the BPMN element type, e.g. userTask, sequenceFlow
    name: str | None
    change: str  # added, removed, changed
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class FormChange:
    form: str
    change: str  # added, removed, changed
    fields_added: tuple[str, ...] = ()
    fields_removed: tuple[str, ...] = ()
    fields_changed: tuple[tuple[str, tuple[Change, ...]], ...] = ()
    changes: tuple[Change, ...] = ()  # of the form itself (title, required)


@dataclass(frozen=True)
class BpmnDiff:
    elements: tuple[ElementChange, ...] = ()
    forms: tuple[FormChange, ...] = ()
    unreadable: tuple[str, ...] = field(default_factory=tuple)  # "a"/"b": a side that is not valid XML

    def of(self, change: str) -> tuple[ElementChange, ...]:
        return tuple(e for e in self.elements if e.change == change)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.of("added")),
            "removed": len(self.of("removed")),
            "changed": len(self.of("changed")),
            "forms": len(self.forms),
        }


def _text(element: Any, path: str) -> str | None:
    node = element.find(path, NS)
    return node.text.strip() if node is not None and node.text and node.text.strip() else None


def describe(element: Any, lane_of: Mapping[str, str]) -> dict[str, str]:
    """The properties of one element that the comparison looks at, as strings."""
    props: dict[str, str] = {}
    if element.get("name"):
        props["name"] = element.get("name").strip()
    for ref in REFERENCES:
        if element.get(ref) is not None:
            props[ref] = element.get(ref)
    if etree.QName(element).localname == "boundaryEvent":
        props["cancelActivity"] = element.get("cancelActivity", "true")  # BPMN's default; bpmn-js omits it
    for key, path in TEXTS.items():
        value = _text(element, path)
        if value is not None:
            props[key] = value
    for prop in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name"):
            props[f"property:{prop.get('name')}"] = prop.get("value", "")
    for definition in element:
        if not isinstance(definition.tag, str):
            continue
        local = etree.QName(definition).localname
        if local == "timerEventDefinition":
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                value = _text(definition, f"bpmn:{kind}")
                if value is not None:
                    props[f"timer:{kind}"] = value
        elif local == "messageEventDefinition":
            props["message"] = definition.get("messageRef") or ""
            for key in ("messagePayload", "messageVariable"):
                value = _text(definition, f"bpmn:extensionElements/spiffworkflow:{key}")
                if value is not None:
                    props[key] = value
        elif local == "multiInstanceLoopCharacteristics":
            props["multiInstance"] = "sequential" if definition.get("isSequential") == "true" else "parallel"
            for key in ("loopDataInputRef", "loopDataOutputRef", "loopCardinality", "completionCondition"):
                value = _text(definition, f"bpmn:{key}")
                if value is not None:
                    props[f"multiInstance:{key}"] = value
    if element.get("id") in lane_of:
        props["lane"] = lane_of[element.get("id")]
    return props


def elements(content: str | bytes | None, filename: str = "-") -> dict[str, tuple[str, dict[str, str]]] | None:
    """id -> (element type, properties) of every element with an id inside the file's processes; None
    when the content is not a readable BPMN file."""
    if content is None:
        return {}
    try:
        tree = parse_xml(content if isinstance(content, bytes) else content.encode("utf-8"), filename)
    except Exception:  # any unreadable side is reported as such, never a 500
        return None
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for process in tree.getroot().iterfind("bpmn:process", NS):
        lane_of: dict[str, str] = {}
        for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                if ref.text:
                    lane_of[ref.text.strip()] = (lane.get("name") or lane.get("id") or "").strip()
        found[process.get("id")] = ("process", describe(process, {}))
        for element in process.iter():
            if element is process or not isinstance(element.tag, str) or not element.get("id"):
                continue
            local = etree.QName(element).localname
            if local.endswith("EventDefinition") or local in ("inputDataItem", "outputDataItem", "laneSet"):
                continue  # described with the element that holds them
            found[element.get("id")] = (local, describe(element, lane_of))
    return found


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    return tuple(
        Change(key, _shown(before.get(key)), _shown(after.get(key)))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    )


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_files(old: str | bytes | None, new: str | bytes | None, filename: str = "-") -> BpmnDiff:
    """Elements added, removed and changed from ``old`` to ``new`` (None: the file is missing there)."""
    a, b = elements(old, filename), elements(new, filename)
    unreadable = tuple(side for side, got in (("a", a), ("b", b)) if got is None)
    a, b = a or {}, b or {}
    result: list[ElementChange] = []
    for eid in sorted(set(a) | set(b), key=lambda i: (i not in a, i not in b, i)):
        if eid not in a:
            kind, props = b[eid]
            result.append(ElementChange(eid, kind, props.get("name"), "added"))
        elif eid not in b:
            kind, props = a[eid]
            result.append(ElementChange(eid, kind, props.get("name"), "removed"))
        else:
            changes = _changes(a[eid][1], b[eid][1])
            if a[eid][0] != b[eid][0]:
                changes = (Change("type", a[eid][0], b[eid][0]), *changes)
            if changes:
                result.append(ElementChange(eid, b[eid][0], b[eid][1].get("name"), "changed", changes))
    return BpmnDiff(elements=tuple(result), unreadable=unreadable)


def diff_forms(old: Mapping[str, Any], new: Mapping[str, Any], keys: set[str] | None = None) -> tuple[FormChange, ...]:
    """Forms (JSON Schemas by form key) added, removed or changed, limited to ``keys`` when given."""
    names = set(old) | set(new)
    if keys is not None:
        names &= keys
    found: list[FormChange] = []
    for key in sorted(names):
        if key not in old:
            found.append(FormChange(key, "added"))
            continue
        if key not in new:
            found.append(FormChange(key, "removed"))
            continue
        a, b = old[key] or {}, new[key] or {}
        if a == b:
            continue
        fa, fb = a.get("properties") or {}, b.get("properties") or {}
        changed = tuple(
            (name, _changes(fa[name], fb[name])) for name in sorted(set(fa) & set(fb)) if fa[name] != fb[name]
        )
        own = _changes(
            {k: v for k, v in a.items() if k != "properties"}, {k: v for k, v in b.items() if k != "properties"}
        )
        found.append(
            FormChange(
                key,
                "changed",
                fields_added=tuple(sorted(set(fb) - set(fa))),
                fields_removed=tuple(sorted(set(fa) - set(fb))),
                fields_changed=changed,
                changes=own,
            )
        )
    return tuple(found)


def form_keys(content: str | bytes | None) -> set[str]:
    """The forms a file's tasks name (``formKey``)."""
    found = elements(content) or {}
    return {props["property:formKey"] for _kind, props in found.values() if props.get("property:formKey")}
