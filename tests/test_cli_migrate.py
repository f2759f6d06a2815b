"""``guantong migrate``: the dry run lists, --apply moves (issue 17)."""

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from engine.models import ProcessInstance
from engine.services import Services
from web.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_dry_run_then_apply(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"GUANTONG_INSTANCE_DIR": str(tmp_path), "GUANTONG_DATABASE_URL": url}
    assert run(env, "init-db").exit_code == 0
    assert "deployed: version 1" in run(env, "deploy", str(FIXTURES / "lib")).output
    services = Services(database_url=url)
    try:
        started = services.runtime.start("gt_test_clue").instance_id
    finally:
        services.close()
    lib = tmp_path / "lib"
    shutil.copytree(FIXTURES / "lib", lib)
    bpmn = lib / "bpmn" / "clue_simple.bpmn"
    bpmn.write_text(
        bpmn.read_text(encoding="utf-8").replace('name="审批处置意见"', 'name="审批处置意见（新版）"'), encoding="utf-8"
    )
    assert "deployed: version 2" in run(env, "deploy", str(lib)).output

    dry = run(env, "migrate", "gt_test_clue", "--from", "1", "--to", "2")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] is True and [c["instance"] for c in plan["would_move"]] == [started]
    assert plan["would_move"][0]["steps"] == ["register"]

    applied = run(env, "migrate", "gt_test_clue", "--from", "1", "--to", "2", "--apply", "--actor", "ops")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout) == {"moved": [started], "refused": []}
    services = Services(database_url=url)
    try:
        with services.db.session() as s:
            assert s.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == started)) == 2
    finally:
        services.close()
    backwards = CliRunner().invoke(main, ["migrate", "gt_test_clue", "--from", "2", "--to", "1"], env=env)
    assert backwards.exit_code != 0
