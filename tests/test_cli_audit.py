"""``guantong audit verify`` and ``guantong audit head`` as an operator (or cron) runs them."""

import json

from click.testing import CliRunner
from sqlalchemy import text

from engine import audit
from engine.audit import guard
from engine.db import Database
from web.cli import main


def test_verify_passes_then_names_the_edited_event_and_exits_non_zero(tmp_path):
    env = {"GUANTONG_INSTANCE_DIR": str(tmp_path), "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    db = Database(env["GUANTONG_DATABASE_URL"])
    try:
        for decision in ("同意", "同意", "同意"):
            with db.session() as s:
                audit.record(s, "completed", actor="wangfang", instance_id=7, task_id=1, decision=decision)

        ok = runner.invoke(main, ["audit", "verify"], env=env)
        assert ok.exit_code == 0 and "intact: 3 events" in ok.output
        head = runner.invoke(main, ["audit", "head", "--export"], env=env)
        exported = json.loads(head.stdout)
        assert (exported["seq"], exported["event_id"]) == (3, 3)
        assert (tmp_path / "audit" / "heads.jsonl").read_text().count("\n") == 1

        with db.engine.begin() as conn:
            guard.remove(conn)
            conn.execute(text('UPDATE audit_event SET detail = \'{"decision": "不同意"}\' WHERE id = 2'))
        bad = runner.invoke(main, ["audit", "verify"], env=env)
        assert bad.exit_code == 1
        assert "edited" in bad.output and "event #2" in bad.output and "completed" in bad.output

        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE id = 3"))
        cut = json.loads(runner.invoke(main, ["audit", "verify", "--json"], env=env).stdout)
        assert cut["ok"] is False and cut["problem"]["kind"] == "edited"  # the first problem in chain order
    finally:
        db.dispose()
