"""Several servers behind one load balancer (issue 14): two web processes and two workers on one PostgreSQL,
one Redis and one S3-compatible attachment store, each with its own instance and key directory (nothing
shared on local disk).

- a sign-in lock-out counts failures made on either server, and the per-address throttling too (in Redis:
  per-process counters would allow twice as many);
- an attachment uploaded through one server is downloaded through the other;
- every due timer fires exactly once although two workers poll.

Needs TEST_DATABASE_URL (a fresh database is created beside it and dropped after) and Redis on
127.0.0.1:6379 (keys under a random prefix, removed after); skipped, saying which, without them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from engine import clock
from engine.access.principal import SYSTEM_PRINCIPAL
from engine.audit import keys as audit_keys
from engine.db import Database
from engine.migrate import upgrade
from engine.models import Attachment, AuditEvent, HumanTask, SignInLock
from tests import s3
from tests.county import PASSWORD, county_services
from tests.s3 import CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
REDIS_URL = "redis://127.0.0.1:6379/0"
PDF = b"%PDF-1.4\n" + b"shared between servers " * 4000 + b"\n%%EOF\n"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
s3_server = s3.s3_server  # the fixture


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379 (apt-get install redis-server)")
    prefix = f"guantong-test-{secrets.token_hex(4)}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_client(redis_prefix):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def shared_database():
    """A database of its own beside TEST_DATABASE_URL's (the suite's fixtures empty theirs between tests)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL not set: the several-servers test needs PostgreSQL")
    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"{base.database}_servers_{secrets.token_hex(4)}"
    admin = Database(base.render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _start_clues(services, n: int) -> list[int]:
    """Clues proposed "in the past", so that their deadline timers are due on the real clock."""
    ids = []
    with clock.frozen(dt.datetime(2024, 3, 4, 10, tzinfo=clock.LOCAL_TZ)):
        for i in range(n):
            start = services.runtime.start("gt_test_clue")
            services.runtime.complete_task(
                start.created_tasks[0], actor=SYSTEM_PRINCIPAL, data={"clue_no": f"MS-{i}", "handling_unit": "jc2"}
            )
            ids.append(start.instance_id)
    return ids


def _fired(db, ids) -> dict[int, int]:
    with db.session() as s:
        rows = s.execute(
            select(AuditEvent.instance_id, func.count())
            .where(AuditEvent.action == "timer_fired", AuditEvent.instance_id.in_(ids))
            .group_by(AuditEvent.instance_id)
        ).all()
    return {int(i): int(n) for i, n in rows}


class Server:
    """One gunicorn on a port the kernel chose (read back from its log)."""

    def __init__(self, name: str, env: dict[str, str], tmp_path: Path):
        self.log = (tmp_path / f"{name}.log").open("w+")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-b",
                "127.0.0.1:0",
                "-w",
                "1",
                "-k",
                "gthread",
                "--threads",
                "2",
                "--control-socket",
                str(tmp_path / f"{name}.ctl"),
                "web:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = ""

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            self.log.seek(0)
            found = LISTENING.search(self.log.read())
            if found:
                self.url = f"http://127.0.0.1:{found.group(1)}"
                try:
                    if requests.get(f"{self.url}/healthz", timeout=30).status_code == 200:
                        return
                except requests.RequestException:  # listening, the worker still importing the app
                    pass
            time.sleep(0.3)
        self.log.seek(0)
        raise AssertionError(f"server did not start:\n{self.log.read()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def test_two_web_processes_and_two_workers_share_one_state(
    shared_database, redis_prefix, redis_client, s3_server, tmp_path, monkeypatch
):
    db = shared_database
    keys = {"GUANTONG_SEAL_KEY": secrets.token_hex(32), "GUANTONG_AUDIT_KEY": secrets.token_hex(32)}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    audit_keys.reload()
    upgrade(db)
    services = county_services(db, tmp_path / "setup", "several-servers-secret")
    services.deploy_path(FIXTURES / "lib")
    services.config.attachment_store = s3_server.url()
    services.config.s3_endpoint_url = s3_server.endpoint_url
    due = _start_clues(services, 6)
    with db.session() as s:
        from engine.access.principal import load_principal

        cm1 = load_principal(s, "cm1")
    started = services.runtime.start("gt_test_clue", actor=cm1, data={})
    with db.session() as s:
        register_task = s.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == started.instance_id, HumanTask.status == "ready")
        )

    common = {
        k: v for k, v in os.environ.items() if not k.startswith(("GUANTONG_", "PYTHONPATH", "PROMETHEUS_MULTIPROC"))
    }
    common.update(CREDENTIALS)
    common.update(keys)
    common.update(
        PYTHONPATH=str(ROOT),
        GUANTONG_DATABASE_URL=db.url,
        GUANTONG_SECRET_KEY="several-servers-secret-" + "x" * 20,
        GUANTONG_PROCESSES=str(FIXTURES / "lib"),
        GUANTONG_REDIS_URL=REDIS_URL,
        GUANTONG_REDIS_PREFIX=redis_prefix,
        GUANTONG_ATTACHMENT_STORE=s3_server.url(),
        GUANTONG_S3_ENDPOINT_URL=s3_server.endpoint_url,
        GUANTONG_LOCKOUT_FAILURES="3",
        GUANTONG_EMBEDDED_WORKER="off",
    )

    def own(name: str) -> dict[str, str]:
        """Each process with its own instance and key directory: nothing on local disk is shared."""
        home = tmp_path / name
        return {**common, "GUANTONG_INSTANCE_DIR": str(home / "instance"), "GUANTONG_KEYS_DIR": str(home / "keys")}

    servers = [Server(name, own(name), tmp_path) for name in ("web-a", "web-b")]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "web.cli", "worker", "--interval", "0.5"],
            cwd=ROOT,
            env=own(name),
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"{name}.log").open("w"),
        )
        for name in ("worker-a", "worker-b")
    ]
    try:
        for server in servers:
            server.wait()
        a, b = servers

        # -- the lock-out counts failures on both servers: 3 failures (a, b, a) lock so2 everywhere
        def token(server, username, password):
            return requests.post(
                f"{server.url}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30
            )

        failures = [token(server, "so2", "wrong-password-1") for server in (a, b, a)]
        assert [r.status_code for r in failures] == [401, 401, 429]  # the third failure sets the lock
        assert failures[2].json()["error"]["code"] == "account_locked"
        locked = token(b, "so2", PASSWORD)
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "account_locked"
        with db.session() as s:
            assert s.scalar(select(SignInLock.locked_until).where(SignInLock.username == "so2")) is not None
            assert (
                s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "account_locked")) == 1
            )

        # -- the per-address throttling (10 failures per 5 minutes) counts in Redis: 4 failures so far,
        # six more spread over both servers, then the next request is throttled on either
        for i in range(6):
            assert token((a, b)[i % 2], f"nobody{i}", "wrong").status_code == 401
        throttled = token(b, "nobody-else", "wrong")
        assert throttled.status_code == 429 and throttled.json()["error"]["code"] != "account_locked"
        assert any(redis_client.scan_iter(match=f"*{redis_prefix}*")), "the counters are in Redis"

        # -- an attachment uploaded through a is downloaded through b (same session, sessions are rows)
        browser = requests.Session()
        csrf = CSRF_RE.search(browser.get(f"{a.url}/login", timeout=30).text).group(1)
        signed_in = browser.post(
            f"{a.url}/login",
            data={"username": "cm1", "password": PASSWORD, "csrf_token": csrf},
            allow_redirects=False,
            timeout=30,
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        csrf = CSRF_RE.search(browser.get(f"{a.url}/tasks/{register_task}", timeout=30).text).group(1)
        uploaded = browser.post(
            f"{a.url}/tasks/{register_task}/attachments",
            data={"csrf_token": csrf},
            files={"file": ("线索材料.pdf", PDF, "application/pdf")},
            allow_redirects=False,
            timeout=30,
        )
        assert uploaded.status_code == 302
        with db.session() as s:
            attachment_id = s.scalar(select(Attachment.id))
        if attachment_id is None:
            page = browser.get(a.url + uploaded.headers["Location"], timeout=30).text
            raise AssertionError(
                "the upload was not stored: " + " ".join(re.findall(r'class="alert[^>]*>(.*?)<', page, re.S))
            )
        downloaded = browser.get(f"{b.url}/attachments/{attachment_id}", timeout=30)
        assert downloaded.status_code == 200 and downloaded.content == PDF
        assert not any((tmp_path / n / "instance" / "attachments").exists() for n in ("web-a", "web-b"))
        assert requests.get(f"{b.url}/readyz", timeout=30).json()["redis"] == "ok"

        # -- each due timer fired once, though two workers polled
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_fired(db, due)) < len(due):
            time.sleep(0.5)
        time.sleep(2)  # a second firing would come now, with both workers still polling
        assert _fired(db, due) == dict.fromkeys(due, 1)
        assert all(w.poll() is None for w in workers), "a worker died"
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        services.close()
    for name in ("worker-a", "worker-b"):
        log = (tmp_path / f"{name}.log").read_text()
        assert "Traceback" not in log, log[-3000:]
