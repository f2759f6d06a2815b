"""The process library's generated files match their sources (tools/bpmn_layout).

``processes/bpmn/*.bpmn`` are generated from ``tools/bpmn_layout/specs/*.yaml`` by ``gen.py`` and
``processes/forms/*.json`` from ``forms.py``; nobody edits the generated files by hand. Each generator's
``--check`` mode runs here as a designer runs it, so a spec changed without regenerating (or a generated
file edited by hand) fails the suite; the check mode itself is shown to notice drift on a copy.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "bpmn_layout"
GENERATORS = {"gen": "processes/bpmn", "forms": "processes/forms"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bpmn_layout_{name}", TOOLS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_committed_files_match_their_generator(name):
    result = subprocess.run(
        [sys.executable, str(TOOLS / f"{name}.py"), "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (
        f"{GENERATORS[name]} differs from what tools/bpmn_layout/{name}.py generates; run it without --check "
        f"and commit the result:\n{result.stdout}{result.stderr}"
    )
    assert result.stdout.strip().endswith("in sync")


def _drifted_copy(tmp_path: Path, folder: str, suffix: str) -> tuple[Path, str, str]:
    """The library copied under ``tmp_path``, with one generated file edited by hand and one stray file."""
    shutil.copytree(ROOT / "processes", tmp_path / "processes")
    copy = tmp_path / folder
    edited = sorted(copy.glob(f"*{suffix}"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (copy / f"stray{suffix}").write_text("{}\n" if suffix == ".json" else "<x/>\n", encoding="utf-8")
    return copy, edited.name, f"stray{suffix}"


# generator -> (how its check mode is called, the suffix it writes, what it says of a file it does not write)
CHECKS = {
    "gen": (lambda module: module.main(["--check"]), ".bpmn", "no description for"),
    "forms": (lambda module: module.write(check=True), ".json", "no definition for"),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_notices_a_hand_edit_and_a_stray_file(name, tmp_path, monkeypatch, capsys):
    run_check, suffix, stray_says = CHECKS[name]
    module = _load(name)
    copy, edited, stray = _drifted_copy(tmp_path, GENERATORS[name], suffix)
    monkeypatch.setattr(module, "OUT", copy)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert run_check(module) == 1
    out = capsys.readouterr().out
    assert f"out of sync: {GENERATORS[name]}/{edited}" in out
    assert f"{stray_says} {GENERATORS[name]}/{stray}" in out
    assert "2 problem(s)" in out
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before, "--check must not write"
