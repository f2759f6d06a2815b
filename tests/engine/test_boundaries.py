"""The engine's import surface: pure Python that the web app, the CLI, the worker and the benchmarks
build on, never the other way round. No web framework, no web layer, and none of the code that only
tests, benchmarks and ``guantong demo`` use (the demo package's Autopilot and seeding)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
OUTSIDE = ("demo", "web", "tests", "bench", "tools", "flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_engine_imports_nothing_from_outside_it():
    wrong = sorted(
        f"{path.relative_to(ENGINE.parent)}: {name}"
        for path in ENGINE.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in OUTSIDE
    )
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_imports_anywhere_in_a_module(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from demo.autopilot import Autopilot\n    import flask\n")
    assert _imports(module) == {"os", "demo.autopilot", "flask"}
