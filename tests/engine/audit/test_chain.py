"""Signing on the business path, sealing in commit order, the database's guard, keys, the worker's export."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.audit import heads, keys
from engine.audit.chain import digest_ok, head, seal
from engine.audit.verify import verify
from engine.models import AuditEvent

from .conftest import attacker, write_events


def test_every_event_is_signed_when_recorded_and_linked_only_by_the_sealer(db):
    write_events(db, 3)
    with db.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert all(r.seq is None and r.chain is None for r in rows)
    assert all(digest_ok(keys.keyring(), r.__dict__) for r in rows)
    assert len({r.nonce for r in rows}) == 3
    sealed = seal(db)
    assert (sealed.count, sealed.rejected, sealed.head.seq) == (3, (), 3)
    assert seal(db).count == 0


@pytest.mark.parametrize(
    "change",
    [
        {"detail": {"decision": "不同意"}},
        {"actor": "someone_else"},
        {"seq": 99},
        {"chain": "0" * 64},
    ],
)
def test_the_application_cannot_update_a_sealed_event(trail, change):
    with pytest.raises(DBAPIError, match="append-only"), trail.session() as s:
        s.execute(AuditEvent.__table__.update().where(AuditEvent.seq == 2).values(**change))
    assert verify(trail).ok


def test_the_application_cannot_delete_an_event_sealed_or_not(trail):
    write_events(trail, 1, start=6)
    for where in (AuditEvent.seq == 2, AuditEvent.seq.is_(None)):
        with pytest.raises(DBAPIError, match="append-only"), trail.session() as s:
            s.execute(AuditEvent.__table__.delete().where(where))
    with trail.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 7


def test_an_unsealed_event_may_only_receive_its_link(db):
    write_events(db, 1)
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(AuditEvent.__table__.update().values(detail={"decision": "不同意"}, seq=1, chain="0" * 64))
    assert seal(db).count == 1


def test_concurrent_writers_and_sealers_make_one_verifiable_chain(db):
    errors: list[BaseException] = []
    writing = threading.Event()

    def writer(offset: int) -> None:
        try:
            write_events(db, 15, start=offset)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def sealer() -> None:
        try:
            while writing.is_set():
                seal(db, batch=4)
        except BaseException as exc:
            errors.append(exc)

    writing.set()
    threads = [threading.Thread(target=writer, args=(n * 100,)) for n in range(3)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for t in threads + sealers:
        t.start()
    for t in threads:
        t.join()
    writing.clear()
    for t in sealers:
        t.join()
    assert errors == []
    result = verify(db)
    assert result.ok, result.problem
    assert (result.checked, result.head_seq) == (45, 45)


def test_a_rotated_key_still_verifies_what_the_old_one_signed(db, monkeypatch):
    old, new = "a" * 64, "b" * 64
    try:
        monkeypatch.setenv("GUANTONG_AUDIT_KEY", old)
        keys.reload()
        write_events(db, 2)
        seal(db)
        monkeypatch.setenv("GUANTONG_AUDIT_KEY", new)
        monkeypatch.setenv("GUANTONG_AUDIT_RETIRED_KEYS", old)
        keys.reload()
        write_events(db, 2, start=2)
        assert verify(db).ok
        with db.session() as s:
            assert len(set(s.scalars(select(AuditEvent.key_id)))) == 2
        monkeypatch.delenv("GUANTONG_AUDIT_RETIRED_KEYS")
        keys.reload()
        p = verify(db, store=False).problem  # the old key forgotten: its events can no longer be trusted
        assert p is not None and p.seq == 1
    finally:
        monkeypatch.undo()
        keys.reload()


def test_keys_are_refused_when_too_short_and_files_are_owner_only(tmp_path, monkeypatch):
    with pytest.raises(keys.AuditKeyError, match="64\\+ hex digits or 32\\+ characters"):
        keys.parse_key("short", source="GUANTONG_AUDIT_KEY")
    assert keys.parse_key("ab" * 32, source="x") == bytes.fromhex("ab" * 32)
    monkeypatch.delenv("GUANTONG_AUDIT_KEY", raising=False)
    monkeypatch.setenv("GUANTONG_AUDIT_KEY_FILE", str(tmp_path / "keys" / "audit.key"))
    ring = keys.Keyring.from_env()
    assert ring == keys.Keyring.from_env()  # created once, then read back
    assert (tmp_path / "keys" / "audit.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700


def test_the_worker_seals_and_exports_the_head_now_and_then(db, tmp_path):
    from engine.config import Config
    from engine.scheduling.worker import Worker
    from engine.services import Services

    config = Config.from_env(database_url=db.url, instance_dir=tmp_path, audit_head_interval=3600)
    assert config.audit_head_file == tmp_path / "audit" / "heads.jsonl"
    worker = Worker(Services(config, db=db))
    with db.session() as s:
        audit.record(s, "signed_in", actor="officer1")
    assert worker.seal_audit() == 1
    write_events(db, 2)
    assert worker.seal_audit() == 2  # sealed, but the head is exported at most once an interval
    exported = list(heads.read(config.audit_head_file))
    assert [(h.seq, h.event_id) for h in exported] == [(1, 1)]
    worker.services.config.audit_head_interval = 0
    write_events(db, 1, start=2)
    worker.seal_audit()
    with db.session() as s:
        current = head(s)
    assert heads.last(config.audit_head_file).chain == current.chain and current.seq == 4
    assert config.audit_head_file.stat().st_mode & 0o777 == 0o600


def test_events_loaded_in_bulk_with_links_verify_and_the_sealer_carries_on(db):
    from engine import clock
    from engine.audit.chain import EVENTS, Links

    links = Links()
    rows = []
    for event_id in range(1, 4):
        event = {
            "id": event_id,
            "at": clock.now(),
            "actor": "seed",
            "action": "started",
            "instance_id": event_id,
            "task_id": None,
            "version_id": 1,
            "detail": {"process": "gt_bench_linear"},
        }
        nonce, key_id, mac, seq, link_value = links.columns(event_id, event)
        rows.append({**event, "nonce": nonce, "key_id": key_id, "mac": mac, "seq": seq, "chain": link_value})
    with db.engine.begin() as conn:
        conn.execute(EVENTS.insert(), rows)
        if conn.dialect.name == "postgresql":  # ids given explicitly, as a bulk load does
            conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 3)"))
    write_events(db, 2)
    result = verify(db)
    assert result.ok and result.head_seq == 5


def test_the_worker_reports_an_event_forged_before_sealing_at_once(db, tmp_path):
    from engine.audit.verify import last_check
    from engine.config import Config
    from engine.scheduling.worker import Worker
    from engine.services import Services

    worker = Worker(Services(Config.from_env(database_url=db.url, instance_dir=tmp_path), db=db))
    write_events(db, 2)
    with attacker(db) as conn:
        conn.execute(AuditEvent.__table__.update().where(AuditEvent.id == 2).values(detail={"decision": "不同意"}))
    assert worker.seal_audit() == 2
    kept = last_check(db)
    assert not kept.ok and (kept.problem.kind, kept.problem.event_id, kept.problem.seq) == ("inserted", 2, 2)
    assert verify(db).problem.event_id == 2
