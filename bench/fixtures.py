"""The processes the benchmarks drive, written once so every measurement runs the same work."""

from __future__ import annotations

from pathlib import Path

from engine.definitions import Bundle, load_bundle

ROOT = Path(__file__).resolve().parent.parent

_PROPS = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="stage" value="dispose"/><spiffworkflow:property name="platform" value="P5"/>'
    '<spiffworkflow:property name="businessKey" value="clue_no"/>'
    '<spiffworkflow:property name="startData" value="clue_no, unit"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="bench" targetNamespace="http://guantong.bench">\n'
)
_TASK = (
    '<bpmn:userTask id="{id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="formKey" value="bench_step"/><spiffworkflow:property name="unitVar" value="unit"/>'
    '<spiffworkflow:property name="dueIn" value="bench_step"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
    "<bpmn:incoming>{inc}</bpmn:incoming><bpmn:outgoing>{out}</bpmn:outgoing></bpmn:userTask>"
)


def linear_process(steps: int = 8) -> str:
    """``steps`` user tasks in a row in one lane: the shape of most of the library's approval chains."""
    ids = [f"s{i}" for i in range(1, steps + 1)]
    parts = [
        _HEAD,
        '<bpmn:process id="gt_bench_linear" name="基准：线性流程" isExecutable="true">',
        _PROPS,
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="监督检查室">',
        "".join(f"<bpmn:flowNodeRef>{i}</bpmn:flowNodeRef>" for i in ids),
        "</bpmn:lane></bpmn:laneSet>",
        '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>',
    ]
    for n, task_id in enumerate(ids):
        parts.append(_TASK.format(id=task_id, name=f"第{n + 1}步", inc=f"f{n}", out=f"f{n + 1}"))
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{steps}</bpmn:incoming></bpmn:endEvent>')
    chain = ["start", *ids, "end"]
    for n in range(len(chain) - 1):
        parts.append(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{chain[n]}" targetRef="{chain[n + 1]}"/>')
    parts.append("</bpmn:process></bpmn:definitions>")
    return "".join(parts)


def loop_process() -> str:
    """One user task repeated: every completion adds to the instance's history."""
    return (
        _HEAD
        + f"""<bpmn:process id="gt_bench_loop" name="基准：循环流程" isExecutable="true">{_PROPS}
<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="监督检查室"><bpmn:flowNodeRef>step</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
<bpmn:exclusiveGateway id="merge"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:exclusiveGateway>
{_TASK.format(id="step", name="登记进展", inc="f1", out="f2")}
<bpmn:exclusiveGateway id="more" default="f_done"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:sequenceFlow id="f_again" sourceRef="more" targetRef="merge"><bpmn:conditionExpression>not finished</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:endEvent id="end"><bpmn:incoming>f_done</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="merge"/>
<bpmn:sequenceFlow id="f1" sourceRef="merge" targetRef="step"/>
<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="more"/>
<bpmn:sequenceFlow id="f_done" sourceRef="more" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""
    )


def timer_process() -> str:
    """A user task with a working-day deadline whose boundary timer ends the instance."""
    return (
        _HEAD
        + f"""<bpmn:process id="gt_bench_timer" name="基准：期限" isExecutable="true">{_PROPS}
<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="监督检查室"><bpmn:flowNodeRef>wait</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
{_TASK.format(id="wait", name="限期办理", inc="f0", out="f1")}
<bpmn:boundaryEvent id="late" attachedToRef="wait" cancelActivity="true"><bpmn:outgoing>f2</bpmn:outgoing>
<bpmn:timerEventDefinition><bpmn:timeDate>deadline('bench_step')</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>
<bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="end_late"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>
<bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="end"/>
<bpmn:sequenceFlow id="f2" sourceRef="late" targetRef="end_late"/>
</bpmn:process></bpmn:definitions>"""
    )


def bench_bundle() -> Bundle:
    """The real library (roles, settings) plus the benchmark processes and their one form."""
    bundle = load_bundle(ROOT / "processes")
    bundle.forms["bench_step"] = {
        "title": "办理",
        "type": "object",
        "required": ["opinion"],
        "properties": {
            "opinion": {"type": "string", "title": "意见", "maxLength": 200},
            "finished": {"type": "boolean", "title": "办结", "x-process": True},
            "unit": {"type": "string", "title": "承办部门", "x-process": True},
        },
    }
    bundle.settings = dict(bundle.settings)
    bundle.settings["deadlines"] = {
        **bundle.settings.get("deadlines", {}),
        "bench_step": {"workdays": 5, "reminder_before_workdays": 2},
    }
    for name, xml in (
        ("bench_linear.bpmn", linear_process()),
        ("bench_loop.bpmn", loop_process()),
        ("bench_timer.bpmn", timer_process()),
    ):
        bundle = bundle.with_bpmn(name, xml.encode())
    return bundle
