"""Attachments and sealed records at rest: unreadable on disk, and still readable after a key rotation.

Issue 12: "a confidential attachment and its name are unreadable in the files on disk; ``keys rotate``
keeps every old record readable".
"""

from __future__ import annotations

import io
import shutil

import pytest
from sqlalchemy import select, update

from engine.access.keyrotation import rotate_data_keys
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer, SealError
from engine.errors import Forbidden
from engine.models import Attachment, AuditEvent, TaskSubmission
from engine.tasks import attachments as files
from engine.tasks import operations as tasks
from tests.engine.usecases import ready, registered

LETTER = b"%PDF-1.4 \xe6\xa3\x80\xe4\xb8\xbe\xe4\xba\xba \xe6\x9d\x8e\xe6\x9f\x90\xe6\x9f\x90 \xe7\x94\xb5\xe8\xaf\x9d 13800000000"
NAME = "检举人李某某亲笔信.pdf"
KEY_A, KEY_B = "a" * 64, "b" * 64


def _everything_on_disk(services) -> bytes:
    return b"".join(p.read_bytes() for p in services.config.attachments_dir.rglob("*") if p.is_file())


def _database_text(services) -> str:
    with services.db.session() as s:
        rows = s.scalars(select(Attachment)).all()
        details = [e.detail for e in s.scalars(select(AuditEvent))]
        return repr([(r.filename, r.name_sealed, r.storage_name) for r in rows]) + repr(details)


@pytest.fixture
def keyed(services):
    services.sealer = Sealer(KEY_A)  # as Services.sealer would read it from GUANTONG_SEAL_KEY
    return services


def _upload(services, who, task_id, *, content=LETTER, name=NAME, confidential=True):
    return tasks.upload_attachment(
        services, who("so1"), task_id, filename=name, stream=io.BytesIO(content), confidential=confidential
    )


def _download(services, who, attachment_id, username="cm1"):
    reveal = Reveal(services.sealer, frozenset({"case_management"}))
    found = tasks.download_attachment(services, who(username), attachment_id, reveal=reveal)
    return found.filename, b"".join(found.chunks)


def test_confidential_attachment_and_its_name_are_unreadable_at_rest(keyed, who):
    services = keyed
    started = registered(services, who)[0]
    task_id = ready(services, "propose")[0]
    info = _upload(services, who, task_id)
    disk = _everything_on_disk(services)
    assert LETTER not in disk and b"13800000000" not in disk
    assert NAME.encode() not in disk and "李某某" not in _database_text(services)
    assert info.filename == "保密附件.pdf"  # what lists show; the name opens only for a download by a reader
    assert _download(services, who, info.id) == (NAME, LETTER)
    assert started.instance_id


def test_an_altered_file_is_refused_not_served(keyed, who):
    services = keyed
    registered(services, who)
    info = _upload(services, who, ready(services, "propose")[0], content=LETTER * 5000, confidential=False)
    [path] = [p for p in services.config.attachments_dir.rglob("*") if p.is_file()]
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # one bit in the last chunk
    path.write_bytes(bytes(data))
    reveal = Reveal(services.sealer)
    found = tasks.download_attachment(services, who("cm1"), info.id, reveal=reveal)
    with pytest.raises(SealError, match="cannot be opened"):
        b"".join(found.chunks)
    path.write_bytes(bytes(data[: len(data) // 2]))  # cut short
    with pytest.raises(SealError):
        b"".join(tasks.download_attachment(services, who("cm1"), info.id, reveal=reveal).chunks)


def test_rotation_keeps_every_old_record_readable(keyed, who):
    services = keyed
    registered(services, who)  # its reporter name is sealed with another key: rotation reports it
    task_id = ready(services, "propose")[0]
    secret = _upload(services, who, task_id)
    plain = _upload(services, who, task_id, content=b"%PDF-1.4 plain", name="plain.pdf", confidential=False)
    # a sealed record under key A, and an attachment from before encryption (a plain file named by hash)
    with services.db.session() as s:
        sealed = services.sealer.seal({"reporter_name": "李某某"})
        s.add(TaskSubmission(task_id=task_id, instance_id=1, kind="draft", data={}, sealed=sealed, submitted_by="so1"))
        legacy = s.get(Attachment, plain.id)
        legacy_path = files.path_for(services.config.attachments_dir, legacy.sha256)
        legacy_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.stored_path(services.config.attachments_dir, legacy), legacy_path)
        s.execute(update(Attachment).where(Attachment.id == plain.id).values(storage_name=None, key_id=None))
    legacy_path.write_bytes(b"%PDF-1.4 plain")

    services.sealer = Sealer(KEY_B, retired=[KEY_A])  # the new key is current, the old one retired
    done = rotate_data_keys(services, SYSTEM_PRINCIPAL)
    assert done.key_id == services.sealer.key_id
    assert done.submissions == 1 and done.attachments == 2  # the file under key A, the legacy plain file
    assert [u.split(":")[0] for u in done.unreadable] == ["submission 1"]  # left as it was, named
    assert not legacy_path.exists() and b"%PDF-1.4 plain" not in _everything_on_disk(services)

    services.sealer = Sealer(KEY_B)  # the old key dropped: everything still opens
    assert _download(services, who, secret.id) == (NAME, LETTER)
    assert _download(services, who, plain.id) == ("plain.pdf", b"%PDF-1.4 plain")
    with services.db.session() as s:
        tokens = s.scalars(select(TaskSubmission.sealed).where(TaskSubmission.id > 1)).all()
    assert [services.sealer.open(t) for t in tokens] == [{"reporter_name": "李某某"}]
    assert rotate_data_keys(services, SYSTEM_PRINCIPAL).attachments == 0  # nothing left to move


def test_only_the_console_rotates_keys(keyed, who):
    with pytest.raises(Forbidden):
        rotate_data_keys(keyed, who("cm1"))
