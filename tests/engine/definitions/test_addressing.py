"""Deploy refuses a task addressed to a typed name; the library's every addressed task takes an account.

Issue 15: the 初核 of a real-name clue stalled because each 回避声明 task was assigned to a team member's
name as typed, which no account carried. engine/definitions/addressing.py accepts an ``assigneeVar`` only
from an account picker (``users:`` options, copied into the process data), a variable computed from such
fields only, or the item of a multi-instance over one.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from engine import forms
from engine.definitions import addressing, compile_bundle, load_bundle
from engine.definitions.xmlsafe import parse_xml
from engine.errors import DeployError
from tests.conftest import FIXTURES, ROOT

PROPOSE_PROPS = '<spiffworkflow:property name="unitVar" value="handling_unit"/>'


def _library(assignee_var: str, **fields: dict):
    """The test library with fields added to the 登记 form and 提出处置意见 addressed by ``assignee_var``."""
    bundle = load_bundle(FIXTURES / "lib")
    register = copy.deepcopy(bundle.forms["register"])
    register["properties"].update(fields)
    bundle = dataclasses.replace(bundle, forms={**bundle.forms, "register": register})
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    extra = f'<spiffworkflow:property name="assigneeVar" value="{assignee_var}"/>'
    return bundle.with_bpmn("clue_simple.bpmn", content.replace(PROPOSE_PROPS, PROPOSE_PROPS + extra).encode())


TYPED = {"type": "string", "title": "承办人", "x-process": True}
PICKED = {"type": "string", "title": "承办人", "x-options": "users:supervision_office", "x-process": True}


def test_a_task_addressed_from_a_typed_name_is_refused_naming_file_element_and_variable():
    with pytest.raises(DeployError) as info:
        compile_bundle(_library("handler", handler=TYPED))
    [problem] = info.value.problems
    assert (problem["file"], problem["element"]) == ("clue_simple.bpmn", "propose")
    assert "assigneeVar 'handler' is not filled from an account picker" in problem["reason"]


def test_a_variable_no_form_fills_is_refused_too():
    with pytest.raises(DeployError) as info:
        compile_bundle(_library("nobody_fills_this"))
    assert [p["element"] for p in info.value.problems] == ["propose"]


def test_a_picker_that_is_not_kept_in_the_process_data_is_refused():
    with pytest.raises(DeployError):
        compile_bundle(_library("handler", handler={**PICKED, "x-process": False}))


def test_a_task_addressed_from_an_account_picker_deploys():
    compiled = compile_bundle(_library("handler", handler=PICKED))
    assert compiled.catalogue["gt_test_clue"]["tasks"]["propose"]["assignee_var"] == "handler"


def test_a_variable_computed_from_pickers_counts_but_a_constant_does_not():
    def roots(script: str):
        xml = (
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            f'<bpmn:process id="p"><bpmn:scriptTask id="s"><bpmn:script>{script}</bpmn:script>'
            "</bpmn:scriptTask></bpmn:process></bpmn:definitions>"
        )
        return [parse_xml(xml.encode(), "p.bpmn").getroot()]

    forms_ = {"f": {"properties": {"team": {"type": "array", "items": {"x-options": "users:x"}, "x-process": True}}}}
    assert "pending" in addressing.people_variables(forms_, roots("pending = [m for m in team if m]"))
    assert "pending" not in addressing.people_variables(forms_, roots("pending = team + ['zhangsan']"))
    assert "rounds" not in addressing.people_variables(forms_, roots("rounds = 0"))
    assert "pending" not in addressing.people_variables(forms_, roots("pending = other"))


# --------------------------------------------------------------------------- the whole library
def test_no_task_of_the_library_can_be_addressed_to_a_name_without_an_account(db):
    """Every task of processes/ addressed to one person takes that person from an account picker, and each
    such picker refuses a name that is not an active account, naming the field and the value."""
    bundle = load_bundle(ROOT / "processes")
    compiled = compile_bundle(bundle)  # refuses the library if any assigneeVar is a typed name
    addressed = {
        (pid, eid): task["assignee_var"]
        for pid, meta in compiled.catalogue.items()
        for eid, task in meta["tasks"].items()
        if task.get("assignee_var")
    }
    assert addressed, "the library addresses tasks to named people (回避声明, 签名, 函询回复, 巡察组长)"
    trees = {name: parse_xml(content, name) for name, content in bundle.bpmn.items()}
    people = addressing.people_variables(bundle.forms, [t.getroot() for t in trees.values()])
    pickers = {
        (key, name): prop
        for key, schema in bundle.forms.items()
        for name, prop in schema["properties"].items()
        if name in people and prop.get("x-process")
    }
    assert pickers
    with db.session() as s:
        for (key, name), prop in sorted(pickers.items()):
            schema = bundle.forms[key]
            assert str(prop.get("x-options") or prop["items"]["x-options"]).startswith("users:"), (key, name)
            typed = ["张三", "李四", "王五", "赵六"][: max(1, int(prop.get("minItems") or 1))]
            value = typed if prop.get("type") == "array" else "张三"
            errors = forms.validate(schema, {name: value}, options=forms.resolve_options(s, schema))
            assert "张三" in errors[name] and (prop.get("title") or name) in errors[name], (key, name, errors)
