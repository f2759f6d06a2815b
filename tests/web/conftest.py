"""Web fixtures: the app on the same database as the engine fixtures (SQLite, and PostgreSQL when set).

A small county is imported: 案管室 (two officers, one leader), two 监督检查室 (第一室 with two officers
and a leader, 第二室 with one), the commission leader, a 信访室 officer (who may see reporter identity)
and an administrator. The test library (tests/fixtures/lib) is deployed.
"""
from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.config import Config
from engine.models import User
from engine.organisation import import_organisation
from engine.passwords import hash_password
from engine.principal import load_principal
from engine.services import Services
from web import create_app

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PASSWORD = "correct-horse-42"

ORGANISATION = {
    "units": [
        {"code": "cdi", "name": "测试县纪委监委", "name_en": "Test County Commission", "kind": "commission"},
        {"code": "ags", "name": "案件监督管理室", "name_en": "Case Management Office", "kind": "office", "parent": "cdi"},
        {"code": "xfs", "name": "信访室", "kind": "office", "parent": "cdi"},
        {"code": "jc1", "name": "第一监督检查室", "name_en": "1st Supervision Office", "kind": "office", "parent": "cdi"},
        {"code": "jc2", "name": "第二监督检查室", "kind": "office", "parent": "cdi"},
        {"code": "pz1", "name": "派驻第一纪检监察组", "kind": "resident_group", "parent": "cdi"},
    ],
    "links": [{"kind": "office_group", "from": "jc1", "to": "pz1"}],
    "users": [
        {"username": "admin", "name": "管理员", "admin": True, "roles": []},
        {"username": "cm1", "name": "冯丽", "roles": [{"unit": "ags", "role": "case_management"}]},
        {"username": "cm2", "name": "高远", "roles": [{"unit": "ags", "role": "case_management", "leader": True}]},
        {"username": "so1", "name": "刘洋", "roles": [{"unit": "jc1", "role": "supervision_office"}]},
        {"username": "so1b", "name": "张敏", "roles": [{"unit": "jc1", "role": "supervision_office"}]},
        {"username": "so1lead", "name": "赵刚", "roles": [{"unit": "jc1", "role": "supervision_office", "leader": True}]},
        {"username": "so2", "name": "王芳", "roles": [{"unit": "jc2", "role": "supervision_office"}]},
        {"username": "boss", "name": "马成志", "roles": [{"unit": "cdi", "role": "commission_secretary", "leader": True}]},
        {"username": "xf1", "name": "周静", "roles": [{"unit": "xfs", "role": "petition_office"}]},
        {"username": "gone", "name": "已停用", "active": False, "roles": [{"unit": "ags", "role": "case_management"}]},
    ],
}


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """A fresh clone has only the .po files: build the .mo files the English pages need."""
    spec = importlib.util.spec_from_file_location("compile_translations", ROOT / "tools" / "compile_translations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.compile_all(only_if_stale=True)


@pytest.fixture
def services(db, deployed, tmp_path):
    config = Config(database_url=db.url, processes_dir=FIXTURES / "lib", instance_dir=tmp_path,
                    secret_key="test-secret-key-for-web", attachments_dir=tmp_path / "attachments",
                    embedded_worker=False)
    svc = Services(config, db=db)
    with db.session() as s:
        import_organisation(s, ORGANISATION)
        # argon2 is slow on purpose: hash the shared test password once per run, not once per user and test.
        s.execute(update(User).values(password_hash=_password_hash()))
    return svc


@functools.lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


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
        return self.http.post("/login", data={"username": username, "password": password,
                                              "csrf_token": self.token()})

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
def who(services):
    def load(username: str):
        with services.db.session() as s:
            return load_principal(s, username)
    return load


@pytest.fixture
def start_clue(services, who):
    """Start gt_test_clue; its first task (登记线索) goes to every 案管室 holder."""
    def start(**data):
        return services.runtime.start("gt_test_clue", actor=who("cm1"), data=data)
    return start
