"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

Every test that takes ``db`` runs once per database, so the whole suite proves itself on both. On
PostgreSQL the schema is built once per session through the Alembic migrations, then emptied between
tests; on SQLite each test gets its own file, a copy of one built once per session.

A test's database is paid about a thousand times on each database: PostgreSQL truncates only the
tables a test wrote to (all sixty: 55-90 ms a test here, against 10-20), SQLite copies a file (building
the schema anew: 70-250 ms, against 1).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from engine import clock
from engine.access import passwords
from engine.access.principal import Principal, load_principal
from engine.db import Base, Database
from engine.definitions import compile_bundle, load_bundle
from engine.definitions.repository import DefinitionRepository
from engine.runtime.core import Runtime

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_url() -> str:
    url = PG_URL
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (``test`` → ``test_gw0``), created here.

    Tests truncate and migrate their database freely; two workers sharing one would see each other's
    rows. Without xdist the URL is used as given.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database():
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    from engine.migrate import upgrade

    db = Database(_worker_database(_pg_url()))
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    yield db
    db.dispose()


def _truncate(db: Database) -> None:
    """Every table emptied and every sequence back at its start, as a fresh database would be.

    Only the tables that hold rows are truncated (a test writes to a dozen of some sixty), found by one
    statement; TRUNCATE rather than DELETE, so each table's size and statistics are those of an empty
    table again (with DELETE, the dead rows and stale sizes of earlier tests changed later tests' plans:
    one equality test ran five times slower). A sequence used by a table a test emptied itself is
    restarted too, as ``TRUNCATE … RESTART IDENTITY`` of every table did."""
    names = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
    with db.engine.begin() as conn:
        full = [row[0] for row in conn.exec_driver_sql(probe)]
        if full:
            quoted = ", ".join(f'"{n}"' for n in full)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        conn.exec_driver_sql(
            "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value, false) "
            "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
        )


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Every password the tests hash, at argon2's smallest cost (Django's test runs use their fastest
    hasher for the same reason). At the production cost (64 MiB, three passes: 0.1-0.25 s a hash here)
    each import of the demo organisation, sixty initial passwords, cost 15-20 s, and the suite imports
    it dozens of times on two databases. Verification follows the parameters written in a hash, so
    sign-in runs the application's own code. The production hasher is tested in a fresh interpreter
    (tests/engine/access/test_password_memory.py), and the servers the tests start as processes
    (several servers, the offline archive, the benchmarks) hash at the production cost."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory) -> Path:
    """The schema built once per session (per xdist worker); each test's database is a copy of the file.
    Disposing the engine closes its last connection, which checkpoints the WAL into the file."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    database = Database(f"sqlite:///{path}")
    database.create_all()
    database.dispose()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the schema's WAL was not checkpointed"
    return path


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    if request.param == "postgresql":
        database = request.getfixturevalue("pg_database")
        _truncate(database)
        yield database
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()


@pytest.fixture
def repo(db):
    return DefinitionRepository(db)


@pytest.fixture
def runtime(db, repo):
    return Runtime(db, repo)


@pytest.fixture
def library():
    """The small test library under tests/fixtures/lib, loaded fresh for each test (tests may edit it)."""
    return load_bundle(FIXTURES / "lib")


@pytest.fixture
def deployed(repo, library):
    version_id, _ = repo.deploy(compile_bundle(library), actor="tester")
    return version_id


def principal_of(db: Database, username: str) -> Principal:
    """The principal of a user, loaded the way a request loads it."""
    with db.session() as s:
        return load_principal(s, username)


@pytest.fixture
def who(db):
    """``who("cm1")`` is cm1's principal on the test database."""
    return functools.partial(principal_of, db)


@pytest.fixture
def steady_caches(db, monkeypatch):
    """For tests that count a use case's transactions or statements: the caches re-read after a while
    (the working-day arrangements every 10 s, engine/scheduling/arrangements.py; unit and people names
    every 60 s, engine/organisation/names.py) keep what they hold, so a slow machine cannot add a read of
    its own to the count. Their first read still happens (in the test's warm-up)."""
    from engine.organisation import names
    from engine.scheduling import arrangements

    monkeypatch.setattr(names, "TTL", float("inf"))
    monkeypatch.setattr(arrangements.book_source(db.engine), "ttl", float("inf"))


@pytest.fixture
def frozen_clock():
    with clock.frozen(dt.datetime(2024, 3, 4, 10, 0, tzinfo=clock.LOCAL_TZ)) as frozen:
        yield frozen


def pytest_collection_modifyitems(config, items):
    """Two things about the order and the set of tests, for CI's time.

    The tests marked ``slow`` (tens of seconds to minutes each) come first: pytest-xdist hands tests
    out in collection order as workers free up, so the longest start at once on every core and the
    run ends on short tests, instead of one worker finishing a two-minute test alone at the end.

    A browser test, and a web page's test, runs on one database: PostgreSQL when TEST_DATABASE_URL is
    set (production's), else SQLite. They check what the pages add to the use cases they call (the
    request's translation, CSRF, who gets which answer, what the HTML shows), which does not depend on
    the database; the engine tests prove the use cases on both, and the API's tests (tests/web/api: the
    JSON a client parses) still run on both. Each page test builds its own Flask app (0.4 s: URL rules
    compiled, the OpenAPI document built) and a browser test drives Chromium, so running them twice
    cost CI about six minutes of its twenty. A test marked ``sqlite`` proves SQLite's own behaviour
    (how it prepares statements, say): it keeps its SQLite run and drops the PostgreSQL one instead."""
    if PG_URL:
        kept, dropped = [], []
        for item in items:
            params = getattr(item, "callspec", None)
            on_sqlite = params is not None and params.params.get("db") == "sqlite"
            if item.get_closest_marker("sqlite") is not None:  # SQLite's own behaviour: its run is the test
                drop = params is not None and not on_sqlite
            else:
                drop = on_sqlite and _one_database(item)
            (dropped if drop else kept).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: otherwise as collected


def _one_database(item) -> bool:
    """A browser test, or a test of the web pages (not of the API)."""
    path = Path(str(item.path)).resolve()
    pages = path.is_relative_to(ROOT / "tests" / "web") and not path.is_relative_to(ROOT / "tests" / "web" / "api")
    return pages or item.get_closest_marker("browser") is not None
