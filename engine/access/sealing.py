"""Reporter protection (检举人保护, 监督执纪工作规则 第47条): confidential form fields sealed at rest.

Fields marked ``"x-confidential": true`` (检举人 name, unit, address, contact) never reach process
data and are stored only as a Fernet token (AES-128-CBC + HMAC-SHA256) in ``task_submission.sealed``.
The key is derived with HKDF from ``GUANTONG_SEAL_KEY`` when set (so it can be rotated apart from
the session secret), else from the application's secret key.

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
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.access.principal import Principal
from engine.config import DEFAULT_REVEAL_ROLES, Config
from engine.errors import EngineError

__all__ = ["DEFAULT_REVEAL_ROLES", "SealError", "Sealer", "derive_key", "may_reveal", "reveal_roles"]
_INFO = b"guantong confidential form fields v1"


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


class Sealer:
    def __init__(self, secret: str | bytes):
        self._fernet = Fernet(derive_key(secret))

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> Sealer:
        environ = os.environ if environ is None else environ
        return cls(environ.get("GUANTONG_SEAL_KEY") or config.secret_key)

    def seal(self, values: dict[str, Any] | None) -> str | None:
        """A token holding ``values``; ``None`` when there is nothing to hide."""
        if not values:
            return None
        return self._fernet.encrypt(orjson.dumps(values)).decode("ascii")

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            values: dict[str, Any] = orjson.loads(self._fernet.decrypt(token.encode("ascii")))
            return values
        except (InvalidToken, ValueError) as exc:
            raise SealError("sealed fields cannot be opened with the current key") from exc


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
