"""tools/bpmn_layout/relayout.py re-draws a BPMN file's diagram and leaves its meaning alone.

Run on every file of the library (the files designers edit): the semantic part comes back exactly as it
was (canonical XML), every element gets one shape or edge, shapes sit in their lane and do not overlap,
the result is the same when the file had no diagram at all, and a second run changes nothing. That the
re-drawn files also open in bpmn-js without a warning is checked in tests/processes/test_render.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "bpmn_layout" / "relayout.py"
BPMN_FILES = sorted((ROOT / "processes" / "bpmn").glob("*.bpmn"))
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NODES = {
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
    "callActivity",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
}


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relayout", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


relayout = _tool().relayout


def _without_diagram(content: bytes) -> etree._Element:
    root = etree.fromstring(content)
    for diagram in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(diagram)
    return root


def _semantics(content: bytes) -> bytes:
    """The file's meaning: canonical XML of everything but the diagram, whitespace between tags ignored."""
    root = _without_diagram(content)
    for el in root.iter():
        if len(el) and el.text and not el.text.strip():
            el.text = None
        if el.tail and not el.tail.strip():
            el.tail = None
    return etree.tostring(root, method="c14n2", strip_text=False)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_relayout_keeps_the_meaning_and_draws_every_element(path):
    original = path.read_bytes()
    drawn = relayout(original)
    assert _semantics(drawn) == _semantics(original)
    root = etree.fromstring(drawn)
    assert len(root.findall(f"{{{BPMNDI}}}BPMNDiagram")) == 1
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{BPMNDI}}}BPMNEdge")}
    process = root.find(f"{{{BPMN}}}process")
    nodes = {el.get("id"): el for el in process.iter() if _local(el) in NODES}
    flows = [f.get("id") for f in process.iter(f"{{{BPMN}}}sequenceFlow")]
    lanes = list(process.iter(f"{{{BPMN}}}lane"))
    participants = [p.get("id") for p in root.iter(f"{{{BPMN}}}participant")]
    assert set(shapes) == set(nodes) | {lane.get("id") for lane in lanes} | set(participants)
    assert set(edges) == set(flows)
    assert all(len(e.findall(f"{{{DI}}}waypoint")) >= 2 for e in edges.values())

    def box(element_id):
        b = shapes[element_id].find(f"{{{DC}}}Bounds")
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    placed = [i for i, el in nodes.items() if _local(el) != "boundaryEvent"]
    for index, a in enumerate(placed):
        ax, ay, aw, ah = box(a)
        for b in placed[index + 1 :]:
            bx, by, bw, bh = box(b)
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"
    for lane in lanes:
        lx, ly, lw, lh = box(lane.get("id"))
        for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
            x, y, w, h = box(ref.text.strip())
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{ref.text} outside its lane"
    assert relayout(drawn) == drawn, "a second run must change nothing"


def test_a_file_without_a_diagram_gets_the_same_drawing():
    """What a modeler-less tool writes (semantics only) is drawn from its semantics alone."""
    original = (ROOT / "processes" / "bpmn" / "gt_p5_clue.bpmn").read_bytes()
    bare = etree.tostring(_without_diagram(original), xml_declaration=True, encoding="UTF-8")
    assert b"BPMNShape" not in bare
    assert relayout(bare) == relayout(original)


def test_loops_do_not_push_columns_to_the_right():
    columns = _tool().columns
    # start -> a -> gateway -> b -> end, with gateway -> a closing a loop
    col = columns(["s", "a", "g", "b", "e"], [("s", "a"), ("a", "g"), ("g", "a"), ("g", "b"), ("b", "e")])
    assert col == {"s": 0, "a": 1, "g": 2, "b": 3, "e": 4}
    # the longer of two branches sets the join's column
    col = columns(["s", "x", "y1", "y2", "j"], [("s", "x"), ("x", "j"), ("s", "y1"), ("y1", "y2"), ("y2", "j")])
    assert col["j"] == 3


def test_command_line_writes_where_told_and_refuses_what_is_not_bpmn(tmp_path):
    source = ROOT / "processes" / "bpmn" / "gt_m1_goal.bpmn"
    out = tmp_path / "goal.bpmn"
    done = subprocess.run([sys.executable, str(TOOL), str(source), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == relayout(source.read_bytes())
    stray = tmp_path / "stray.bpmn"
    stray.write_text("<x/>", encoding="utf-8")
    refused = subprocess.run([sys.executable, str(TOOL), str(stray)], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "not a BPMN file" in refused.stderr
    assert stray.read_text(encoding="utf-8") == "<x/>", "a refused file is left as it was"
