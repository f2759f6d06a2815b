"""The audit trail: append-only events written in the same transaction as the change they record,
each with a keyed digest, linked into a hash chain by the sealer and checked by ``verify``."""

from .trail import (
    digest,
    record,
)

__all__ = [
    "digest",
    "record",
]
