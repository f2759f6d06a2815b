"""Which process variables are surely set where they are read: a must-be-defined analysis of the flow.

A gateway condition, a timer, a task's ``dueFrom``, ``unitVar`` or ``assigneeVar``, a script, a
multi-instance collection or a message payload reads variables of the process data. If one of them is
not set on *every* path that reaches the element, the instance fails there at run time (SpiffWorkflow:
``Error evaluating expression``) or, worse, a task opens for no unit. Deleting a step whose form records
the decision a later gateway tests is the classic way to get there (issue 17: 撰写谈话函询情况报告 in
``gt_p5_inquiry``), and neither the BPMN schema nor SpiffWorkflow's parser notices.

What sets a variable (the same sources the runtime uses, engine/runtime/core.py):

- the start data: the owning commission's unit variables (roles.yaml ``owner_var``), a timer start's
  ``scheduled_at`` and ``period``, a message start's payload keys (as the senders of this deployment
  write them) or its ``messageVariable``; a called process gets what its callers hold at every call;
- a user task's form fields marked ``x-process`` (only those are copied into the process data,
  engine/forms/schema.py ``split``; never a confidential one); a multi-instance task's output collection;
- assignments in a script task, a pre-script or a post-script;
- a message caught with a ``messageVariable``; a call activity returns what its process surely sets.

A process may declare what its starter gives (the process property ``startData``: names separated by
commas), which counts as set at every start. A variable nothing in the deployment sets is taken to come
with the start data: a starter may give
any (``POST /api/v1/definitions/{key}/instances`` ``data``), so only a variable that another step of the process (or of a process calling it) sets,
but not on every path, is reported as unset (``i = i + 1`` on a counter the start data gives is not).

The analysis is the textbook forward data-flow problem over the sequence flows: the set at an
element's entry is the intersection of its predecessors' sets (the union at a parallel join, which
waits for every branch), iterated to a fixed point so loops are handled; processes that call each
other are iterated together. Elements no start reaches are left to the connectivity rule
(``lint.py``). Each finding names the element, the variable and where it is read.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
BPMN = "{{{}}}".format(NS["bpmn"])

# Names an expression may use without the data setting them: the sandbox's builtins and the helpers of
# engine/scheduling/deadlines.py ``DeadlinePolicy.functions`` (tests/engine/definitions check both lists).
HELPERS = frozenset({"deadline", "deadline_from", "reminder", "schedule", "today", "workdays_between"})
TIMER_START_DATA = frozenset({"scheduled_at", "period"})

ACTIVITIES = {"userTask", "manualTask", "scriptTask", "task", "sendTask", "receiveTask", "callActivity",
              "serviceTask", "businessRuleTask", "subProcess"}  # fmt: skip
FLOW_NODES = ACTIVITIES | {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
    "complexGateway",
}


class _Unknown:
    """A variable that is set, to a value the analysis does not know (a form field, a computation)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
Env = dict[str, Any]  # variable -> its constant value, or UNKNOWN; a missing key: not surely set


def _meet(envs: list[Env]) -> Env:
    """Where paths join: set on all of them, the same constant or UNKNOWN."""
    first, rest = envs[0], envs[1:]
    out: Env = {}
    for key, value in first.items():
        if all(key in e for e in rest):
            out[key] = value if all(e[key] is value or e[key] == value for e in rest) else UNKNOWN
    return out


def _union(envs: list[Env]) -> Env:
    """A parallel join: whatever any branch set; a constant only where the branches agree."""
    out: Env = {}
    for e in envs:
        for key, value in e.items():
            out[key] = value if key not in out or out[key] == value else UNKNOWN
    return out


def _unknown(names: Iterable[str]) -> Env:
    return dict.fromkeys(names, UNKNOWN)


def builtin_names() -> frozenset[str]:
    from engine.runtime.sandbox import _BUILTINS

    return frozenset(_BUILTINS) | HELPERS | {"True", "False", "None"}


@dataclass(frozen=True)
class Use:
    """A read of a variable: where (element id), what reads it (``kind``: condition, timer, dueFrom …)
    and the expression, for the message."""

    element: str
    kind: str
    variable: str
    source: str = ""


@dataclass
class Finding:
    file: str
    element: str
    reason: str
    code: str
    params: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading expressions
def expression_reads(source: str, known: frozenset[str]) -> list[str]:
    """Free variables of a Python expression (comprehension targets excluded), in order of appearance."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return []  # the compiler reports the syntax error itself
    return _reads(tree, known, set())


def script_reads_and_writes(source: str, known: frozenset[str]) -> tuple[list[str], dict[str, Any]]:
    """Variables a script reads before it sets them, and those it sets with their value when it is a
    literal (``inquiry_rounds = 0``, ``verify_result = 'none'``), else ``UNKNOWN``."""
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(source).strip("\n"), mode="exec")
    except SyntaxError:
        return [], {}
    reads: list[str] = []
    written: dict[str, Any] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.AST = stmt
        if isinstance(stmt, ast.Assign):
            targets, value = list(stmt.targets), stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets, value = [stmt.target], stmt.value
            if isinstance(stmt.target, ast.Name) and stmt.target.id not in written and stmt.target.id not in known:
                reads.append(stmt.target.id)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for name in _reads(value, known, set(written)):
            if name not in reads:
                reads.append(name)
        constant = _literal(value) if isinstance(stmt, ast.Assign) and len(targets) == 1 else UNKNOWN
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    written[node.id] = constant if isinstance(target, ast.Name) else UNKNOWN
    return reads, written


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def _reads(tree: ast.AST, known: frozenset[str], bound: set[str]) -> list[str]:
    local = set(bound)
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            for target in ast.walk(node.target):
                if isinstance(target, ast.Name):
                    local.add(target.id)
        elif isinstance(node, ast.Lambda):
            local.update(a.arg for a in node.args.args)
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id not in known
            and node.id not in local
            and node.id not in found
        ):
            found.append(node.id)
    return found


def _text(element: Any, path: str) -> str | None:
    node = element.find(path, NS)
    return node.text.strip() if node is not None and node.text and node.text.strip() else None


def _props(element: Any) -> dict[str, str]:
    return {
        p.get("name"): p.get("value", "")
        for p in element.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
        if p.get("name")
    }


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def form_sets(schema: Any) -> set[str]:
    """The process variables a completed form offers: its ``x-process`` fields (see the module's docstring).

    An optional field counts: whether a branch may open only when the officer filled it is a question
    of the form's own rules (``required``, ``if``/``then``), which this analysis does not decide."""
    if not isinstance(schema, dict):
        return set()
    return {
        name
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get("x-process") and not prop.get("x-confidential")
    }


# --------------------------------------------------------------------------- one process
@dataclass
class _Node:
    id: str
    tag: str
    element: Any
    incoming: list[str] = field(default_factory=list)  # predecessor node ids
    before: Env = field(default_factory=dict)  # what it sets before its own reads (pre-script, MI item)
    uses: list[Use] = field(default_factory=list)  # read with the entry set + ``before``
    late: Env = field(default_factory=dict)  # what its work sets (form, script, caught message)
    late_uses: list[Use] = field(default_factory=list)  # read after its work (post-script, activity's flows)
    after: Env = field(default_factory=dict)  # what its post-script and MI output set, last
    conditions: list[tuple[str, str]] = field(default_factory=list)  # (flow id, condition) out of a gateway


@dataclass
class _Process:
    id: str
    file: str
    element: Any
    nodes: dict[str, _Node]
    starts: list[str]
    ends: list[str]
    calls: dict[str, str]  # call activity id -> called process id
    start_data: Env
    entry: dict[str, Env | None] = field(default_factory=dict)


class Dataflow:
    """The analysis of one deployment (every process of every file, together)."""

    def __init__(
        self,
        trees: Mapping[str, Any],
        forms: Mapping[str, Any],
        owner_variables: Iterable[str],
        executable: Mapping[str, bool] | None = None,
    ):
        self.known = builtin_names()
        self.forms = forms
        self.owner = frozenset(owner_variables)
        self.processes: dict[str, _Process] = {}
        self.message_payloads: dict[str, list[set[str]]] = {}  # message name -> key sets its senders write
        message_names: dict[str, dict[str, str]] = {}
        for filename, tree in trees.items():
            root = tree.getroot()
            message_names[filename] = {
                m.get("id"): (m.get("name") or m.get("id")) for m in root.iterfind("bpmn:message", NS)
            }
            for process in root.iterfind("bpmn:process", NS):
                self._collect_payloads(process, message_names[filename])
        for filename, tree in trees.items():
            for process in tree.getroot().iterfind("bpmn:process", NS):
                self.processes[process.get("id")] = self._graph(filename, process, message_names[filename])
        self.called = {callee for p in self.processes.values() for callee in p.calls.values()}
        self.executable = executable or {}

    # ----------------------------------------------------------------- building the graph
    def _collect_payloads(self, process: Any, names: Mapping[str, str]) -> None:
        for med in process.iter(BPMN + "messageEventDefinition"):
            parent = med.getparent()
            if _local(parent) in ("intermediateThrowEvent", "endEvent"):
                self._payload(names.get(med.get("messageRef") or "", med.get("messageRef") or ""), parent)
        for task in process.iter(BPMN + "sendTask"):
            self._payload(names.get(task.get("messageRef") or "", task.get("messageRef") or ""), task)

    def _payload(self, message: str, element: Any) -> None:
        source = _payload_source(element)
        keys: set[str] = set()
        if source:
            try:
                tree: ast.AST | None = ast.parse(source, mode="eval").body
            except SyntaxError:
                tree = None
            if isinstance(tree, ast.Dict):
                keys = {k.value for k in tree.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        self.message_payloads.setdefault(message, []).append(keys)

    def _graph(self, filename: str, process: Any, messages: Mapping[str, str]) -> _Process:
        nodes: dict[str, _Node] = {}
        for element in process:
            tag = _local(element)
            if tag in FLOW_NODES and element.get("id"):
                nodes[element.get("id")] = _Node(element.get("id"), tag, element)
        for flow in process.iterfind("bpmn:sequenceFlow", NS):
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in nodes and target in nodes:
                nodes[target].incoming.append(source)
                condition = _text(flow, "bpmn:conditionExpression")
                if condition:
                    gateway = "Gateway" in nodes[source].tag
                    # a gateway tests what reached it; an activity's conditional flow, what it has done
                    into = nodes[source].uses if gateway else nodes[source].late_uses
                    into += [Use(source, "condition", n, condition) for n in expression_reads(condition, self.known)]
                    if gateway:
                        nodes[source].conditions.append((flow.get("id"), condition))
        starts, ends, calls = [], [], {}
        start_data = _unknown(self.owner)
        # What the starter must give, as the designer declares it (a process property ``startData``, names
        # separated by commas): such a variable may also be set again by a later step, and is still set
        # where the first steps read it.
        for prop in process.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
            if prop.get("name") == "startData":
                start_data.update(_unknown(n.strip() for n in (prop.get("value") or "").split(",") if n.strip()))
        for node in nodes.values():
            self._describe(node, nodes, messages)
            if node.tag == "startEvent":
                starts.append(node.id)
                if node.element.find("bpmn:timerEventDefinition", NS) is not None:
                    start_data.update(_unknown(TIMER_START_DATA))
            elif node.tag == "endEvent":
                ends.append(node.id)
            elif node.tag == "callActivity" and node.element.get("calledElement"):
                calls[node.id] = node.element.get("calledElement")
        return _Process(process.get("id"), filename, process, nodes, starts, ends, calls, start_data)

    def _describe(self, node: _Node, nodes: Mapping[str, _Node], messages: Mapping[str, str]) -> None:
        el, eid = node.element, node.id
        pre = _text(el, "bpmn:extensionElements/spiffworkflow:preScript")
        post = _text(el, "bpmn:extensionElements/spiffworkflow:postScript")
        if pre:
            reads, writes = script_reads_and_writes(pre, self.known)
            node.uses += [Use(eid, "preScript", name, pre) for name in reads]
            node.before.update(writes)
        loop = el.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if loop is not None:
            collection = _text(loop, "bpmn:loopDataInputRef")
            if collection:
                node.uses.append(Use(eid, "collection", collection, collection))
            item = loop.find("bpmn:inputDataItem", NS)
            if item is not None and (item.get("name") or item.get("id")):
                node.before[item.get("name") or item.get("id")] = UNKNOWN
            cardinality = _text(loop, "bpmn:loopCardinality")
            if cardinality:
                node.uses += [
                    Use(eid, "cardinality", n, cardinality) for n in expression_reads(cardinality, self.known)
                ]
            output = _text(loop, "bpmn:loopDataOutputRef")
            if output:
                node.after[output] = UNKNOWN
        props = _props(el)
        if node.tag in ("userTask", "manualTask"):
            for kind in ("unitVar", "assigneeVar", "dueFrom"):
                if props.get(kind):
                    node.uses.append(Use(eid, kind, props[kind].strip(), props[kind]))
            node.late.update(_unknown(form_sets(self.forms.get(props.get("formKey") or ""))))
        elif node.tag == "scriptTask":
            script = _text(el, "bpmn:script")
            if script:
                reads, writes = script_reads_and_writes(script, self.known)
                node.uses += [Use(eid, "script", name, script) for name in reads]
                node.late.update(writes)
        elif node.tag == "callActivity":
            node.late[_CALLED] = UNKNOWN  # replaced by the called process's result when solving
        for timer in el.iterfind("bpmn:timerEventDefinition", NS):
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                expr = _text(timer, f"bpmn:{kind}")
                if expr:
                    node.uses += [Use(eid, "timer", n, expr) for n in expression_reads(expr, self.known)]
        for med in el.iterfind("bpmn:messageEventDefinition", NS):
            variable = _text(med, "bpmn:extensionElements/spiffworkflow:messageVariable")
            if node.tag in ("startEvent", "intermediateCatchEvent", "boundaryEvent"):
                if variable:
                    node.late[variable] = UNKNOWN
                if node.tag == "startEvent":
                    senders = self.message_payloads.get(messages.get(med.get("messageRef") or "", ""), [])
                    if senders:
                        node.late.update(_unknown(set.intersection(*senders)))
        if node.tag == "receiveTask":
            variable = _text(el, "bpmn:extensionElements/spiffworkflow:messageVariable")
            if variable:
                node.late[variable] = UNKNOWN
        payload = _payload_source(el)
        if payload and node.tag in ("sendTask", "intermediateThrowEvent", "endEvent"):
            node.uses += [Use(eid, "payload", n, payload) for n in expression_reads(payload, self.known)]
        if post:
            reads, writes = script_reads_and_writes(post, self.known)
            node.late_uses += [Use(eid, "postScript", name, post) for name in reads]
            node.after.update(writes)
        if node.tag == "boundaryEvent" and el.get("attachedToRef") in nodes:
            node.incoming.append(el.get("attachedToRef"))

    # ----------------------------------------------------------------- solving
    def _work(self, node: _Node, returns: Mapping[str, Env]) -> Env:
        if _CALLED in node.late:
            return {**{k: v for k, v in node.late.items() if k != _CALLED}, **returns.get(node.id, {})}
        return node.late

    def _solve(self, process: _Process, start: Env, returns: Mapping[str, Env]) -> dict[str, Env | None]:
        """The variables surely set at each element's entry, with their constant values (None: no start
        reaches the element)."""
        nodes = process.nodes
        entry: dict[str, Env | None] = dict.fromkeys(nodes)

        def exit_of(nid: str, via: str) -> Env | None:
            got = entry[nid]
            if got is None:
                return None
            node = nodes[nid]
            if nodes[via].tag == "boundaryEvent" and nodes[via].element.get("attachedToRef") == nid:
                return {**got, **node.before}  # the task was waiting: its form was not submitted
            return {**got, **node.before, **self._work(node, returns), **node.after}

        changed, rounds = True, 0
        while changed and rounds < 4 * (len(nodes) + 1):
            changed, rounds = False, rounds + 1
            for nid, node in nodes.items():
                new: Env | None
                if node.tag == "startEvent" and not node.incoming:
                    new = dict(start)
                else:
                    sets = [e for e in (exit_of(p, nid) for p in node.incoming) if e is not None]
                    if not sets:
                        new = None
                    elif node.tag == "parallelGateway":
                        new = _union(sets)
                    else:
                        new = _meet(sets)
                if new != entry[nid]:
                    entry[nid], changed = new, True
        return entry

    def _result(self, process: _Process, returns: Mapping[str, Env]) -> Env:
        envs = []
        for nid in process.ends:
            node, got = process.nodes[nid], process.entry.get(nid)
            if got is not None:
                envs.append({**got, **node.before, **self._work(node, returns), **node.after})
        return _meet(envs) if envs else {}

    def run(self) -> list[Finding]:
        """Every read of a variable not surely set, and every gateway flow whose condition the values that
        surely reach it decide (once per element and variable)."""
        inputs: dict[str, Env] = {pid: dict(p.start_data) for pid, p in self.processes.items()}
        results: dict[str, Env] = {}
        for _ in range(2 * len(self.processes) + 2):
            before = (repr(inputs), repr(results))
            call_inputs: dict[str, list[Env]] = {}
            for pid, p in self.processes.items():
                returns = {cid: results.get(callee, {}) for cid, callee in p.calls.items()}
                p.entry = self._solve(p, inputs[pid], returns)
                for cid, callee in p.calls.items():
                    at = p.entry.get(cid)
                    if at is not None and callee in self.processes:
                        call_inputs.setdefault(callee, []).append({**at, **p.nodes[cid].before})
                results[pid] = self._result(p, returns)
            for pid, p in self.processes.items():
                own = dict(p.start_data)
                callers = call_inputs.get(pid)
                if callers and not self.executable.get(pid, pid not in self.called):
                    inputs[pid] = {**_meet(callers), **own}  # only ever called: what every caller holds
                elif callers:
                    inputs[pid] = _meet([own, _meet(callers)])  # started on its own too
                else:
                    inputs[pid] = own
            if (repr(inputs), repr(results)) == before:
                break
        return self._findings()

    def _setters(self) -> dict[str, set[str]]:
        """Variable -> the elements (process:id) that set it anywhere in the deployment."""
        found: dict[str, set[str]] = {}
        for p in self.processes.values():
            for name in p.start_data:
                found.setdefault(name, set()).add(f"{p.id}:")
            for node in p.nodes.values():
                for name in {*node.before, *node.late, *node.after}:
                    found.setdefault(name, set()).add(f"{p.id}:{node.id}")
        return found

    def _findings(self) -> list[Finding]:
        found: list[Finding] = []
        setters = self._setters()
        callers: dict[str, set[str]] = {}
        for caller in self.processes.values():
            for callee in caller.calls.values():
                callers.setdefault(callee, set()).add(caller.id)
        for p in self.processes.values():
            for nid, node in p.nodes.items():
                at = p.entry.get(nid)
                if at is None:
                    continue
                seen: set[str] = set()
                early = {**at, **node.before}
                late = {**early, **node.late}
                for use, have in [(u, early) for u in node.uses] + [(u, late) for u in node.late_uses]:
                    if use.variable in have or use.variable in seen:
                        continue
                    others = {
                        where
                        for where in setters.get(use.variable, set()) - {f"{p.id}:{nid}"}
                        if where.partition(":")[0] in callers.get(p.id, set()) | {p.id}
                    }
                    if not others:
                        continue  # nothing else here sets it: the starter gives it (see the module's docstring)
                    seen.add(use.variable)
                    found.append(self._unset(p, node, use))
                for flow, condition in node.conditions:
                    decided = _decide(condition, early)
                    if decided is not None and not decided[0] and decided[1] not in seen:
                        found.append(self._dead(p, node, flow, condition, decided[1], early[decided[1]]))
        return found

    def _unset(self, p: _Process, node: _Node, use: Use) -> Finding:
        return Finding(
            file=p.file,
            element=node.id,
            code="dataflow_unset",
            reason=(
                f"variable '{use.variable}' read by {_WHAT[use.kind]} ({use.source.strip()[:120]!r}) is not set on "
                "every path that reaches it: no earlier form field (x-process), script, start data or message sets it"
            ),
            params={"variable": use.variable, "use": use.kind, "source": use.source.strip()[:120]},
        )

    def _dead(self, p: _Process, node: _Node, flow: str, condition: str, variable: str, value: Any) -> Finding:
        return Finding(
            file=p.file,
            element=node.id,
            code="dataflow_dead_branch",
            reason=(
                f"flow '{flow}' ({condition.strip()[:120]!r}) is never taken: on every path that reaches the gateway "
                f"'{variable}' is still {value!r}, set before this process or step and never decided on the way "
                "(is the step whose form records it missing?)"
            ),
            params={"variable": variable, "value": repr(value), "flow": flow, "source": condition.strip()[:120]},
        )


_CALLED = "\x00called"  # marks a call activity's work: what its process returns (never a variable name)

_WHAT = {
    "condition": "the condition of a flow out of it",
    "timer": "its timer",
    "dueFrom": "its time limit's start (dueFrom)",
    "unitVar": "its unit variable (unitVar)",
    "assigneeVar": "its assignee variable (assigneeVar)",
    "preScript": "its pre-script",
    "postScript": "its post-script",
    "script": "its script",
    "collection": "its multi-instance collection",
    "cardinality": "its multi-instance cardinality",
    "payload": "its message payload",
}


def _payload_source(element: Any) -> str | None:
    found = _text(element, "bpmn:extensionElements/spiffworkflow:messagePayload")
    for med in element.iterfind("bpmn:messageEventDefinition", NS):
        found = found or _text(med, "bpmn:extensionElements/spiffworkflow:messagePayload")
    return found


def _decide(condition: str, env: Mapping[str, Any]) -> tuple[bool, str] | None:
    """(the condition's value, the variable that decides it) when the constants reaching a gateway decide
    it; None when it depends on anything unknown. Only comparisons, ``in``, ``and``/``or``/``not`` of
    names and literals are evaluated (the conditions of the library), never a call."""
    try:
        tree = ast.parse(condition.strip(), mode="eval").body
    except SyntaxError:
        return None
    names: list[str] = []

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            got = env.get(node.id, UNKNOWN)
            if got is UNKNOWN:
                raise _Undecided
            names.append(node.id)
            return got
        if isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Set)):
            got = _literal(node)
            if got is UNKNOWN:
                raise _Undecided
            return got
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(value(v) for v in node.values)
            return any(value(v) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not value(node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = value(node.left), value(node.comparators[0])
            op = node.ops[0]
            ops: dict[type[ast.cmpop], Callable[[], Any]] = {
                ast.Eq: lambda: left == right,
                ast.NotEq: lambda: left != right,
                ast.In: lambda: left in right,
                ast.NotIn: lambda: left not in right,
                ast.Is: lambda: left is right,
                ast.IsNot: lambda: left is not right,
            }
            if type(op) in ops:
                return ops[type(op)]()
        raise _Undecided

    try:
        result = bool(value(tree))
    except (_Undecided, TypeError):
        return None
    return (result, names[0]) if names else None


class _Undecided(Exception):
    """The condition depends on something the analysis does not know."""


def check(
    trees: Mapping[str, Any],
    forms: Mapping[str, Any],
    owner_variables: Iterable[str],
    executable: Mapping[str, bool] | None = None,
) -> list[Finding]:
    """The data-flow findings of a deployment's parsed BPMN trees (see the module's docstring)."""
    return Dataflow(trees, forms, owner_variables, executable).run()
