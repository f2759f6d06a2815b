"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

Every test that takes ``db`` runs once per database, so the whole suite proves itself on both. On
PostgreSQL the schema is built once per session through the Alembic migrations, then emptied between
tests; on SQLite each test gets its own file.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import clock
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
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    if request.param == "postgresql":
        database = request.getfixturevalue("pg_database")
        _truncate(database)
        yield database
    else:
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
        database.create_all()
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
def frozen_clock():
    with clock.frozen(dt.datetime(2024, 3, 4, 10, 0, tzinfo=clock.LOCAL_TZ)) as frozen:
        yield frozen
