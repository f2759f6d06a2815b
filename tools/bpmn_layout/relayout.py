"""Re-draw a BPMN file's diagram from its own content: pool, lanes, columns, right-angled flows.

The library's ``processes/bpmn/*.bpmn`` files are the source designers edit (in the studio or any BPMN
modeler); nothing regenerates them. This tool only helps when a file's drawing has become hard to read
(many elements added by hand, or a file written by a tool that draws nothing): it reads the file's
semantic part, which it never changes, and replaces the diagram interchange (``bpmndi``) with a fresh
layout in the library's style:

- one pool per participant of the collaboration, its lanes as bands in ``laneSet`` order;
- columns follow the longest path from the start events (flows that close a loop are left out, a
  boundary event's flows leave from its task's column); elements sharing a lane and a column stack;
- boundary events sit on their task's lower edge; events and gateways carry their name below;
- flows go right, down or up at right angles; a flow back to an earlier column goes over the top.

Comments before the root element (the retired generator's "edit the description and regenerate") are
dropped; everything inside it other than the diagram is written back as it was read.

Usage (writes the file in place unless ``-o`` names another):

    .venv/bin/python tools/bpmn_layout/relayout.py processes/bpmn/gt_p5_clue.bpmn
    .venv/bin/python tools/bpmn_layout/relayout.py processes/bpmn/gt_p5_clue.bpmn -o /tmp/clue.bpmn

Review the result in the studio (or bpmn-js) before committing: positions chosen by hand are replaced.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's engine/, run from anywhere
from engine.definitions import shapes
from engine.definitions.shapes import BPMN, BPMNDI, DC, DI

POOL_LABEL = 30
LANE_LABEL = 30
X0 = POOL_LABEL + LANE_LABEL + 20
COL_W = 170
ROW_H = 120
LANE_PAD = 10
SIZES = {"activity": (110, 80), "gateway": (50, 50), "event": (36, 36)}


class LayoutError(Exception):
    pass


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kind(el) -> str | None:
    return shapes.kind(_local(el))


def columns(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering: each node one column right of its furthest predecessor, loops left out.

    A depth-first walk from the nodes nothing reaches (start events) marks the flows that return to a
    node still on the walk's path; those close loops and do not push their target to the right.
    """
    succ: dict[str, list[str]] = defaultdict(list)
    indegree: dict[str, int] = defaultdict(int)
    for a, b in edges:
        succ[a].append(b)
        indegree[b] += 1
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in [n for n in nodes if indegree[n] == 0] + nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    order: list[str] = []  # topological order of the loop-free graph
    forward = [(a, b) for a, b in edges if (a, b) not in back]
    remaining = dict.fromkeys(nodes, 0)
    for _, b in forward:
        remaining[b] += 1
    ready = [n for n in nodes if remaining[n] == 0]
    out: dict[str, list[str]] = defaultdict(list)
    for a, b in forward:
        out[a].append(b)
    while ready:
        node = ready.pop(0)
        order.append(node)
        for b in out[node]:
            remaining[b] -= 1
            if remaining[b] == 0:
                ready.append(b)
    col = dict.fromkeys(nodes, 0)
    for node in order:
        for b in out[node]:
            col[b] = max(col[b], col[node] + 1)
    return col


def _route(bs, bd, *, from_bottom: bool, gateway: bool) -> list[tuple[float, float]]:
    sx, sy, sw, sh = bs
    tx, ty, tw, th = bd
    scx, scy = sx + sw / 2, sy + sh / 2
    tcx, tcy = tx + tw / 2, ty + th / 2
    if from_bottom:
        if abs(tcx - scx) < 1:
            return [(scx, sy + sh), (tcx, ty)]
        if tcx > scx:
            return [(scx, sy + sh), (scx, tcy), (tx, tcy)]
        bottom = max(sy + sh, ty + th) + 22
        return [(scx, sy + sh), (scx, bottom), (tcx, bottom), (tcx, ty + th)]
    if tcx > scx + 1:
        if abs(scy - tcy) < 1:
            return [(sx + sw, scy), (tx, tcy)]
        if gateway:
            return [(scx, sy + sh if tcy > scy else sy), (scx, tcy), (tx, tcy)]
        mx = tx - 22
        return [(sx + sw, scy), (mx, scy), (mx, tcy), (tx, tcy)]
    if abs(tcx - scx) < 1:
        return [(scx, sy + sh), (tcx, ty)] if tcy > scy else [(scx, sy), (tcx, ty + th)]
    top = min(sy, ty) - 22  # back to an earlier column: over the top of both shapes
    return [(scx, sy), (scx, top), (tcx, top), (tcx, ty)]


def _n(value: float) -> str:
    return f"{value:.0f}"


def _pool(process, y_top: float) -> tuple[dict, list, float, float]:
    """Bounds of every flow element and lane band of one process, placed from ``y_top`` down."""
    children = [el for el in process if isinstance(el.tag, str)]
    nodes = {el.get("id"): el for el in children if _kind(el) and el.get("id")}
    boundaries = [el for el in children if _local(el) == "boundaryEvent" and el.get("id")]
    host_of = {b.get("id"): b.get("attachedToRef") for b in boundaries}
    for b in boundaries:
        if b.get("attachedToRef") not in nodes:
            raise LayoutError(f"boundary event {b.get('id')} is attached to unknown {b.get('attachedToRef')!r}")
    edges = []
    for f in children:
        if _local(f) == "sequenceFlow":
            src, dst = f.get("sourceRef"), f.get("targetRef")
            src = host_of.get(src, src)
            if src in nodes and dst in nodes:
                edges.append((src, dst))
    col = columns(list(nodes), edges)
    lanes = list(process.iterfind(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane"))
    lane_of: dict[str, int] = {}
    for index, lane in enumerate(lanes):
        for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
            lane_of.setdefault((ref.text or "").strip(), index)
    # An element in no lane joins the first band (the engine refuses only user tasks outside a lane).
    cell_rows: dict[tuple[int, int], int] = defaultdict(int)
    row: dict[str, int] = {}
    for node_id in nodes:  # document order: what a designer wrote first stays on top
        key = (lane_of.get(node_id, 0), col[node_id])
        row[node_id] = cell_rows[key]
        cell_rows[key] += 1
    bands = max(len(lanes), 1)
    band_rows = [max([cell_rows[(i, c)] for c in set(col.values()) | {0}] + [1]) for i in range(bands)]
    band_y, y = [], y_top
    for rows in band_rows:
        height = rows * ROW_H + 2 * LANE_PAD
        band_y.append((y, height))
        y += height
    width = X0 + (max(col.values(), default=0) + 1) * COL_W + 20
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node_id, el in nodes.items():
        w, h = SIZES[_kind(el)]
        cx = X0 + col[node_id] * COL_W + COL_W / 2
        cy = band_y[lane_of.get(node_id, 0)][0] + LANE_PAD + row[node_id] * ROW_H + ROW_H / 2
        bounds[node_id] = (cx - w / 2, cy - h / 2, w, h)
    per_host: dict[str, int] = defaultdict(int)
    for b in boundaries:
        hx, hy, hw, hh = bounds[b.get("attachedToRef")]
        k = per_host[b.get("attachedToRef")]
        per_host[b.get("attachedToRef")] += 1
        bx = hx + hw - 28 - k * 40
        bounds[b.get("id")] = (bx - 18, hy + hh - 18, 36, 36)
    lane_bounds = [(lanes[i].get("id"), band_y[i]) for i in range(len(lanes))]
    return bounds, lane_bounds, width, y


def relayout(content: bytes) -> bytes:
    """The file with its diagram interchange replaced; the semantic part is left exactly as it was."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    root = etree.fromstring(content, parser)
    if root.tag != f"{{{BPMN}}}definitions":
        raise LayoutError("not a BPMN file (the root element is not bpmn:definitions)")
    for diagram in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(diagram)
    processes = {p.get("id"): p for p in root.findall(f"{{{BPMN}}}process")}
    if not processes:
        raise LayoutError("the file defines no process")
    collaboration = root.find(f"{{{BPMN}}}collaboration")
    participants = [] if collaboration is None else collaboration.findall(f"{{{BPMN}}}participant")
    diagram = etree.SubElement(
        root,
        f"{{{BPMNDI}}}BPMNDiagram",
        nsmap={"bpmndi": BPMNDI, "dc": DC, "di": DI},
        id=f"BPMNDiagram_{root.get('id')}",
    )
    plane_of = collaboration.get("id") if participants else next(iter(processes))
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"BPMNPlane_{plane_of}", bpmnElement=plane_of)
    pools = [(p, processes.get(p.get("processRef"))) for p in participants] or [(None, p) for p in processes.values()]
    y = 0.0
    for participant, process in pools:
        if process is None:
            raise LayoutError(f"participant {participant.get('id')} names no process of this file")
        bounds, lanes, width, bottom = _pool(process, y)
        if participant is not None:
            _shape(plane, participant.get("id"), (0, y, width, bottom - y), horizontal=True)
            for lane_id, (lane_y, height) in lanes:
                _shape(plane, lane_id, (POOL_LABEL, lane_y, width - POOL_LABEL, height), horizontal=True)
        elements = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
        for element_id, box in bounds.items():
            el = elements[element_id]
            label = bool(el.get("name")) and _kind(el) != "activity"
            _shape(plane, element_id, box, marker=_local(el) == "exclusiveGateway", label=label)
        for flow in process.iterfind(f"{{{BPMN}}}sequenceFlow"):
            src, dst = flow.get("sourceRef"), flow.get("targetRef")
            if src not in bounds or dst not in bounds:
                raise LayoutError(f"sequence flow {flow.get('id')} joins elements this tool cannot place")
            edge = etree.SubElement(
                plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id")
            )
            source = elements[src]
            points = _route(
                bounds[src],
                bounds[dst],
                from_bottom=_local(source) == "boundaryEvent",
                gateway=_kind(source) == "gateway",
            )
            for px, py in points:
                etree.SubElement(edge, f"{{{DI}}}waypoint", x=_n(px), y=_n(py))
        y = bottom + (40 if participant is None else 30)
    etree.indent(diagram, space="  ", level=1)
    diagram.tail = "\n"
    if len(root) > 1:
        root[-2].tail = "\n  "
    # The root element alone: comments before it (the old generator's "edit the description and
    # regenerate" note) no longer hold and are dropped.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8") + b"\n"


def _shape(plane, element_id, box, *, horizontal=False, marker=False, label=False) -> None:
    attrs = {"id": f"{element_id}_di", "bpmnElement": element_id}
    if horizontal:
        attrs["isHorizontal"] = "true"
    if marker:
        attrs["isMarkerVisible"] = "true"
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", **attrs)
    x, y, w, h = box
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=_n(x), y=_n(y), width=_n(w), height=_n(h))
    if label:
        bpmn_label = etree.SubElement(shape, f"{{{BPMNDI}}}BPMNLabel")
        etree.SubElement(bpmn_label, f"{{{DC}}}Bounds", x=_n(x + w / 2 - 45), y=_n(y + h + 4), width="90", height="27")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="the .bpmn file to re-lay out")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of over the file")
    args = parser.parse_args(argv)
    try:
        text = relayout(args.file.read_bytes())
    except (LayoutError, etree.XMLSyntaxError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    target = args.output or args.file
    target.write_bytes(text)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
