"""The attachment store (engine/storage.py): a directory or an S3-compatible object store behind one
interface, used by uploads and downloads, key rotation, backup and restore (issue 14, several servers)."""

from __future__ import annotations

import io

import pytest

from engine.access.keyrotation import rotate_data_keys
from engine.access.principal import SYSTEM_PRINCIPAL, load_principal
from engine.access.reveal import Reveal
from engine.access.sealing import Sealer
from engine.backup.operations import backup, restore
from engine.config import Config
from engine.db import Database
from engine.errors import Conflict, NotFound
from engine.health import readiness
from engine.services import Services
from engine.storage import DirectoryStore, S3Store, open_store, relative_name
from engine.tasks import operations as tasks
from tests.engine.usecases import ready, registered

LETTER = b"%PDF-1.4 " + bytes(range(256)) * 900  # larger than one encryption chunk and one network read


@pytest.fixture(params=["directory", "s3"])
def store(request, tmp_path):
    if request.param == "directory":
        return DirectoryStore(tmp_path / "files")
    server = request.getfixturevalue("s3_server")
    return S3Store.from_url(server.url(), endpoint_url=server.endpoint_url)


def test_every_store_keeps_reads_lists_and_deletes_whole_files(store, tmp_path):
    assert list(store.names()) == [] and store.check_writable() == "ok"
    name = relative_name("ab12cd")
    staged = tmp_path / "staged"
    staged.write_bytes(LETTER)
    store.put_file(name, staged)
    assert not staged.exists(), "the staged file is handed over, not left behind"
    store.write_bytes(relative_name("ef34"), b"second")
    assert list(store.names()) == ["ab/ab12cd", "ef/ef34"]
    with store.open(name) as f:
        assert f.read(10) == LETTER[:10] and f.read(100_000) == LETTER[10:100_010]
    assert store.read_bytes(name) == LETTER
    store.delete(name)
    store.delete(name)  # already gone: nothing to do
    with pytest.raises(FileNotFoundError):
        store.open(name)
    assert list(store.names()) == ["ef/ef34"]
    with pytest.raises(ValueError, match="relative name"):
        store.open("../etc/passwd")


def test_the_settings_choose_the_store(tmp_path, s3_server):
    assert open_store(None, tmp_path / "a") == DirectoryStore(tmp_path / "a")
    assert open_store(str(tmp_path / "shared"), tmp_path / "a") == DirectoryStore(tmp_path / "shared")
    s3 = open_store(s3_server.url("g/files"), tmp_path, endpoint_url=s3_server.endpoint_url)
    assert isinstance(s3, S3Store) and s3.describe() == f"s3://{s3_server.bucket}/g/files"
    assert s3.key("ab/abc") == "g/files/ab/abc"
    with pytest.raises(ValueError, match="s3://bucket"):
        S3Store.from_url("s3:///nobucket", endpoint_url=s3_server.endpoint_url)


def _on_s3(services, server, prefix="attachments"):
    services.config.attachment_store = server.url(prefix)
    services.config.s3_endpoint_url = server.endpoint_url
    services.sealer = Sealer("c" * 64)
    return services


def _download(services, attachment_id):
    with services.db.session() as s:
        reader = load_principal(s, "cm1")
    reveal = Reveal(services.sealer, frozenset({"case_management"}))
    found = tasks.download_attachment(services, reader, attachment_id, reveal=reveal)
    return found.filename, b"".join(found.chunks)


def test_uploads_go_to_the_object_store_encrypted_and_come_back(services, who, s3_server, tmp_path):
    services = _on_s3(services, s3_server)
    registered(services, who)
    task_id = ready(services, "propose")[0]
    info = tasks.upload_attachment(
        services, who("so1"), task_id, filename="信.pdf", stream=io.BytesIO(LETTER), confidential=True
    )
    client = s3_server.client()
    [stored] = client.list_objects_v2(Bucket=s3_server.bucket)["Contents"]
    assert stored["Key"].startswith("attachments/")
    body = client.get_object(Bucket=s3_server.bucket, Key=stored["Key"])["Body"].read()
    assert LETTER[:200] not in body, "the object store holds only ciphertext"
    assert not (tmp_path / "attachments").exists(), "nothing was written to the local directory"
    assert _download(services, info.id) == ("信.pdf", LETTER)
    assert readiness(services)["attachments"] == "ok"

    # a key rotation re-encrypts in the object store and removes the old object
    services.sealer = Sealer("e" * 64, retired=["c" * 64])
    assert rotate_data_keys(services, SYSTEM_PRINCIPAL).attachments == 1
    [moved] = client.list_objects_v2(Bucket=s3_server.bucket)["Contents"]
    assert moved["Key"] != stored["Key"]
    assert _download(services, info.id) == ("信.pdf", LETTER)

    client.delete_object(Bucket=s3_server.bucket, Key=moved["Key"])
    with pytest.raises(NotFound, match="no stored file"):
        _download(services, info.id)
    with pytest.raises(Conflict, match=r"attachment file .* is missing from s3://"):
        backup(services, SYSTEM_PRINCIPAL, tmp_path / "never.tar")
    assert not (tmp_path / "never.tar").exists()


def test_backup_from_the_object_store_restores_into_a_directory(services, who, s3_server, tmp_path):
    services = _on_s3(services, s3_server)
    registered(services, who)
    info = tasks.upload_attachment(
        services, who("so1"), ready(services, "propose")[0], filename="a.pdf", stream=io.BytesIO(LETTER)
    )
    archive = tmp_path / "backup.tar"
    assert backup(services, SYSTEM_PRINCIPAL, archive).files == 1
    if services.db.dialect == "postgresql":
        pytest.skip("the cross-store restore is shown on SQLite; the PostgreSQL drill is test_drill.py")
    db = Database(f"sqlite:///{tmp_path / 'restored.db'}")
    db.create_all()
    config = Config(
        database_url=db.url,
        processes_dir=services.config.processes_dir,
        instance_dir=tmp_path / "restored",
        secret_key=services.config.secret_key,
        attachments_dir=tmp_path / "restored" / "files",
        embedded_worker=False,
    )
    target = Services(config, db=db)
    target.sealer = services.sealer
    assert restore(target, SYSTEM_PRINCIPAL, archive).files == 1
    assert len(list(target.attachments.names())) == 1
    assert _download(target, info.id) == ("a.pdf", LETTER)
    # a restore into an object store that already holds files is refused, the empty database untouched
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    empty.create_all()
    again = Services(
        Config(
            **{
                **config.__dict__,
                "database_url": empty.url,
                "attachment_store": s3_server.url(),
                "s3_endpoint_url": s3_server.endpoint_url,
            }
        ),
        db=empty,
    )
    again.sealer = services.sealer
    with pytest.raises(Conflict, match=r"empty attachment store; s3://"):
        restore(again, SYSTEM_PRINCIPAL, archive)
