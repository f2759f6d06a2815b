"""``guantong backup`` / ``guantong restore`` / ``guantong keys`` as an operator runs them (migrated SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from web.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _env(tmp_path: Path, name: str, keys: Path) -> dict[str, str]:
    home = tmp_path / name
    return {
        "GUANTONG_INSTANCE_DIR": str(home),
        "GUANTONG_DATABASE_URL": f"sqlite:///{home / 'guantong.db'}",
        "GUANTONG_KEYS_DIR": str(keys),
        "GUANTONG_AUDIT_KEY_FILE": str(keys / "audit.key"),
    }


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_backup_then_restore_on_a_second_installation(tmp_path):
    keys = tmp_path / "keys"
    source = _env(tmp_path, "source", keys)
    assert run(source, "init-db").exit_code == 0
    assert run(source, "deploy", str(FIXTURES / "lib")).exit_code == 0
    assert run(source, "demo", "--organisation", str(FIXTURES / "organisation.yaml"), "--no-instances").exit_code == 0
    archive, keys_file = tmp_path / "out" / "guantong.tar", tmp_path / "out" / "guantong.keys"
    made = run(source, "backup", str(archive), "--keys-out", str(keys_file))
    assert made.exit_code == 0, made.output
    assert "backup written" in made.output and keys_file.stat().st_mode & 0o077 == 0
    assert "GUANTONG_SEAL_KEY=" in keys_file.read_text()
    assert run(source, "backup", str(archive)).exit_code == 2  # never overwrites an archive

    target = _env(tmp_path, "target", keys)  # the same keys, as the keys file would give them
    assert run(target, "init-db").exit_code == 0
    back = run(target, "restore", str(archive))
    assert back.exit_code == 0, back.output
    assert "audit chain verified" in back.output
    users = json.loads(run(target, "users", "--json").output)
    assert {u["username"] for u in users} >= {"wangfang"}
    again = CliRunner().invoke(main, ["restore", str(archive)], env=target)
    assert again.exit_code == 2 and "empty database" in again.output


def test_keys_new_prints_a_usable_key():
    out = CliRunner().invoke(main, ["keys", "new"]).output.strip()
    assert len(out) == 64 and int(out, 16) >= 0
