"""Generate Guantong BPMN files (process + collaboration + diagram interchange) from compact YAML descriptions.

Usage:
    python tools/bpmn_layout/gen.py            # write processes/bpmn/<file>.bpmn for every spec
    python tools/bpmn_layout/gen.py --check    # exit 1 if a generated file differs from the one on disk

A description (tools/bpmn_layout/specs/*.yaml) holds:
    id, name, file, props {stage, mechanism, platform, businessKey}
    lanes: [中文角色名, ...]               (top to bottom; each must be a role in processes/roles.yaml)
    messages: {gt_msg_x: 说明, ...}          (message names used by this file)
    nodes: list of {id, type, lane, col, row?, name, ...}
    flows: list of [source, target] or [source, target, 名称, condition] (condition "default" marks the default flow)

Node types: start, start_timer(expr), start_msg(message, var?), end, end_msg(message, payload, owner?),
    user(form, instr, unitVar, due? | noDue?, dueFrom?, assigneeVar?, separateFrom?, separateFromSteps?, reads?, readsFiles?,
         mi?{input,item,output?,outputItem?,seq?}, reject?,
         pre?, post?, stage?, platform?, mechanism?: the step's own place when it differs from the process's), script(script), call(called, mi?), send(message, payload, mi?, owner?),
    throw_msg(message, payload, owner?), catch_msg(message, var?, correlationVar?), catch_timer(expr),
    xor, and, or, boundary_timer(attach, expr, interrupting?).
reject: <node id> on an approval task (form approval) routes its 不同意 (decision == 'reject') back to that
node, usually the step that drafted what was refused: the generator adds the gateway ``gw_<id>_ok`` ("同意？")
half a column after the task, its 不同意 flow to the node and its default flow to where the task led.
Every user task names its unitVar (the data variable holding the unit whose members do it).
A user task in a lane whose role reads only what is addressed to it (roles.yaml `reads: addressed`) names
what it reads: reads "t_letter.questions, t_reply" (earlier steps, or single fields) or "none", and
optionally readsFiles "t_letter" (whose uploads it sees); deploy checks every name.
owner: true on a message that starts another process appends the owning commission's unit variables
(every `owner_var` of processes/roles.yaml) to its payload, so the new instance's tasks reach the same
commission's 信访室, 案管室, 书记 … (see processes/README.md, "谁办理：unitVar").
Layout: columns left to right (col), rows inside a lane (row, default 0). Pure Python + lxml.
"""

import pathlib
import sys
from xml.sax.saxutils import escape

import yaml
from lxml import etree

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SPECS = HERE / "specs"
OUT = ROOT / "processes" / "bpmn"

POOL_LABEL = 30
LANE_LABEL = 30
X0 = POOL_LABEL + LANE_LABEL + 20
COL_W = 170
ROW_H = 120
LANE_PAD = 10
SIZES = {
    "task": (110, 80),
    "gateway": (50, 50),
    "event": (36, 36),
}
KIND = {
    "start": "event",
    "start_timer": "event",
    "start_msg": "event",
    "end": "event",
    "end_msg": "event",
    "throw_msg": "event",
    "catch_msg": "event",
    "catch_timer": "event",
    "boundary_timer": "event",
    "user": "task",
    "script": "task",
    "call": "task",
    "send": "task",
    "xor": "gateway",
    "and": "gateway",
    "or": "gateway",
}
TAG = {
    "start": "startEvent",
    "start_timer": "startEvent",
    "start_msg": "startEvent",
    "end": "endEvent",
    "end_msg": "endEvent",
    "throw_msg": "intermediateThrowEvent",
    "catch_msg": "intermediateCatchEvent",
    "catch_timer": "intermediateCatchEvent",
    "boundary_timer": "boundaryEvent",
    "user": "userTask",
    "script": "scriptTask",
    "call": "callActivity",
    "send": "sendTask",
    "xor": "exclusiveGateway",
    "and": "parallelGateway",
    "or": "inclusiveGateway",
}


class SpecError(Exception):
    pass


def owner_vars():
    """The owning commission's unit variables: every `owner_var` of processes/roles.yaml, sorted."""
    roles = yaml.safe_load((ROOT / "processes" / "roles.yaml").read_text(encoding="utf-8"))["roles"]
    return sorted({r["owner_var"] for r in roles if r.get("owner_var")})


def with_owner(payload):
    """A payload dict expression with the owner variables appended (`'petition_unit': petition_unit`, ...)."""
    body = payload.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise SpecError(f"owner: true needs a dict payload, got {payload!r}")
    extra = ", ".join(f"'{v}': {v}" for v in owner_vars())
    inner = body[1:-1].strip()
    return "{" + (inner + ", " if inner else "") + extra + "}"


def a(s):
    """Attribute escape."""
    return escape(str(s), {'"': "&quot;"})


def layout(spec):
    lanes = spec["lanes"]
    nodes = {n["id"]: n for n in spec["nodes"]}
    if len(nodes) != len(spec["nodes"]):
        raise SpecError(f"{spec['id']}: duplicate node id")
    rows = dict.fromkeys(lanes, 1)
    cells = {}
    maxcol = 0
    for n in spec["nodes"]:
        if n["type"] == "boundary_timer":
            continue
        if n.get("lane") not in rows:
            raise SpecError(f"{spec['id']}: node {n['id']} lane {n.get('lane')!r} not in lanes")
        key = (n["lane"], n["col"], n.get("row", 0))
        if key in cells:
            raise SpecError(f"{spec['id']}: {n['id']} and {cells[key]} share cell {key}")
        cells[key] = n["id"]
        rows[n["lane"]] = max(rows[n["lane"]], n.get("row", 0) + 1)
        maxcol = max(maxcol, n["col"])
    lane_y, y = {}, 0
    for ln in lanes:
        lane_y[ln] = (y, rows[ln] * ROW_H + 2 * LANE_PAD)
        y += lane_y[ln][1]
    width = X0 + (maxcol + 1) * COL_W + 20
    bounds = {}
    for n in spec["nodes"]:
        if n["type"] == "boundary_timer":
            continue
        w, h = SIZES[KIND[n["type"]]]
        cx = X0 + n["col"] * COL_W + COL_W / 2
        cy = lane_y[n["lane"]][0] + LANE_PAD + n.get("row", 0) * ROW_H + ROW_H / 2
        bounds[n["id"]] = (cx - w / 2, cy - h / 2, w, h)
    # boundary events sit on the bottom edge of their host
    per_host = {}
    for n in spec["nodes"]:
        if n["type"] != "boundary_timer":
            continue
        hx, hy, hw, hh = bounds[n["attach"]]
        k = per_host.get(n["attach"], 0)
        per_host[n["attach"]] = k + 1
        bx = hx + hw - 28 - k * 40
        bounds[n["id"]] = (bx - 18, hy + hh - 18, 36, 36)
    return lane_y, width, y, bounds


def route(src, dst, bs, bd, src_type):
    sx, sy, sw, sh = bs
    tx, ty, tw, th = bd
    scx, scy = sx + sw / 2, sy + sh / 2
    tcx, tcy = tx + tw / 2, ty + th / 2
    if src_type == "boundary_timer":
        if abs(tcx - scx) < 1:
            return [(scx, sy + sh), (tcx, ty)]
        return [(scx, sy + sh), (scx, tcy), (tx if tcx > scx else tx + tw, tcy)]
    if tcx > scx + 1:
        if abs(scy - tcy) < 1:
            return [(sx + sw, scy), (tx, tcy)]
        if KIND[src_type] == "gateway":
            return [(scx, sy + sh if tcy > scy else sy), (scx, tcy), (tx, tcy)]
        mx = tx - 22
        return [(sx + sw, scy), (mx, scy), (mx, tcy), (tx, tcy)]
    if abs(tcx - scx) < 1:
        if tcy > scy:
            return [(scx, sy + sh), (tcx, ty)]
        return [(scx, sy), (tcx, ty + th)]
    # backwards: go over the top of both shapes
    top = min(sy, ty) - 22
    return [(scx, sy), (scx, top), (tcx, top), (tcx, ty)]


def props_xml(props, indent):
    if not props:
        return ""
    inner = "".join(
        f'{indent}  <spiffworkflow:property name="{a(k)}" value="{a(v)}" />\n'
        for k, v in props.items()
        if v is not None and v != ""
    )
    return f"{indent}<spiffworkflow:properties>\n{inner}{indent}</spiffworkflow:properties>\n"


def expand_rejects(spec):
    """The spec with each ``reject:`` approval task followed by its 同意/不同意 gateway.

    Written out in the description, every approval would need a gateway node, two flows and a column of its
    own; generated, one attribute says where a refusal goes and the diagrams keep their columns.
    """
    rejecting = [n for n in spec["nodes"] if n.get("reject")]
    if not rejecting:
        return spec
    ids = {n["id"] for n in spec["nodes"]}
    nodes = list(spec["nodes"])
    flows = [list(f) for f in spec["flows"]]
    for n in rejecting:
        if n["type"] != "user" or n.get("form") != "approval" or n.get("mi"):
            raise SpecError(
                f"{spec['id']}: reject on {n['id']}: only a single approval task (form approval) may refuse"
            )
        if n["reject"] not in ids:
            raise SpecError(f"{spec['id']}: reject on {n['id']} names unknown node {n['reject']}")
        gw = f"gw_{n['id']}_ok"
        nodes.append(
            {
                "id": gw,
                "type": "xor",
                "lane": n["lane"],
                "col": n["col"] + 0.5,
                "row": n.get("row", 0),
                "name": "同意？",
            }
        )
        for f in flows:
            if f[0] == n["id"]:
                f[0] = gw
                f[2:] = ["同意", "default"]
        flows.append([n["id"], gw])
        flows.append([gw, n["reject"], "不同意", "decision == 'reject'"])
    return {**spec, "nodes": nodes, "flows": flows}


def build(spec):
    spec = expand_rejects(spec)
    pid = spec["id"]
    lane_y, width, height, bounds = layout(spec)
    nodes = [dict(n) for n in spec["nodes"]]
    for n in nodes:
        if n["type"] == "user" and not n.get("unitVar"):
            raise SpecError(f"{pid}: user task {n['id']} names no unitVar (the unit whose members do it)")
        if n["type"] == "user" and bool(n.get("due")) == bool(n.get("noDue")):
            raise SpecError(f"{pid}: user task {n['id']} needs either a time limit (due) or a reason for none (noDue)")
        if n.get("owner"):
            n["payload"] = with_owner(n.get("payload") or "{}")
    byid = {n["id"]: n for n in nodes}
    flows = []
    for f in spec["flows"]:
        s, t = f[0], f[1]
        name = f[2] if len(f) > 2 else None
        cond = f[3] if len(f) > 3 else None
        if s not in byid or t not in byid:
            raise SpecError(f"{pid}: flow {s}->{t} references unknown node")
        flows.append({"id": f"Flow_{s}_{t}", "src": s, "dst": t, "name": name, "cond": cond})
    ids = [f["id"] for f in flows]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{pid}: duplicate flow")
    incoming = {n["id"]: [] for n in nodes}
    outgoing = {n["id"]: [] for n in nodes}
    for f in flows:
        outgoing[f["src"]].append(f["id"])
        incoming[f["dst"]].append(f["id"])
    msgs = spec.get("messages", {}) or {}

    out = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>\n')
    w(
        "<!-- Generated by tools/bpmn_layout/gen.py from tools/bpmn_layout/specs/"
        f"{spec['_src']}; edit the description and regenerate. -->\n"
    )
    w(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        f'id="Definitions_{pid}" targetNamespace="http://guantong.local/bpmn" '
        'exporter="guantong bpmn_layout" exporterVersion="1">\n'
    )
    for m, doc in msgs.items():
        w(f'  <bpmn:message id="Message_{m}" name="{a(m)}">\n')
        w(f"    <bpmn:documentation>{escape(str(doc))}</bpmn:documentation>\n")
        w("  </bpmn:message>\n")
    w(f'  <bpmn:collaboration id="Collaboration_{pid}">\n')
    w(f'    <bpmn:participant id="Participant_{pid}" name="{a(spec["name"])}" processRef="{pid}" />\n')
    w("  </bpmn:collaboration>\n")
    w(f'  <bpmn:process id="{pid}" name="{a(spec["name"])}" isExecutable="true">\n')
    if spec.get("doc"):
        w(f"    <bpmn:documentation>{escape(spec['doc'])}</bpmn:documentation>\n")
    w("    <bpmn:extensionElements>\n")
    w(props_xml(spec["props"], "      "))
    w("    </bpmn:extensionElements>\n")
    w(f'    <bpmn:laneSet id="LaneSet_{pid}">\n')
    for i, ln in enumerate(spec["lanes"]):
        w(f'      <bpmn:lane id="Lane_{pid}_{i}" name="{a(ln)}">\n')
        for n in nodes:
            lane = n.get("lane") if n["type"] != "boundary_timer" else byid[n["attach"]]["lane"]
            if lane == ln:
                w(f"        <bpmn:flowNodeRef>{n['id']}</bpmn:flowNodeRef>\n")
        w("      </bpmn:lane>\n")
    w("    </bpmn:laneSet>\n")

    def msg_def(n, ind, payload=None, var=None):
        m = n["message"]
        if m not in msgs:
            raise SpecError(f"{pid}: message {m} not declared")
        s = f'{ind}<bpmn:messageEventDefinition id="MED_{n["id"]}" messageRef="Message_{m}"'
        ext = ""
        if payload:
            ext += f"{ind}    <spiffworkflow:messagePayload>{escape(payload)}</spiffworkflow:messagePayload>\n"
        if var:
            ext += f"{ind}    <spiffworkflow:messageVariable>{escape(var)}</spiffworkflow:messageVariable>\n"
        if ext:
            return (
                s
                + ">\n"
                + f"{ind}  <bpmn:extensionElements>\n"
                + ext
                + f"{ind}  </bpmn:extensionElements>\n"
                + f"{ind}</bpmn:messageEventDefinition>\n"
            )
        return s + " />\n"

    def timer_def(n, ind):
        return (
            f'{ind}<bpmn:timerEventDefinition id="TED_{n["id"]}">\n'
            f'{ind}  <bpmn:timeDate xsi:type="bpmn:tFormalExpression">{escape(n["expr"])}</bpmn:timeDate>\n'
            f"{ind}</bpmn:timerEventDefinition>\n"
        )

    def mi_xml(mi, ind):
        seq = "true" if mi.get("seq") else "false"
        s = f'{ind}<bpmn:multiInstanceLoopCharacteristics isSequential="{seq}">\n'
        s += f"{ind}  <bpmn:loopDataInputRef>{mi['input']}</bpmn:loopDataInputRef>\n"
        if mi.get("output"):
            s += f"{ind}  <bpmn:loopDataOutputRef>{mi['output']}</bpmn:loopDataOutputRef>\n"
        s += f'{ind}  <bpmn:inputDataItem id="{mi["item"]}" name="{mi["item"]}" />\n'
        if mi.get("outputItem"):
            s += f'{ind}  <bpmn:outputDataItem id="{mi["outputItem"]}" name="{mi["outputItem"]}" />\n'
        s += f"{ind}</bpmn:multiInstanceLoopCharacteristics>\n"
        return s

    for n in nodes:
        t = n["type"]
        tag = TAG[t]
        attrs = f'id="{n["id"]}"'
        if n.get("name"):
            attrs += f' name="{a(n["name"])}"'
        if t == "boundary_timer":
            attrs += (
                f' cancelActivity="{"true" if n.get("interrupting", True) else "false"}" attachedToRef="{n["attach"]}"'
            )
        if t == "call":
            attrs += f' calledElement="{n["called"]}"'
        if t in ("xor", "or"):
            d = [f for f in flows if f["src"] == n["id"] and f["cond"] == "default"]
            if d:
                attrs += f' default="{d[0]["id"]}"'
        if t == "send":
            if n["message"] not in msgs:
                raise SpecError(f"{pid}: message {n['message']} not declared")
            attrs += f' messageRef="Message_{n["message"]}"'
        w(f"    <bpmn:{tag} {attrs}>\n")
        ind = "      "
        if n.get("doc"):
            w(f"{ind}<bpmn:documentation>{escape(n['doc'])}</bpmn:documentation>\n")
        ext = ""
        if t == "user":
            p = {
                "formKey": n["form"],
                "dueIn": n.get("due"),
                "dueFrom": n.get("dueFrom"),
                "noDueReason": n.get("noDue"),
                "unitVar": n.get("unitVar"),
                "assigneeVar": n.get("assigneeVar"),
                "separateFrom": n.get("separateFrom"),
                "reads": n.get("reads"),
                "readsFiles": n.get("readsFiles"),
                "separateFromSteps": n.get("separateFromSteps"),
                "stage": n.get("stage", spec["props"]["stage"]),
                "platform": n.get("platform", spec["props"]["platform"]),
                "mechanism": n.get("mechanism"),
            }
            ext += props_xml(p, ind + "  ")
            ext += f"{ind}  <spiffworkflow:instructionsForEndUser>{escape(n['instr'])}</spiffworkflow:instructionsForEndUser>\n"
        elif n.get("props"):
            ext += props_xml(n["props"], ind + "  ")
        if n.get("pre"):
            ext += f"{ind}  <spiffworkflow:preScript>{escape(n['pre'])}</spiffworkflow:preScript>\n"
        if n.get("post"):
            ext += f"{ind}  <spiffworkflow:postScript>{escape(n['post'])}</spiffworkflow:postScript>\n"
        if t == "send" and n.get("payload"):
            ext += f"{ind}  <spiffworkflow:messagePayload>{escape(n['payload'])}</spiffworkflow:messagePayload>\n"
        if t == "catch_msg" and n.get("correlationVar"):
            ext += props_xml({"correlationVar": n["correlationVar"]}, ind + "  ")
        if ext:
            w(f"{ind}<bpmn:extensionElements>\n{ext}{ind}</bpmn:extensionElements>\n")
        for fid in incoming[n["id"]]:
            w(f"{ind}<bpmn:incoming>{fid}</bpmn:incoming>\n")
        for fid in outgoing[n["id"]]:
            w(f"{ind}<bpmn:outgoing>{fid}</bpmn:outgoing>\n")
        if n.get("mi"):
            w(mi_xml(n["mi"], ind))
        if t == "script":
            w(f"{ind}<bpmn:script>{escape(n['script'])}</bpmn:script>\n")
        if t in ("start_timer", "catch_timer", "boundary_timer"):
            w(timer_def(n, ind))
        if t in ("start_msg", "catch_msg"):
            w(msg_def(n, ind, var=n.get("var")))
        if t in ("end_msg", "throw_msg"):
            w(msg_def(n, ind, payload=n.get("payload")))
        w(f"    </bpmn:{tag}>\n")
    for f in flows:
        attrs = f'id="{f["id"]}" sourceRef="{f["src"]}" targetRef="{f["dst"]}"'
        if f["name"]:
            attrs += f' name="{a(f["name"])}"'
        if f["cond"] and f["cond"] != "default":
            w(f"    <bpmn:sequenceFlow {attrs}>\n")
            w(
                f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(f["cond"])}</bpmn:conditionExpression>\n'
            )
            w("    </bpmn:sequenceFlow>\n")
        else:
            w(f"    <bpmn:sequenceFlow {attrs} />\n")
    w("  </bpmn:process>\n")

    # diagram interchange
    w(f'  <bpmndi:BPMNDiagram id="BPMNDiagram_{pid}">\n')
    w(f'    <bpmndi:BPMNPlane id="BPMNPlane_{pid}" bpmnElement="Collaboration_{pid}">\n')
    w(f'      <bpmndi:BPMNShape id="Participant_{pid}_di" bpmnElement="Participant_{pid}" isHorizontal="true">\n')
    w(f'        <dc:Bounds x="0" y="0" width="{width:.0f}" height="{height:.0f}" />\n')
    w("      </bpmndi:BPMNShape>\n")
    for i, ln in enumerate(spec["lanes"]):
        y0, h = lane_y[ln]
        w(f'      <bpmndi:BPMNShape id="Lane_{pid}_{i}_di" bpmnElement="Lane_{pid}_{i}" isHorizontal="true">\n')
        w(f'        <dc:Bounds x="{POOL_LABEL}" y="{y0:.0f}" width="{width - POOL_LABEL:.0f}" height="{h:.0f}" />\n')
        w("      </bpmndi:BPMNShape>\n")
    for n in nodes:
        x, y, bw, bh = bounds[n["id"]]
        extra = ' isMarkerVisible="true"' if n["type"] == "xor" else ""
        w(f'      <bpmndi:BPMNShape id="{n["id"]}_di" bpmnElement="{n["id"]}"{extra}>\n')
        w(f'        <dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{bw:.0f}" height="{bh:.0f}" />\n')
        if KIND[n["type"]] != "task" and n.get("name"):
            w("        <bpmndi:BPMNLabel>\n")
            w(f'          <dc:Bounds x="{x + bw / 2 - 45:.0f}" y="{y + bh + 4:.0f}" width="90" height="27" />\n')
            w("        </bpmndi:BPMNLabel>\n")
        w("      </bpmndi:BPMNShape>\n")
    for f in flows:
        pts = route(f["src"], f["dst"], bounds[f["src"]], bounds[f["dst"]], byid[f["src"]]["type"])
        w(f'      <bpmndi:BPMNEdge id="{f["id"]}_di" bpmnElement="{f["id"]}">\n')
        for px, py in pts:
            w(f'        <di:waypoint x="{px:.0f}" y="{py:.0f}" />\n')
        w("      </bpmndi:BPMNEdge>\n")
    w("    </bpmndi:BPMNPlane>\n")
    w("  </bpmndi:BPMNDiagram>\n")
    w("</bpmn:definitions>\n")
    text = "".join(out)
    etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    return text


def load_specs():
    specs = []
    for p in sorted(SPECS.glob("*.yaml")):
        spec = yaml.safe_load(p.read_text(encoding="utf-8"))
        spec["_src"] = p.name
        specs.append(spec)
    return specs


def main(argv):
    check = "--check" in argv
    OUT.mkdir(parents=True, exist_ok=True)
    bad = 0
    for spec in load_specs():
        text = build(spec)
        target = OUT / spec["file"]
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                print(f"out of sync: {target.relative_to(ROOT)} (regenerate from specs/{spec['_src']})")
                bad += 1
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if check:
        names = {s["file"] for s in load_specs()}
        for f in OUT.glob("*.bpmn"):
            if f.name not in names:
                print(f"no description for {f.relative_to(ROOT)}")
                bad += 1
        print("in sync" if not bad else f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
