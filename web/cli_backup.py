"""``guantong backup`` and ``guantong restore``: a consistent archive of the data and its restore drill.

Both show progress bars on a terminal (web/cli_progress.py) and end with a summary; a failure names
the phase (tables, files) and the reason; ``restore`` exits 1 when the restored audit chain does not
verify (the data is in place, but the operator must know), 2 when the archive or the target is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.backup.operations import backup, restore
from engine.errors import EngineError
from engine.planner import refresh_statistics

from .cli import _services, main
from .cli_progress import Bars, failed, summary


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
    with Bars() as bars:
        try:
            done = backup(_services(), SYSTEM_PRINCIPAL, archive, keys_out=keys_out, progress=bars)
        except (EngineError, OSError) as exc:
            failed("backup", f"copying {bars.phase}" if bars.phase else "", exc)
    summary(
        f"backup written: {done.path}",
        [
            ("size", f"{done.bytes:,} bytes"),
            ("rows", f"{sum(done.tables.values()):,} in {len(done.tables)} tables"),
            ("files", f"{done.files:,} attachment files"),
            ("keys", str(done.keys_path) if done.keys_path else "not written (--keys-out to export them apart)"),
        ],
    )


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore an archive into an empty database (run init-db first) and verify it."""
    services = _services()
    with Bars() as bars:
        try:
            done = restore(services, SYSTEM_PRINCIPAL, archive, progress=bars)
        except (EngineError, OSError) as exc:
            failed("restore", f"restoring {bars.phase}" if bars.phase else "checking the archive", exc)
        with bars.step("statistics"):  # every table was just bulk-loaded: plans from fresh statistics
            refresh_statistics(services.db)
    summary(
        f"restored {sum(done.tables.values()):,} rows in {len(done.tables)} tables, {done.files} files",
        [(table, f"{count:,}") for table, count in sorted(done.tables.items()) if count],
    )
    if done.audit_ok is False:
        click.echo(click.style(f"AUDIT CHAIN DOES NOT VERIFY: {done.audit_message}", fg="red", bold=True), err=True)
        sys.exit(1)
    if done.audit_ok:
        click.echo(f"audit chain verified: {done.audit_message}")
