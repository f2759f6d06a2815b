"""SQLite compiles each statement of an officer's day once per connection, then only runs it (issue 19).

A statement SQLite must compile again at every execution costs its whole preparation on every request:
0.22 ms of the 0.26 ms the completion's read of its task took, when ``human_task.status`` was compared
with a bound parameter and the partial indexes (``WHERE status = 'ready'``) made the planner read the
value and mark the statement stale (engine/db.py ``StatusWord``). SQLite calls a connection's authorizer
only while it prepares a statement, so an authorizer call during a statement this connection has run
before is a recompilation. The pages here run far fewer distinct statements than the driver's cache of
128 holds, so none may be compiled twice.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, select

from engine.models import HumanTask
from tests.web.test_tasks import REGISTER, _ready


class _Compilations:
    """Per connection, which statements were run and which were compiled while already known."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.seen: set[tuple[int, str]] = set()
        self.again: collections.Counter[str] = collections.Counter()
        self.runs = 0
        self.current: tuple[int, str] | None = None
        self.hooked: set[int] = set()

    def _authorize(self, action: int, *_args: Any) -> int:
        # The driver's own BEGIN before a write is prepared each time it opens a transaction: not ours.
        if action != sqlite3.SQLITE_TRANSACTION and self.current is not None and self.current in self.seen:
            self.again[self.current[1]] += 1
        return 0  # SQLITE_OK: this only watches

    def _before(self, conn, _cursor, statement, _params, _context, _many) -> None:
        raw = conn.connection.dbapi_connection
        if id(raw) not in self.hooked:
            raw.set_authorizer(self._authorize)
            self.hooked.add(id(raw))
        self.current = (id(raw), statement)

    def _after(self, *_args: Any) -> None:
        assert self.current is not None
        self.seen.add(self.current)
        self.runs += 1
        self.current = None

    def __enter__(self) -> _Compilations:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def _day(client_for, start_clue, services, n: int) -> None:
    """A clue registered, its 初核 proposed, and the pages and API reads around each step."""
    start_clue(clue_no=f"XS-S{n}")
    register = _ready(services, "register")[0]
    cm1 = client_for("cm1")
    for tab in ("group", "mine", "completed"):
        assert cm1.get(f"/inbox?tab={tab}").status_code == 200
    assert cm1.get(f"/tasks/{register.id}").status_code == 200
    done = cm1.post(f"/tasks/{register.id}", data={**REGISTER, "clue_no": f"XS-S{n}"})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    so1 = client_for("so1")
    propose = _ready(services, "propose")[0]
    assert so1.get("/inbox?tab=group").status_code == 200
    assert so1.get(f"/tasks/{propose.id}").status_code == 200
    assert so1.get(f"/instances/{propose.instance_id}").status_code == 200
    done = so1.post(f"/tasks/{propose.id}", data={"action": "complete", "disposal": "tanhua_hanxun", "reason": "核实"})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    assert client_for("boss").get("/inbox?tab=group").status_code == 200


@pytest.mark.sqlite  # SQLite's statement preparation: run on SQLite even when the pages' tests run on PostgreSQL
def test_no_statement_of_the_daily_pages_is_compiled_twice_on_one_connection(
    client_for, start_clue, services, frozen_clock
):
    assert services.db.dialect == "sqlite"
    _day(client_for, start_clue, services, 1)  # the process's first pages read what they keep (names)
    with _Compilations(services.db.engine) as watch:
        for n in (2, 3):
            _day(client_for, start_clue, services, n)
    with services.db.session() as s:
        assert s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "approve", HumanTask.status == "ready"))
    assert watch.runs > 100  # the watch saw the day's statements
    assert dict(watch.again) == {}
