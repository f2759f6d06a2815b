"""``guantong keys new`` and ``guantong keys rotate``: the data key's life from a shell.

``new`` prints a fresh random key for the settings (it writes nothing: where keys live is the
operator's choice, see docs/security.md). ``rotate`` re-seals and re-encrypts everything an older key
protects under the current one (engine/access/keyrotation.py) and says how much it moved.
"""

from __future__ import annotations

import sys

import click

from engine import keyfiles
from engine.access.keyrotation import rotate_data_keys
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.access.sealing import SealError

from .cli import _services, main


@main.group("keys")
def keys_commands() -> None:
    """数据密钥 — generate and rotate the key that seals confidential data and attachments."""


@keys_commands.command("new")
def new_command() -> None:
    """Print a new random key (64 hex digits) for GUANTONG_SEAL_KEY or a key file."""
    click.echo(keyfiles.new_key())


@keys_commands.command("rotate")
@click.option("--batch", default=200, show_default=True, help="rows per transaction")
def rotate_command(batch: int) -> None:
    """Bring every sealed record and attachment under the current key (safe to run again)."""
    services = _services()
    try:
        done = rotate_data_keys(services, SYSTEM_PRINCIPAL, batch=batch)
    except SealError as exc:
        click.echo(click.style(str(exc), fg="red"), err=True)
        sys.exit(2)
    click.echo(
        f"current key {done.key_id}: {done.submissions} sealed records re-sealed, "
        f"{done.attachments} attachments re-encrypted"
    )
    if done.unreadable:
        click.echo(
            click.style(f"{len(done.unreadable)} items no configured key opens (keep the old key):", fg="red"), err=True
        )
        for item in done.unreadable:
            click.echo(f"  {item}", err=True)
        sys.exit(1)
