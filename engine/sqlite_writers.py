"""SQLite's writers take turns through a lock the kernel hands over, not through SQLite's busy sleeps.

SQLite lets one transaction write at a time. A connection that finds the database locked calls its busy
handler, which sleeps and retries: 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms (SQLite's
``sqliteDefaultBusyCallback``). Under ``gunicorn -w 4`` the writers are separate processes, so a writer
that meets the lock sleeps a few milliseconds after it was freed, and then often meets the next holder
and sleeps longer: with four clients completing steps, a completion that takes 7 ms alone took 50-65 ms
at p95 and the four gave 1.2-1.3 times the rate of one (issue 19).

Here each connection, before the statement that opens its write transaction (the driver begins one
before an INSERT, UPDATE, DELETE or REPLACE), takes an exclusive ``flock`` on a file beside the database
and gives it back when the transaction ends (commit, rollback, close). Waiters block in the kernel and
the next one runs as soon as the lock is released, in every process and thread that opens the database
through Guantong. Reads never take it (WAL readers do not block writers, nor writers readers).

What it does not change: SQLite's own lock is still taken, and the busy timeout still applies to anyone
who writes without this lock (the ``sqlite3`` shell, a backup). A thread that already holds the turn
through one connection and writes through a second one (no use case does) does not wait for itself: its
second connection falls back to SQLite's busy handler, as before. If the lock file cannot be opened (a
read-only directory), the connection works as before, unserialised.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_holders: set[int] = set()  # the threads holding the turn through one of their connections


def lock_path(database: str) -> str | None:
    """The turn's file beside a database file, or None for an in-memory or URI database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writer.lock"


def _opens_write(sql: str) -> bool:
    """Whether the driver begins a write transaction for this statement (its leading keyword)."""
    return sql.lstrip()[:7].upper().startswith(_WRITES)


class TakingTurns(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take the database's writer turn first."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn_fd: int | None = None
        self._holding = False
        self._owner = 0
        path = lock_path(os.fspath(database))
        if path is not None:
            try:
                self._turn_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                self._turn_fd = None

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(_Cursor if factory is None else factory)

    # The driver's shortcuts make a plain cursor of their own: route them through ours.
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, seq_of_parameters)

    def take_turn(self) -> None:
        if self._holding or self._turn_fd is None or self.in_transaction:
            return
        owner = threading.get_ident()
        if owner in _holders:
            return  # this thread holds the turn already, through another connection
        fcntl.flock(self._turn_fd, fcntl.LOCK_EX)  # waits in the kernel, the GIL released
        self._holding, self._owner = True, owner
        _holders.add(owner)

    def give_turn(self) -> None:
        if not self._holding or self.in_transaction:
            return
        self._let_go()
        fcntl.flock(self._turn_fd, fcntl.LOCK_UN)  # type: ignore[arg-type]

    def _let_go(self) -> None:
        # The pool may end the transaction from another thread than the one that began it.
        self._holding = False
        _holders.discard(self._owner)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._let_go()
            if self._turn_fd is not None:
                os.close(self._turn_fd)  # closing the file gives the turn back too
                self._turn_fd = None


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self._in_turn(super().execute, sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        return self._in_turn(super().executemany, sql, seq_of_parameters)

    def _in_turn(self, run: Any, sql: str, parameters: Any) -> Any:
        connection: TakingTurns = self.connection  # type: ignore[assignment]
        if _opens_write(sql):
            connection.take_turn()
        try:
            return run(sql, parameters)
        finally:
            connection.give_turn()  # no transaction opened (or it failed to open): nothing to hold
