"""``guantong audit verify``: recompute every digest and link, and name the first event that is wrong.

Events are read in chain order (``seq``), in batches, so a province's trail does not have to fit in
memory. For each event, in this order of questions:

- its nonce is another event's (a copy of a genuine event) → **inserted**;
- ``seq`` skips numbers → **deleted** (the gap's place and the event after it are named);
- its digest is wrong but its link matches → **edited** after it was sealed;
- its link matches only with the sealer's "rejected" verdict, or matches nothing while its digest is
  also wrong → **inserted** (Guantong never signed it as it stands);
- its digest is right but its link is wrong → **reordered** (a genuine event moved: its id or place
  changed);

then every exported head: one beyond the end of the chain → **truncated**; one whose value differs →
**diverged** (the trail was rewritten and re-chained, which takes the key). Events not yet sealed must
carry a right digest too. The result is stored in ``audit_check`` for the cockpit's banner.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from engine import clock
from engine.audit import heads
from engine.audit.chain import GENESIS, digest_ok, link, seal, stream
from engine.audit.keys import Keyring, keyring
from engine.db import Database
from engine.models import AuditCheck, AuditEvent

log = logging.getLogger("guantong.audit")

KINDS = ("edited", "deleted", "inserted", "reordered", "truncated", "diverged")


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    message: str
    event_id: int | None = None
    at: dt.datetime | None = None
    action: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # events whose digest and link were recomputed
    head_seq: int | None
    problem: Problem | None
    at: dt.datetime


def verify(
    db: Database,
    *,
    head_file: Path | None = None,
    seal_first: bool = True,
    ring: Keyring | None = None,
    store: bool = True,
) -> Verification:
    """Check the whole trail (sealing what is pending first); store and return what was found."""
    ring = ring or keyring()
    if seal_first:
        seal(db, ring=ring, max_batches=1_000_000)
    exported = {h.seq: h for h in heads.read(head_file)} if head_file else {}
    checked, last_seq, problem = 0, 0, None
    with db.session() as session:
        copies = dict(
            session.execute(
                select(AuditEvent.nonce, func.min(AuditEvent.id)).group_by(AuditEvent.nonce).having(func.count() > 1)
            ).all()
        )
        previous, previous_id = GENESIS, None
        for row in stream(session, sealed=True):
            problem = _sealed_problem(ring, row, previous, last_seq, previous_id, copies)
            if problem is None:
                mark = exported.get(row.seq)
                if mark is not None and (mark.chain != row.chain or mark.event_id != row.id):
                    problem = _problem(
                        "diverged",
                        row,
                        f"导出的链头（序号 {row.seq}，{mark.at:%Y-%m-%d %H:%M}）与现有审计链不一致，审计记录被改写",
                    )
            if problem is not None:
                break
            checked, last_seq, previous, previous_id = checked + 1, row.seq, row.chain, row.id
        if problem is None:
            problem = _truncated(exported, last_seq)
        if problem is None:
            for row in stream(session, sealed=False):
                if (row.nonce in copies and row.id != copies[row.nonce]) or not digest_ok(ring, row._mapping):
                    problem = _problem("inserted", row, "尚未封链的审计事件摘要不符，不是贯通写入的记录")
                    break
                checked += 1
    result = Verification(problem is None, checked, last_seq or None, problem, clock.now())
    if problem is not None:
        log.error(
            "audit verification failed: %s event=%s seq=%s: %s",
            problem.kind,
            problem.event_id,
            problem.seq,
            problem.message,
        )
    else:
        log.info("audit verification passed: %s events, head seq %s", checked, last_seq)
    if store:
        save(db, result)
    return result


def _sealed_problem(
    ring: Keyring, row: Row[Any], previous: str, last_seq: int, previous_id: int | None, copies: dict[str, int]
) -> Problem | None:
    if row.nonce in copies and row.id != copies[row.nonce]:
        return _problem("inserted", row, f"与审计事件 #{copies[row.nonce]} 重复的副本")
    if row.seq != last_seq + 1:
        after = f"审计事件 #{previous_id} 之后" if previous_id else "链首"
        missing = f"序号 {last_seq + 1}" + (f"–{row.seq - 1}" if row.seq - 1 > last_seq + 1 else "")
        return replace(_problem("deleted", row, f"{after}缺少{missing}的审计事件（已被删除）"), seq=last_seq + 1)
    key = ring.get(row.key_id) or ring.current
    digest = digest_ok(ring, row._mapping)
    linked = row.chain == link(key, previous, row.seq, row.id, row.mac or "")
    if linked and digest:
        return None
    if linked:
        return _problem("edited", row, "内容与封链时的摘要不符（事件被修改）")
    if not digest or row.chain == link(key, previous, row.seq, row.id, row.mac or "", accepted=False):
        return _problem("inserted", row, "摘要不符且不在审计链上（不是贯通写入的记录）")
    return _problem("reordered", row, "事件本身未改，但不在封链时的位置（编号或顺序被调换）")


def _truncated(exported: dict[int, heads.Exported], last_seq: int) -> Problem | None:
    beyond = [h for h in exported.values() if h.seq > last_seq]
    if not beyond:
        return None
    newest = max(beyond, key=lambda h: h.seq)
    return Problem(
        "truncated",
        f"审计链止于序号 {last_seq}，但 {newest.at:%Y-%m-%d %H:%M} 导出的链头已到序号 {newest.seq}"
        f"（事件 #{newest.event_id}）：末尾的审计事件被删除",
        event_id=newest.event_id,
        seq=last_seq + 1,
    )


def _problem(kind: str, row: Any, message: str) -> Problem:
    return Problem(kind, message, event_id=row.id, at=row.at, action=row.action, seq=row.seq)


# --------------------------------------------------------------------------- results kept
def save(db: Database, result: Verification) -> None:
    p = result.problem
    with db.session() as session:
        session.add(
            AuditCheck(
                at=result.at,
                ok=result.ok,
                checked=result.checked,
                head_seq=result.head_seq,
                kind=p and p.kind,
                event_id=p and p.event_id,
                event_at=p and p.at,
                action=p and p.action,
                seq=p and p.seq,
                message=p and p.message,
            )
        )


def report_rejected(db: Database, event_id: int) -> Verification:
    """The sealer found an event whose digest was already wrong: kept as a failed check at once, so the
    cockpit warns without waiting for the next full ``verify``."""
    with db.session() as session:
        row = session.execute(select(*_EVENT).where(AuditEvent.id == event_id)).one()
    problem = _problem("inserted", row, "封链时发现摘要不符的审计事件（不是贯通写入的记录，或在封链前被修改）")
    result = Verification(False, 0, row.seq, problem, clock.now())
    log.error("audit event %s sealed as rejected: its digest is wrong", event_id)
    save(db, result)
    return result


_EVENT = (AuditEvent.id, AuditEvent.at, AuditEvent.action, AuditEvent.seq)


def last_check(db: Database) -> Verification | None:
    """The most recent stored verification, or None if the trail was never verified."""
    with db.session() as session:
        row = session.scalars(select(AuditCheck).order_by(AuditCheck.id.desc()).limit(1)).first()
        if row is None:
            return None
        problem = (
            None
            if row.ok
            else Problem(
                row.kind or "edited",
                row.message or "",
                event_id=row.event_id,
                at=row.event_at,
                action=row.action,
                seq=row.seq,
            )
        )
        return Verification(row.ok, row.checked, row.head_seq, problem, row.at)
