"""Keys kept apart from the data: how a key is given (environment or file) and how a key file is made.

Guantong holds three kinds of key, each its own (issue 12): the session secret (web sign-in), the
audit key (engine/audit/keys.py: the trail's digests) and the data key (engine/access/sealing.py:
confidential fields, attachments and their names). The audit and data keys never come from the session
secret, which sits beside the SQLite database: a copy of the database must not carry what opens it.

A key is given as 64+ hex digits or 32+ characters (from a secrets manager, through the environment)
or read from a file under ``GUANTONG_KEYS_DIR`` (default ``keys/`` beside ``instance/``), created on
first use with a random key, mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from engine.config import ROOT

MIN_KEY_BYTES = 32


class KeyUnusable(ValueError):
    """A configured key is unusable (too short, unreadable); nothing can be signed or sealed without it."""


def keys_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("GUANTONG_KEYS_DIR", ROOT / "keys"))


def parse_key(text: str, *, source: str, error: type[ValueError] = KeyUnusable) -> bytes:
    """Hex (64+ digits) is read as bytes; anything else as UTF-8 text of at least 32 characters."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) >= MIN_KEY_BYTES:
        return raw
    if len(text) >= MIN_KEY_BYTES:
        return text.encode()
    raise error(f"{source}: the key must be 64+ hex digits or 32+ characters")


def fingerprint(key: bytes, purpose: bytes) -> str:
    """A short id that names a key without revealing it (stored beside what the key signed or sealed)."""
    return hmac.new(key, b"guantong key id " + purpose, hashlib.sha256).hexdigest()[:16]


def new_key() -> str:
    """A fresh random key in the form the settings take (64 hex digits)."""
    return secrets.token_hex(32)


def read_or_create(path: Path, *, error: type[ValueError] = KeyUnusable) -> bytes:
    """Read the key file, creating it (mode 0600, directory 0700) with a random key if it is missing.

    The new key is written to a private temporary file and linked into place, so a process racing this
    one reads either nothing or a whole key, never half of one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_key() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process created it first: use theirs
            pass
        finally:
            temporary.unlink()
    try:
        return parse_key(path.read_text(), source=str(path), error=error)
    except OSError as exc:
        raise error(f"{path}: cannot read the key ({exc.strerror})") from exc
