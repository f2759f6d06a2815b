"""The authorization matrix: every page and API route, called as every persona, against a reviewed file.

``authorization_matrix.yaml`` (next to this file) says, for each route and method (and, where a route
takes a task or an instance, for each lane's task or instance), who is *allowed*, who gets an *invalid*
answer (authorized, but the data or the state was refused: 400/409/422, or a redirect flashing a
warning), and therefore who is *refused* (401/403/404, or sent to the sign-in page): everyone else. The
test calls every route as every persona of ``tests/web/matrix_calls.py`` on a demo state built once
(``tests/web/matrix_state.py``) and compares the outcome with the file exactly. A route of the app
without an entry, or an entry without a route, fails with its name; so does a 500 for anyone.

How the calls are made:

- pages as a browser: signed in once through ``/login``, the session cookie set again before every
  request (a sign-out or a change of language does not leak into the next call), the CSRF token read
  from the page's ``<meta name="csrf-token">`` and sent with every POST: CSRF stays on;
- the API with each persona's bearer token (the ``api_client`` persona sends only a token, on the pages
  too; ``session_only`` only a session cookie, on the API too);
- a request that may have changed something (any non-GET answered below 400, any 5xx) is followed by
  restoring the database snapshot, so every call sees the same state and an allowed POST is as real as
  in production (a claim claims, a deploy deploys) without disturbing the next persona.

Update mode: ``GUANTONG_MATRIX_UPDATE=1 .venv/bin/python -m pytest tests/web/test_authorization_matrix.py``
rewrites the file from what it observed (one line per route+method+target, personas grouped, stable
order), keeping the review comments written above each line, so every change of the access model is a
reviewable git diff. The test still fails on a 500.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml
from flask import Flask

from engine import clock
from engine.db import Database
from tests.conftest import BACKENDS, _truncate
from tests.county import PASSWORD
from tests.web import matrix_state
from tests.web.matrix_calls import ARGUMENTS, BODIES, PARITY, PERSONAS, QUERIES, Persona
from web import create_app

GOLDEN = Path(__file__).with_name("authorization_matrix.yaml")
UPDATE = os.environ.get("GUANTONG_MATRIX_UPDATE") == "1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CLASSES = ("allow", "invalid", "error")  # written per line; everyone not named was refused
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
SESSION_COOKIE = "guantong_session"


# =========================================================================== the routes
@dataclass(frozen=True)
class Call:
    """One cell row of the matrix: a route, a method and (for a route with several targets) a target."""

    rule: str
    method: str
    endpoint: str
    target: str  # "" when the route's arguments name one thing
    values: tuple[tuple[str, object], ...]

    @property
    def route(self) -> str:
        return f"{self.method} {self.rule}"

    @property
    def key(self) -> str:
        return f"{self.route} @{self.target}" if self.target else self.route

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")


def routes(app: Flask) -> list[tuple[str, str, str, list[str]]]:
    """(rule, method, endpoint, argument names) of every route but the static files."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(m for m in rule.methods or () if m in METHODS):
            found.append((rule.rule, method, rule.endpoint, sorted(rule.arguments)))
    return found


def route_keys(app: Flask) -> set[str]:
    return {f"{method} {rule}" for rule, method, _endpoint, _args in routes(app)}


def calls(app: Flask, state: matrix_state.DemoState) -> list[Call]:
    """Every route with its arguments resolved from the demo state, one Call per target."""
    result = []
    for rule, method, endpoint, arguments in routes(app):
        unknown = [a for a in arguments if a not in ARGUMENTS]
        assert not unknown, f"{method} {rule}: no value for {unknown}: add it to ARGUMENTS in matrix_calls.py"
        if method != "GET":
            assert f"{method} {rule}" in BODIES, (
                f"{method} {rule}: what does it send? add it to BODIES in matrix_calls.py"
            )
        combos: list[tuple[str, dict[str, object]]] = [("", {})]
        for name in arguments:
            options = ARGUMENTS[name](state)
            combos = [
                (".".join(p for p in (target, option) if p), {**values, name: value})
                for target, values in combos
                for option, value in sorted(options.items())
            ]
        for target, values in combos:
            result.append(Call(rule, method, endpoint, target, tuple(sorted(values.items()))))
    return sorted(result, key=sort_key)


def sort_key(call_or_key) -> tuple:
    key = call_or_key.key if isinstance(call_or_key, Call) else call_or_key
    route, _, target = key.partition(" @")
    method, _, rule = route.partition(" ")
    return (rule, METHODS.index(method) if method in METHODS else 9, target)


# =========================================================================== the callers
class Caller:
    """One persona's client: a session signed in once, a token, and the CSRF token its pages gave it."""

    def __init__(self, app: Flask, state: matrix_state.DemoState, alias: str, persona: Persona):
        self.alias = alias
        self.persona = persona
        self.http = app.test_client()
        page = self.http.get("/login")
        self.csrf = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        if persona.session:
            resp = self.http.post(
                "/login", data={"username": persona.username, "password": PASSWORD, "csrf_token": self.csrf}
            )
            assert resp.status_code == 302, f"{alias} could not sign in: {resp.status_code}"
            page = self.http.get("/login", follow_redirects=True)
            self.csrf = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        self.cookie = self.http.get_cookie(SESSION_COOKIE).value
        self.token = state.tokens[persona.username] if persona.token else None

    def request(self, call: Call, url: str, body) -> tuple[int, str | None, set[str]]:
        """(status, redirect path, flash categories) of the call made as this persona."""
        self.http.set_cookie(SESSION_COOKIE, self.cookie)
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs: dict = {"headers": headers}
        if call.api:
            headers["Accept"] = "application/json"
            if body.json is not None:
                kwargs["json"] = body.json
        elif call.method != "GET":
            kwargs["data"] = {**(body.form or {}), "csrf_token": self.csrf}
        resp = self.http.open(url, method=call.method, **kwargs)
        location = urlsplit(resp.location) if resp.location else None
        with self.http.session_transaction() as session:
            flashes = {category for category, _message in session.get("_flashes", [])}
        return resp.status_code, location, flashes


def classify(status: int, location: SplitResult | None, flashes: set[str]) -> str:
    """allow, invalid (authorized, data or state refused), deny, or error (a 5xx: always a bug).

    A redirect to the sign-in page asking to come back (``?next=``) is Flask-Login refusing an anonymous
    caller; a plain redirect there (after signing out) is an answer like any other.
    """
    if status >= 500:
        return "error"
    if status in (401, 403, 404):
        return "deny"
    if status >= 400:
        return "invalid"
    if 300 <= status < 400:
        if location and location.path == "/login" and "next=" in location.query:
            return "deny"
        if flashes & {"danger", "warning"}:
            return "invalid"
    return "allow"


@dataclass
class Observed:
    outcomes: dict[str, dict[str, str]]  # call key -> persona -> class
    statuses: dict[str, dict[str, int]]
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU: what the matrix costs, whatever else the machine runs
    restores: int


def observe(app: Flask, services, state: matrix_state.DemoState) -> Observed:
    started, cpu = time.monotonic(), time.process_time()
    # Sign everyone in first: sessions live in the database, so the snapshot must hold them (a restore
    # would otherwise end every session opened after it).
    callers = {alias: Caller(app, state, alias, persona) for alias, persona in PERSONAS.items()}
    snapshot = matrix_state.Snapshot(services)
    adapter = app.url_map.bind("localhost")
    outcomes: dict[str, dict[str, str]] = {}
    statuses: dict[str, dict[str, int]] = {}
    try:
        for call in calls(app, state):
            query = QUERIES[call.route](state) if call.route in QUERIES else None
            url = adapter.build(call.endpoint, {**dict(call.values), **(query or {})}, method=call.method)
            row, codes = {}, {}
            for alias, caller in callers.items():
                body = BODIES[call.route](state, caller.persona, call.target) if call.method != "GET" else None
                status, location, flashes = caller.request(call, url, body or _NO_BODY)
                row[alias] = classify(status, location, flashes)
                codes[alias] = status
                if (call.method != "GET" and status < 400) or status >= 500:
                    snapshot.restore()
            outcomes[call.key] = row
            statuses[call.key] = codes
    finally:
        snapshot.drop()
    return Observed(outcomes, statuses, time.monotonic() - started, time.process_time() - cpu, snapshot.restores)


class _NoBody:
    form = None
    json = None


_NO_BODY = _NoBody()


# =========================================================================== the golden file
def grouped(row: dict[str, str]) -> dict[str, list[str]]:
    """Personas by class (in PERSONAS order), the refused ones left out."""
    return {cls: [a for a in PERSONAS if row.get(a) == cls] for cls in CLASSES if cls in row.values()}


def parity_gaps(outcomes: dict[str, dict[str, str]]) -> dict[str, dict[str, list[str]]]:
    """Where a page and its API twin (or two pages of one thing) answer one person differently."""
    gaps: dict[str, dict[str, list[str]]] = {}
    people = [a for a, p in PERSONAS.items() if not p.channel_check and p.username]
    for left, right in PARITY:
        for key in sorted(k for k in outcomes if k == left or k.startswith(left + " @")):
            target = key[len(left) :]
            other = right + target
            if other not in outcomes:
                continue
            a, b = outcomes[key], outcomes[other]
            only_left = [p for p in people if a[p] == "allow" and b[p] != "allow"]
            only_right = [p for p in people if b[p] == "allow" and a[p] != "allow"]
            if only_left or only_right:
                entry = {}
                if only_left:
                    entry["first_only"] = only_left
                if only_right:
                    entry["second_only"] = only_right
                gaps[f"{key} ~ {other}"] = entry
    return gaps


HEADER = """\
# The authorization matrix (issue 18): who may call each page and API route, as observed on the demo state
# of tests/web/matrix_state.py and checked EXACTLY by tests/web/test_authorization_matrix.py.
#
# One line per route + method (+ @target where the route's argument names one lane's task or instance:
#   @reply    t_reply, the 函询 letter to the reported official 多吉 (role reported_person, 农牧局党组)
#   @sign     t_sign, the 党组书记's signature under a reply (supervised_party_org, 农牧局党组)
#   @assist_x t_as_x, 财政局's 协查 in a 室组地 joint check (x_department)
#   @office   t_accept, 第二监督检查室's acceptance of a clue, claimed by 陈浩
#   instances: @reply is the whole case file of the 函询 (intake → clue → disposal → inquiry),
#   @assist_x the 室组地 joint check).
#   allow:   2xx, or a redirect that is not to the sign-in page and flashes no warning
#   invalid: authorized, but the data or the state was refused (400/409/422, or a warning flashed)
#   error:   a 5xx (always a bug: the test fails)
#   personas not named on a line were refused (401/403/404, or sent to the sign-in page).
# Each persona posts what would succeed for someone allowed (tests/web/matrix_calls.py BODIES); the task page
# saves a draft (the same authorization as completing), the API completes.
# Regenerate: GUANTONG_MATRIX_UPDATE=1 .venv/bin/python -m pytest tests/web/test_authorization_matrix.py
# Comment lines directly above an entry are review notes; the update keeps them with their entry.
# Reviewed after issue 18's branches were merged (need-to-know declared per lane, cockpit scope, 三员分立,
# separation of duties and recusal, the interference register, sessions with a uniform 404), and again
# after issues 14-17's (instance diagram and actions, metrics and exports, documents, stalled tasks, studio
# diff and migration, officers' actions): the notes above entries say why a cell that might surprise is
# right. A route allowed to an outside lane (reported, host_leader, x_assisting) shows it only what its task
# declares (tests/processes/test_need_to_know.py checks the content; this file checks who may call).
"""

ENTRY_RE = re.compile(r'^  "(?P<key>[^"]+)":')


def read_notes(path: Path) -> dict[tuple[str, str], list[str]]:
    """Review comments by (section, entry key): the comment lines directly above each entry."""
    notes: dict[tuple[str, str], list[str]] = {}
    if not path.exists():
        return notes
    section, pending = "", []
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^[a-z_]+:", line):
            section, pending = line.split(":", 1)[0], []
        elif line.lstrip().startswith("#") and section:
            pending.append(line.strip())
        elif (m := ENTRY_RE.match(line)) and section:
            if pending:
                notes[(section, m.group("key"))] = pending
            pending = []
        else:
            pending = []
    return notes


def _flow(mapping: dict[str, list[str]]) -> str:
    return "{" + ", ".join(f"{k}: [{', '.join(v)}]" for k, v in mapping.items()) + "}"


def render(outcomes: dict[str, dict[str, str]], notes: dict[tuple[str, str], list[str]]) -> str:
    lines = [HEADER.rstrip("\n"), "personas:"]
    entries = {alias: f"{alias}: {persona.username or '~'}" for alias, persona in PERSONAS.items()}
    width = max(len(e) for e in entries.values())
    for alias, persona in PERSONAS.items():
        lines.append(f"  {entries[alias].ljust(width)}  # {persona.who}")
    lines.append("routes:")
    for key in sorted(outcomes, key=sort_key):
        lines.extend(f"  {n}" for n in notes.get(("routes", key), []))
        lines.append(f'  "{key}": {_flow(grouped(outcomes[key]))}')
    gaps = parity_gaps(outcomes)
    lines.append("# Page/API parity: where a page and its API twin (or two pages showing one thing) answer one person")
    lines.append("# differently; first_only: allowed by the first route only, second_only: by the second only.")
    lines.append("parity:" + ("" if gaps else " {}"))
    for key, entry in gaps.items():
        lines.extend(f"  {n}" for n in notes.get(("parity", key), []))
        lines.append(f'  "{key}": {_flow(entry)}')
    return "\n".join(lines) + "\n"


def load_golden() -> dict:
    assert GOLDEN.exists(), f"{GOLDEN.name} is missing: run with GUANTONG_MATRIX_UPDATE=1 to write it"
    return yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))


# =========================================================================== fixtures
# The matrix asks who may call each route, which the engine answers the same way on both databases (the
# per-lane and visibility tests run on both): the suite runs it on SQLite, and on PostgreSQL too when
# GUANTONG_MATRIX_ALL_DATABASES=1 (about a minute more; .ci/run stays within its time budget).
MATRIX_BACKENDS = BACKENDS if os.environ.get("GUANTONG_MATRIX_ALL_DATABASES") == "1" else ["sqlite"]

# The demo state is built once per module: under pytest-xdist (make test) the module's tests stay on one
# worker, so it is not built on every worker.
pytestmark = [pytest.mark.xdist_group("authorization_matrix"), pytest.mark.slow]


@pytest.fixture(scope="module", params=MATRIX_BACKENDS)
def matrix(request, tmp_path_factory) -> Iterator[tuple[Flask, Observed]]:
    """The demo state on a database of its own for the module, the app on it, and what every call gave."""
    workdir = tmp_path_factory.mktemp("matrix")
    if request.param == "postgresql":
        db = request.getfixturevalue("pg_database")
        _truncate(db)
    else:
        # a throwaway file: no fsync per commit (WAL with synchronous=NORMAL), a third of the matrix's time
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GUANTONG_SQLITE_SYNCHRONOUS", "NORMAL")
            db = Database(f"sqlite:///{workdir / 'matrix.db'}")
        db.create_all()
    with clock.frozen(matrix_state.START) as frozen:
        services, state = matrix_state.build(db, workdir, frozen)
        app = create_app(
            services=services,
            TESTING=True,
            LOGIN_RATE_LIMIT="100000 per minute",
            API_TOKEN_RATE_LIMIT="100000 per minute",
        )
        observed = observe(app, services, state)
        yield app, observed
    if request.param == "postgresql":
        _truncate(db)
    else:
        db.dispose()


# =========================================================================== the tests
def test_the_access_model_is_the_reviewed_one(matrix):
    """No 500 for anyone; every cell as in the golden file; the page/API gaps the reviewed ones; in time.

    One test, not four: under pytest-xdist each worker that runs a test of this module builds the demo
    state and calls the whole matrix again.
    """
    _app, observed = matrix
    errors = {
        key: {a: observed.statuses[key][a] for a, cls in row.items() if cls == "error"}
        for key, row in observed.outcomes.items()
        if "error" in row.values()
    }
    assert not errors, f"server errors (a 500 is always a bug): {errors}"

    if UPDATE:
        GOLDEN.write_text(render(observed.outcomes, read_notes(GOLDEN)), encoding="utf-8")
    golden = load_golden()
    differences = []
    for key in sorted(set(golden["routes"]) | set(observed.outcomes), key=sort_key):
        expected = golden["routes"].get(key)
        seen = grouped(observed.outcomes[key]) if key in observed.outcomes else None
        if expected != seen:
            codes = observed.statuses.get(key, {})
            differences.append(f"{key}:\n    file:     {expected}\n    observed: {seen}\n    statuses: {codes}")
    assert not differences, (
        f"the access model differs from {GOLDEN.name} ({len(differences)} lines); if intended, regenerate with "
        "GUANTONG_MATRIX_UPDATE=1 and review the diff:\n" + "\n".join(differences)
    )

    assert parity_gaps(observed.outcomes) == (golden.get("parity") or {}), "page/API parity gaps changed"

    # What the matrix costs is reported, not asserted (no timed unit tests: the machines are noisy);
    # it has run in 40-65 s of CPU on SQLite and PostgreSQL.
    print(f"matrix: {observed.cpu_seconds:.1f} s of CPU ({observed.seconds:.1f} s wall), {observed.restores} restores")


def unlisted(app: Flask, golden: dict) -> tuple[list[str], list[str]]:
    """(routes of the app without an entry, entries without a route), by "METHOD rule"."""
    listed = {key.partition(" @")[0] for key in golden}
    present = route_keys(app)
    return sorted(present - listed, key=sort_key), sorted(listed - present, key=sort_key)


def test_every_route_has_an_entry_and_every_entry_a_route():
    """A new route fails here, named, until the golden file says who may call it (and vice versa)."""
    missing, gone = unlisted(create_app(services=_bare_services(), TESTING=True), load_golden()["routes"])
    assert not missing, (
        f"routes without an entry in {GOLDEN.name}: {missing} (regenerate with GUANTONG_MATRIX_UPDATE=1)"
    )
    assert not gone, f"entries in {GOLDEN.name} for routes that no longer exist: {gone}"


def test_every_persona_is_listed_in_the_golden_file():
    assert load_golden()["personas"] == {alias: p.username for alias, p in PERSONAS.items()}


def test_a_new_route_or_a_removed_one_is_named():
    app = create_app(services=_bare_services(), TESTING=True)
    app.add_url_rule("/matrix-probe/<int:task_id>", "matrix_probe", lambda task_id: "", methods=["GET", "POST"])
    golden = {**load_golden()["routes"], "GET /gone @reply": {}}
    assert unlisted(app, golden) == (
        ["GET /matrix-probe/<int:task_id>", "POST /matrix-probe/<int:task_id>"],
        ["GET /gone"],
    )


def test_the_update_keeps_the_review_notes(tmp_path):
    """Regenerating rewrites the lines, not the reviewers' comments above them (nor drops a gap's)."""
    outcomes = {
        "GET /b": dict.fromkeys(PERSONAS, "deny") | {"admin": "allow"},
        "GET /a @reply": dict.fromkeys(PERSONAS, "deny") | {"reported": "allow", "admin": "invalid"},
    }
    path = tmp_path / "m.yaml"
    path.write_text(render(outcomes, {}), encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace(
        '  "GET /b":', '  # WRONG: admin reads case content\n  # (second line)\n  "GET /b":'
    )
    path.write_text(text, encoding="utf-8")
    again = render(outcomes, read_notes(path))
    assert again == text
    assert '  "GET /a @reply": {allow: [reported], invalid: [admin]}' in again
    assert again.index('"GET /a @reply"') < again.index('"GET /b"')  # ordered by route, then method, then target
    assert yaml.safe_load(again)["routes"]["GET /b"] == {"allow": ["admin"]}


@pytest.mark.parametrize(
    ("status", "location", "flashes", "expected"),
    [
        (200, None, set(), "allow"),
        (302, "/inbox", {"success"}, "allow"),
        (302, "/login", set(), "allow"),  # signed out
        (302, "/login?next=%2Finbox", set(), "deny"),  # Flask-Login sends an anonymous caller to sign in
        (302, "/tasks/3", {"warning"}, "invalid"),
        (403, None, set(), "deny"),
        (404, None, set(), "deny"),
        (401, None, set(), "deny"),
        (409, None, set(), "invalid"),
        (422, None, set(), "invalid"),
        (500, None, set(), "error"),
    ],
)
def test_outcome_classes(status, location, flashes, expected):
    assert classify(status, urlsplit(location) if location else None, flashes) == expected


def _bare_services():
    """Services on a throwaway in-memory database: enough for the app to list its routes."""
    from engine.config import Config
    from engine.services import Services

    config = Config(
        database_url="sqlite://",
        processes_dir=matrix_state.PROCESSES,
        instance_dir=Path("/nonexistent"),
        secret_key="routes-only",
        attachments_dir=Path("/nonexistent"),
        embedded_worker=False,
    )
    return Services(config, db=Database("sqlite://"))
