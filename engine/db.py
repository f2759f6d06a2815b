"""Database connection: one place that knows SQLite and PostgreSQL apart.

SQLite (embedded default) runs in WAL mode with durable commits and a generous busy timeout so a web
process and the in-process worker can share it; PostgreSQL is used as is. Timestamps are stored in UTC and always
come back timezone-aware, whichever database is underneath.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, DateTime, MetaData, String, create_engine, event, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def execute_for(connection: Connection, statements: Mapping[str, Sequence[str]]) -> None:
    """Run, in order, the statements written for the connection's database (SQLite's for any other): the
    triggers that migrations and ``create_all`` install alike (engine/audit/guard.py,
    engine/interference/guard.py, engine/instances/open_due.py) and their removal."""
    for statement in statements.get(connection.dialect.name, statements["sqlite"]):
        connection.execute(text(statement))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class StatusWord(String):
    """A status column (``human_task.status``) whose comparison with one of its known words puts the word
    itself into the SQL (``status = 'ready'``), not a bound parameter.

    Why: partial indexes hold only the rows ``WHERE status = 'ready'``. To decide whether a query's
    ``status = ?`` implies an index's condition, SQLite's planner reads the bound value and marks the
    prepared statement stale whenever that parameter is bound again; Python's driver binds at every
    execution, so every statement filtering on the status was compiled anew each time it ran (a
    completion's read of its task: 0.26 ms, of which 0.22 the recompilation, docs/benchmarks.md). With
    the word in the SQL it is compiled once and still uses the partial index, and PostgreSQL's generic
    plans of prepared statements may use the partial index too. Only the listed words are inlined (a
    value that came from a request stays a parameter), so the SQL cannot be injected into and the
    statement caches hold one text per word.
    """

    cache_ok = True

    def __init__(self, length: int, words: Sequence[str]):
        super().__init__(length)
        if not all(word.isalpha() and word.isascii() for word in words):
            raise ValueError(f"a status word is plain ASCII letters: {sorted(words)}")
        self.words = frozenset(words)

    class comparator_factory(String.Comparator[str]):
        def __eq__(self, other: Any) -> Any:
            if isinstance(other, str) and other in cast("StatusWord", self.type).words:
                return self.expr == literal_column(f"'{other}'", self.type)
            return super().__eq__(other)

        __hash__ = String.Comparator.__hash__  # defining __eq__ alone would make it unhashable


SQLITE_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def sqlite_synchronous() -> str:
    """SQLite's commit durability, ``GUANTONG_SQLITE_SYNCHRONOUS``: FULL by default, so a completion
    acknowledged to an officer is on disk (the WAL is fsynced at each commit) and survives a power cut;
    NORMAL (no fsync per commit, ~0.5 ms faster) survives only a crash of the process."""
    value = os.environ.get("GUANTONG_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    if value not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"GUANTONG_SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}, not {value!r}")
    return value


def _sqlite_pragmas(synchronous: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return on_connect


# PostgreSQL's cost of starting parallel workers for one query, as Guantong's connections see it (the
# server's default is 1,000). See pg_parallel_setup_cost().
PG_PARALLEL_SETUP_COST = 10_000


def pg_parallel_setup_cost() -> int | None:
    """``GUANTONG_PG_PARALLEL_SETUP_COST``: the ``parallel_setup_cost`` Guantong's PostgreSQL sessions plan
    with; ``server`` leaves the server's own setting.

    Why: at the server's default PostgreSQL plans small OLTP reads in parallel once their estimate passes
    about 1,000, and on a two-core machine that also serves the web and the worker, starting two workers
    costs more than the query. Measured on the province data set (issue 19): a prefecture leader's inbox
    summary took 10.8 ms planned in parallel and 3.7 ms serial (median of 7 alternated runs). At 10,000
    only statements estimated ten times costlier, the scans of the whole province, still go parallel."""
    value = os.environ.get("GUANTONG_PG_PARALLEL_SETUP_COST", str(PG_PARALLEL_SETUP_COST)).strip().lower()
    if value == "server":
        return None
    if not value.isdigit():
        raise ValueError(f"GUANTONG_PG_PARALLEL_SETUP_COST must be a whole number or 'server', not {value!r}")
    return int(value)


def _pg_settings(parallel_setup_cost: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        was = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction: it lasts for the session
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET parallel_setup_cost = {int(parallel_setup_cost)}")
        finally:
            dbapi_connection.autocommit = was

    return on_connect


def _private_sqlite_file(engine: Engine) -> None:
    """Create the SQLite file owner-only (0600) before SQLite creates it with the process's umask: the
    database holds case files, and a world-readable copy of it is a leak whatever the application does."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    db_file = Path(path)
    if not db_file.exists():
        db_file.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT, 0o600))


# A pooled server connection unused for this long is pinged before it is handed out (see _ping_when_idle).
PING_IDLE_AFTER = 2.0  # seconds


def _ping_when_idle(engine: Engine, idle_after: float) -> None:
    """Ping a pooled connection before use only when it has sat unused for ``idle_after`` seconds.

    ``pool_pre_ping`` pings on every checkout: a ``SELECT 1`` round trip before each unit of work, two per
    API request (the token's read, then the use case). On a loaded machine each round trip waits for the
    database process to be scheduled, and the pings cost 5-10 ms per request (issue 19). A connection in
    steady use has just proved itself alive; the connections that may have died (a database restart, an
    idle timeout in a proxy) are the ones left idle, and those are still pinged. A failed ping raises
    ``DisconnectionError``: the pool discards that connection and tries another, as with ``pool_pre_ping``."""

    def stamp(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info["guantong_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("guantong_idle_since")
        if since is not None and time.monotonic() - since < idle_after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled database connection is gone") from exc

    event.listen(engine, "connect", stamp)
    event.listen(engine, "checkin", stamp)
    event.listen(engine, "checkout", checkout)


def make_engine(url: str, *, ping_idle_after: float = PING_IDLE_AFTER, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        from engine.sqlite_writers import TakingTurns

        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False, "factory": TakingTurns}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous()))
        _private_sqlite_file(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    setup_cost = pg_parallel_setup_cost()
    if setup_cost is not None and engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _pg_settings(setup_cost))
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle_after)
    return engine


def core(session: Session) -> Connection:
    """The session's connection, for a prebuilt Core statement on a hot path, after flushing what the
    session holds (as an ORM query would autoflush), so the read sees the transaction's pending rows.

    Executed there, a statement skips the ORM's per-statement machinery (compile state, loading), about
    half the Python a small indexed read costs through ``Session.execute``."""
    if session.autoflush:
        session.flush()  # returns at once when the session holds no change
    return session.connection()


def folds_writes(conn: Connection) -> bool:
    """Whether writes that always go together are sent as one statement on this connection: PostgreSQL,
    where each statement inside a transaction is a round trip (engine/runtime/pg_writes.py). SQLite, one
    writer in-process, keeps the portable statements. One switch for every such pair, so a test can run
    the portable path on PostgreSQL and compare the rows (tests/engine/runtime/test_pg_writes.py)."""
    return conn.dialect.name == "postgresql"


def affected(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` types every result as a plain ``Result``;
    for a DML statement it is a ``CursorResult``, which counts them."""
    return cast(CursorResult[Any], result).rowcount


class ReadOnlySession(RuntimeError):
    """A write was attempted through ``Database.reading()``: a programming error, never user input."""


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySession("Database.reading() is for reads only: use Database.session() to write")


def _refuse_write_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySession("Database.reading() is for reads only: use Database.session() to write")


class _ReadingSession(Session):
    """The session ``Database.reading()`` hands out: every write refused before it reaches the database.
    The listeners are set on the class once (listening on each new session cost ~0.1 ms per read)."""


event.listen(_ReadingSession, "before_flush", _refuse_flush)
event.listen(_ReadingSession, "do_orm_execute", _refuse_write_statement)


class Database:
    """An engine plus its session factory; every service receives one of these."""

    def __init__(self, url: str, **kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception."""
        session = self.Session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection for one indexed read (and at most a one-row write) outside a transaction.

        The bearer token is read on every API request, before the use case's own unit of work; in a
        session it cost BEGIN, SELECT and COMMIT, three round trips on PostgreSQL (psycopg sends BEGIN on
        its own), where one statement in autocommit is one. On SQLite the driver begins no transaction
        for a read, and switching the isolation level would cost a PRAGMA at each return to the pool, so
        the connection is used as it is and a write is committed at the end."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name != "sqlite":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
            conn.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for a use case that only reads (the inbox): on PostgreSQL its connection runs in
        autocommit, which saves the BEGIN and COMMIT round trips around the reads.

        Nothing is lost: at PostgreSQL's READ COMMITTED each statement of a transaction reads its own
        snapshot anyway, and on SQLite, where the session is used as it is, the driver begins no
        transaction for a read either. In autocommit a write would be committed statement by statement,
        out of any unit of work, so the session refuses every write before it reaches the database (a
        flush of changed objects, or an INSERT, UPDATE or DELETE executed through it): a use case that
        writes belongs in ``session()``."""
        with self.autocommit() as conn:
            session = _ReadingSession(bind=conn, expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()

    def create_all(self) -> None:
        from engine import models  # noqa: F401 - register tables

        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        from engine import models  # noqa: F401

        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
