"""A plain left-to-right layout for BPMN files that carry no diagram (no ``bpmndi:BPMNDiagram``).

bpmn-js draws only elements that have diagram interchange (DI). Files written by hand or by other
tools sometimes have none; the studio then adds a simple one so the file can be viewed and edited:
columns follow the longest path from the start (loops ignored), rows follow the lanes, boundary events
sit on their task's lower edge, flows are drawn with right angles. The semantics are untouched; a
designer who deploys from the modeler stores the layout with the file.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from engine.definitions.shapes import BPMN, BPMNDI, DC, DI
from engine.definitions.shapes import kind as _kind
from engine.definitions.xmlsafe import parse_xml

SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}
COL_W, ROW_H, X0, Y0 = 160, 120, 60, 60


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def has_diagram(content: str | bytes) -> bool:
    tree = parse_xml(content, "file.bpmn")
    return tree.getroot().find(f"{{{BPMNDI}}}BPMNDiagram") is not None


def ensure_diagram(content: str, filename: str = "file.bpmn") -> tuple[str, bool]:
    """The file unchanged if it has a diagram; otherwise with a generated one. Returns (xml, generated)."""
    tree = parse_xml(content, filename)
    root = tree.getroot()
    if root.find(f"{{{BPMNDI}}}BPMNDiagram") is not None:
        return content, False
    y_offset = Y0
    for process in root.iterfind(f"{{{BPMN}}}process"):
        y_offset = _layout_process(root, process, y_offset) + ROW_H
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8").decode("utf-8"), True


def _columns(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering over the flow graph with loop-closing edges left out."""
    succ = defaultdict(list)
    incoming = defaultdict(int)
    for a, b in edges:
        succ[a].append(b)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(start: str) -> None:  # iterative DFS marking edges into the current path as loops
        stack = [(start, iter(succ[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))

    forward = [(a, b) for a, b in edges]
    for _a, b in forward:
        incoming[b] += 1
    for node in [n for n in nodes if incoming[n] == 0] + nodes:
        if node not in state:
            visit(node)
    dag = [(a, b) for a, b in edges if (a, b) not in back]
    col = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # Bellman-Ford style relaxation; graphs here are small
        changed = False
        for a, b in dag:
            if a in col and b in col and col[b] < col[a] + 1:
                col[b] = col[a] + 1
                changed = True
        if not changed:
            break
    return col


def _layout_process(root, process, y_top: int) -> int:
    pid = process.get("id")
    children = [el for el in process if isinstance(el.tag, str)]
    nodes = {el.get("id"): el for el in children if _kind(_local(el)) and el.get("id")}
    boundaries = [el for el in children if _local(el) == "boundaryEvent" and el.get("id")]
    attached = {b.get("id"): b.get("attachedToRef") for b in boundaries}
    flows = [el for el in children if _local(el) == "sequenceFlow"]
    # A boundary event's outgoing flow counts as leaving the task it sits on.
    edges = []
    for f in flows:
        src, dst = f.get("sourceRef"), f.get("targetRef")
        src = attached.get(src, src)
        if src in nodes and dst in nodes:
            edges.append((src, dst))
    col = _columns(list(nodes), edges)
    lane_of: dict[str, int] = {}
    for index, lane in enumerate(process.iterfind(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")):
        for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
            lane_of.setdefault((ref.text or "").strip(), index)
    lanes = sorted(set(lane_of.values())) or [0]
    # Rows: each lane is a band; nodes sharing a column in a band are stacked.
    slots: dict[tuple[int, int], int] = defaultdict(int)
    sub_row: dict[str, int] = {}
    for node_id in nodes:
        key = (lane_of.get(node_id, 0), col[node_id])
        sub_row[node_id] = slots[key]
        slots[key] += 1
    band_height = {lane: max([slots[(lane, c)] for c in set(col.values())] + [1]) for lane in lanes}
    band_top, y = {}, y_top
    for lane in sorted(band_height):
        band_top[lane] = y
        y += band_height[lane] * ROW_H

    diagram = etree.SubElement(
        root, f"{{{BPMNDI}}}BPMNDiagram", id=f"BPMNDiagram_{pid}", nsmap={"bpmndi": BPMNDI, "dc": DC, "di": DI}
    )
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"BPMNPlane_{pid}", bpmnElement=pid)
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node_id, el in nodes.items():
        w, h = SIZES[_kind(_local(el))]
        cx = X0 + col[node_id] * COL_W + 50
        cy = band_top[lane_of.get(node_id, 0)] + sub_row[node_id] * ROW_H + 40
        bounds[node_id] = (cx - w / 2, cy - h / 2, w, h)
    for b in boundaries:
        host = bounds.get(b.get("attachedToRef"))
        if host:
            hx, hy, hw, hh = host
            bounds[b.get("id")] = (hx + hw - 36 - 6, hy + hh - 18, 36, 36)
    for element_id, (x, yy, w, h) in bounds.items():
        attrs = {"id": f"{element_id}_di", "bpmnElement": element_id}
        el = nodes.get(element_id)
        if el is not None and _local(el) == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        if el is not None and _local(el) in ("subProcess", "transaction", "adHocSubProcess"):
            attrs["isExpanded"] = "false"
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", **attrs)
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=_n(x), y=_n(yy), width=_n(w), height=_n(h))
    for f in flows:
        src, dst = bounds.get(f.get("sourceRef")), bounds.get(f.get("targetRef"))
        if not (src and dst and f.get("id")):
            continue
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{f.get('id')}_di", bpmnElement=f.get("id"))
        for px, py in _route(src, dst, from_bottom=f.get("sourceRef") in attached):
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=_n(px), y=_n(py))
    return y


def _route(src, dst, *, from_bottom: bool) -> list[tuple[float, float]]:
    sx, sy, sw, sh = src
    tx, ty, tw, th = dst
    if from_bottom:
        start = (sx + sw / 2, sy + sh)
        end = (tx, ty + th / 2)
        return (
            [start, (start[0], end[1]), end]
            if end[0] > start[0]
            else [start, (start[0], ty + th + 20), (tx + tw / 2, ty + th + 20), (tx + tw / 2, ty + th)]
        )
    start = (sx + sw, sy + sh / 2)
    end = (tx, ty + th / 2)
    if end[0] <= start[0]:  # a loop back: go under both shapes
        below = max(sy + sh, ty + th) + 25
        return [(sx + sw / 2, sy + sh), (sx + sw / 2, below), (tx + tw / 2, below), (tx + tw / 2, ty + th)]
    if abs(start[1] - end[1]) < 1:
        return [start, end]
    mid = (start[0] + end[0]) / 2
    return [start, (mid, start[1]), (mid, end[1]), end]


def _n(value: float) -> str:
    return str(round(value))
