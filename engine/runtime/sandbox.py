"""The only place BPMN expressions and scripts run: a RestrictedPython sandbox.

SpiffWorkflow evaluates conditions, scripts, timer and multi-instance expressions with ``eval``/``exec``
and full builtins, so a BPMN file could run ``__import__('os')`` as the service user. Here every
expression is compiled by RestrictedPython (names and attributes starting with ``_`` are refused at
compile time), runs with a short list of harmless builtins, and may only read and write plain data.
The same compile step runs at deploy time, so a bad expression is refused before it is stored; the
engine is re-attached to every workflow after it is loaded (SpiffWorkflow does not serialize it).

What an expression may *do* is bounded too (engine/runtime/budget.py): the compiler routes loops and the
operators that can build huge values through the evaluation's ``Budget``, attributes are limited to a
short list of methods that cannot build more than they read, and a constant expression that would
exceed the budget is refused at deploy.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython.compile import CompileResult, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.runtime.budget import Budget, BudgetExceeded, SandboxViolation, check_format_spec

__all__ = ["BudgetExceeded", "SandboxViolation", "compile_expression", "compile_script", "make_script_engine"]


# Names that must never be reachable, even if someone adds them to the builtins by mistake.
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "exec",
        "eval",
        "compile",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "__import__",
        "input",
        "breakpoint",
        "help",
        "memoryview",
        "type",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "dir",
        "id",
        "exit",
        "quit",
        "print",
    }
)

_SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "int",
    "isinstance",
    "len",
    "map",
    "max",
    "min",
    "reversed",
    "round",
    "sorted",
    "str",
    "sum",
    "zip",
    "True",
    "False",
    "None",
)

MAX_POWER_EXPONENT = 64

# The methods an expression may call on plain data: each returns at most what it reads, so none can be
# used to build a huge value (``replace``, ``join``, ``ljust``, ``center``, ``zfill``, ``extend`` can, and
# ``format`` can reach attributes). The library's expressions use none; a designer who needs another
# adds it here with its reason.
ALLOWED_ATTRIBUTES = frozenset(
    {
        # dict
        "get",
        "keys",
        "values",
        "items",
        # str
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "isdigit",
        "find",
        # str, list, tuple
        "count",
        "index",
        # list (one item per call: bounded by the loop steps)
        "append",
    }
)


MAX_ROUND_DIGITS = 100


def _sum(items: Any, start: Any = 0) -> Any:
    """``sum`` of numbers only: ``sum(lists, [])`` concatenates in C in quadratic time, beyond the budget's
    reach (a million one-item lists would run for hours)."""
    if not isinstance(start, (int, float)):
        raise SandboxViolation("sum() adds numbers only")
    total = start
    for item in items:
        if not isinstance(item, (int, float)):
            raise SandboxViolation("sum() adds numbers only")
        total += item
    return total


def _round(number: Any, ndigits: int | None = None) -> Any:
    """``round`` with at most 100 digits either way: ``round(5, -10**9)`` computes 10**(10**9) in C."""
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise SandboxViolation(f"round() takes at most {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


def _builtins() -> dict[str, Any]:
    import builtins

    safe = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    safe.update(limited_builtins)  # range/list/tuple with size limits
    safe["set"] = set
    safe["sum"] = _sum
    safe["round"] = _round
    return safe


_BUILTINS = _builtins()

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "|=": operator.ior,
    "&=": operator.iand,
}


def _inplacevar(budget: Budget) -> Callable[[str, Any, Any], Any]:
    """``_inplacevar_`` for one evaluation: ``n += 1`` is compiled to ``_inplacevar_('+=', n, 1)``."""

    def inplace(op: str, x: Any, y: Any) -> Any:
        if op not in _INPLACE:
            raise SandboxViolation(f"operator {op} is not allowed")
        guarded = budget.inplace(op, x, y)
        return _INPLACE[op](x, y) if guarded is None else guarded

    return inplace


def _write_guard(ob: Any) -> Any:
    if isinstance(ob, (dict, list)):
        return ob
    raise SandboxViolation(f"cannot modify a {type(ob).__name__}")


def _getitem(ob: Any, key: Any) -> Any:
    return ob[key]


_GUARDS = {
    "_getattr_": safer_getattr,
    "_getitem_": _getitem,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write_guard,
}


def _guards(budget: Budget) -> dict[str, Any]:
    """The guard names the compiled code calls, the budgeted ones bound to this evaluation's budget."""
    return {**_GUARDS, **budget.guards(), "_inplacevar_": _inplacevar(budget)}


# Operators that can build a value much larger than their operands, and the guard that sizes it first.
_GUARDED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_",
    ast.Add: "_add_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


class _GuardingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, then ``a * b`` (and ``+ ** << %``) rewritten to ``_mul_(a, b)`` … so the
    budget sees the operands before Python builds the result. The guard names start with ``_``, which
    RestrictedPython refuses in source, so an author can neither call nor replace them."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None:
            return node
        name = ast.copy_location(ast.Name(id=guard, ctx=ast.Load()), node)
        call = ast.Call(func=name, args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


class _Policy(ast.NodeVisitor):
    """Extra rules on top of RestrictedPython: no loops that can run forever, no giant powers."""

    def visit_While(self, node: ast.While) -> None:
        raise SandboxViolation("'while' loops are not allowed in process expressions")

    def visit_Lambda(self, node: ast.Lambda) -> None:
        raise SandboxViolation("lambda is not allowed in process expressions")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        raise SandboxViolation("defining functions is not allowed in process expressions")

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        raise SandboxViolation("defining classes is not allowed in process expressions")

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        raise SandboxViolation("import is not allowed in process expressions")

    visit_ImportFrom = visit_Import

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_NAMES:
            raise SandboxViolation(f"'{node.id}' is not allowed in process expressions")
        if node.id.startswith("_"):
            raise SandboxViolation(f"names starting with '_' are not allowed: {node.id}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            raise SandboxViolation(f"attributes starting with '_' are not allowed: {node.attr}")
        if node.attr not in ALLOWED_ATTRIBUTES:
            raise SandboxViolation(
                f"'.{node.attr}' is not allowed in process expressions; allowed: {', '.join(sorted(ALLOWED_ATTRIBUTES))}"
            )
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
                raise SandboxViolation("an f-string's format spec must be written out, not computed")
            check_format_spec("".join(str(p.value) for p in parts if isinstance(p, ast.Constant)))
        self.visit(node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (
                isinstance(exponent, ast.Constant)
                and isinstance(exponent.value, int)
                and abs(exponent.value) <= MAX_POWER_EXPONENT
            ):
                raise SandboxViolation(f"'**' needs a constant exponent of at most {MAX_POWER_EXPONENT}")
        _static_value(node, Budget())  # a constant bomb ('x' * 10**9) is refused here, at deploy
        self.generic_visit(node)


class _NotStatic(Exception):
    """The expression depends on data, so only the run-time budget can bound it."""


_STATIC_OPERATORS: dict[type[ast.operator], Callable[[Budget, Any, Any], Any]] = {
    ast.Mult: Budget.mul,
    ast.Add: Budget.add,
    ast.Pow: Budget.pow,
    ast.LShift: Budget.lshift,
    ast.Mod: Budget.mod,
}


def _static_value(node: ast.AST, budget: Budget) -> Any:
    """The value of a constant operator expression, computed under the budget; None when it is not
    constant (or is constant and harmless but not foldable, e.g. a subtraction)."""
    try:
        return _fold(node, budget)
    except _NotStatic:
        return None
    except BudgetExceeded:
        raise
    except Exception:  # 1 / 0, 'a' * 'b': the run-time error names the element
        return None


def _fold(node: ast.AST, budget: Budget) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        op = _STATIC_OPERATORS.get(type(node.op))
        if op is not None:
            return op(budget, _fold(node.left, budget), _fold(node.right, budget))
    raise _NotStatic


def _check_policy(source: str, mode: str) -> None:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise SandboxViolation(f"syntax error: {exc.msg} (line {exc.lineno})") from None
    _Policy().visit(tree)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile a condition / timer / multi-instance expression, or raise SandboxViolation."""
    source = source.strip()
    _check_policy(source, "eval")
    return _code(compile_restricted_eval(source, "<bpmn-expression>", policy=_GuardingTransformer))


@lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    """Compile a script task / pre- or post-script, or raise SandboxViolation."""
    source = _dedent(source)
    _check_policy(source, "exec")
    return _code(compile_restricted_exec(source, "<bpmn-script>", policy=_GuardingTransformer))


def _code(result: CompileResult) -> CodeType:
    if result.errors or result.code is None:  # RestrictedPython gives a code object exactly when no error
        raise SandboxViolation("; ".join(result.errors))
    return result.code


def _dedent(source: str) -> str:
    import textwrap

    return textwrap.dedent(source).strip("\n")


FunctionFactory = Callable[[dict[str, Any]], dict[str, Callable[..., Any]]]


class SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """A SpiffWorkflow script environment that runs everything through the sandbox.

    ``functions`` builds the helper functions (deadline(), today() …) for one evaluation; it gets the
    task data so helpers such as ``schedule()`` can read the instance's context.
    """

    def __init__(self, functions: FunctionFactory | None = None):
        super().__init__({})
        self._functions = functions or (lambda context: {})

    def _globals(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
        g: dict[str, Any] = {"__builtins__": _BUILTINS, **_guards(Budget())}
        g.update(self._functions(context))
        if external_context:
            g.update({k: v for k, v in external_context.items() if not str(k).startswith("_")})
        return g

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = compile_expression(expression)
        g = self._globals(context, external_context)
        helpers = set(g)
        for key, value in context.items():
            if key not in helpers:
                g[key] = value
        return eval(code, g)  # noqa: S307 - restricted code object, guarded globals

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = compile_script(script)
        g = self._globals(context, external_context)
        helpers = set(g)
        clash = helpers.intersection(context) - {"__builtins__"}
        if clash:
            raise SandboxViolation(f"task data uses names reserved for helper functions: {sorted(clash)}")
        g.update(context)
        exec(code, g)  # noqa: S102 - restricted code object, guarded globals
        for key in list(context):
            if key not in g:
                del context[key]
        for key, value in g.items():
            if key in helpers or key.startswith("_") or callable(value):
                continue
            context[key] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise SandboxViolation("service tasks are not enabled in Guantong")


def make_script_engine(functions: FunctionFactory | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SandboxEnvironment(functions))


TIMER_FUNCTIONS = frozenset({"deadline", "deadline_from", "reminder", "schedule"})


def check_timer_expression(source: str) -> str | None:
    """Return the deadline key a timer expression uses, or raise SandboxViolation.

    Time limits are working days on the Chinese calendar, set in settings: a timer must be one call to
    ``deadline('key')``, ``deadline_from('key', date)``, ``reminder('key')`` or ``schedule('key')``.
    """
    compile_expression(source)
    tree = ast.parse(source.strip(), mode="eval").body
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id in TIMER_FUNCTIONS):
        raise SandboxViolation(
            "a timer must call deadline('key'), deadline_from('key', date), reminder('key') or schedule('key') "
            "so that its limit is counted in working days from settings"
        )
    if not tree.args or not (isinstance(tree.args[0], ast.Constant) and isinstance(tree.args[0].value, str)):
        raise SandboxViolation(f"{tree.func.id}() needs the settings key as a quoted string first argument")
    return tree.args[0].value
