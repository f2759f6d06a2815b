"""The shape a BPMN flow element is drawn as (event, gateway, activity) and the namespaces of BPMN's diagram
interchange.

Two layouts draw diagrams: the studio's plain one for files that arrive without a diagram
(web/studio/layout.py) and the designers' lane-aware tool (tools/bpmn_layout/relayout.py). Both must agree
on which elements get a shape and of which kind, so the sets live here once.
"""

from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = frozenset({"startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"})
ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)


def kind(local_name: str) -> str | None:
    """ "event", "gateway" or "activity" for an element drawn as a shape of its own; None for the rest
    (flows, lanes, data, boundary events, which sit on their activity)."""
    if local_name in EVENTS:
        return "event"
    if local_name in GATEWAYS:
        return "gateway"
    if local_name in ACTIVITIES:
        return "activity"
    return None
