"""Reporter protection (检举人保护, 监督执纪工作规则 第47条): confidential data sealed at rest.

Fields marked ``"x-confidential": true`` (检举人 name, unit, address, contact) never reach process
data and are stored only as a Fernet token (AES-128-CBC + HMAC-SHA256) in ``task_submission.sealed``;
the names of confidential attachments are sealed the same way, and every attachment's content is
encrypted with AES-256-GCM (engine/access/filecipher.py).

The data key is its own (engine/keyfiles.py): ``GUANTONG_SEAL_KEY``, else the key file
``seal.key`` under ``GUANTONG_KEYS_DIR``, created on first use — never the session secret. Earlier keys
stay readable: ``GUANTONG_SEAL_RETIRED_KEYS`` (comma-separated), and the session secret, which sealed
everything before the data key existed (``GUANTONG_SEAL_LEGACY_SECRET=off`` drops it once
``guantong keys rotate`` has re-sealed all data under the current key).

Only people holding one of the *reveal roles* see the sealed fields in clear: by default the
petitions office (信访室, the handler) and the approvers (纪委书记监委主任, 分管副书记). The list is a
setting: ``GUANTONG_REVEAL_ROLES`` (comma-separated role codes).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine import keyfiles
from engine.access.principal import Principal
from engine.config import DEFAULT_REVEAL_ROLES, Config
from engine.errors import EngineError

__all__ = ["DEFAULT_REVEAL_ROLES", "SealError", "Sealer", "derive_key", "may_reveal", "reveal_roles"]
_INFO = b"guantong confidential form fields v1"
_FILE_INFO = b"guantong attachments v1"


class SealError(EngineError):
    status = 500
    code = "seal_error"


def derive_key(secret: str | bytes) -> bytes:
    """A Fernet key (urlsafe base64 of 32 bytes) derived from any secret string."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise SealError("no key to seal confidential fields with (set GUANTONG_SEAL_KEY or the secret key)")
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"guantong-seal", info=_INFO).derive(secret)
    return base64.urlsafe_b64encode(raw)


def _secret_bytes(secret: str | bytes) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not raw:
        raise SealError("no key to seal confidential data with (set GUANTONG_SEAL_KEY or GUANTONG_KEYS_DIR)")
    return raw


def _file_key(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"guantong-files", info=_FILE_INFO).derive(secret)


def seal_key_text(environ: Mapping[str, str] | None = None) -> str:
    """The data key as its file holds it (created on first use): the same text ``GUANTONG_SEAL_KEY`` would
    carry, so a key moved from the file into the environment opens the same data."""
    path = keyfiles.keys_dir(environ) / "seal.key"
    keyfiles.read_or_create(path)
    return path.read_text().strip()


class Sealer:
    """The data key (current) and earlier ones (retired): seals with the current, opens with any."""

    def __init__(self, secret: str | bytes, retired: Iterable[str | bytes] = ()):
        secrets_ = [_secret_bytes(secret), *(_secret_bytes(r) for r in retired)]
        self._fernets = [Fernet(derive_key(k)) for k in secrets_]
        self._multi = MultiFernet(self._fernets)
        self._file_keys = {keyfiles.fingerprint(k, b"files"): _file_key(k) for k in reversed(secrets_)}
        self.key_id = keyfiles.fingerprint(secrets_[0], b"files")

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> Sealer:
        environ = os.environ if environ is None else environ
        current = environ.get("GUANTONG_SEAL_KEY") or seal_key_text(environ)
        retired: list[str | bytes] = [r.strip() for r in environ.get("GUANTONG_SEAL_RETIRED_KEYS", "").split(",")]
        if environ.get("GUANTONG_SEAL_LEGACY_SECRET", "on") != "off":
            retired.append(config.secret_key)  # what sealed data before the data key existed
        return cls(current, [r for r in retired if r and r != current])

    def seal(self, values: dict[str, Any] | None) -> str | None:
        """A token holding ``values``; ``None`` when there is nothing to hide."""
        if not values:
            return None
        return self._fernets[0].encrypt(orjson.dumps(values)).decode("ascii")

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            values: dict[str, Any] = orjson.loads(self._multi.decrypt(token.encode("ascii")))
            return values
        except (InvalidToken, ValueError) as exc:
            raise SealError("sealed fields cannot be opened with the configured keys") from exc

    def is_current(self, token: str) -> bool:
        """Whether the current key sealed ``token`` (``keys rotate`` leaves such tokens alone)."""
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str:
        """The same values sealed under the current key."""
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SealError("sealed fields cannot be opened with the configured keys") from exc

    def file_key(self, key_id: str | None = None) -> bytes:
        """The AES-256 key for attachment contents: the current one, or the one a stored file names."""
        found = self._file_keys.get(key_id or self.key_id)
        if found is None:
            raise SealError(f"no configured key opens files sealed with key {key_id}")
        return found


def reveal_roles(
    environ: Mapping[str, str] | None = None, default: Iterable[str] = DEFAULT_REVEAL_ROLES
) -> frozenset[str]:
    environ = os.environ if environ is None else environ
    raw = environ.get("GUANTONG_REVEAL_ROLES")
    if raw is None:
        return frozenset(default)
    return frozenset(r.strip() for r in raw.split(",") if r.strip())


def may_reveal(principal: Principal, roles: Iterable[str] = DEFAULT_REVEAL_ROLES) -> bool:
    """True when the person holds a role allowed to see reporter identity (the system user never shows it)."""
    return bool(principal.roles & set(roles))
