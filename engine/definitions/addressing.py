"""Deploy rule: a task addressed to one person takes that person from an account picker, never from text.

A user task's ``assigneeVar`` names the data variable holding the username of the one person who must do
it (the 核查组 member who signs his 回避声明, the official who answers a 函询 letter). When that variable
was typed as free text, the task went to a name no account carries and the case stalled with nobody able
to act (issue 15: "the case stalls at 初核"). So deploy accepts an ``assigneeVar`` only when the variable
is one the library can vouch for:

- a **people field**: a top-level form field whose choices are accounts (``"x-options": "users:<role>"``,
  alone or as list items) and that is copied into the process data (``"x-process": true``); the form
  refuses any value that is not an active account of those roles (engine/forms/schema.py ``validate``);
- a variable every script assignment of which is computed from people variables only (``recusal_pending
  = [m for m in verify_team if m not in declared_members]``, ``declared_members = []``): no constant
  (a typed name, a counter), no other variable;
- the item variable of a multi-instance task whose input collection is such a variable (``member`` of
  ``recusal_pending``).

A task without ``assigneeVar`` goes to its lane's role in its ``unitVar`` units and needs nothing here.
Whether someone active can act on it at run time is the runtime's and the cockpit's question
(engine/runtime/addressing.py, engine/cockpit/stalled.py).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# Names an expression may call without making its value anything but people (list helpers of the sandbox).
_NEUTRAL = {"len", "list", "sorted", "set", "True", "False", "None"}


def _source(prop: Mapping[str, Any]) -> str:
    items = prop.get("items")
    return str(prop.get("x-options") or (items.get("x-options") if isinstance(items, dict) else "") or "")


def people_fields(forms: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(people fields, other process fields) of a deployment's forms, by variable name.

    A name that is a people field in one form and a free field in another is not a people variable: the
    free one could write a typed name into it.
    """
    people: set[str] = set()
    other: set[str] = set()
    for schema in forms.values():
        if not isinstance(schema, dict):
            continue
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict) or not prop.get("x-process"):
                continue
            (people if _source(prop).startswith("users:") else other).add(name)
    return people - other, other


def _assignments(source: str) -> Iterator[tuple[str, set[str], bool]]:
    """(target, names the value reads, whether it holds a constant) of each ``name = value`` of a
    script; a script that does not parse yields nothing (the sandbox check reports it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        bound = {
            n.id
            for comp in ast.walk(value)
            if isinstance(comp, ast.comprehension)
            for n in ast.walk(comp.target)
            if isinstance(n, ast.Name)
        }
        read = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound
        # a typed name, or a counter: anything written as a constant is not a username from a picker
        literal = any(isinstance(n, ast.Constant) and n.value is not None for n in ast.walk(value))
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    yield name.id, read, literal


def _scripts(root: Any) -> Iterator[str]:
    for path in (".//bpmn:scriptTask/bpmn:script", ".//spiffworkflow:preScript", ".//spiffworkflow:postScript"):
        for node in root.iterfind(path, NS):
            if node.text and node.text.strip():
                yield node.text


def people_variables(forms: Mapping[str, Any], roots: Iterable[Any]) -> set[str]:
    """Every variable that can only ever hold usernames picked from accounts (the greatest such set)."""
    fields, others = people_fields(forms)
    roots = list(roots)
    assignments = [a for root in roots for script in _scripts(root) for a in _assignments(script)]
    # a multi-instance's output collects what each instance answered (flags, opinions), not people
    others = others | {
        (ref.text or "").strip()
        for root in roots
        for ref in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataOutputRef", NS)
    }
    candidates = (fields | {target for target, _, _ in assignments}) - others
    changed = True
    while changed:
        changed = False
        for target, read, literal in assignments:
            if target in candidates and (literal or any(n not in candidates and n not in _NEUTRAL for n in read)):
                candidates.discard(target)
                changed = True
    return candidates


def check(forms: Mapping[str, Any], trees: Mapping[str, Any], add: Callable[[str, str | None, str], None]) -> None:
    """Report each user task whose ``assigneeVar`` is not a people variable (nor the item of a
    multi-instance over one) as ``add(file, element id, reason)``."""
    people = people_variables(forms, [tree.getroot() for tree in trees.values()])
    for filename, tree in sorted(trees.items()):
        for task in tree.getroot().iterfind(".//bpmn:userTask", NS):
            var = next(
                (
                    p.get("value")
                    for p in task.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
                    if p.get("name") == "assigneeVar"
                ),
                None,
            )
            if not var or var in people:
                continue
            loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
            if loop is not None:
                item = loop.find("bpmn:inputDataItem", NS)
                collection = loop.find("bpmn:loopDataInputRef", NS)
                if (
                    item is not None
                    and (item.get("name") or item.get("id")) == var
                    and collection is not None
                    and (collection.text or "").strip() in people
                ):
                    continue
            add(
                filename,
                task.get("id"),
                f"assigneeVar '{var}' is not filled from an account picker: the task would be addressed to a typed "
                "name no account may carry and the case would stall. Name a form field with "
                '"x-options": "users:<role>" and "x-process": true (or a variable computed only from such '
                "fields, or the item of a multi-instance over one), or address the task to its lane",
            )
