"""What the HTTP benchmarks share: gunicorn on 127.0.0.1, a keep-alive client, bench users and tokens,
client processes started together, and py-spy profiles summarised by where the time went.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert, select

from engine import clock
from engine.access.passwords import hash_password
from engine.access.tokens import hash_token
from engine.models import ApiToken, Membership, Unit, User

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"
SECRET_KEY = "guantong-bench-secret-key-not-for-production"


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """argon2 is slow on purpose: one hash for every bench user."""
    return hash_password(PASSWORD)


def bench_token(username: str) -> str:
    """A deterministic bearer token per bench user (the API only ever sees its SHA-256)."""
    return "gt_bench_" + hashlib.sha256(f"guantong-bench:{username}".encode()).hexdigest()[:32]


def add_users(session, users: list[dict], *, tokens: bool = True) -> None:
    """Insert users (``username``, ``name``, ``memberships``: [(unit, role, leader)]) and their tokens in bulk."""
    now = clock.now()
    hashed = password_hash()
    session.execute(
        insert(User),
        [
            {
                "username": u["username"],
                "display_name": u["name"],
                "password_hash": hashed,
                "active": True,
                "admin_kind": None,
                "locale": "zh_CN",
                "created_at": now,
            }
            for u in users
        ],
    )
    ids = dict(
        session.execute(select(User.username, User.id).where(User.username.in_([u["username"] for u in users]))).all()
    )
    rows = [
        {"user_id": ids[u["username"]], "unit_code": unit, "role_code": role, "is_leader": leader}
        for u in users
        for unit, role, leader in u["memberships"]
    ]
    if rows:
        session.execute(insert(Membership), rows)
    if tokens:
        expires = now.replace(year=now.year + 20)
        session.execute(
            insert(ApiToken),
            [
                {
                    "user_id": ids[u["username"]],
                    "token_hash": hash_token(bench_token(u["username"])),
                    "name": "bench",
                    "created_at": now,
                    "expires_at": expires,
                    "last_used_at": now,
                }
                for u in users
            ],
        )


def add_units(session, units: list[dict]) -> None:
    session.execute(
        insert(Unit),
        [
            {
                "code": u["code"],
                "name": u["name"],
                "kind": u.get("kind", "office"),
                "parent_code": u.get("parent"),
                "sort": i,
                "active": True,
            }
            for i, u in enumerate(units)
        ],
    )


# --------------------------------------------------------------------------- gunicorn
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# How the README says to serve Guantong: threaded workers keep a client's connection alive between
# requests (the sync worker closes it after each response, and each new connection may land on another
# worker, whose SQLite page cache then starts cold); two threads let a worker answer while the other waits.
SERVER_OPTIONS = ("-k", "gthread", "--threads", "2")


class Gunicorn:
    """``gunicorn -w N -k gthread --threads 2 'web:create_app()'`` on 127.0.0.1 against one database;
    stopped on exit."""

    def __init__(
        self,
        database_url: str,
        work: Path,
        workers: int = 2,
        options: tuple[str, ...] = SERVER_OPTIONS,
        root: Path = ROOT,
        env: dict | None = None,
    ):
        self.database_url = database_url
        self.root = root  # the source tree served (bench/memory.py serves an earlier commit's too)
        self.extra_env = dict(env or {})
        self.workers = workers
        self.options = tuple(options)
        self.port = free_port()
        self.instance_dir = work / f"instance-{self.port}"
        self.log = work / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "GUANTONG_DATABASE_URL": self.database_url,
            "GUANTONG_INSTANCE_DIR": str(self.instance_dir),
            "GUANTONG_SECRET_KEY": SECRET_KEY,
            "GUANTONG_EMBEDDED_WORKER": "off",
            "PYTHONPATH": str(self.root),
            "MALLOC_ARENA_MAX": "2",  # as the README serves it (tools/dist/install.sh's guantong.env)
            **self.extra_env,
        }
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "-w",
                    str(self.workers),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "--log-level",
                    "warning",
                    *self.options,
                    "web:create_app()",
                ],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                status, _, _ = Http(self.port).get("/healthz")
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def describe(self) -> str:
        """The command line, for the report."""
        return f"`gunicorn -w {self.workers} {' '.join(self.options)}`".replace("  ", " ")

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def worker_memory(self) -> list[dict]:
        """Resident and peak resident memory of each worker, in MB (from /proc)."""
        out = []
        for pid in self.worker_pids():
            fields = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) / 1024
            out.append({"pid": pid, "rss_mb": fields.get("VmRSS", 0.0), "peak_mb": fields.get("VmHWM", 0.0)})
        return out

    def errors(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(line for line in text.splitlines() if "Traceback" in line or "Error" in line)[-2000:]


# --------------------------------------------------------------------------- client
class Http:
    """One keep-alive connection to 127.0.0.1 (reopened whenever the server closes it). Returns
    (status, body, seconds).

    gunicorn closes a connection left idle for its keep-alive time (2 s), and a request sent on it then
    fails before the server reads it. A connection idle for longer than ``IDLE`` is therefore reopened
    before use, and a GET that meets a connection closed under it is sent once more on a new one (a POST
    never is: it might have been applied)."""

    IDLE = 1.0  # seconds; below gunicorn's default keep-alive of 2 s

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.headers = dict(headers or {})
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        hdrs = {**self.headers, **(headers or {})}
        start = time.perf_counter()
        if self.conn is not None and start - self.used > self.IDLE:
            self.close()
        fresh = self.conn is None
        if fresh:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.close()
            if fresh or method != "GET":
                raise
            return self.request(method, path, body, headers)
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        self.used = time.perf_counter()
        elapsed = self.used - start
        if resp.will_close:
            self.close()
        self.last_headers = resp.headers
        return resp.status, data, elapsed

    def get(self, path: str, headers: dict | None = None):
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, payload, headers: dict | None = None):
        return self.request(
            "POST",
            path,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def api_headers(username: str) -> dict:
    return {"Authorization": f"Bearer {bench_token(username)}", "Accept": "application/json"}


_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def web_login(port: int, username: str) -> str:
    """Sign in through the login form (CSRF token included) and return the session cookie header."""
    http_ = Http(port)
    status, body, _ = http_.get("/login")
    cookie = _cookie(http_.last_headers)
    token = _CSRF.search(body.decode()).group(1)
    from urllib.parse import urlencode

    form = urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
    status, body, _ = http_.request(
        "POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    )
    if status != 302:
        raise RuntimeError(f"login of {username} failed: {status} {body[:300]!r}")
    return _cookie(http_.last_headers)


def _cookie(headers) -> str:
    return "; ".join(v.split(";", 1)[0] for k, v in headers.items() if k.lower() == "set-cookie")


# --------------------------------------------------------------------------- client processes
def run_clients(configs: list[dict], work: Path, timeout: float = 600) -> list[dict]:
    """Start one ``bench.client`` process per config, wait until all are ready, let them go together,
    and return their JSON results (each with the client's own CPU seconds)."""
    go = work / f"go-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = []
    for i, config in enumerate(configs):
        path = work / f"client-{time.time_ns()}-{i}.json"
        path.write_text(json.dumps({**config, "go": str(go)}))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.client", str(path)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        line = proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"client did not start: {line} {proc.stderr.read()[-2000:]}")
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"client failed: {err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


# --------------------------------------------------------------------------- profiles
@contextmanager
def py_spy(pids: list[int], out: Path, rate: int = 250, idle: bool = True):
    """Sample the given processes with py-spy (raw collapsed stacks) while the block runs."""
    spy = BIN / "py-spy"
    procs = []
    for pid in pids:
        cmd = [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            f"{out}.{pid}",
        ]
        if idle:
            cmd.append("--idle")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    time.sleep(0.5)
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        lines = []
        for pid in pids:
            part = Path(f"{out}.{pid}")
            if part.exists():
                lines.append(part.read_text(errors="replace"))
                part.unlink()
        out.write_text("".join(lines))


# Where a sample's time goes, by the innermost frame's file (first match wins).
_LIBRARIES = (
    ("waiting for PostgreSQL (round trips, commit)", None),
    ("SpiffWorkflow", re.compile(r"SpiffWorkflow/")),
    ("SQLAlchemy", re.compile(r"sqlalchemy/")),
    ("psycopg (driver)", re.compile(r"psycopg/")),
    ("Jinja2 templates", re.compile(r"jinja2/|templates/")),
    ("flask-smorest / marshmallow / webargs", re.compile(r"flask_smorest/|marshmallow/|webargs/|apispec/")),
    (
        "Flask / Werkzeug / extensions",
        re.compile(
            r"flask/|werkzeug/|flask_login/|flask_wtf/|flask_babel/|flask_limiter/|limits/|babel/|itsdangerous/|wtforms/"
        ),
    ),
    ("jsonschema (form validation)", re.compile(r"jsonschema|referencing/|rpds")),
    ("Guantong engine/", re.compile(r"/engine/")),
    ("Guantong web/", re.compile(r"/web/")),
    ("gunicorn", re.compile(r"gunicorn/")),
    ("json / orjson", re.compile(r"json/|orjson")),
    ("sqlite3", re.compile(r"sqlite3/")),
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::(?P<line>\d+))?\)$")


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for frame in stack.split(";"):
        m = _FRAME.match(frame.strip())
        out.append((m.group("func"), m.group("file")) if m else (frame.strip(), ""))
    return out


def summarise_profile(
    path: Path, *, within: str = "handle_request", markers: tuple[str, ...] = (), top: int = 6
) -> str:
    """Markdown: share of the sampled request time by library (innermost frame), the functions that
    include the most time (``markers``), and the hottest innermost functions."""
    by_lib: collections.Counter = collections.Counter()
    by_marker: collections.Counter = collections.Counter()
    by_leaf: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or within not in stack:
            continue
        n = int(count)
        frames = _frames(stack)
        total += n
        func, file = frames[-1]
        for name, pattern in _LIBRARIES:
            if pattern is None:
                if _waiting(func, file):
                    by_lib[name] += n
                    break
                continue
            if pattern.search(file):
                by_lib[name] += n
                break
        else:
            by_lib["other (stdlib, C)"] += n
        by_leaf[f"{func} ({_short(file)})"] += n
        for marker in markers:
            where, _, func_name = marker.rpartition(":")
            if any((f == func_name or f.endswith("." + func_name)) and where in fl for f, fl in frames):
                by_marker[marker] += n
    if not total:
        return "_no samples_"
    pct = lambda n: f"{100 * n / total:.0f}%"  # noqa: E731
    lines = [
        f"{total} samples inside requests (wall clock, waiting included).",
        "",
        "| where the time goes (innermost frame) | share |",
        "|---|---|",
    ]
    lines += [f"| {name} | {pct(n)} |" for name, n in by_lib.most_common() if n / total >= 0.01]
    if markers:
        lines += ["", "| inside (inclusive) | share |", "|---|---|"]
        lines += [f"| `{m}` | {pct(by_marker[m])} |" for m in markers if by_marker[m]]
    lines += ["", "| hottest innermost functions | share |", "|---|---|"]
    lines += [f"| `{name}` | {pct(n)} |" for name, n in by_leaf.most_common(top)]
    return "\n".join(lines)


def _waiting(func: str, file: str) -> bool:
    return ("psycopg/" in file and func in ("wait", "Connection.wait", "wait_c", "_wait_conn")) or "waiting.py" in file


def _short(file: str) -> str:
    for anchor in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if anchor in file:
            return file.split(anchor, 1)[1]
    return file
