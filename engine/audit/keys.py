"""The audit key: where it comes from and how events name the key that signed them.

The key is the whole of the trail's tamper evidence: whoever holds it can forge digests and re-chain
events, so it must not sit with the data. It comes from ``GUANTONG_AUDIT_KEY`` (64+ hex digits or 32+
characters, e.g. injected from a secrets manager) or else from a key file (``GUANTONG_AUDIT_KEY_FILE``,
default ``keys/audit.key`` under ``GUANTONG_KEYS_DIR``), created with owner-only permissions on first
use. It is never derived from the session secret, which lives beside the SQLite database.

Every event stores ``key_id``, a fingerprint of the key that signed it, so a new key can be taken into
use without re-signing sealed events (which can no longer change): the old key moves to
``GUANTONG_AUDIT_RETIRED_KEYS`` (comma-separated, same formats) and verification still finds it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine import keyfiles
from engine.config import audit_key_file


class AuditKeyError(ValueError):
    """The configured audit key is unusable (too short, unreadable); nothing can be signed without it."""


def parse_key(text: str, *, source: str) -> bytes:
    """Hex (64+ digits) is read as bytes; anything else as UTF-8 text of at least 32 characters."""
    return keyfiles.parse_key(text, source=source, error=AuditKeyError)


@functools.lru_cache(maxsize=64)
def key_id(key: bytes) -> str:
    """A fingerprint that names a key without revealing it (remembered: every audit event names its key)."""
    return hmac.new(key, b"guantong audit key id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    """The current key (signs and seals) and retired ones (still verify what they signed)."""

    current: bytes
    retired: tuple[bytes, ...] = ()
    by_id: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ring = {key_id(k): k for k in self.retired}
        ring[key_id(self.current)] = self.current
        object.__setattr__(self, "by_id", ring)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def get(self, kid: str | None) -> bytes | None:
        return self.by_id.get(kid or "")

    @classmethod
    def from_env(cls) -> Keyring:
        configured = os.environ.get("GUANTONG_AUDIT_KEY")
        current = parse_key(configured, source="GUANTONG_AUDIT_KEY") if configured else _key_file(audit_key_file())
        retired = tuple(
            parse_key(part, source="GUANTONG_AUDIT_RETIRED_KEYS")
            for part in os.environ.get("GUANTONG_AUDIT_RETIRED_KEYS", "").split(",")
            if part.strip()
        )
        return cls(current, retired)


def _key_file(path: Path) -> bytes:
    return keyfiles.read_or_create(path, error=AuditKeyError)


_lock = threading.Lock()
_cached: Keyring | None = None


def keyring() -> Keyring:
    """The process's keyring, read from the environment once."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = Keyring.from_env()
        return _cached


def reload() -> Keyring:
    """Forget the cached keyring (after the environment changed: tests, a key rotation)."""
    global _cached
    with _lock:
        _cached = None
    return keyring()
