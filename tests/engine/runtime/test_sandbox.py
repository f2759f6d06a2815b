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


# --------------------------------------------------------------------------- budgets
# Each of these used to deploy and then hang a worker thread or take its memory (issue 12).
RUNTIME_BOMBS = {
    "sequence from data": ("evaluate", "name * n", {"name": "ab", "n": 10**9}),
    "list from data": ("evaluate", "[0] * n", {"n": 10**8}),
    "nested comprehension": ("evaluate", "[1 for a in range(999) for b in range(999) for c in range(999)]", {}),
    "generator sum": ("evaluate", "sum(1 for a in range(999) for b in range(999) for c in range(999))", {}),
    "string doubling": ("execute", "s = 'ab'\nfor i in range(60):\n    s = s + s", {}),
    "augmented doubling": ("execute", "s = 'ab'\nfor i in range(60):\n    s += s", {}),
    "many appends": (
        "execute",
        "rows = []\nfor i in range(999):\n    for j in range(999):\n        rows.append(i)",
        {},
    ),
    "many medium strings": ("execute", "rows = []\nfor i in range(500):\n    rows.append('x' * n)", {"n": 5000}),
    "shift": ("evaluate", "1 << n", {"n": 10**9}),
    "percent width from data": ("evaluate", "'%*d' % (n, 1)", {"n": 10**9}),
}


@pytest.mark.parametrize("name", sorted(RUNTIME_BOMBS))
def test_runtime_bombs_are_stopped_within_budget(name):
    from engine.runtime.sandbox import BudgetExceeded

    mode, source, data = RUNTIME_BOMBS[name]
    env = make_script_engine().environment
    with pytest.raises(BudgetExceeded):
        getattr(env, mode)(source, dict(data))


@pytest.mark.parametrize(
    "source",
    ["'x' * 10**9", "'ab' * 999 * 999 * 999", "(10**64)**64", "'%0999999999d' % 1", "f'{x:>999999999}'"],
)
def test_constant_bombs_are_refused_at_compile_time(source):
    with pytest.raises(SandboxViolation):
        compile_expression(source)


@pytest.mark.parametrize("source", ["s.replace('a', 'aaaa')", "','.join(items)", "s.ljust(n)", "s.format(x)"])
def test_methods_that_can_amplify_are_refused_by_name(source):
    with pytest.raises(SandboxViolation, match="not allowed"):
        compile_expression(source)


def test_budget_leaves_ordinary_expressions_alone():
    env = make_script_engine().environment
    assert env.evaluate("name + '-' + str(n * 3)", {"name": "XS", "n": 7}) == "XS-21"
    assert env.evaluate("'%05.1f' % x", {"x": 3.14159}) == "003.1"
    assert env.evaluate("f'{n:>4}'", {"n": 7}) == "   7"
    assert env.evaluate("sorted(d.keys())[0].upper()", {"d": {"b": 1, "a": 2}}) == "A"
    context = {"rows": list(range(300))}
    env.execute("total = 0\nfor r in rows:\n    for s in rows:\n        total += 1", context)
    assert context["total"] == 90000  # 90,300 steps: within the budget of 100,000


def test_deploy_refuses_a_constant_bomb_and_names_the_element(library):
    with pytest.raises(DeployError) as info:
        compile_bundle(_bundle_with(library, script="padding = 'x' * 10**9"))
    assert any(p["element"] == "compute" and "1,000,000" in p["reason"] for p in info.value.problems)


def test_a_bomb_on_data_fails_the_step_and_changes_nothing(repo, runtime, library, db):
    from sqlalchemy import func, select

    from engine.models import ProcessInstance

    bundle = _bundle_with(library, script="padding = label * copies")
    repo.deploy(compile_bundle(bundle))
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(ProcessError) as info:
        runtime.start("gt_test_sandbox", data={"label": "xx", "copies": 10**9}, actor=SYSTEM_PRINCIPAL)
    assert info.value.details.get("element") == "compute"
    assert "1,000,000" in str(info.value)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == before


def test_deadline_helpers_refuse_dates_outside_the_calendar(repo, runtime, library):
    bundle = _bundle_with(library, script="span = workdays_between('0001-01-01', '9999-12-31')")
    repo.deploy(compile_bundle(bundle))
    with pytest.raises(ProcessError) as info:
        runtime.start("gt_test_sandbox", data={}, actor=SYSTEM_PRINCIPAL)
    assert "1900-01-01..2100-12-31" in str(info.value)
