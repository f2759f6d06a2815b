"""Attachments encrypted at rest: AES-256-GCM over 64 KiB chunks, streamed both ways.

A 20 MB upload is never held in memory: each chunk is sealed on its own and written as it arrives.
Chunk ``i`` is encrypted with the nonce ``prefix | i`` (an 8-byte random prefix per file, a 4-byte
counter) and authenticated together with the file's header, its index and whether it is the last one,
so a chunk cannot be altered, moved, dropped or the file cut short without the read failing (the
"STREAM" construction of Hoang, Reyhanitabar, Rogaway and Vizár). The AEAD itself is ``cryptography``'s
AESGCM; this module only frames it.

File layout: ``GTA1`` | key id (16 ASCII hex) | nonce prefix (8 bytes) | chunks, each ciphertext + tag.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"GTA1"
CHUNK = 64 * 1024
TAG = 16
HEADER = len(MAGIC) + 16 + 8
MAX_CHUNKS = 2**32 - 1


class CorruptFile(ValueError):
    """The stored file was altered, cut short or sealed with a key this server does not hold."""


def key_id_of(head: bytes) -> str | None:
    """The key id a stored file names, or None for a file from before encryption (plain bytes)."""
    if len(head) >= HEADER and head.startswith(MAGIC):
        return head[len(MAGIC) : len(MAGIC) + 16].decode("ascii", "replace")
    return None


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">I?", index, last)


class Encryptor:
    """Writes one encrypted file chunk by chunk; the last chunk is only known when ``finish`` is called,
    so one chunk is held back."""

    def __init__(self, key: bytes, key_id: str, out: BinaryIO):
        self._aead = AESGCM(key)
        self._prefix = os.urandom(8)
        self._header = MAGIC + key_id.encode("ascii") + self._prefix
        self._out = out
        self._index = 0
        self._pending = b""
        out.write(self._header)

    def _emit(self, data: bytes, last: bool) -> None:
        if self._index >= MAX_CHUNKS:
            raise ValueError("file too large to encrypt")
        nonce = self._prefix + struct.pack(">I", self._index)
        self._out.write(self._aead.encrypt(nonce, data, _aad(self._header, self._index, last)))
        self._index += 1

    def write(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) > CHUNK:
            self._emit(self._pending[:CHUNK], last=False)
            self._pending = self._pending[CHUNK:]

    def finish(self) -> None:
        self._emit(self._pending, last=True)
        self._pending = b""


def decrypt(key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """The plain bytes of an encrypted file, chunk by chunk; ``CorruptFile`` as soon as anything is wrong
    (a download then stops rather than hand out altered content)."""
    header = source.read(HEADER)
    if len(header) != HEADER or not header.startswith(MAGIC):
        raise CorruptFile("not an encrypted attachment")
    prefix = header[-8:]
    aead = AESGCM(key)
    index = 0
    current = source.read(CHUNK + TAG)
    while True:
        following = source.read(CHUNK + TAG)
        last = not following
        nonce = prefix + struct.pack(">I", index)
        try:
            yield aead.decrypt(nonce, current, _aad(header, index, last))
        except InvalidTag:
            raise CorruptFile(f"chunk {index} does not authenticate") from None
        if last:
            return
        current, index = following, index + 1
