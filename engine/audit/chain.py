"""Tamper evidence for the audit trail: a keyed digest on every event, and a chain sealed in commit order.

Two layers, because the business path must stay parallel (50 officers completing at once on PostgreSQL):

1. **Digest, written with the event.** ``record`` gives each event a random ``nonce`` and an
   HMAC-SHA256 (``mac``) over its canonical content — time, actor, action, instance, task, version,
   detail, nonce and key id — under the audit key (engine/audit/keys.py). Editing any of those, or
   re-dating the event, breaks the digest; without the key nobody can make a new one. The nonce is
   unique (a constraint), so a copy of a genuine event cannot be slipped in as a second one. Cost on the
   business path: one HMAC per event, no lock, no extra statement.

2. **Chain, added by the sealer.** ``seal`` takes the events not yet linked in id order and gives each
   the next ``seq`` and ``chain = HMAC(key, previous chain | seq | id | mac | verdict)``. Only the sealer
   serialises (a PostgreSQL advisory lock held only by it, for one batch; SQLite serialises writers
   anyway), so business transactions never wait on one another for the chain. Links follow commit
   order: an event whose transaction commits late simply gets a later ``seq``. The worker seals every
   pass, and ``verify`` seals before it checks. The sealer also checks each digest: an event whose
   digest is already wrong is still linked (so it can never quietly disappear), with the verdict
   "rejected" in its link, and verification names it as inserted.

Once sealed, deleting an event leaves a gap in ``seq``; inserting one cannot produce a valid link;
moving one (changing its id or seq) breaks its link; cutting the tail is caught by comparing with the
heads the worker exports (engine/audit/heads.py). A trigger refuses UPDATE and DELETE of audit rows
except the sealer's one-time filling of ``seq`` and ``chain`` (engine/audit/guard.py).

What remains: an event can be deleted in the seconds between its commit and its sealing without a
trace in the chain (shorten the worker interval to narrow this); and whoever holds the key can rewrite
everything, which is why the key lives apart from the database and the heads are shipped off the machine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, func, select, text
from sqlalchemy.orm import Session

from engine.audit.keys import Keyring, keyring
from engine.db import Database
from engine.models import AuditEvent

GENESIS = "0" * 64
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# pg_advisory_xact_lock key of the sealer ("gtAudit" in ASCII): only sealers ever take it.
SEALER_LOCK = 0x67_74_41_75_64_69_74
CONTENT = ("at", "actor", "action", "instance_id", "task_id", "version_id", "detail", "nonce", "key_id")


def canonical(event: Mapping[Any, Any]) -> bytes:
    """The bytes an event's digest covers: its content as stored, in a fixed form (sorted JSON keys,
    UTC time to the microsecond), identical whether read back from SQLite or PostgreSQL."""
    at = event["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
    return orjson.dumps([at, *(event[name] for name in CONTENT[1:])], option=_JSON)


def event_mac(key: bytes, event: Mapping[Any, Any]) -> str:
    return hmac.new(key, b"event\x00" + canonical(event), hashlib.sha256).hexdigest()


def link(key: bytes, previous: str, seq: int, event_id: int, mac: str, *, accepted: bool = True) -> str:
    """One link of the chain: binds an event (by id and digest) to its place and to everything before."""
    message = f"link\x00{previous}\x00{seq}\x00{event_id}\x00{mac}\x00{int(accepted)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(event: dict[str, Any], ring: Keyring | None = None) -> dict[str, Any]:
    """Give a new event its nonce, key id and digest (``record`` calls this for every event)."""
    ring = ring or keyring()
    event["nonce"] = secrets.token_hex(16)
    event["key_id"] = ring.current_id
    event["mac"] = event_mac(ring.current, event)
    return event


def digest_ok(ring: Keyring, event: Mapping[Any, Any]) -> bool:
    key = ring.get(event["key_id"])
    return key is not None and hmac.compare_digest(event_mac(key, event), event["mac"] or "")


# --------------------------------------------------------------------------- sealing
@dataclass(frozen=True)
class Head:
    """The last sealed event: what an exported head records."""

    seq: int
    event_id: int
    chain: str


@dataclass(frozen=True)
class Sealed:
    count: int
    rejected: tuple[int, ...]  # ids of events linked with a digest already wrong when sealed
    head: Head | None


_COLUMNS = (AuditEvent.id, *(getattr(AuditEvent, name) for name in CONTENT), AuditEvent.mac)
EVENTS = cast(Table, AuditEvent.__table__)
_SEAL = (
    EVENTS.update()
    .where(AuditEvent.id == bindparam("b_id"), AuditEvent.seq.is_(None))
    .values(seq=bindparam("b_seq"), chain=bindparam("b_chain"))
)


def head(session: Session) -> Head | None:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.id, AuditEvent.chain)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return Head(row.seq, row.id, row.chain) if row else None


def seal(db: Database, *, batch: int = 500, max_batches: int = 100, ring: Keyring | None = None) -> Sealed:
    """Link the events not yet sealed, ``batch`` per transaction; returns at once if another sealer works."""
    ring = ring or keyring()
    count, rejected, last = 0, [], None
    for _ in range(max_batches):
        with db.session() as session:
            if not _take_sealer_lock(session):
                break
            last = head(session)
            rows = session.execute(
                select(*_COLUMNS).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(batch)
            ).all()
            if not rows:
                break
            previous, seq = (last.chain, last.seq) if last else (GENESIS, 0)
            links = []
            for row in rows:
                seq += 1
                event = row._mapping
                accepted = digest_ok(ring, event)
                if not accepted:
                    rejected.append(row.id)
                previous = link(
                    ring.get(row.key_id) or ring.current, previous, seq, row.id, row.mac or "", accepted=accepted
                )
                links.append({"b_id": row.id, "b_seq": seq, "b_chain": previous})
            session.connection().execute(_SEAL, links)
            last = Head(seq, rows[-1].id, previous)
            count += len(rows)
        if len(rows) < batch:
            break
    return Sealed(count, tuple(rejected), last)


def _take_sealer_lock(session: Session) -> bool:
    """PostgreSQL: an advisory lock only sealers take (business transactions never wait for it); False
    when another sealer holds it. SQLite: take the database's write lock now, so the head read next is
    the latest (a no-op UPDATE starts the write transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(SEALER_LOCK))))
    session.execute(text("UPDATE audit_event SET seq = seq WHERE 0 = 1"))
    return True


def stream(session: Session, *, sealed: bool, batch: int = 2000) -> Iterator[Any]:
    """Sealed events in chain order, or unsealed ones in id order, read in batches."""
    query = select(*_COLUMNS, AuditEvent.seq, AuditEvent.chain)
    if sealed:
        query = query.where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)
    else:
        query = query.where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
    yield from session.execute(query.execution_options(yield_per=batch))


class Links:
    """Signs and links events loaded in bulk around the runtime (benchmark seeding, an import), giving
    them in one pass the columns ``record`` and the sealer would have: ids must come in chain order."""

    def __init__(self, ring: Keyring | None = None, after: Head | None = None):
        self.ring = ring or keyring()
        self.previous, self.seq = (after.chain, after.seq) if after else (GENESIS, 0)

    def columns(self, event_id: int, event: dict[str, Any]) -> tuple[str, str, str, int, str]:
        """``event`` has the content columns (``at`` … ``detail``); returns nonce, key_id, mac, seq, chain."""
        sign(event, self.ring)
        self.seq += 1
        self.previous = link(self.ring.current, self.previous, self.seq, event_id, event["mac"])
        return event["nonce"], event["key_id"], event["mac"], self.seq, self.previous
