"""The only place BPMN expressions and scripts run: a RestrictedPython sandbox.

SpiffWorkflow evaluates conditions, scripts, timer and multi-instance expressions with ``eval``/``exec``
and full builtins, so a BPMN file could run ``__import__('os')`` as the service user. Here every
expression is compiled by RestrictedPython (names and attributes starting with ``_`` are refused at
compile time), runs with a short list of harmless builtins, and may only read and write plain data.
The same compile step runs at deploy time, so a bad expression is refused before it is stored; the
engine is re-attached to every workflow after it is loaded (SpiffWorkflow does not serialize it).
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
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment


class SandboxViolation(Exception):
    """An expression tried something the sandbox does not allow."""


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


def _builtins() -> dict[str, Any]:
    import builtins

    safe = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    safe.update(limited_builtins)  # range/list/tuple with size limits
    safe["set"] = set
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


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    try:
        return _INPLACE[op](x, y)
    except KeyError:
        raise SandboxViolation(f"operator {op} is not allowed") from None


def _write_guard(ob: Any) -> Any:
    if isinstance(ob, (dict, list)):
        return ob
    raise SandboxViolation(f"cannot modify a {type(ob).__name__}")


def _getitem(ob: Any, key: Any) -> Any:
    return ob[key]


_GUARDS = {
    "_getattr_": safer_getattr,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _write_guard,
    "_inplacevar_": _inplacevar,
}


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
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (
                isinstance(exponent, ast.Constant)
                and isinstance(exponent.value, int)
                and abs(exponent.value) <= MAX_POWER_EXPONENT
            ):
                raise SandboxViolation(f"'**' needs a constant exponent of at most {MAX_POWER_EXPONENT}")
        self.generic_visit(node)


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
    return _code(compile_restricted_eval(source, "<bpmn-expression>"))


@lru_cache(maxsize=4096)
def compile_script(source: str) -> CodeType:
    """Compile a script task / pre- or post-script, or raise SandboxViolation."""
    source = _dedent(source)
    _check_policy(source, "exec")
    return _code(compile_restricted_exec(source, "<bpmn-script>"))


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
        g: dict[str, Any] = {"__builtins__": _BUILTINS, **_GUARDS}
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
