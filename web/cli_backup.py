"""``guantong backup`` and ``guantong restore``: a consistent archive of the data and its restore drill.

Both show progress and end with a summary; ``restore`` exits 1 when the restored audit chain does not
verify (the data is in place, but the operator must know), 2 when the archive or the target is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.backup.operations import backup, restore
from engine.errors import EngineError

from .cli import _services, main


def _progress():
    """A click progress bar per phase (tables, files), on stderr so the summary stays clean."""
    bars: dict[str, Any] = {}

    def report(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = click.progressbar(length=max(total, 1), label=f"{what:<7}", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return report


@main.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--keys-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the keys that open this data to this separate file (0600); keep it elsewhere",
)
def backup_command(archive: Path, keys_out: Path | None) -> None:
    """Write one consistent archive of the database and the attachment files (no keys)."""
    try:
        done = backup(_services(), SYSTEM_PRINCIPAL, archive, keys_out=keys_out, progress=_progress())
    except EngineError as exc:
        click.echo(click.style(str(exc), fg="red"), err=True)
        sys.exit(2)
    click.echo(
        f"backup written: {done.path} ({done.bytes:,} bytes), {sum(done.tables.values()):,} rows "
        f"in {len(done.tables)} tables, {done.files} files" + (f"; keys in {done.keys_path}" if done.keys_path else "")
    )


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore an archive into an empty database (run init-db first) and verify it."""
    try:
        done = restore(_services(), SYSTEM_PRINCIPAL, archive, progress=_progress())
    except EngineError as exc:
        click.echo(click.style(str(exc), fg="red"), err=True)
        sys.exit(2)
    click.echo(f"restored {sum(done.tables.values()):,} rows in {len(done.tables)} tables, {done.files} files")
    if done.audit_ok is False:
        click.echo(click.style(f"AUDIT CHAIN DOES NOT VERIFY: {done.audit_message}", fg="red", bold=True), err=True)
        sys.exit(1)
    if done.audit_ok:
        click.echo(f"audit chain verified: {done.audit_message}")
