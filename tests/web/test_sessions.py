"""Sessions and sign-in fit for 等保 level 3 (issue 12): server-side sessions that logout, a password change
and the timeouts end; the per-account lock-out shared by workers; the password policy; the forced change
of initial passwords; Secure cookies and HSTS over HTTPS."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import delete, select, update

from engine.access import accounts
from engine.models import AuditEvent, Membership, User, UserSession
from engine.organisation import operations as org
from engine.services import Services
from tests.county import PASSWORD
from web import create_app

from .conftest import Client

COOKIE = "guantong_session"
NEW_PASSWORD = "Qinghu-River-2024"


def _events(services, action):
    with services.db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _copy_cookie(source: Client, app) -> Client:
    """Another browser holding a copy of ``source``'s cookie (what an attacker who captured it holds)."""
    thief = Client(app)
    thief.http.set_cookie(COOKIE, source.http.get_cookie(COOKIE).value)
    return thief


def _change(c: Client, current=PASSWORD, new=NEW_PASSWORD, repeat=None):
    return c.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "repeat_password": new if repeat is None else repeat},
    )


# --------------------------------------------------------------------------- server-side sessions
def test_the_cookie_carries_only_a_random_session_id(client_for, services):
    c = client_for("cm1")
    cookie = c.http.get_cookie(COOKIE).value
    with services.db.session() as s:
        password_hash = s.scalar(select(User.password_hash).where(User.username == "cm1"))
        rows = s.scalars(select(UserSession)).all()
    assert len(rows) == 1 and rows[0].revoked_at is None
    assert password_hash[-16:] not in cookie and rows[0].token_hash not in cookie


def test_a_captured_cookie_is_dead_after_logout(client_for, app, services):
    c = client_for("cm1")
    thief = _copy_cookie(c, app)
    assert thief.get("/inbox").status_code == 200  # the copy works while the session lives
    assert c.post("/logout").status_code == 302
    assert thief.get("/inbox").status_code == 302  # sent to sign in: the session ended server-side
    with services.db.session() as s:
        assert s.scalar(select(UserSession.revoked_reason)) == "signed_out"


def test_a_captured_cookie_is_dead_after_a_password_change(client_for, app, services):
    c = client_for("cm1")
    thief = _copy_cookie(c, app)
    other_browser = client_for("cm1")
    token = accounts.issue_token(services, "cm1", PASSWORD).token
    resp = _change(c)
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"
    assert c.get("/inbox").status_code == 200  # the one who changed it stays signed in, on a new session
    assert thief.get("/inbox").status_code == 302
    assert other_browser.get("/inbox").status_code == 302
    assert accounts.authenticate_token(services, token) is None  # API tokens end with the password too
    assert [e.actor for e in _events(services, "password_changed")] == ["cm1"]
    fresh = Client(app)
    assert fresh.login("cm1").status_code == 401
    assert fresh.login("cm1", NEW_PASSWORD).status_code == 302


def test_disabling_an_account_ends_its_sessions(client_for, services, who):
    c = client_for("so2")
    so2 = services.db
    with so2.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == "so2"))
    org.update_user(services, who("admin"), user_id, display_name="王芳", active=False)
    assert c.get("/inbox").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(UserSession.revoked_reason)) == "account_disabled"


def test_a_changed_membership_counts_from_the_next_page(client_for, services, start_clue):
    """The page's person is read with each request (one statement: session, user, memberships), so a
    membership removed or a leadership withdrawn, even behind the engine's back, holds from the next
    page on; nothing about the person is kept between requests."""
    start_clue(clue_no="XS-M1")
    cm1, lead = client_for("cm1"), client_for("so1lead")
    assert 'data-testid="count-group">1<' in cm1.get("/inbox?tab=group").get_data(as_text=True)
    assert "/handover" in lead.get("/inbox").get_data(as_text=True)  # 批量移交: his units' leader
    with services.db.session() as s:
        cm1_id = s.scalar(select(User.id).where(User.username == "cm1"))
        s.execute(delete(Membership).where(Membership.user_id == cm1_id))
        lead_id = s.scalar(select(User.id).where(User.username == "so1lead"))
        s.execute(update(Membership).where(Membership.user_id == lead_id).values(is_leader=False))
    assert 'data-testid="count-group">0<' in cm1.get("/inbox?tab=group").get_data(as_text=True)
    assert "/handover" not in lead.get("/inbox").get_data(as_text=True)


def test_idle_timeout(client_for, services, frozen_clock):
    c = client_for("cm1")
    frozen_clock.advance(minutes=20)
    assert c.get("/inbox").status_code == 200  # activity: last seen moves on (at most once a minute)
    frozen_clock.advance(minutes=29)
    assert c.get("/inbox").status_code == 200  # 49 minutes after sign-in, 29 after the last request
    frozen_clock.advance(minutes=31)
    assert c.get("/inbox").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(UserSession.revoked_reason)) == "idle_timeout"
    assert _events(services, "session_ended")[0].detail["reason"] == "idle_timeout"


def test_absolute_lifetime_however_active(client_for, services, frozen_clock):
    c = client_for("cm1")
    for _ in range(19):  # 7 h 55 min of steady work, never idle for long
        frozen_clock.advance(minutes=25)
        assert c.get("/inbox").status_code == 200
    frozen_clock.advance(minutes=25)
    assert c.get("/inbox").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(UserSession.revoked_reason)) == "max_lifetime"


def test_timeouts_follow_the_settings(db, deployed, tmp_path, frozen_clock):
    from tests.county import county_services

    services = county_services(db, tmp_path, "k")
    services.config = dataclasses.replace(services.config, session_idle_minutes=5, session_max_hours=1)
    app = create_app(services=services, TESTING=True)
    c = Client(app)
    assert c.login("cm1").status_code == 302
    assert app.permanent_session_lifetime.total_seconds() == 3600
    frozen_clock.advance(minutes=6)
    assert c.get("/inbox").status_code == 302


def test_a_person_sees_and_ends_their_other_sessions(client_for, app):
    office = client_for("cm1")
    home = client_for("cm1")
    page = office.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("/end") == 1 and "本次登录" in html
    [session_id] = re.findall(r"/account/sessions/(\d+)/end", html)
    assert office.post(f"/account/sessions/{session_id}/end").status_code == 302
    assert home.get("/inbox").status_code == 302
    assert office.get("/inbox").status_code == 200
    # another person's session id is "not found", never ended
    so1 = client_for("so1")
    assert so1.post(f"/account/sessions/{session_id}/end").status_code == 404


# --------------------------------------------------------------------------- lock-out
def _second_worker(services) -> object:
    """Another worker process's app: its own Services and database connection pool, its own limiter."""
    return create_app(services=Services(services.config), TESTING=True, LOGIN_RATE_LIMIT="100 per minute")


def test_lock_out_per_account_holds_across_workers(services, frozen_clock):
    worker_a = create_app(services=services, TESTING=True, LOGIN_RATE_LIMIT="100 per minute")
    worker_b = _second_worker(services)
    a, b = Client(worker_a), Client(worker_b)
    for _ in range(2):
        assert a.login("cm1", "wrong").status_code == 401
    for _ in range(2):
        assert b.login("cm1", "wrong").status_code == 401
    resp = a.login("cm1", "wrong")  # the fifth failure, counted across both workers
    assert resp.status_code == 429 and "已暂时锁定" in resp.get_data(as_text=True)
    assert b.login("cm1").status_code == 429  # even the right password, on the other worker
    assert Client(worker_b).login("cm2").status_code == 302  # other accounts are untouched
    [locked] = _events(services, "account_locked")
    assert locked.detail["username"] == "cm1" and locked.detail["failures"] == 5
    frozen_clock.advance(minutes=16)
    assert b.login("cm1").status_code == 302


def test_an_unknown_name_locks_like_a_real_one(app, services):
    c = Client(app)
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    texts = []
    for name in ("nobody", "cm1"):
        for _ in range(4):
            assert c.login(name, "wrong").status_code == 401
        resp = c.login(name, "wrong")
        [alert] = re.findall(r'id="login-error">([^<]*)<', resp.get_data(as_text=True))
        texts.append((resp.status_code, alert))
    assert texts[0] == texts[1]  # the same answer: the lock does not tell whether the account exists


def test_lock_out_applies_to_the_api_token_request(app, services):
    app.config["API_TOKEN_RATE_LIMIT"] = "100 per minute"
    http = app.test_client()
    for _ in range(5):
        http.post("/api/v1/auth/token", json={"username": "so1", "password": "wrong"})
    resp = http.post("/api/v1/auth/token", json={"username": "so1", "password": PASSWORD})
    assert resp.status_code == 429 and resp.get_json()["error"]["code"] == "account_locked"
    assert Client(app).login("so1").status_code == 429  # the web door sees the same lock


# --------------------------------------------------------------------------- password policy
@pytest.mark.parametrize(
    ("new", "repeat", "field", "sentence"),
    [
        ("Short-1a", None, "new_password", "密码至少 12 位"),
        ("alllowercaseletters", None, "new_password", "至少三类"),
        ("Cm1-Qinghu-2024", None, "new_password", "不能包含用户名"),
        (PASSWORD, None, "new_password", "最近用过的密码"),
        (NEW_PASSWORD, "Something-else-1", "repeat_password", "两次输入的新密码不一致"),
    ],
)
def test_password_policy_messages_by_rule(client_for, new, repeat, field, sentence):
    c = client_for("cm1")
    resp = _change(c, new=new, repeat=repeat)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and sentence in html
    assert f'id="{field}-error"' in html
    assert c.get("/inbox").status_code == 200  # nothing changed, still signed in


def test_a_wrong_current_password_is_refused_and_counted(client_for, services):
    c = client_for("cm1")
    resp = _change(c, current="not-my-password")
    assert resp.status_code == 422 and "当前密码不正确" in resp.get_data(as_text=True)
    assert _events(services, "password_change_failed")[0].actor == "cm1"


def test_the_last_five_passwords_cannot_come_back(client_for, services, who):
    history = [f"Qinghu-River-{n:04d}" for n in range(5)]
    current = PASSWORD
    c = client_for("cm1")
    for new in history:
        assert _change(c, current=current, new=new).status_code == 302
        current = new
    assert _change(c, current=current, new=history[0]).status_code == 422  # one of the last five
    assert _change(c, current=current, new=PASSWORD).status_code == 302  # six back: allowed again


# --------------------------------------------------------------------------- forced change
def _must_change(services, username):
    with services.db.session() as s:
        s.execute(update(User).where(User.username == username).values(must_change_password=True))


def test_an_initial_password_must_be_changed_before_anything_else(app, services):
    _must_change(services, "so1")
    c = Client(app)
    resp = c.login("so1")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/account/password")
    page = c.get("/inbox")
    assert page.status_code == 302 and page.headers["Location"].startswith("/account/password")
    assert "初始密码" in c.get("/account/password").get_data(as_text=True)
    assert c.get("/tasks/1").status_code == 302
    assert _change(c).status_code == 302
    assert c.get("/inbox").status_code == 200
    with services.db.session() as s:
        assert s.scalar(select(User.must_change_password).where(User.username == "so1")) is False


def test_the_api_refuses_tokens_until_the_initial_password_is_changed(app, services):
    _must_change(services, "so1")
    http = app.test_client()
    resp = http.post("/api/v1/auth/token", json={"username": "so1", "password": PASSWORD})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "password_change_required"
    weak = http.post(
        "/api/v1/auth/password", json={"username": "so1", "current_password": PASSWORD, "new_password": "weak"}
    )
    assert weak.status_code == 422 and weak.get_json()["error"]["details"]["fields"] == {"new_password": "too_short"}
    changed = http.post(
        "/api/v1/auth/password", json={"username": "so1", "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    assert http.post("/api/v1/auth/token", json={"username": "so1", "password": NEW_PASSWORD}).status_code == 201


def test_an_administrators_reset_is_an_initial_password(client_for, app, services, who):
    c = client_for("so2")
    token = accounts.issue_token(services, "so2", PASSWORD).token
    with services.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == "so2"))
    org.update_user(services, who("admin"), user_id, display_name="王芳", active=True, password="Reset-By-Admin-7")
    assert c.get("/inbox").status_code == 302  # the reset ended the session ...
    assert accounts.authenticate_token(services, token) is None  # ... and the tokens
    again = Client(app)
    assert again.login("so2", "Reset-By-Admin-7").headers["Location"].startswith("/account/password")


def test_an_administrator_cannot_set_a_weak_password(services, who):
    from engine.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        org.create_user(services, who("admin"), username="newbie", display_name="新人", password="newbie-password-1")
    assert caught.value.fields == {"password": "contains_username"}
    created = org.create_user(
        services, who("admin"), username="newbie", display_name="新人", password="Qinghu-River-77"
    )
    with services.db.session() as s:
        assert s.scalar(select(User.must_change_password).where(User.id == created.id)) is True


# --------------------------------------------------------------------------- HTTPS
def test_secure_cookies_and_hsts_when_served_over_https(services):
    services.config = dataclasses.replace(services.config, https=True)
    c = Client(create_app(services=services, TESTING=True))
    resp = c.login("cm1")
    assert "Secure" in resp.headers["Set-Cookie"] and "SameSite=Lax" in resp.headers["Set-Cookie"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_hsts_over_plain_http(client_for):
    resp = client_for().login("cm1")
    assert "Secure" not in resp.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in resp.headers
