"""``guantong backup`` and ``guantong restore``: a consistent copy of a commission's data, and proof
that it comes back whole.

Backup reads every table inside one transaction — a snapshot (PostgreSQL REPEATABLE READ; SQLite's
read transaction in WAL mode) — so officers keep working while it runs and the copy is still
consistent, then copies the attachment files those rows name. Restore goes into an empty database of
the same schema revision: it checks the manifest's counts and checksums of every table and file before
writing anything, loads the tables in dependency order (self-references filled in afterwards),
restores the files, moves PostgreSQL's id sequences past the restored ids, and verifies the audit
chain with the audit key it is given. Both are operator work: only the console (system principal) may.

Keys never go into the archive: whoever holds the archive and the keys holds everything. ``keys_out``
writes them to a separate file (0600) for the operator to keep elsewhere.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.engine import Connection

from engine import audit, clock
from engine.access.principal import Principal
from engine.access.sealing import seal_key_text
from engine.audit import keys as audit_keys
from engine.audit.verify import verify
from engine.backup.archive import (
    FORMAT,
    MANIFEST,
    attachment_member,
    decode_rows,
    encode_rows,
    sha256,
    table_member,
)
from engine.db import Base
from engine.errors import Conflict, Forbidden, ValidationError
from engine.migrate import current
from engine.models import Attachment
from engine.services import Services
from engine.tasks.attachments import relative_for

Progress = Callable[[str, int, int], None]  # (what, done, total)


def _quiet(_what: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class BackupReport:
    path: Path
    tables: dict[str, int]
    files: int
    bytes: int
    keys_path: Path | None = None


@dataclass(frozen=True)
class RestoreReport:
    tables: dict[str, int]
    files: int
    audit_ok: bool | None  # None: the archive held no audit events
    audit_message: str = ""
    problems: list[str] = field(default_factory=list)


def _tables() -> list[Table]:
    from engine import models  # noqa: F401 - register the tables

    return list(Base.metadata.sorted_tables)


def _require_console(principal: Principal, what: str) -> None:
    if not principal.is_system:
        raise Forbidden(f"only the installation's operator may {what} (guantong {what})", rule=f"{what}_console")


# --------------------------------------------------------------------------- backup
def backup(
    services: Services,
    principal: Principal,
    path: Path,
    *,
    keys_out: Path | None = None,
    progress: Progress = _quiet,
) -> BackupReport:
    _require_console(principal, "backup")
    path = Path(path)
    if path.exists():
        raise Conflict(f"{path} exists: choose a new file for the backup", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = _tables()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "revision": current(services.db),
        "dialect": services.db.dialect,
        "tables": {},
        "files": {},
    }
    counts: dict[str, int] = {}
    store = services.attachments
    temporary = path.with_name(f".{path.name}.partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            with _snapshot(services) as conn:
                for index, table in enumerate(tables):
                    progress("tables", index, len(tables))
                    order = list(table.primary_key.columns) or list(table.columns)
                    rows = conn.execute(select(table).order_by(*order)).mappings()
                    data = gzip.compress(b"".join(encode_rows(table, rows)), mtime=0)
                    count = conn.scalar(select(func.count()).select_from(table)) or 0
                    counts[table.name] = count
                    manifest["tables"][table.name] = {"rows": count, "sha256": sha256(data)}
                    _add(tar, table_member(table.name), data)
                progress("tables", len(tables), len(tables))
                attachments = conn.execute(select(Attachment.storage_name, Attachment.sha256)).mappings().all()
            for index, row in enumerate(attachments):
                progress("files", index, len(attachments))
                relative = relative_for(row["storage_name"], row["sha256"])
                if relative in manifest["files"]:
                    continue  # plain files from before encryption were shared by content
                try:
                    data = store.read_bytes(relative)
                except FileNotFoundError:
                    raise Conflict(
                        f"attachment file {relative} is missing from {store.describe()}: no backup written",
                        file=relative,
                    ) from None
                manifest["files"][relative] = sha256(data)
                _add(tar, attachment_member(relative), data)
            progress("files", len(attachments), len(attachments))
            _add(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    if keys_out is not None:
        _write_keys(services, Path(keys_out))
    with services.db.session() as s:
        audit.record(
            s, "backup_written", actor=principal.username, rows=sum(counts.values()), files=len(manifest["files"])
        )
    return BackupReport(path, counts, len(manifest["files"]), path.stat().st_size, keys_out)


class _snapshot:
    """One read transaction over the whole copy."""

    def __init__(self, services: Services):
        self._engine = services.db.engine
        self._conn: Connection | None = None

    def __enter__(self) -> Connection:
        conn = self._engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        if conn.dialect.name == "sqlite":
            conn.execute(text("SELECT count(*) FROM sqlite_master"))  # opens the read snapshot now
        self._conn = conn
        return conn

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None
        self._conn.rollback()
        self._conn.close()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _write_keys(services: Services, path: Path) -> None:
    """The keys that open this data, apart from the archive, owner-only."""
    environ = os.environ
    seal = environ.get("GUANTONG_SEAL_KEY") or seal_key_text()
    ring = audit_keys.keyring()
    content = {
        "GUANTONG_SEAL_KEY": seal,
        "GUANTONG_SEAL_RETIRED_KEYS": environ.get("GUANTONG_SEAL_RETIRED_KEYS", ""),
        "GUANTONG_AUDIT_KEY": ring.current.hex(),
        "GUANTONG_AUDIT_RETIRED_KEYS": ",".join(k.hex() for k in ring.retired),
        "GUANTONG_SECRET_KEY": services.config.secret_key,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in content.items()))


# --------------------------------------------------------------------------- restore
def restore(services: Services, principal: Principal, path: Path, *, progress: Progress = _quiet) -> RestoreReport:
    _require_console(principal, "restore")
    try:
        opened = tarfile.open(Path(path), mode="r")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        raise ValidationError(
            f"{path} is not a Guantong backup (not a tar archive: {exc.__class__.__name__})"
        ) from None
    with opened as tar:
        manifest = _manifest(tar)
        _check_target(services, manifest)
        tables = _tables()
        missing = set(manifest["tables"]) - {t.name for t in tables}
        if missing:
            raise ValidationError(f"the archive has tables this version does not know: {sorted(missing)}")
        data = {t.name: _member(tar, table_member(t.name), manifest["tables"][t.name]["sha256"]) for t in tables}
        files = {rel: _member(tar, attachment_member(rel), digest) for rel, digest in manifest["files"].items()}
    counts: dict[str, int] = {}
    with services.db.engine.begin() as conn:
        for index, table in enumerate(tables):
            progress("tables", index, len(tables))
            rows = list(decode_rows(table, gzip.decompress(data[table.name]).splitlines()))
            if len(rows) != manifest["tables"][table.name]["rows"]:
                raise ValidationError(f"table {table.name}: {len(rows)} rows, the manifest says otherwise")
            _load(conn, table, rows)
            counts[table.name] = len(rows)
        progress("tables", len(tables), len(tables))
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, tables)
    store = services.attachments
    for index, (relative, content) in enumerate(sorted(files.items())):
        progress("files", index, len(files))
        store.write_bytes(relative, content)
    progress("files", len(files), len(files))
    audit_ok, message = None, ""
    if counts.get("audit_event"):
        result = verify(services.db, store=True)
        audit_ok = result.ok
        message = result.problem.message if result.problem else f"{result.checked} events intact"
    with services.db.session() as s:
        audit.record(s, "backup_restored", actor=principal.username, rows=sum(counts.values()), files=len(files))
    return RestoreReport(counts, len(files), audit_ok, message)


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
    except KeyError:
        raise ValidationError("not a Guantong backup: no manifest.json") from None
    assert member is not None
    manifest = cast(dict[str, Any], json.loads(member.read()))
    if manifest.get("format") != FORMAT:
        raise ValidationError(f"unknown backup format {manifest.get('format')!r} (this version reads {FORMAT})")
    return manifest


def _member(tar: tarfile.TarFile, name: str, digest: str) -> bytes:
    try:
        member = tar.extractfile(name)
    except KeyError:
        raise ValidationError(f"the archive lacks {name}") from None
    if member is None:
        raise ValidationError(f"{name} is not a file in the archive")
    data = member.read()
    if sha256(data) != digest:
        raise ValidationError(f"{name} does not match its checksum in the manifest: the archive is damaged")
    return data


def _check_target(services: Services, manifest: dict[str, Any]) -> None:
    revision = current(services.db)
    if manifest.get("revision") and revision and manifest["revision"] != revision:
        raise Conflict(
            f"the archive is of schema revision {manifest['revision']}, this database {revision}: "
            "restore with the Guantong version that wrote it, then upgrade",
        )
    with services.db.engine.connect() as conn:
        used = [t.name for t in _tables() if conn.scalar(select(func.count()).select_from(t))]
    if used:
        raise Conflict(f"restore goes into an empty database; this one has rows in {', '.join(used)}")
    store = services.attachments
    if next(iter(store.names()), None) is not None:
        raise Conflict(f"restore goes into an empty attachment store; {store.describe()} holds files")


def _self_references(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _load(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; columns that point into the same table are filled in once every row is there."""
    later = _self_references(table)
    pending = [(row, {c: row[c] for c in later if row.get(c) is not None}) for row in rows]
    first = [{**row, **dict.fromkeys(refs)} for row, refs in pending] if later else rows
    for start in range(0, len(first), 1000):
        conn.execute(table.insert(), first[start : start + 1000])
    if later:
        key = next(iter(table.primary_key.columns))
        for row, refs in pending:
            if refs:
                conn.execute(update(table).where(key == row[key.name]).values(**refs))


def _advance_sequences(conn: Connection, tables: list[Table]) -> None:
    """Move each serial id's sequence past the restored ids, so the next insert does not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is not False and column.type.python_type is int:
                highest = select(func.coalesce(func.max(column), 0)).scalar_subquery()
                sequence = func.pg_get_serial_sequence(table.name, column.name)
                conn.execute(select(func.setval(sequence, func.greatest(highest, 1))))
