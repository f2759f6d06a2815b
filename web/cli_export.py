"""``guantong export``: a deployed version's BPMN files and forms written back into the library folder.

The library's ``.bpmn`` and form files are its sources (processes/README.md, "如何修改流程"). A designer
who edits a process in the studio deploys a new version into the database; this command brings that
version back to ``processes/`` so the repository holds what runs. Only what differs is written: a BPMN
file whose text is the same, or a form whose JSON means the same (however it is laid out), is left as it
is, and a file on disk that the version lacks is named, never deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.errors import EngineError

from .cli import _fail, _services, main


@main.command("export")
@click.option("--version", "version_id", type=int, default=None, help="the version to export (default: the latest)")
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="the library folder to write into (default: processes/)",
)
@click.option("--actor", default="system", help="who exports (the console acts as the engine)")
def export(version_id: int | None, target: Path | None, actor: str) -> None:
    """Write a deployed version's BPMN files and forms into processes/ (or --to), only those that differ."""
    from engine.definitions import operations as ops

    services = _services()
    principal = ops.operator(actor)
    library = target or services.config.processes_dir
    try:
        if version_id is None:
            version_id = ops.list_versions(services, principal).latest
            if version_id is None:
                raise click.ClickException("no version is deployed yet: nothing to export")
        detail = ops.show_version(services, principal, version_id)
        bpmn_dir, forms_dir = library / "bpmn", library / "forms"
        wrote, same = [], 0
        for info in detail.files:
            content = ops.read_file(services, principal, version_id, info.filename).content.encode("utf-8")
            path = bpmn_dir / info.filename
            if path.is_file() and path.read_bytes() == content:
                same += 1
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            wrote.append(f"bpmn/{info.filename}")
        for key in detail.forms:
            schema = ops.read_form(services, principal, version_id, key)
            path = forms_dir / f"{key}.json"
            if path.is_file() and _json_or_none(path) == schema:
                same += 1
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            wrote.append(f"forms/{key}.json")
    except EngineError as exc:
        _fail(exc)
        return
    deployed = {f.filename for f in detail.files}
    forms = {f"{key}.json" for key in detail.forms}
    extra = sorted(
        [f"bpmn/{p.name}" for p in bpmn_dir.glob("*.bpmn") if p.name not in deployed]
        + [
            f"forms/{p.relative_to(forms_dir).as_posix()}"
            for p in forms_dir.rglob("*.json")
            if p.relative_to(forms_dir).as_posix() not in forms
        ]
    )
    for name in wrote:
        click.echo(f"wrote {name}")
    for name in extra:
        click.echo(f"not in version {version_id} (left as it is): {name}")
    click.echo(f"exported version {version_id} into {library}: {len(wrote)} written, {same} unchanged")


def _json_or_none(path: Path) -> object:
    """A form file's content, or None when it is not JSON (it is then overwritten with the deployed form)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
