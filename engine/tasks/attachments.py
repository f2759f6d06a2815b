"""Documents attached to an instance's tasks, encrypted in files outside the database.

A file is accepted when its size is within the limit, its extension is on the list and its first bytes
match what the extension promises (a renamed executable is refused). It is encrypted as it streams in
(AES-256-GCM under the data key, engine/access/filecipher.py) and kept as ``<xx>/<random>`` in the
attachment store (engine/storage.py: a directory, owner-only, or an S3-compatible bucket shared by several
servers), and recorded in ``attachment`` with the instance, the task, the uploader and a confidential
flag: a confidential file (e.g. the original 检举 letter) is served only to holders of the reveal roles
(``engine.sealing``), and its name is sealed too — the row, the audit trail and the disk show only a
placeholder. Nothing on disk tells what a file holds or which case it belongs to.

Files from before encryption (``storage_name`` empty) are plain, named by their hash; they are still
served, and ``guantong keys rotate`` (``reencrypt``) encrypts them.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import filecipher
from engine.access.sealing import Sealer, SealError
from engine.errors import NotFound, ValidationError
from engine.models import Attachment
from engine.storage import AttachmentStore, as_store, relative_name

Where = AttachmentStore | str | Path  # a store, or the directory of a DirectoryStore

CONFIDENTIAL_NAME = "保密附件"

MAX_BYTES = 20 * 1024 * 1024

# extension -> (content type we serve it as, accepted leading bytes or None for text)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "ofd": ("application/ofd", (b"PK\x03\x04",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    "wps": ("application/vnd.ms-works", (b"\xd0\xcf\x11\xe0",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain; charset=utf-8", None),
}


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def clean_filename(filename: str) -> str:
    """The base name only, without control or path characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip().strip(".")
    if len(name) > 200:
        stem, _, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if stem else name[:200]
    return name


def _check_content(ext: str, head: bytes) -> bool:
    magic = ALLOWED[ext][1]
    if magic is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # the head may cut a multi-byte character at its end
            if exc.start < len(head) - 3:
                return False
        return b"\x00" not in head
    return any(head.startswith(m) for m in magic)


def path_for(root: Path, sha256: str) -> Path:
    """Where a file from before encryption lies (named by its content hash)."""
    return Path(root) / sha256[:2] / sha256


def stored_path(root: str | Path, row: Attachment) -> Path:
    return stored_path_for(root, row.storage_name, row.sha256)


def stored_path_for(root: str | Path, storage_name: str | None, sha256: str) -> Path:
    """Where an attachment's file lies in a directory store: its random name, or its hash for a file from
    before encryption."""
    return Path(root) / relative_for(storage_name, sha256)


def relative_for(storage_name: str | None, sha256: str) -> str:
    """An attachment's name in its store (and in a backup archive): ``xx/<random>``, or ``xx/<sha256>``
    for a file from before encryption."""
    return relative_name(storage_name or sha256)


def stored_relative(row: Attachment) -> str:
    return relative_for(row.storage_name, row.sha256)


def _encrypt_into(store: AttachmentStore, sealer: Sealer, write: Callable[[filecipher.Encryptor], None]) -> str:
    """Write an encrypted file through ``write`` and hand it to the store whole; returns its storage name."""
    fd, tmp_name = tempfile.mkstemp(dir=store.staging_dir(), prefix=".upload-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as tmp:
            encryptor = filecipher.Encryptor(sealer.file_key(), sealer.key_id, tmp)
            write(encryptor)
            encryptor.finish()
        name = secrets.token_hex(16)
        store.put_file(relative_name(name), Path(tmp_name))
        return name
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


@dataclass
class _Seen:
    """What an upload showed while it streamed through: its size and first bytes (the type check)."""

    size: int = 0
    head: bytes = b""


def store(
    session: Session,
    root: Where,
    *,
    sealer: Sealer,
    instance_id: int,
    task_id: int | None,
    filename: str,
    stream: BinaryIO,
    actor: str,
    confidential: bool = False,
    max_bytes: int = MAX_BYTES,
    allowed: dict[str, tuple[str, tuple[bytes, ...] | None]] | None = None,
) -> Attachment:
    """Check, encrypt and keep one upload; adds its ``Attachment`` row and audit event to ``session``."""
    allowed = allowed if allowed is not None else ALLOWED
    name = clean_filename(filename)
    ext = extension(name)
    if not name or ext not in allowed:
        raise ValidationError(
            f"file type .{ext or '?'} is not accepted",
            fields={"file": "不接受此文件类型（可上传：" + "、".join(sorted(allowed)) + "）"},
        )
    files = as_store(root)
    digest = hashlib.sha256()
    seen = _Seen()

    def copy(encryptor: filecipher.Encryptor) -> None:
        while True:
            chunk = stream.read(64 * 1024)
            if not chunk:
                break
            seen.size += len(chunk)
            if seen.size > max_bytes:
                raise ValidationError(
                    f"file larger than {max_bytes} bytes",
                    fields={"file": f"文件不能超过 {max_bytes // (1024 * 1024)} MB"},
                )
            if len(seen.head) < 512:
                seen.head += chunk[: 512 - len(seen.head)]
            digest.update(chunk)
            encryptor.write(chunk)
        if seen.size == 0:
            raise ValidationError("empty file", fields={"file": "文件为空"})
        if not _check_content(ext, seen.head):
            raise ValidationError(
                "file content does not match its type", fields={"file": f"文件内容与扩展名 .{ext} 不符"}
            )

    storage_name = _encrypt_into(files, sealer, copy)
    size, sha = seen.size, digest.hexdigest()
    row = Attachment(
        instance_id=instance_id,
        task_id=task_id,
        filename=f"{CONFIDENTIAL_NAME}.{ext}" if confidential else name,
        name_sealed=sealer.seal({"filename": name}) if confidential else None,
        content_type=allowed[ext][0],
        size=size,
        sha256=sha,
        confidential=confidential,
        uploaded_by=actor,
        uploaded_at=clock.now(),
        storage_name=storage_name,
        key_id=sealer.key_id,
    )
    session.add(row)
    try:
        session.flush()
    except Exception:
        files.delete(stored_relative(row))  # the row was not written: leave no orphan file behind
        raise
    audit.record(
        session,
        "attachment_added",
        actor=actor,
        instance_id=instance_id,
        task_id=task_id,
        attachment=row.id,
        filename=row.filename,  # the placeholder for a confidential file: the trail never holds its name
        sha256=sha,
        size=size,
        confidential=confidential or None,
    )
    return row


def real_name(row: Attachment, sealer: Sealer) -> str:
    """The name the uploader gave (opened from ``name_sealed`` for a confidential file)."""
    if row.name_sealed:
        return str(sealer.open(row.name_sealed).get("filename") or row.filename)
    return row.filename


def content(root: Where, row: Attachment, sealer: Sealer) -> Iterator[bytes]:
    """The file's plain bytes, chunk by chunk; NotFound when the file is gone, SealError or
    ``filecipher.CorruptFile`` when it cannot be opened or was altered."""
    try:
        source = as_store(root).open(stored_relative(row))
    except FileNotFoundError:
        raise NotFound(f"attachment {row.id} has no stored file", attachment=row.id) from None

    def chunks() -> Iterator[bytes]:
        with source:
            if row.storage_name is None:  # from before encryption
                while chunk := source.read(64 * 1024):
                    yield chunk
                return
            try:
                yield from filecipher.decrypt(sealer.file_key(row.key_id), source)
            except filecipher.CorruptFile as exc:
                raise SealError(f"attachment {row.id} cannot be opened: {exc}") from None

    stream = chunks()
    first = next(stream, b"")  # a wrong key or an altered start fails here, before anything is sent
    return itertools.chain([first], stream)


def reencrypt(session: Session, root: Where, row: Attachment, sealer: Sealer) -> tuple[bool, str | None]:
    """Bring the row under the current key: its file encrypted with it (a plain file from before
    encryption included) and its sealed name sealed with it. Returns (changed, obsolete file).

    The new file is written beside the old one and the row switched to it in the caller's transaction;
    the caller removes the obsolete file only after committing (``remove_obsolete``), and only when no
    other row still points at it (plain files were shared by hash)."""
    changed, obsolete = False, None
    files = as_store(root)
    if row.key_id != sealer.key_id or not row.storage_name:
        old_name, old_storage = stored_relative(row), row.storage_name
        plain = content(files, row, sealer)

        def copy(encryptor: filecipher.Encryptor) -> None:
            for chunk in plain:
                encryptor.write(chunk)

        row.storage_name = _encrypt_into(files, sealer, copy)
        row.key_id = sealer.key_id
        session.flush()
        shared = old_storage is None and session.scalar(
            select(Attachment.id).where(Attachment.sha256 == row.sha256, Attachment.storage_name.is_(None)).limit(1)
        )
        changed, obsolete = True, (None if shared else old_name)
    if row.name_sealed and not sealer.is_current(row.name_sealed):
        row.name_sealed = sealer.reseal(row.name_sealed)
        changed = True
    return changed, obsolete


def remove_obsolete(root: Where, relative: str | None) -> None:
    """Delete a file a committed ``reencrypt`` replaced."""
    if relative is not None:
        as_store(root).delete(relative)


def for_instance(session: Session, instance_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.instance_id == instance_id)
            .order_by(Attachment.uploaded_at, Attachment.id)
        )
    )


def get(session: Session, attachment_id: int) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found", attachment=attachment_id)
    return row
