"""Structural rules in the spirit of bpmnlint's ``recommended`` set, plus Guantong's own task rules.

bpmnlint itself is a JavaScript tool; the rules a deploy must apply live here so that the studio's 校验,
its deploy and ``guantong deploy`` run exactly the same checks (engine/definitions/compiler.py calls
``check``). Each finding names the element and the rule (``code``), so the studio can say it in the
reader's language and mark the element on the diagram.

Errors refuse the deploy:

- ``start_missing`` / ``end_missing``: a process needs a start and an end event;
- ``no_incoming`` / ``no_outgoing``: a flow element no flow reaches or none leaves (disconnected; a
  boundary event and a start event need no incoming flow, an end event no outgoing one);
- ``implicit_split``: a task or event with several outgoing flows (bpmnlint ``no-implicit-split``):
  which one is taken must be a gateway's decision, drawn.
- ``due_missing``: a user task with neither a time limit (``dueIn``) nor a stated reason for none
  (``noDueReason``). Most steps of the 监督执纪工作规则 carry a limit, some (signing a received
  notice, a meeting the leader convenes) deliberately do not; a step that says neither is a limit nobody
  decided on, which the cockpit could never chase (issue 13: every step of the library says which).

Warnings are shown and marked but do not refuse the deploy:

- ``unit_missing``: a user task names no ``unitVar`` (processes/CONVENTIONS.md: without a candidate
  unit every holder of the role in the whole database would see it). The library never has one
  (tests/processes/test_units.py); the engine still runs such a task (small test libraries do), so a
  deploy is not refused for it;
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from engine.definitions.dataflow import FLOW_NODES, NS, Finding

ERROR, WARNING = "error", "warning"
SPLITTERS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}


def _props(element: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
        if p.get("name")
    }


def check(trees: Mapping[str, Any]) -> list[tuple[str, Finding]]:
    """``(severity, finding)`` for every rule broken in the deployment's parsed trees."""
    found: list[tuple[str, Finding]] = []
    for filename, tree in trees.items():
        for process in tree.getroot().iterfind("bpmn:process", NS):
            found += _process(filename, process)
    return found


def _process(filename: str, process: Any) -> list[tuple[str, Finding]]:
    found: list[tuple[str, Finding]] = []
    pid = process.get("id")
    nodes = {
        el.get("id"): el
        for el in process
        if isinstance(el.tag, str) and etree.QName(el).localname in FLOW_NODES and el.get("id")
    }
    incoming: dict[str, int] = dict.fromkeys(nodes, 0)
    outgoing: dict[str, int] = dict.fromkeys(nodes, 0)
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        if flow.get("sourceRef") in outgoing:
            outgoing[flow.get("sourceRef")] += 1
        if flow.get("targetRef") in incoming:
            incoming[flow.get("targetRef")] += 1

    def add(severity: str, element: str, code: str, reason: str, **params: str) -> None:
        found.append((severity, Finding(filename, element, reason, code, dict(params))))

    tags = {nid: etree.QName(el).localname for nid, el in nodes.items()}
    if "startEvent" not in tags.values():
        add(ERROR, pid, "start_missing", "the process has no start event")
    if "endEvent" not in tags.values():
        add(ERROR, pid, "end_missing", "the process has no end event")
    for nid, el in nodes.items():
        tag = tags[nid]
        if tag not in ("startEvent", "boundaryEvent") and incoming[nid] == 0:
            add(ERROR, nid, "no_incoming", f"{tag} is not connected: no sequence flow leads to it")
        if tag != "endEvent" and outgoing[nid] == 0:
            add(ERROR, nid, "no_outgoing", f"{tag} is not connected: no sequence flow leaves it")
        if tag not in SPLITTERS and outgoing[nid] > 1:
            add(
                ERROR,
                nid,
                "implicit_split",
                f"{tag} has {outgoing[nid]} outgoing flows: split with a gateway instead (no implicit split)",
                count=str(outgoing[nid]),
            )
        if tag == "userTask":
            props = _props(el)
            if not props.get("unitVar", "").strip():
                add(WARNING, nid, "unit_missing", "user task names no unitVar (the units whose members do it)")
            if not props.get("dueIn", "").strip() and not props.get("noDueReason", "").strip():
                add(
                    ERROR,
                    nid,
                    "due_missing",
                    "user task has no time limit (dueIn) and states no reason for none (noDueReason)",
                )
    return found
