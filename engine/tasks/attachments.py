"""Documents attached to an instance's tasks, stored once per content hash outside the database.

A file is accepted when its size is within the limit, its extension is on the list and its first bytes
match what the extension promises (a renamed executable is refused). It is written to
``<attachments_dir>/<sha256[:2]>/<sha256>`` (written once, shared by identical uploads) and recorded in
``attachment`` with the instance, the task, the uploader and a confidential flag: a confidential file
(e.g. the original 检举 letter) is served only to holders of the reveal roles (``engine.sealing``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import NotFound, ValidationError
from engine.models import Attachment

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
    return Path(root) / sha256[:2] / sha256


def store(
    session: Session,
    root: str | Path,
    *,
    instance_id: int,
    task_id: int | None,
    filename: str,
    stream: BinaryIO,
    actor: str,
    confidential: bool = False,
    max_bytes: int = MAX_BYTES,
    allowed: dict[str, tuple[str, tuple[bytes, ...] | None]] | None = None,
) -> Attachment:
    """Check, hash and keep one upload; adds its ``Attachment`` row and audit event to ``session``."""
    allowed = allowed if allowed is not None else ALLOWED
    name = clean_filename(filename)
    ext = extension(name)
    if not name or ext not in allowed:
        raise ValidationError(
            f"file type .{ext or '?'} is not accepted",
            fields={"file": "不接受此文件类型（可上传：" + "、".join(sorted(allowed)) + "）"},
        )
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            while True:
                chunk = stream.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationError(
                        f"file larger than {max_bytes} bytes",
                        fields={"file": f"文件不能超过 {max_bytes // (1024 * 1024)} MB"},
                    )
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                tmp.write(chunk)
        if size == 0:
            raise ValidationError("empty file", fields={"file": "文件为空"})
        if not _check_content(ext, head):
            raise ValidationError(
                "file content does not match its type", fields={"file": f"文件内容与扩展名 .{ext} 不符"}
            )
        sha = digest.hexdigest()
        target = path_for(root, sha)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
            os.chmod(target, 0o640)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    row = Attachment(
        instance_id=instance_id,
        task_id=task_id,
        filename=name,
        content_type=allowed[ext][0],
        size=size,
        sha256=sha,
        confidential=confidential,
        uploaded_by=actor,
        uploaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "attachment_added",
        actor=actor,
        instance_id=instance_id,
        task_id=task_id,
        attachment=row.id,
        filename=name,
        sha256=sha,
        size=size,
        confidential=confidential or None,
    )
    return row


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
