"""Audit fixtures: a trail of approvals, and a way to play the attacker who holds the database."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from engine import audit
from engine.audit import guard
from engine.audit.chain import seal


def write_events(db, n: int, *, start: int = 0) -> None:
    """``n`` approvals, one transaction each, as officers' completions write them."""
    for i in range(start, start + n):
        with db.session() as s:
            audit.record(s, "completed", actor=f"officer{i}", instance_id=1, task_id=i + 1, decision="同意")


@contextmanager
def attacker(db):
    """A connection with the append-only triggers out of the way (as a superuser or the file's owner
    could), put back afterwards so later tests on the shared PostgreSQL database keep them."""
    with db.engine.begin() as conn:
        guard.remove(conn)
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        with db.engine.begin() as conn:
            guard.install(conn)


@pytest.fixture
def trail(db):
    """Six sealed approvals."""
    write_events(db, 6)
    assert seal(db).count == 6
    return db
