"""Small BPMN documents for engine tests, with holes for the expression under test."""

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_t" '
    'targetNamespace="http://guantong.test">\n'
)

PROPS = (
    "<bpmn:extensionElements><spiffworkflow:properties>"
    '<spiffworkflow:property name="stage" value="dispose"/>'
    '<spiffworkflow:property name="platform" value="P5"/>'
    "</spiffworkflow:properties></bpmn:extensionElements>"
)


def script_process(
    script: str = "checked = True",
    condition: str = "True",
    timer: str = "deadline('propose')",
    pid: str = "gt_test_sandbox",
) -> str:
    """start → script → gateway(condition) → user task with a boundary timer → end."""
    return (
        HEAD
        + f"""
  <bpmn:process id="{pid}" name="沙箱测试" isExecutable="true">
    {PROPS}
    <bpmn:laneSet id="ls"><bpmn:lane id="lane" name="案件监督管理室"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" name="计算"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[{script}]]></bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f_default"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_default</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="review"><bpmn:conditionExpression><![CDATA[{condition}]]></bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="review" name="复核">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="noDueReason" value="签收即办"/><spiffworkflow:property name="formKey" value="approve"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_yes</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="review_late" attachedToRef="review" cancelActivity="true"><bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate><![CDATA[{timer}]]></bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:endEvent id="end_late"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f_default</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_default" sourceRef="gw" targetRef="end"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
    <bpmn:sequenceFlow id="f_late" sourceRef="review_late" targetRef="end_late"/>
  </bpmn:process>
</bpmn:definitions>
"""
    )


def caller_process(called: str) -> str:
    return (
        HEAD
        + f"""
  <bpmn:process id="gt_test_caller" name="调用测试" isExecutable="true">
    {PROPS}
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call_it" name="调用" calledElement="{called}"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_it"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call_it" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
    )


def loop_process(bound: int) -> str:
    """A script loop of ``bound`` rounds before a user task: depth grows with every round."""
    return (
        HEAD
        + f"""
  <bpmn:process id="gt_test_loop" name="循环测试" isExecutable="true">
    {PROPS}
    <bpmn:laneSet id="ls"><bpmn:lane id="lane" name="案件监督管理室"><bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="count" name="计数"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>i = i + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f_done"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_again</bpmn:outgoing><bpmn:outgoing>f_done</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="count"><bpmn:conditionExpression>i &lt; {bound}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="after" name="之后">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="noDueReason" value="签收即办"/><spiffworkflow:property name="formKey" value="approve"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_done</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count"/>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
    )
