"""``guantong audit verify`` and ``guantong audit head``: the audit trail's integrity from a shell or cron.

``verify`` seals what is pending, recomputes every digest and link, compares with the exported heads
and exits 1 naming the first wrong event (id, time, kind), 0 when all is well; the result is kept for
the cockpit's warning. ``head`` prints the chain head (and with ``--export`` appends it to the heads
file), for shipping to a place the database's administrators cannot reach.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine import clock
from engine.audit import chain, heads
from engine.audit.keys import AuditKeyError
from engine.audit.verify import Verification, verify

from .cli import _services, main


@main.group("audit")
def audit_commands() -> None:
    """审计链 — verify the tamper-evident audit trail, export its head."""


@audit_commands.command("verify")
@click.option(
    "--heads",
    "head_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="exported heads to compare with (default: GUANTONG_AUDIT_HEAD_FILE)",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def verify_command(head_file: Path | None, as_json: bool) -> None:
    """Recompute every digest and link; exit 1 naming the first edited, deleted, inserted or reordered
    event, or a cut tail."""
    services = _services()
    try:
        result = verify(services.db, head_file=head_file or services.config.audit_head_file)
    except (AuditKeyError, ValueError) as exc:
        click.echo(click.style(str(exc), fg="red"), err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(_as_dict(result), ensure_ascii=False))
    elif result.ok:
        click.echo(f"audit trail intact: {result.checked} events, chain head seq {result.head_seq}")
    else:
        p = result.problem
        assert p is not None
        when = p.at.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S") if p.at else "-"
        click.echo(
            click.style(f"AUDIT TRAIL TAMPERED: {p.kind}", fg="red", bold=True)
            + f"\n  event #{p.event_id or '-'} at {when} ({p.action or '-'}), seq {p.seq or '-'}"
            + f"\n  {p.message}",
            err=True,
        )
    sys.exit(0 if result.ok else 1)


@audit_commands.command("head")
@click.option("--export", "export", is_flag=True, help="also append it to GUANTONG_AUDIT_HEAD_FILE")
def head_command(export: bool) -> None:
    """Seal what is pending and print the chain head as JSON (seq, event id, head hash, time)."""
    services = _services()
    chain.seal(services.db)
    with services.db.session() as session:
        current = chain.head(session)
    if current is None:
        click.echo(json.dumps({"seq": 0, "event_id": None, "head": chain.GENESIS}))
        return
    if export:
        heads.append(services.config.audit_head_file, current)
    click.echo(
        json.dumps(
            {"seq": current.seq, "event_id": current.event_id, "head": current.chain, "at": clock.now().isoformat()}
        )
    )


def _as_dict(result: Verification) -> dict[str, object]:
    p = result.problem
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head_seq": result.head_seq,
        "problem": None
        if p is None
        else {
            "kind": p.kind,
            "event_id": p.event_id,
            "at": p.at.isoformat() if p.at else None,
            "action": p.action,
            "seq": p.seq,
            "message": p.message,
        },
    }
