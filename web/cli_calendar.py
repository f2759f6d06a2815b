"""``guantong calendar``: show the working-day calendar's years, import a year's arrangement.

Each December the administrator imports the next year's arrangement from the 国务院办公厅 notice
(processes/calendar/2027.yaml shows the format); until then that year's due dates are estimates.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from engine.access.principal import Principal
from engine.clock import LOCAL_TZ
from engine.errors import EngineError
from engine.scheduling import operations as calendar_ops

from .cli import _fail, _services, main
from .cli_progress import Bars, failed

SOURCES = {"entered": "已录入", "table": "官方表", "guess": "推算（无调休）"}


def _admin(actor: str) -> Principal:
    """The CLI runs with the server's rights; ``actor`` is who the audit trail names."""
    return Principal(username=actor, display_name=actor, console=True)


@main.group("calendar")
def calendar() -> None:
    """工作日历：各年节假日安排（放假日、调休上班日）。"""


@calendar.command("show")
@click.argument("year", required=False, type=int)
@click.option("--yaml", "as_yaml", is_flag=True, help="print the year as an importable YAML document")
def show(year: int | None, as_yaml: bool) -> None:
    """List the years, or show one year's days off and make-up working days."""
    services = _services()
    try:
        if year is None:
            for view in calendar_ops.list_years(services, _admin("system")):
                status = "正式" if view.official else "非正式（期限为预估）"
                notice = f"  {view.notice_no or ''} {view.notice_date or ''}".rstrip()
                click.echo(f"{view.year}  {status:<12} {SOURCES[view.source]}{notice}")
            return
        view = calendar_ops.show_year(services, _admin("system"), year)
    except EngineError as exc:
        _fail(exc)
        return
    if as_yaml:
        document = calendar_ops.arrangement_document(view)
        click.echo(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), nl=False)
        return
    click.echo(f"{view.year} 年：{'正式' if view.official else '非正式（期限为预估）'}，{SOURCES[view.source]}")
    if view.notice_no or view.notice_date:
        click.echo(f"通知：{view.notice_no or '-'}（{view.notice_date or '-'}）")
    if view.entered_by:
        click.echo(f"录入：{view.entered_by} {view.entered_at:%Y-%m-%d %H:%M}")
    click.echo("放假：" + ("、".join(view.holiday_ranges) or "-"))
    click.echo("调休上班：" + ("、".join(view.workday_ranges) or "-"))
    for entry in view.history[1:]:
        click.echo(f"  此前：#{entry.entry_id} {entry.entered_at:%Y-%m-%d} {entry.entered_by} {entry.notice_no or ''}")


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="system", show_default=True, help="who enters it (recorded in the audit trail)")
def import_file(file: Path, actor: str) -> None:
    """Enter a year's arrangement from a YAML file; open tasks' due dates follow at once."""
    services = _services()
    with Bars() as bars:
        try:
            result = calendar_ops.import_arrangement(
                services,
                _admin(actor),
                file.read_text(encoding="utf-8"),
                source=f"import: {file.name}",
                progress=bars,
            )
        except EngineError as exc:
            failed("calendar import", f"recomputing {bars.phase}" if bars.phase else f"reading {file}", exc)
    click.echo(
        f"{result.year} 年安排已录入（#{result.entry_id}，{'正式' if result.official else '非正式'}）："
        f"{len(result.changed_days)} 天变动，{len(result.tasks)} 项在办任务的期限已重算"
    )
    for change in result.tasks:
        click.echo(
            f"  任务 {change.task_id} {change.name}：{change.due_before.astimezone(LOCAL_TZ):%Y-%m-%d} → "
            f"{change.due_after.astimezone(LOCAL_TZ):%Y-%m-%d}"
        )
    if result.skipped:
        click.echo(f"  未能重算（起算日未知）：{', '.join(str(t) for t in result.skipped)}")
