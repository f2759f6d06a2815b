"""Progress and summaries of the long commands (issue 14): bars on a terminal only, a summary always,
and a failure that names the command, the phase and the reason."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from web.cli import main
from web.cli_progress import Bars

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _env(tmp_path):
    return {
        "GUANTONG_INSTANCE_DIR": str(tmp_path),
        "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "GUANTONG_KEYS_DIR": str(tmp_path / "keys"),
    }


def test_bars_draw_on_a_terminal_and_keep_quiet_elsewhere():
    screen = io.StringIO()
    with Bars(Console(file=screen, force_terminal=True, width=100)) as bars:
        assert logging.getLogger("spiff").level == logging.WARNING  # no engine INFO lines through the bars
        for done in range(4):
            bars("tables", done, 3)
        with bars.step("compiling"):
            pass
    drawn = screen.getvalue()
    assert "tables" in drawn and "3/3" in drawn and "compiling" in drawn
    assert logging.getLogger("spiff").level == logging.NOTSET  # given back
    piped = io.StringIO()
    with Bars(Console(file=piped, force_terminal=False)) as bars:
        bars("tables", 1, 3)
        assert bars.phase == "tables"
    assert piped.getvalue() == ""


def test_deploy_and_demo_end_with_a_summary(tmp_path):
    env = _env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    deployed = runner.invoke(main, ["deploy", str(FIXTURES / "lib")], env=env)
    assert deployed.exit_code == 0, deployed.output
    assert "deployed: version 1" in deployed.stdout and "3 BPMN files" in deployed.stdout
    demo = runner.invoke(
        main, ["demo", "--organisation", str(FIXTURES / "organisation.yaml"), "--no-instances"], env=env
    )
    assert demo.exit_code == 0, demo.output
    assert "demo seeded" in demo.stderr and "users" in demo.stderr
    assert demo.stdout.strip().splitlines()[-1].startswith("{")  # scripts still read the JSON last line


def test_a_failure_names_the_command_the_phase_and_the_reason(tmp_path):
    env = _env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    broken = tmp_path / "lib"
    (broken / "bpmn").mkdir(parents=True)
    (broken / "roles.yaml").write_text((FIXTURES / "lib" / "roles.yaml").read_text())
    (broken / "settings.yaml").write_text((FIXTURES / "lib" / "settings.yaml").read_text())
    (broken / "bpmn" / "bad.bpmn").write_text("<definitions>not BPMN")
    refused = runner.invoke(main, ["deploy", str(broken)], env=env)
    assert refused.exit_code == 2
    assert "deploy failed while compiling" in refused.stderr and "bad.bpmn" in refused.stderr

    archive = tmp_path / "backup.tar"
    archive.write_text("not an archive of ours")
    restored = runner.invoke(main, ["restore", str(archive)], env=env)
    assert restored.exit_code == 2 and "restore failed while checking the archive" in restored.stderr
