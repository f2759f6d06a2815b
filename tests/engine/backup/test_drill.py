"""The restore drill (issue 14): seed, back up, restore elsewhere, compare every table and every file.

On SQLite the copy goes into a new database file; on PostgreSQL the source is read into memory and the
same database emptied and restored (the test database is the only one the fixture owns).
"""

from __future__ import annotations

import io
import tarfile

import pytest
from sqlalchemy import select, text

from engine.access.principal import SYSTEM_PRINCIPAL
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.audit.chain import seal
from engine.backup.operations import backup, restore
from engine.config import Config
from engine.db import Base, Database
from engine.errors import Conflict, Forbidden, ValidationError
from engine.services import Services
from engine.tasks import operations as tasks
from tests.engine.usecases import ready, registered

LETTER = b"%PDF-1.4 original letter"


def _snapshot(db: Database) -> dict[str, list[dict]]:
    with db.engine.connect() as conn:
        return {
            t.name: sorted((dict(r) for r in conn.execute(select(t)).mappings()), key=repr)
            for t in Base.metadata.sorted_tables
        }


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def seeded(services, who):
    services.sealer = Sealer("d" * 64)
    registered(services, who)
    task_id = ready(services, "propose")[0]
    tasks.upload_attachment(
        services, who("so1"), task_id, filename="信.pdf", stream=io.BytesIO(LETTER), confidential=True
    )
    seal(services.db, max_batches=1000)
    return services


def _target(services, tmp_path):
    """A second installation: its own (empty) database and attachment directory, the same keys."""
    if services.db.dialect == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with services.db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db = services.db
    else:
        db = Database(f"sqlite:///{tmp_path / 'restored.db'}")
        db.create_all()
    config = Config(
        database_url=db.url,
        processes_dir=services.config.processes_dir,
        instance_dir=tmp_path / "restored",
        secret_key=services.config.secret_key,
        attachments_dir=tmp_path / "restored" / "attachments",
        embedded_worker=False,
    )
    target = Services(config, db=db)
    target.sealer = services.sealer
    return target


def test_restore_drill_gives_back_every_row_and_file(seeded, who, tmp_path):
    before, files_before = _snapshot(seeded.db), _files(seeded.config.attachments_dir)
    archive = tmp_path / "backup.tar"
    done = backup(seeded, SYSTEM_PRINCIPAL, archive)
    assert done.files == 1 and done.tables["attachment"] == 1 and done.tables["audit_event"] > 5
    assert archive.stat().st_mode & 0o077 == 0
    with tarfile.open(archive) as tar:  # no keys in the archive, the letter only encrypted
        blob = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert LETTER not in blob and seeded.sealer.key_id.encode() in blob

    target = _target(seeded, tmp_path)
    restored = restore(target, SYSTEM_PRINCIPAL, archive)
    assert restored.audit_ok is True and restored.tables == {k: len(v) for k, v in before.items()}
    after = _snapshot(target.db)
    after["audit_event"] = [e for e in after["audit_event"] if e["action"] != "backup_restored"]
    known = {c["id"] for c in before["audit_check"]}
    after["audit_check"] = [c for c in after["audit_check"] if c["id"] in known]  # restore adds its own check
    assert after == before
    assert _files(target.config.attachments_dir) == files_before
    attachment_id = before["attachment"][0]["id"]
    reveal = Reveal(target.sealer, frozenset({"case_management"}))
    found = tasks.download_attachment(target, _principal(target, "cm1"), attachment_id, reveal=reveal)
    assert (found.filename, b"".join(found.chunks)) == ("信.pdf", LETTER)
    # new rows continue after the restored ids (PostgreSQL's sequences were moved on)
    started = registered(target, lambda u: _principal(target, u))[0]
    assert started.instance_id > max(i["id"] for i in before["process_instance"])


def _principal(services, username):
    from engine.access.principal import load_principal

    with services.db.session() as s:
        return load_principal(s, username)


def test_restore_refuses_a_damaged_archive_or_a_used_database_and_writes_nothing(seeded, tmp_path):
    archive = tmp_path / "backup.tar"
    with pytest.raises(Forbidden):  # operator work: not for an officer, whatever his roles
        backup(seeded, _principal(seeded, "cm1"), archive)
    backup(seeded, SYSTEM_PRINCIPAL, archive)
    with pytest.raises(Conflict, match="empty database"):
        restore(seeded, SYSTEM_PRINCIPAL, archive)  # the source itself is not empty
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "tables/process_instance.jsonl.gz":
                data = data[:-8] + bytes(8)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = _target(seeded, tmp_path)
    with pytest.raises(ValidationError, match=r"process_instance\.jsonl\.gz does not match its checksum"):
        restore(target, SYSTEM_PRINCIPAL, damaged)
    assert all(not rows for rows in _snapshot(target.db).values())
