"""The audit trail: append-only events written in the same transaction as the change they record."""

from .trail import (
    digest,
    record,
)

__all__ = [
    "digest",
    "record",
]
