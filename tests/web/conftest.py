"""Web fixtures: the app on the same database as the engine fixtures (SQLite, and PostgreSQL when set).

A small county is imported: 案管室 (two officers, one leader), two 监督检查室 (第一室 with two officers
and a leader, 第二室 with one), the commission leader, a 信访室 officer (who may see reporter identity)
and an administrator. The test library (tests/fixtures/lib) is deployed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.county import ORGANISATION, PASSWORD, county_services  # noqa: F401 - shared county
from web import create_app

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """A fresh clone has only the .po files: build the .mo files the English pages need."""
    spec = importlib.util.spec_from_file_location("compile_translations", ROOT / "tools" / "compile_translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.compile_all(only_if_stale=True)


@pytest.fixture
def services(db, deployed, tmp_path):
    return county_services(db, tmp_path, "test-secret-key-for-web")


@pytest.fixture
def app(services):
    app = create_app(services=services, TESTING=True, LOGIN_RATE_LIMIT="5 per minute", INBOX_PER_PAGE=5)
    return app


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


class Client:
    """A test client that signs in and sends the CSRF token a page gave it, like a browser."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def token(self) -> str:
        page = self.http.get("/login", follow_redirects=True)
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no csrf token on the page"
        return match.group(1)

    def login(self, username: str, password: str = PASSWORD):
        return self.http.post("/login", data={"username": username, "password": password, "csrf_token": self.token()})

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.http.post(url, data=data, **kw)


@pytest.fixture
def client_for(app):
    def make(username: str | None = None) -> Client:
        c = Client(app)
        if username:
            resp = c.login(username)
            assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return c

    return make


@pytest.fixture
def start_clue(services, who):
    """Start gt_test_clue; its first task (登记线索) goes to every 案管室 holder."""

    def start(**data):
        return services.runtime.start("gt_test_clue", actor=who("cm1"), data=data)

    return start
