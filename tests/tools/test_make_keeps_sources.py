"""No ``make`` target rewrites the library: a hand edit of a .bpmn or a form survives, and is what deploys.

``processes/bpmn/*.bpmn`` and ``processes/forms/*.json`` are the sources designers edit (processes/README.md,
"如何修改流程"). A build step that regenerated them would silently throw such an edit away, as the
retired spec generator did. Two checks:

- every target of the Makefile, dry-run with every prerequisite forced (``make -n -B``), runs no command
  that names ``processes/`` or a generator under ``tools/bpmn_layout``;
- in a scratch copy of the repository, a task renamed by hand and a form title changed by hand are still
  there after ``make setup format db`` really ran (translations, ruff, a fresh SQLite database, deploy,
  the demo), and the version ``make db`` deployed carries the new name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEW_NAME = "手工改过的任务名（设计人员在建模器中修改）"
NEW_TITLE = "手工改过的表单标题"


def _targets() -> list[str]:
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert phony, "the Makefile declares its targets in .PHONY"
    return phony.group(1).split()


def _scrubbed_env(**extra: str) -> dict[str, str]:
    """The environment without the developer's own settings (a GUANTONG_DATABASE_URL must not be touched)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANTONG_", "TEST_DATABASE"))}
    return {**env, **extra}


def test_no_make_target_names_the_library_or_a_generator():
    targets = _targets()
    assert {"setup", "run", "test", "db", "format", "dist"} <= set(targets)
    offending = {}
    for target in targets:
        done = subprocess.run(
            ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60, env=_scrubbed_env()
        )
        assert done.returncode == 0, f"make -n {target}: {done.stderr}"
        commands = [line for line in done.stdout.splitlines() if line.strip()]
        assert commands, f"make -n -B {target} printed no command"
        bad = [line for line in commands if "processes/" in line or "bpmn_layout" in line]
        if bad:
            offending[target] = bad
    assert not offending, f"make targets that would write the library: {offending}"


def _copy_repository(dest: Path) -> None:
    """The working tree's files git would commit, and the vendored assets (make setup would rebuild them from npm)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    vendor = ROOT / "web" / "static" / "vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, dest / "web" / "static" / "vendor", dirs_exist_ok=True)
    for shared in (".venv", "node_modules"):
        (dest / shared).symlink_to((ROOT / shared).resolve())


@pytest.mark.slow
def test_a_hand_edit_survives_make_and_is_what_deploys(tmp_path):
    if not (ROOT / ".venv" / "bin" / "guantong").exists() or not (ROOT / "web" / "static" / "vendor").is_dir():
        pytest.skip("needs the set-up virtualenv and vendored assets (make setup)")
    copy = tmp_path / "repo"
    _copy_repository(copy)
    bpmn = copy / "processes" / "bpmn" / "gt_p5_clue.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    task = re.search(r'<bpmn:userTask id="([^"]+)" name="([^"]+)"', text)
    assert task, "gt_p5_clue has a named user task"
    bpmn.write_text(text.replace(task.group(0), f'<bpmn:userTask id="{task.group(1)}" name="{NEW_NAME}"', 1), "utf-8")
    form = copy / "processes" / "forms" / "approval.json"
    schema = json.loads(form.read_text(encoding="utf-8"))
    form.write_text(json.dumps({**schema, "title": NEW_TITLE}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    edited = {p: p.read_bytes() for p in (copy / "processes").rglob("*") if p.is_file()}

    # The dependency stamps are taken as current: this test installs nothing (make's -o, "old file").
    done = subprocess.run(
        ["make", "-o", ".venv/.stamp-deps", "-o", "node_modules/.stamp-deps", "setup", "format", "db"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
        env=_scrubbed_env(PYTHONPATH=str(copy)),  # the copy's engine, reading the copy's processes/
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    after = {p: p.read_bytes() for p in (copy / "processes").rglob("*") if p.is_file()}
    assert after == edited, "a make target changed processes/"
    assert NEW_NAME in bpmn.read_text(encoding="utf-8")
    with sqlite3.connect(copy / "instance" / "guantong.db") as db:
        deployed = db.execute(
            "SELECT content FROM definition_file WHERE filename = 'gt_p5_clue.bpmn' ORDER BY version_id DESC"
        ).fetchone()
    assert deployed and NEW_NAME in deployed[0], "make db deployed something else than the edited file"
