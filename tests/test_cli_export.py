"""``guantong export``: what a designer deployed (in the studio or from another copy) becomes the library's source.

A version whose process was renamed and whose form was retitled is written back over a copy of the old
library: the edited BPMN file and form change, every other file keeps its bytes (a form laid out
differently but meaning the same is not rewritten), a file the version lacks is named and kept, and
exporting the older version restores the files as they were.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main

LIB = Path(__file__).resolve().parent / "fixtures" / "lib"


@pytest.fixture
def env(tmp_path):
    return {"GUANTONG_INSTANCE_DIR": str(tmp_path), "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_export_writes_back_what_differs_and_only_that(env, tmp_path):
    assert run(env, "init-db").exit_code == 0
    nothing = run(env, "export", "--to", str(tmp_path / "empty"))
    assert nothing.exit_code != 0 and "no version is deployed" in nothing.output
    assert run(env, "deploy", str(LIB)).exit_code == 0

    edited = tmp_path / "edited"
    shutil.copytree(LIB, edited)
    bpmn = edited / "bpmn" / "clue_simple.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    old_name = text.split('name="', 1)[1].split('"', 1)[0]
    bpmn.write_text(text.replace(f'name="{old_name}"', 'name="设计人员改过的名称"', 1), encoding="utf-8")
    form = edited / "forms" / "approve.json"
    form.write_text(
        json.dumps({**json.loads(form.read_text(encoding="utf-8")), "title": "改过的标题"}, ensure_ascii=False),
        encoding="utf-8",
    )
    second = run(env, "deploy", str(edited))
    assert second.exit_code == 0 and "deployed: version 2" in second.output

    library = tmp_path / "library"
    shutil.copytree(LIB, library)
    relaid = library / "forms" / "register.json"  # same meaning, other layout: not rewritten
    relaid.write_text(json.dumps(json.loads(relaid.read_text(encoding="utf-8")), indent=4), encoding="utf-8")
    (library / "bpmn" / "draft.bpmn").write_text("<draft/>", encoding="utf-8")
    before = _snapshot(library)

    result = run(env, "export", "--to", str(library))
    assert result.exit_code == 0, result.output
    assert "wrote bpmn/clue_simple.bpmn" in result.output and "wrote forms/approve.json" in result.output
    assert "not in version 2 (left as it is): bpmn/draft.bpmn" in result.output
    assert "exported version 2" in result.output and "2 written" in result.output
    after = _snapshot(library)
    assert after["bpmn/clue_simple.bpmn"] == bpmn.read_bytes()
    assert json.loads(after["forms/approve.json"])["title"] == "改过的标题"
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == {"bpmn/clue_simple.bpmn", "forms/approve.json"}
    assert set(after) == set(before)

    again = run(env, "export", "--to", str(library))
    assert "0 written" in again.output, "a second export finds nothing to write"

    back = run(env, "export", "--version", "1", "--to", str(library))
    assert back.exit_code == 0 and "exported version 1" in back.output
    restored = _snapshot(library)
    assert restored["bpmn/clue_simple.bpmn"] == (LIB / "bpmn" / "clue_simple.bpmn").read_bytes()
    assert json.loads(restored["forms/approve.json"]) == json.loads((LIB / "forms" / "approve.json").read_bytes())

    missing = CliRunner().invoke(main, ["export", "--version", "99", "--to", str(library)], env=env)
    assert missing.exit_code == 2 and "99" in missing.output
