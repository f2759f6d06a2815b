"""Where attachment files are kept: one interface, a directory or an S3-compatible object store.

Several servers must see the same files: an upload taken by one web process is downloaded through
another, the worker of a third machine backs them up. Two stores answer that:

- ``DirectoryStore``: a directory (``GUANTONG_ATTACHMENTS``), on local disk for one server or on shared
  storage (NFS, a cluster file system) mounted at the same path on every server;
- ``S3Store``: a bucket of an S3-compatible object store (MinIO, Ceph RGW, a cloud's), chosen with
  ``GUANTONG_ATTACHMENT_STORE=s3://bucket/prefix`` and ``GUANTONG_S3_ENDPOINT_URL``; credentials come
  the usual boto3 way (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role).

Files are named by a relative path ``xx/name`` (the first two characters of the name, then the name), the
same in both stores and in a backup archive. They are encrypted before they reach a store
(engine/tasks/attachments.py), so neither a shared disk nor an object store ever holds plain content.
A file is written whole or not at all: to a temporary file first, then renamed into place or uploaded.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit


class AttachmentStore(Protocol):
    """What the attachments, backup and restore, key rotation and /readyz need of a store."""

    def describe(self) -> str:
        """Where the files are, for messages and /readyz (no credentials)."""
        ...

    def staging_dir(self) -> Path:
        """A private directory to write a file into before ``put_file`` (same file system as the store
        for a directory, so the rename is atomic)."""
        ...

    def put_file(self, relative: str, path: Path) -> None:
        """Take the finished file at ``path`` as ``relative`` (``path`` is gone or may be removed after)."""
        ...

    def write_bytes(self, relative: str, data: bytes) -> None: ...

    def open(self, relative: str) -> BinaryIO:
        """The stored file for reading; FileNotFoundError when there is none."""
        ...

    def read_bytes(self, relative: str) -> bytes: ...

    def delete(self, relative: str) -> None:
        """Remove the file if it is there."""
        ...

    def names(self) -> Iterator[str]:
        """Every stored file's relative name (restore refuses a store that is not empty)."""
        ...

    def check_writable(self) -> str:
        """ "ok", or why a file cannot be stored now (/readyz)."""
        ...


def relative_name(name: str) -> str:
    """``xx/name``: files spread over 256 folders by the first two characters of their name."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a stored file name: {name!r}")
    return f"{name[:2]}/{name}"


def _check_relative(relative: str) -> str:
    parts = relative.split("/")
    if len(parts) != 2 or any(not p or p.startswith(".") or "\\" in p for p in parts):
        raise ValueError(f"not a stored file's relative name: {relative!r}")
    return relative


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


@dataclass(frozen=True)
class DirectoryStore:
    """Files under ``root``, owner-only (0700 folders, 0600 files)."""

    root: Path

    def describe(self) -> str:
        return str(self.root)

    def path(self, relative: str) -> Path:
        return self.root / _check_relative(relative)

    def staging_dir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.root

    def put_file(self, relative: str, path: Path) -> None:
        target = self.path(relative)
        _private_dir(target.parent)
        os.chmod(path, 0o600)
        os.replace(path, target)

    def write_bytes(self, relative: str, data: bytes) -> None:
        fd, name = tempfile.mkstemp(dir=self.staging_dir(), prefix=".restore-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            self.put_file(relative, Path(name))
        finally:
            if os.path.exists(name):
                os.unlink(name)

    def open(self, relative: str) -> BinaryIO:
        return self.path(relative).open("rb")

    def read_bytes(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def delete(self, relative: str) -> None:
        self.path(relative).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.glob("*/*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()

    def check_writable(self) -> str:
        try:
            fd, name = tempfile.mkstemp(dir=self.staging_dir(), prefix=".probe-")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            return f"not writable: {exc.strerror}"
        return "ok"


class _HttpBody(io.RawIOBase):
    """An HTTP response body as a raw stream; wrapped in ``io.BufferedReader``, whose ``read(n)`` returns
    n bytes unless the end came (the decryption reads whole chunks; one network read may return fewer)."""

    def __init__(self, body: Any):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._body.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3Store:
    """Files as objects ``<prefix>/xx/name`` in one bucket of an S3-compatible store (boto3)."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None, endpoint_url: str | None = None):
        if client is None:
            try:
                import boto3
            except ImportError:  # pragma: no cover - the s3 extra is in every offline archive
                raise RuntimeError("GUANTONG_ATTACHMENT_STORE=s3://… needs boto3: pip install 'guantong[s3]'") from None
            client = boto3.client("s3", endpoint_url=endpoint_url or None)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None, client: Any = None) -> S3Store:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"GUANTONG_ATTACHMENT_STORE: {url!r} is not s3://bucket[/prefix]")
        return cls(parts.netloc, parts.path, client=client, endpoint_url=endpoint_url)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, relative: str) -> str:
        relative = _check_relative(relative)
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def staging_dir(self) -> Path:
        return Path(tempfile.gettempdir())

    def put_file(self, relative: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self.key(relative))  # multipart for large files
        Path(path).unlink(missing_ok=True)

    def write_bytes(self, relative: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(relative), Body=data)

    def open(self, relative: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(relative))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(relative) from None
        return io.BufferedReader(_HttpBody(response["Body"]), buffer_size=256 * 1024)

    def read_bytes(self, relative: str) -> bytes:
        with self.open(relative) as f:
            return f.read()

    def delete(self, relative: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(relative))

    def names(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                relative = item["Key"][len(start) :]
                if relative.count("/") == 1:
                    yield relative

    def check_writable(self) -> str:
        probe = f".probe-{secrets.token_hex(8)}"
        key = f"{self.prefix}/{probe}" if self.prefix else probe
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # any client or endpoint error means "cannot store now"
            return f"not writable: {type(exc).__name__}: {exc}"
        return "ok"


def open_store(
    attachment_store: str | None, attachments_dir: Path, *, endpoint_url: str | None = None
) -> AttachmentStore:
    """The store the settings name: ``s3://bucket/prefix``, a directory path, or (unset) the directory."""
    if attachment_store and attachment_store.startswith("s3://"):
        return S3Store.from_url(attachment_store, endpoint_url=endpoint_url)
    if attachment_store:
        return DirectoryStore(Path(attachment_store))
    return DirectoryStore(Path(attachments_dir))


def as_store(where: AttachmentStore | str | Path) -> AttachmentStore:
    """A store from a store or a directory (callers and tests that name a directory keep working)."""
    if isinstance(where, str | Path):
        return DirectoryStore(Path(where))
    return where
