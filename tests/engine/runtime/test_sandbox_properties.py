"""Property-based: whatever expression a process file holds, the sandbox refuses it or runs it to an
answer or an ordinary error within its budget — never an escape, a hang or a crash of the worker.

Expressions are drawn from a grammar biased towards what hurts: huge constants, repetition, powers and
shifts, nested comprehensions, the allowed builtins and methods, names from task data and a few
dunder and forbidden names.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.runtime.sandbox import SandboxViolation, compile_expression, make_script_engine

DATA = {"n": 10**6, "name": "XS-2024", "items": list(range(50)), "flags": {"ok": True}, "big": 10**9}
NAMES = [*DATA, "missing", "__import__", "open", "_secret", "type"]
# What an expression may fail with at run time: the step fails with the element named (ProcessError).
ORDINARY = (
    SandboxViolation,
    ArithmeticError,
    TypeError,
    ValueError,
    NameError,
    KeyError,
    IndexError,
    AttributeError,
)

atoms = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(repr),
    st.sampled_from(["10**9", "2**64", "999", "0", "-1", "1.5", "1e308"]),
    st.text(alphabet="ab%0-9d*", max_size=6).map(repr),
    st.sampled_from(NAMES),
    st.sampled_from(["[0]", "[1, 2]", "()", "{}", "{'a': 1}", "range(999)", "items"]),
)


def _compose(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "**", "%", "<<", "//", "==", "<", "in"]), children)
    calls = st.tuples(
        st.sampled_from(["len", "sum", "sorted", "str", "int", "max", "min", "list", "round", "abs", "set"]), children
    )
    methods = st.tuples(children, st.sampled_from(["get", "split", "count", "upper", "replace", "join", "ljust"]))
    comprehension = st.tuples(children, st.sampled_from(["range(999)", "items", "range(n)", "name"]), children)
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        calls.map(lambda t: f"{t[0]}({t[1]})"),
        methods.map(lambda t: f"{t[0]}.{t[1]}('a')"),
        comprehension.map(lambda t: f"[{t[0]} for x in {t[1]} for y in {t[2]}]"),
        st.tuples(children, children).map(lambda t: f"f'{{{t[0]}:>{len(t[1]) * 99}}}'"),
        children.map(lambda c: f"{c}[0]"),
    )


expressions = st.recursive(atoms, _compose, max_leaves=8)


@given(source=expressions)
@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_expression_is_refused_or_bounded(source):
    try:
        compile_expression(source)
    except SandboxViolation:
        return
    except (SyntaxError, ValueError):  # e.g. a literal Python itself refuses
        return
    env = make_script_engine().environment
    started = time.monotonic()
    try:
        env.evaluate(source, dict(DATA))
    except ORDINARY:
        pass
    except RecursionError:  # Python's own limit on nesting: still an ordinary failure of the step
        pass
    # The budget allows 2 s of work; the margin covers a loaded test machine.
    assert time.monotonic() - started < 10, source
