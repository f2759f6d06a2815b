"""``verify`` names the first edited, deleted, inserted or reordered event, and a cut tail."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select, text

from engine.audit import heads
from engine.audit.chain import head, seal
from engine.audit.verify import last_check, verify
from engine.models import AuditEvent

from .conftest import attacker, write_events


def _row(db, seq: int):
    with db.session() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.seq == seq)).scalar_one()


def test_an_untouched_trail_passes_and_the_result_is_kept(trail):
    write_events(trail, 2, start=6)  # not sealed yet: verify seals them first
    result = verify(trail)
    assert result.ok and result.problem is None
    assert (result.checked, result.head_seq) == (8, 8)
    kept = last_check(trail)
    assert kept is not None and kept.ok and kept.head_seq == 8


def test_an_approval_changed_from_agree_to_disagree_is_named_as_edited(trail):
    target = _row(trail, 3)
    with attacker(trail) as conn:
        conn.execute(
            AuditEvent.__table__.update().where(AuditEvent.id == target.id).values(detail={"decision": "不同意"})
        )
    result = verify(trail)
    assert not result.ok
    p = result.problem
    assert (p.kind, p.event_id, p.seq, p.action) == ("edited", target.id, 3, "completed")
    assert p.at == target.at
    kept = last_check(trail)
    assert not kept.ok and kept.problem.kind == "edited" and kept.problem.event_id == target.id


def test_a_re_dated_event_is_named_as_edited(trail):
    target = _row(trail, 5)
    with attacker(trail) as conn:
        conn.execute(
            AuditEvent.__table__.update().where(AuditEvent.id == target.id).values(at=target.at.replace(year=2020))
        )
    p = verify(trail).problem
    assert (p.kind, p.event_id) == ("edited", target.id)


def test_a_deleted_event_is_named_by_its_place(trail):
    gone, after = _row(trail, 4), _row(trail, 5)
    with attacker(trail) as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.id == gone.id))
    p = verify(trail).problem
    assert (p.kind, p.seq, p.event_id) == ("deleted", 4, after.id)
    assert f"#{_row(trail, 3).id}" in p.message


def test_a_forged_event_is_named_as_inserted(trail):
    with attacker(trail) as conn:
        forged = conn.execute(
            AuditEvent.__table__.insert()
            .values(
                at=_row(trail, 6).at,
                actor="officer9",
                action="completed",
                instance_id=1,
                task_id=99,
                detail={"decision": "同意"},
                nonce=secrets.token_hex(16),
                key_id=_row(trail, 6).key_id,
                mac="0" * 64,
            )
            .returning(AuditEvent.id)
        ).scalar_one()
    write_events(trail, 1, start=6)  # genuine events after it still seal and verify
    result = verify(trail)
    p = result.problem
    assert (p.kind, p.event_id, p.seq) == ("inserted", forged, 7)


def test_a_copy_of_a_genuine_event_is_refused_and_named_if_forced_in(trail):
    original = _row(trail, 2)
    columns = {c: getattr(original, c) for c in ("at", "actor", "action", "instance_id", "task_id", "detail")}
    copy = {**columns, "nonce": original.nonce, "key_id": original.key_id, "mac": original.mac}
    with pytest.raises(Exception, match=r"(?i)unique"), trail.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.insert().values(**copy))
    if trail.dialect != "postgresql":
        return  # SQLite cannot drop the constraint short of rebuilding the table
    with attacker(trail) as conn:
        conn.execute(text("ALTER TABLE audit_event DROP CONSTRAINT uq_audit_event_nonce"))
        copied = conn.execute(AuditEvent.__table__.insert().values(**copy).returning(AuditEvent.id)).scalar_one()
    try:
        p = verify(trail).problem
        assert (p.kind, p.event_id) == ("inserted", copied)
        assert f"#{original.id}" in p.message
    finally:  # the shared test database keeps its constraint
        with attacker(trail) as conn:
            conn.execute(AuditEvent.__table__.delete().where(AuditEvent.id == copied))
            conn.execute(text("ALTER TABLE audit_event ADD CONSTRAINT uq_audit_event_nonce UNIQUE (nonce)"))


def test_a_swapped_pair_is_named_as_reordered(trail):
    a, b = _row(trail, 2), _row(trail, 3)
    events = AuditEvent.__table__
    with attacker(trail) as conn:
        conn.execute(events.update().where(events.c.id == a.id).values(seq=-1))
        conn.execute(events.update().where(events.c.id == b.id).values(seq=2, chain=a.chain))
        conn.execute(events.update().where(events.c.id == a.id).values(seq=3, chain=b.chain))
    p = verify(trail).problem
    assert (p.kind, p.event_id, p.seq) == ("reordered", b.id, 2)


def test_swapped_ids_are_named_as_reordered(trail):
    a, b = _row(trail, 4), _row(trail, 5)
    events = AuditEvent.__table__
    with attacker(trail) as conn:
        conn.execute(events.update().where(events.c.id == a.id).values(id=-1))
        conn.execute(events.update().where(events.c.id == b.id).values(id=a.id))
        conn.execute(events.update().where(events.c.id == -1).values(id=b.id))
    p = verify(trail).problem
    assert (p.kind, p.seq) == ("reordered", 4)


def test_a_cut_tail_is_caught_by_the_exported_head(trail, tmp_path):
    exported = tmp_path / "heads.jsonl"
    heads.append(exported, head_of(trail))
    assert verify(trail, head_file=exported).ok
    last = _row(trail, 6)
    with attacker(trail) as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.seq >= 5))
    assert verify(trail).ok  # the chain alone cannot tell: what is left is consistent
    p = verify(trail, head_file=exported).problem
    assert (p.kind, p.event_id, p.seq) == ("truncated", last.id, 5)


def test_a_tail_cut_before_new_events_diverges_from_the_exported_head(trail, tmp_path):
    exported = tmp_path / "heads.jsonl"
    heads.append(exported, head_of(trail))
    with attacker(trail) as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == 6))
    write_events(trail, 2, start=6)  # the sealer carries on from seq 5: the chain itself is consistent
    p = verify(trail, head_file=exported).problem
    assert (p.kind, p.seq) == ("diverged", 6)


def head_of(db):
    with db.session() as s:
        return head(s)


def test_events_sealed_after_a_forged_one_still_verify_up_to_it(trail):
    target = _row(trail, 2)
    with attacker(trail) as conn:
        conn.execute(AuditEvent.__table__.update().where(AuditEvent.id == target.id).values(actor="someone_else"))
    write_events(trail, 3, start=6)
    assert seal(trail).count == 3
    p = verify(trail).problem
    assert (p.kind, p.event_id) == ("edited", target.id)
