"""``guantong calendar``: import a year's arrangement from YAML and show it."""

from pathlib import Path

from click.testing import CliRunner

from web.cli import main

ROOT = Path(__file__).resolve().parent.parent

OFFICIAL_2027 = """\
year: 2027
official: true
notice_no: 国办发明电〔2026〕99号（测试）
notice_date: 2025-11-10
holidays: [2027-01-01..2027-01-03, 2027-02-05 至 2027-02-13]
workdays: [2027-01-31, 2027-02-20]
"""


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_calendar_import_and_show(tmp_path):
    env = {"GUANTONG_INSTANCE_DIR": str(tmp_path), "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert run(env, "init-db").exit_code == 0
    listed = run(env, "calendar", "show").output
    assert "2026  正式" in listed

    draft = run(env, "calendar", "import", str(ROOT / "processes" / "calendar" / "2027.yaml"))
    assert draft.exit_code == 0, draft.output
    assert "2027 年安排已录入（#1，非正式）" in draft.output

    path = tmp_path / "2027.yaml"
    path.write_text(OFFICIAL_2027, encoding="utf-8")
    entered = run(env, "calendar", "import", str(path), "--actor", "admin")
    assert entered.exit_code == 0, entered.output
    assert "2027 年安排已录入（#2，正式）" in entered.output

    shown = run(env, "calendar", "show", "2027").output
    assert "2027 年：正式，已录入" in shown and "国办发明电〔2026〕99号（测试）" in shown
    assert "放假：2027-01-01..2027-01-03、2027-02-05..2027-02-13" in shown
    assert "调休上班：2027-01-31、2027-02-20" in shown
    assert "此前：#1" in shown
    exported = run(env, "calendar", "show", "2027", "--yaml").output
    assert "- 2027-02-05..2027-02-13" in exported and "official: true" in exported

    path.write_text(OFFICIAL_2027.replace("2027-02-20]", "2027-02-17]"), encoding="utf-8")
    refused = run(env, "calendar", "import", str(path))
    assert refused.exit_code == 2 and "workdays" in refused.output and "星期三" in refused.output
