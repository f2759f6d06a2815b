"""The ``guantong`` command: database set-up, deploy, demo data, web server and worker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from engine.config import ROOT, Config
from engine.errors import EngineError
from engine.planner import refresh_statistics


def _services():
    from engine.services import Services

    return Services(Config.from_env())


def _fail(exc: EngineError) -> None:
    click.echo(click.style(str(exc), fg="red"), err=True)
    sys.exit(2)


@click.group()
def main() -> None:
    """贯通 Guantong — BPMN process orchestration for the four supervisions."""
    from .observability import configure_logging

    configure_logging()


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from engine.migrate import upgrade

    services = _services()
    if services.db.url.startswith("sqlite:///"):
        Path(services.db.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(services.db)
    refresh_statistics(services.db)
    click.echo(f"database ready: {services.db.engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--actor", default="system", help="who deploys (recorded in the audit trail)")
@click.option("--comment", default=None)
def deploy(path: Path | None, actor: str, comment: str | None) -> None:
    """Validate and deploy PATH (default: processes/) as a new version; unchanged content is not stored twice."""
    from engine.definitions import load_bundle, operations

    from .cli_progress import Bars, failed, summary

    services = _services()
    library = path or services.config.processes_dir
    with Bars() as bars:
        try:
            with bars.step("reading"):
                bundle = load_bundle(library)
            with bars.step("compiling"):  # XSD, Guantong's rules, SpiffWorkflow's parse, then stored
                deployment = operations.deploy_bundle(services, operations.operator(actor), bundle, comment=comment)
        except EngineError as exc:
            failed("deploy", f"{bars.phase} {library}", exc)
        except OSError as exc:
            failed("deploy", f"reading {library}", exc)
        with bars.step("statistics"):
            refresh_statistics(services.db)
    summary(
        f"{'deployed' if deployment.created else 'unchanged'}: version {deployment.version_id}",
        [("library", library), ("processes", f"{len(bundle.bpmn)} BPMN files"), ("forms", len(bundle.forms))],
    )


@main.command()
@click.option(
    "--organisation",
    type=click.Path(exists=True, path_type=Path),
    default=ROOT / "demo" / "organisation.yaml",
    show_default=True,
)
@click.option("--instances/--no-instances", default=True, help="also start sample instances")
def demo(organisation: Path, instances: bool) -> None:
    """Seed the demo county (units, links, users) and a few running instances."""
    from demo.seed import seed_demo

    from .cli_progress import Bars, failed, summary

    services = _services()
    with Bars() as bars:
        try:
            result = seed_demo(services, organisation, with_instances=instances, progress=bars)
        except EngineError as exc:
            failed("demo", f"seeding {bars.phase}", exc)
        with bars.step("statistics"):
            refresh_statistics(services.db)
    summary(
        "demo seeded",
        [
            ("units", result["units"]),
            ("users", f"{result['users']} (initial password guantong-demo, to be changed at first sign-in)"),
            ("instances", result["instances_started"]),
        ],
        err=True,
    )
    click.echo(json.dumps(result, ensure_ascii=False))  # the last line, for scripts


@main.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def users(as_json: bool) -> None:
    """List users with their roles and units (as the system: whoever runs the command owns the database)."""
    from engine.access.principal import SYSTEM_PRINCIPAL
    from engine.organisation import operations

    rows = [
        {
            "username": user.username,
            "display_name": user.display_name,
            "admin_kind": user.admin_kind,
            "roles": sorted({m.role_code for m in user.memberships}),
            "units": sorted({m.unit_code for m in user.memberships}),
            "leader_of": sorted({m.unit_code for m in user.memberships if m.is_leader}),
        }
        for user in operations.list_users(_services(), SYSTEM_PRINCIPAL)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(
                f"{row['username']:<12} {row['display_name']:<24} {','.join(row['roles'])} @ {','.join(row['units'])}"
            )


@main.command("reset-password")
@click.argument("username")
@click.option("--actor", default="system", help="who resets it (recorded in the audit trail)")
@click.password_option(help="the new password (asked for twice when not given)")
def reset_password(username: str, actor: str, password: str) -> None:
    """Reset USERNAME's password from the console: the only way for an administrator's (三员分立: no
    administrator resets another's on a page, he could then sign in as him)."""
    from engine.definitions.operations import operator
    from engine.organisation import operations

    services, console = _services(), operator(actor)
    try:
        user = next((u for u in operations.list_users(services, console) if u.username == username), None)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        operations.update_user(
            services, console, user.id, display_name=user.display_name, active=user.active, password=password
        )
    except EngineError as exc:
        _fail(exc)
    click.echo(f"password reset: {username}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--worker/--no-worker", default=None, help="run the worker in-process (default: on for SQLite)")
def serve(host: str, port: int, worker: bool | None) -> None:
    """Serve the web front end (development server; use gunicorn for production, see README)."""
    from web import create_app

    services = _services()
    app = create_app(services=services)
    if worker is None:
        worker = services.db.dialect == "sqlite" and services.config.embedded_worker
    if worker:
        from engine.scheduling.worker import start_background_worker

        start_background_worker(services)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command()
@click.option("--interval", default=2.0, show_default=True, help="seconds between polls when idle")
@click.option("--once", is_flag=True, help="process what is due now and exit")
def worker(interval: float, once: bool) -> None:
    """Fire due timers and deliver pending messages until stopped (SIGTERM finishes the current step)."""
    from engine.scheduling.worker import Worker

    Worker(_services(), interval=interval).run(once=once)


from web import cli_audit  # noqa: E402, F401 - registers ``guantong audit``

from . import cli_backup, cli_calendar, cli_export, cli_keys, cli_migrate  # noqa: E402, F401 - register their commands

if __name__ == "__main__":  # pragma: no cover
    main()
