"""Sign-in, sign-out, cookies, CSRF, rate limiting, language switch."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent


def _events(services, action):
    with services.db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_pages_need_sign_in(client_for):
    c = client_for()
    resp = c.get("/inbox")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")


def test_login_page_is_chinese_with_csrf(client_for):
    c = client_for()
    html = c.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录贯通" in html and 'name="csrf_token"' in html
    assert 'for="username"' in html and 'for="password"' in html


def test_wrong_password_is_refused_and_audited(client_for, services):
    c = client_for()
    resp = c.login("cm1", "wrong-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.get_data(as_text=True)
    assert c.get("/inbox").status_code == 302
    events = _events(services, "sign_in_failed")
    assert [e.detail["username"] for e in events] == ["cm1"]


def test_unknown_and_disabled_users_are_refused(client_for):
    c = client_for()
    assert c.login("nobody").status_code == 401
    assert c.login("gone").status_code == 401
    assert c.login("cm1\x00").status_code == 401


def test_sign_in_sets_safe_cookie_and_audits(client_for, services):
    c = client_for()
    resp = c.login("cm1")
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = c.get("/inbox")
    assert page.status_code == 200
    assert "冯丽" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert [e.actor for e in _events(services, "signed_in")] == ["cm1"]


def test_next_parameter_cannot_leave_the_site(client_for):
    c = client_for()
    resp = c.http.post(
        "/login",
        data={"username": "cm1", "password": "correct-horse-42", "next": "//evil.example/x", "csrf_token": c.token()},
    )
    assert resp.headers["Location"] == "/inbox"
    c2 = client_for()
    resp = c2.http.post(
        "/login",
        data={"username": "cm1", "password": "correct-horse-42", "next": "/instances/1", "csrf_token": c2.token()},
    )
    assert resp.headers["Location"] == "/instances/1"


def test_post_without_csrf_token_is_refused(client_for):
    c = client_for()
    resp = c.http.post("/login", data={"username": "cm1", "password": "correct-horse-42"})
    assert resp.status_code == 400
    assert "表单已失效" in resp.get_data(as_text=True)
    signed_in = client_for("cm1")
    resp = signed_in.http.post("/logout")
    assert resp.status_code == 400
    assert signed_in.get("/inbox").status_code == 200  # still signed in


def test_sign_out(client_for, services):
    c = client_for("cm1")
    resp = c.post("/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert c.get("/inbox").status_code == 302
    assert [e.actor for e in _events(services, "signed_out")] == ["cm1"]


def test_failed_sign_ins_are_rate_limited(client_for):
    c = client_for()
    for name in ("cm1", "cm2", "so1", "so2", "boss"):  # one address, many names: below each account's lock
        assert c.login(name, "bad").status_code == 401
    resp = c.login("cm1", "bad")
    assert resp.status_code == 429
    assert "尝试次数过多" in resp.get_data(as_text=True)
    assert c.login("cm1").status_code == 429  # even the right password waits


def test_the_limiter_checks_only_its_views_unless_a_limit_covers_every_request(app, services):
    """Every limit is on a view, so Flask-Limiter's check before every request is dropped (web/security.py,
    ~0.2 ms a request); a deployment that sets an application-wide limit keeps it, and it is enforced."""
    from web import create_app

    limiter = app.extensions["guantong_limiter"]
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    wide = create_app(services=services, TESTING=True, RATELIMIT_APPLICATION="2 per minute")
    limiter = wide.extensions["guantong_limiter"]
    assert limiter._check_request_limit in wide.before_request_funcs[None]
    client = wide.test_client()
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]


def test_successful_sign_ins_do_not_count_against_the_limit(client_for):
    for _ in range(7):
        c = client_for()
        assert c.login("cm1").status_code == 302


def test_switch_to_english_and_back(client_for):
    c = client_for()
    resp = c.post("/locale", data={"locale": "en", "next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    html = c.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in to Guantong" in html
    c.post("/locale", data={"locale": "zh_CN", "next": "/login"})
    assert "登录贯通" in c.get("/login").get_data(as_text=True)


def test_language_choice_survives_sign_in_and_is_saved(client_for, services):
    from engine.models import User

    c = client_for()
    c.post("/locale", data={"locale": "en"})
    assert c.login("so1").status_code == 302
    html = c.get("/inbox").get_data(as_text=True)
    assert "My tasks" in html
    c.post("/locale", data={"locale": "en"})
    with services.db.session() as s:
        assert s.scalar(select(User.locale).where(User.username == "so1")) == "en"


def test_the_sign_in_page_and_the_token_request_admit_and_refuse_the_same_people(client_for, app, services):
    """One password check behind two doors: the same answer and the same audit reason for each person."""
    from tests.county import PASSWORD

    cases = [("cm1", PASSWORD), ("cm1", "wrong-password"), ("nobody", PASSWORD), ("gone", PASSWORD)]
    page = [client_for().login(u, p).status_code == 302 for u, p in cases]
    api = [
        app.test_client().post("/api/v1/auth/token", json={"username": u, "password": p}).status_code == 201
        for u, p in cases
    ]
    assert page == api == [True, False, False, False]
    failed = _events(services, "sign_in_failed")
    by_channel = {
        channel: [(e.detail["username"], e.detail["reason"]) for e in failed if e.detail.get("channel") == channel]
        for channel in (None, "api")
    }
    assert (
        by_channel[None]
        == by_channel["api"]
        == [
            ("cm1", "bad_credentials"),
            ("nobody", "bad_credentials"),
            ("gone", "disabled"),
        ]
    )
