"""``guantong migrate``: move running instances of a process from one version to a later one.

Without ``--apply`` it is the dry run: it lists what would move and what is refused, and why; with it,
each instance moves in its own transaction (engine/definitions/migration.py), audited under the name
given with ``--actor``. Exit status 1 when any chosen instance was refused.
"""

from __future__ import annotations

import json

import click

from engine.definitions import migration
from engine.definitions.operations import operator
from engine.errors import EngineError

from .cli import _fail, _services, main


def _candidate(c: migration.Candidate) -> dict[str, object]:
    return {
        "instance": c.instance_id,
        "business_key": c.business_key,
        "steps": list(c.steps),
        **({"refused": c.code, "element": c.element, "reason": c.reason} if not c.ok else {}),
    }


@main.command("migrate")
@click.argument("process_key")
@click.option("--from", "from_version", type=int, required=True, help="the version the instances are on")
@click.option("--to", "to_version", type=int, required=True, help="the later version to move them to")
@click.option("--instance", "instances", type=int, multiple=True, help="an instance id (repeat; default: all)")
@click.option("--apply", "apply_", is_flag=True, help="move them (without it: a dry run that changes nothing)")
@click.option("--actor", default="system", show_default=True, help="who the audit trail names")
def migrate(
    process_key: str, from_version: int, to_version: int, instances: tuple[int, ...], apply_: bool, actor: str
) -> None:
    """Move running instances of PROCESS_KEY from version --from to version --to (dry run unless --apply)."""
    services, console = _services(), operator(actor)
    try:
        plan = migration.plan_migration(
            services, console, process_key, from_version, to_version, list(instances) or None
        )
        if not apply_:
            click.echo(
                json.dumps(
                    {
                        "dry_run": True,
                        "would_move": [_candidate(c) for c in plan.moves],
                        "refused": [_candidate(c) for c in plan.refused],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        chosen = list(instances) or [c.instance_id for c in plan.moves]
        result = migration.migrate(services, console, process_key, from_version, to_version, chosen)
    except EngineError as exc:
        _fail(exc)
    click.echo(
        json.dumps(
            {"moved": list(result.moved), "refused": [_candidate(c) for c in result.refused]},
            ensure_ascii=False,
            indent=2,
        )
    )
    if result.refused:
        raise SystemExit(1)
