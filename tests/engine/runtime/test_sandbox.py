"""BPMN expressions cannot escape: refused at deploy, and refused again at run time."""

import pytest

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.definitions import compile_bundle
from engine.errors import DeployError, ProcessError
from engine.runtime.sandbox import SandboxViolation, compile_expression, compile_script, make_script_engine
from tests.engine.bpmn_templates import script_process

ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "exec('import os')",
    "eval('1+1')",
    "getattr(x, '__class__')",
    "[c for c in ().__class__.__mro__]",
    "x.__globals__",
    "type(x)",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_do_not_compile(source):
    with pytest.raises(SandboxViolation):
        compile_expression(source)
    with pytest.raises(SandboxViolation):
        compile_script(f"y = {source}")


@pytest.mark.parametrize(
    "source",
    [
        "while True:\n    pass",
        "import os",
        "from os import path",
        "def f():\n    return 1",
        "y = 10 ** n",
        "class A:\n    pass",
        "f = lambda: 1",
    ],
)
def test_constructs_that_could_hang_or_import_are_refused(source):
    with pytest.raises(SandboxViolation):
        compile_script(source)


def test_plain_expressions_and_scripts_work():
    engine = make_script_engine(lambda ctx: {"today": lambda: "2024-03-04"})
    env = engine.environment
    assert env.evaluate("disposal == 'liaojie' and amount > 1000", {"disposal": "liaojie", "amount": 42000})
    assert env.evaluate("len(items) == 2 and 'a' in items", {"items": ["a", "b"]})
    assert env.evaluate("today()", {}) == "2024-03-04"
    context = {"count": 1, "items": [1, 2, 3]}
    env.execute("count += 1\ntotal = sum(i for i in items)\nflags = {'ok': total > 5}", context)
    assert context == {"count": 2, "items": [1, 2, 3], "total": 6, "flags": {"ok": True}}


def test_runtime_refuses_what_deploy_refuses_and_has_no_dangerous_builtins():
    # The run-time environment compiles again, so a spec that skipped deploy checks is still refused,
    # and the builtins handed to expressions hold none of the dangerous names in the first place.
    from engine.runtime.sandbox import _BUILTINS, FORBIDDEN_NAMES

    env = make_script_engine().environment
    with pytest.raises(SandboxViolation):
        env.evaluate("open('/etc/passwd')", {})
    with pytest.raises(SandboxViolation):
        env.execute("import os", {})
    assert not (set(_BUILTINS) & FORBIDDEN_NAMES)
    with pytest.raises(NameError):
        env.evaluate("breakpointx()", {})


def test_script_cannot_shadow_helper_functions():
    env = make_script_engine(lambda ctx: {"deadline": lambda k: k}).environment
    with pytest.raises(SandboxViolation, match="deadline"):
        env.execute("x = 1", {"deadline": "2024-01-01"})


def _bundle_with(library, **holes):
    return library.with_bpmn("sandbox.bpmn", script_process(**holes).encode())


@pytest.mark.parametrize("where", ["condition", "script", "timer"])
@pytest.mark.parametrize(
    "escape", ["__import__('os')", "().__class__.__base__.__subclasses__()", "open('/etc/passwd')"]
)
def test_deploy_refuses_escape_and_names_the_element(library, where, escape):
    holes = {"condition": {"condition": escape}, "script": {"script": f"x = {escape}"}, "timer": {"timer": escape}}[
        where
    ]
    with pytest.raises(DeployError) as info:
        compile_bundle(_bundle_with(library, **holes))
    problems = info.value.problems
    element = {"condition": "f_yes", "script": "compute", "timer": "review_late"}[where]
    assert any(p["file"] == "sandbox.bpmn" and p["element"] == element for p in problems), problems


def test_timer_must_count_working_days(library):
    with pytest.raises(DeployError) as info:
        compile_bundle(_bundle_with(library, timer="'P15D'"))
    assert any("working days" in p["reason"] and p["element"] == "review_late" for p in info.value.problems)
    with pytest.raises(DeployError) as info:
        compile_bundle(_bundle_with(library, timer="deadline('no_such_limit')"))
    assert any("no_such_limit" in p["reason"] for p in info.value.problems)


def test_sandboxed_process_runs_end_to_end(repo, runtime, library, frozen_clock):
    bundle = _bundle_with(
        library, script="score = amount // 1000\nhigh = score >= 40", condition="high and source == 'xuncha'"
    )
    repo.deploy(compile_bundle(bundle))
    outcome = runtime.start("gt_test_sandbox", data={"amount": 42000, "source": "xuncha"})
    assert len(outcome.created_tasks) == 1
    frozen_clock.advance(days=10)  # past 5 working days
    assert runtime.fire_due_timers() == 1


def test_runtime_error_in_expression_names_the_element(repo, runtime, library):
    # A condition on a variable that does not exist fails at run time with the element named.
    bundle = _bundle_with(library, condition="missing_variable == 1")
    repo.deploy(compile_bundle(bundle))
    with pytest.raises(ProcessError) as info:
        runtime.start("gt_test_sandbox", data={}, actor=SYSTEM_PRINCIPAL)
    assert info.value.details.get("element") in ("gw", "f_yes")
