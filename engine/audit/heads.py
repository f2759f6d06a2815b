"""Exported chain heads: what lets verification notice that the newest events were cut off.

The chain proves the order of what is there, not that nothing came after: deleting the last events
leaves a shorter chain that is still valid. So the worker exports the head (seq, event id, chain value,
time) every ``GUANTONG_AUDIT_HEAD_INTERVAL`` seconds as a log line and a line appended to
``GUANTONG_AUDIT_HEAD_FILE`` (JSON lines, owner-only). Verification compares the trail with every
exported head: a head beyond the trail's end means the tail was cut; a head whose chain value differs
means the trail was rewritten. The file is only as good as its distance from the database: ship the log
lines to a separate log server, or make the file append-only (``chattr +a``) on another volume.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from engine import clock
from engine.audit.chain import Head

log = logging.getLogger("guantong.audit")


@dataclass(frozen=True)
class Exported:
    seq: int
    event_id: int
    chain: str
    at: dt.datetime


def append(path: Path, current: Head) -> Exported:
    """Log the head and append it to the file (created 0600; each line written whole and fsynced)."""
    exported = Exported(current.seq, current.event_id, current.chain, clock.now())
    line = orjson.dumps(
        {"seq": exported.seq, "event_id": exported.event_id, "head": exported.chain, "at": exported.at.isoformat()}
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("audit chain head seq=%s event=%s head=%s", exported.seq, exported.event_id, exported.chain)
    return exported


def read(path: Path) -> Iterator[Exported]:
    """Every head exported to ``path``, oldest first; a missing file has none, a damaged line is an error."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield _parse(line)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not an exported audit head ({exc})") from exc


def last(path: Path) -> Exported | None:
    """The newest exported head (reads the file's last few kilobytes only)."""
    if not path.exists():
        return None
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 4096))
        lines = [line for line in f.read().splitlines() if line.strip()]
    if not lines:
        return None
    return _parse(lines[-1])


def _parse(line: bytes) -> Exported:
    item = orjson.loads(line)
    return Exported(int(item["seq"]), int(item["event_id"]), str(item["head"]), dt.datetime.fromisoformat(item["at"]))
