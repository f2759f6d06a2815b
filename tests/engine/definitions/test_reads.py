"""Deploy checks the need-to-know declarations (知悉范围): every role says what its tasks read, and a task
in a lane that reads only what is addressed to it names what it reads, with names deploy can check."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from engine.definitions import compile_bundle, load_bundle
from engine.errors import DeployError
from tests.conftest import FIXTURES

PROPOSE_PROPS = '<spiffworkflow:property name="unitVar" value="handling_unit"/>'


def _library(addressed: str | None = "supervision_office", **props: str):
    """The test library with one role made an outside lane and the 提出处置意见 task given ``props``."""
    bundle = load_bundle(FIXTURES / "lib")
    roles = copy.deepcopy(bundle.roles)
    for role in roles["roles"]:
        if role["code"] == addressed:
            role["reads"] = "addressed"
    bundle = dataclasses.replace(bundle, roles=roles)
    extra = "".join(f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in props.items())
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    assert PROPOSE_PROPS in content
    return bundle.with_bpmn("clue_simple.bpmn", content.replace(PROPOSE_PROPS, PROPOSE_PROPS + extra).encode())


def _problems(bundle) -> list[dict]:
    with pytest.raises(DeployError) as info:
        compile_bundle(bundle)
    return info.value.problems


def test_an_outside_lane_task_that_declares_nothing_is_refused_naming_file_element_and_rule():
    problems = _problems(_library())
    assert problems == [
        {
            "file": "clue_simple.bpmn",
            "element": "propose",
            "reason": "task in lane '监督检查室' (roles.yaml reads: addressed) must declare what it reads: property "
            "'reads' = earlier step ids or step.field of this process, or 'none' (need-to-know, "
            "processes/CONVENTIONS.md)",
            "name": "提出处置意见",
        }
    ]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"reads": "ghost"}, "reads 'ghost': 'ghost' is not another user task of process gt_test_clue"),
        (
            {"reads": "register.reporter_phone"},
            "reads 'register.reporter_phone': the form 'register' of step 'register' has no field 'reporter_phone'",
        ),
        ({"reads": "propose"}, "reads 'propose': 'propose' is not another user task of process gt_test_clue"),
        ({"reads": "none, register"}, "reads 'none' cannot be combined with step names"),
        (
            {"reads": "none", "readsFiles": "ghost"},
            "readsFiles 'ghost' is not another user task of process gt_test_clue",
        ),
    ],
    ids=["unknown-step", "unknown-field", "itself", "none-and-more", "unknown-files-step"],
)
def test_an_unknown_reference_is_refused(props, expected):
    problems = _problems(_library(**props))
    assert [(p["file"], p["element"], p["reason"]) for p in problems] == [("clue_simple.bpmn", "propose", expected)]


def test_a_file_lane_declaring_reads_is_refused():
    """A 监督检查室 task reads the whole file: a narrower declaration there would only mislead a reader."""
    problems = _problems(_library(addressed=None, reads="register.summary"))
    assert [(p["element"], p["reason"]) for p in problems] == [
        (
            "propose",
            "lane '监督检查室' reads the whole file (roles.yaml reads: file); 'reads'/'readsFiles' apply to "
            "addressed lanes only",
        )
    ]


def test_a_role_without_a_reading_scope_is_refused():
    bundle = load_bundle(FIXTURES / "lib")
    roles = copy.deepcopy(bundle.roles)
    del roles["roles"][0]["reads"]
    problems = _problems(dataclasses.replace(bundle, roles=roles))
    assert problems[0]["file"] == "roles.yaml" and problems[0]["element"] == roles["roles"][0]["code"]
    assert "reads: file | addressed" in problems[0]["reason"]


def test_a_declaration_is_compiled_into_the_task_metadata():
    compiled = compile_bundle(_library(reads="register.summary, register.clue_no", readsFiles="register"))
    tasks = compiled.catalogue["gt_test_clue"]["tasks"]
    assert tasks["propose"]["reads_scope"] == "addressed"
    assert tasks["propose"]["reads"] == {"register": ["clue_no", "summary"]}
    assert tasks["propose"]["reads_files"] == ["register"]
    assert tasks["register"]["reads_scope"] == "file" and "reads" not in tasks["register"]
    nothing = compile_bundle(_library(reads="none")).catalogue["gt_test_clue"]["tasks"]["propose"]
    assert (nothing["reads"], nothing["reads_files"]) == ({}, [])


def test_the_library_declares_every_outside_lane_task():
    """Every user task of processes/ in an addressed lane declares what it reads (deploy would refuse it)."""
    from tests.processes.driver import compiled_library

    compiled = compiled_library()
    outside = {
        (pid, tid): meta
        for pid, proc in compiled.catalogue.items()
        for tid, meta in proc["tasks"].items()
        if meta["reads_scope"] == "addressed"
    }
    assert len(outside) >= 39  # 被反映人, 被监督党组织, X职能部门, 组织部 … across the library
    assert compiled.catalogue["gt_p5_inquiry"]["tasks"]["t_reply"]["reads"] == {
        "t_letter": ["delivered_date", "letter_no", "questions", "reply_due", "sent_date"]
    }
    assert compiled.catalogue["gt_p5_inquiry"]["tasks"]["t_reply"]["assignee_var"] == "recipient"
    # the 工作预案 (contingency) and the clue's records are never declared for an outside lane
    for (pid, tid), meta in outside.items():
        assert "t_plan.contingency" not in str(meta["reads"]), (pid, tid)
