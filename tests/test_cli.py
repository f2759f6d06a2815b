"""The guantong command, as make run and scripts use it."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from web.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def env(tmp_path):
    return {"GUANTONG_INSTANCE_DIR": str(tmp_path), "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def run(env, *args):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_init_deploy_demo_users(env):
    assert run(env, "init-db").exit_code == 0
    first = run(env, "deploy", str(FIXTURES / "lib"))
    assert first.exit_code == 0 and "deployed: version 1" in first.output
    again = run(env, "deploy", str(FIXTURES / "lib"))
    assert "unchanged: version 1" in again.output
    demo = run(env, "demo", "--organisation", str(FIXTURES / "organisation.yaml"), "--no-instances")
    assert demo.exit_code == 0, demo.output
    assert json.loads(demo.stdout.strip().splitlines()[-1])["users"] == 5
    users = json.loads(run(env, "users", "--json").stdout)
    wang = next(u for u in users if u["username"] == "wangfang")
    assert wang == {
        "username": "wangfang",
        "display_name": "王芳",
        "admin_kind": None,
        "roles": ["supervision_office"],
        "units": ["qh_jc2"],
        "leader_of": ["qh_jc2"],
    }
    # The console resets any password (an administrator's only there: 三员分立), and audits it.
    reset = CliRunner().invoke(
        main, ["reset-password", "wangfang", "--actor", "ops", "--password", "A-new-long-password-7"], env=env
    )
    assert reset.exit_code == 0 and "password reset: wangfang" in reset.output
    assert CliRunner().invoke(main, ["reset-password", "nobody", "--password", "x" * 12], env=env).exit_code != 0
    short = CliRunner().invoke(main, ["reset-password", "wangfang", "--password", "short"], env=env)
    assert short.exit_code == 2 and "password" in short.output


def test_deploy_refusal_names_file_and_element(env, tmp_path):
    run(env, "init-db")
    bad = tmp_path / "bad"
    (bad / "bpmn").mkdir(parents=True)
    (bad / "bpmn" / "x.bpmn").write_text("<not-closed>")
    result = CliRunner().invoke(main, ["deploy", str(bad)], env=env)
    assert result.exit_code == 2
    assert "x.bpmn" in result.output and "well-formed" in result.output


def test_demo_refuses_roles_outside_the_catalogue(env):
    run(env, "init-db")
    run(env, "deploy", str(FIXTURES / "lib"))
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--organisation",
            str(Path(__file__).resolve().parent.parent / "demo" / "organisation.yaml"),
            "--no-instances",
        ],
        env=env,
    )
    assert result.exit_code == 2 and "role catalogue" in result.output


def test_worker_once_fires_nothing_on_an_empty_database(env):
    run(env, "init-db")
    assert run(env, "worker", "--once").exit_code == 0
