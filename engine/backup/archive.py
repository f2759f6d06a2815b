"""The backup archive: what it holds and how each row is written and read back.

One tar file:

- ``manifest.json``: format, when, the schema revision, and for every table its row count and the
  SHA-256 of its data file, for every attachment file its SHA-256, the audit chain head at the time;
- ``tables/<table>.jsonl.gz``: the table's rows, one JSON object per line, in primary-key order;
- ``attachments/<path>``: the attachment files as they are on disk (already encrypted).

Rows are written logically (column → JSON), not as a database-specific dump, so the same archive
restores into SQLite or PostgreSQL and a restore can check every count and checksum before it writes
anything. Keys are never in the archive (engine/backup/operations.py writes them apart, on request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from sqlalchemy import Date, DateTime, Table
from sqlalchemy.types import TypeDecorator

FORMAT = "guantong-backup/1"
MANIFEST = "manifest.json"


def table_member(name: str) -> str:
    return f"tables/{name}.jsonl.gz"


def attachment_member(relative: str) -> str:
    return f"attachments/{relative}"


def _kind(column_type: Any) -> str:
    impl = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    if isinstance(impl, DateTime):
        return "datetime"
    if isinstance(impl, Date):
        return "date"
    return "plain"


def encode_rows(table: Table, rows: Iterable[Mapping[Any, Any]]) -> Iterator[bytes]:
    """One JSON line per row (orjson writes aware datetimes and dates in ISO form)."""
    names = [c.name for c in table.columns]
    for row in rows:
        yield orjson.dumps({n: row[n] for n in names}, option=orjson.OPT_NAIVE_UTC) + b"\n"


def decode_rows(table: Table, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The rows of ``encode_rows`` with dates and datetimes as Python values again."""
    kinds = {c.name: _kind(c.type) for c in table.columns}
    for line in lines:
        if not line.strip():
            continue
        row = orjson.loads(line)
        for name, kind in kinds.items():
            value = row.get(name)
            if value is None or kind == "plain":
                continue
            row[name] = dt.datetime.fromisoformat(value) if kind == "datetime" else dt.date.fromisoformat(value)
        yield row


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
