"""Tokens: issue, use, revoke, expire; the session cookie and CSRF play no part in the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import select

from engine import clock
from engine.models import ApiToken, AuditEvent

from .conftest import PASSWORD, error_of


def test_token_for_password_then_me(app, services):
    http = app.test_client()
    resp = http.post("/api/v1/auth/token", json={"username": "cm1", "password": PASSWORD, "name": "intake"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["token_type"] == "Bearer"
    assert dt.datetime.fromisoformat(body["expires_at"]) > clock.now() + dt.timedelta(hours=7)
    me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "cm1"
    with services.db.session() as s:
        row = s.scalar(select(ApiToken))
        # Only the hash is kept, and the raw token appears nowhere in the audit trail.
        assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
        assert row.name == "intake" and row.last_used_at is not None
        details = [str(e.detail) for e in s.scalars(select(AuditEvent))]
        assert not any(body["token"] in d for d in details)


def test_wrong_password_unknown_and_disabled_users_get_401(app):
    http = app.test_client()
    for username, password in (("cm1", "nope"), ("nobody", PASSWORD), ("gone", PASSWORD)):
        resp = http.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert resp.status_code == 401
        err = error_of(resp)
        assert err["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_failed_token_requests_are_rate_limited(app):
    http = app.test_client()
    for _ in range(3):  # API_TOKEN_RATE_LIMIT="3 per minute" in the fixture
        assert http.post("/api/v1/auth/token", json={"username": "cm1", "password": "x"}).status_code == 401
    resp = http.post("/api/v1/auth/token", json={"username": "cm1", "password": PASSWORD})
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"


def test_successful_token_requests_are_not_counted(app):
    http = app.test_client()
    for _ in range(4):
        assert http.post("/api/v1/auth/token", json={"username": "cm1", "password": PASSWORD}).status_code == 201


def test_token_request_validation(app):
    http = app.test_client()
    resp = http.post("/api/v1/auth/token", json={"username": "cm1"})
    assert resp.status_code == 422
    assert set(error_of(resp)["details"]["fields"]) == {"password"}
    resp = http.post("/api/v1/auth/token", json={"username": "cm1", "password": "x", "scope": "all"})
    assert resp.status_code == 422
    assert "scope" in error_of(resp)["details"]["fields"]
    resp = http.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "bad_request"
    resp = http.post("/api/v1/auth/token", json={"username": "cm\x001", "password": "x"})
    assert resp.status_code == 422


def test_calls_without_a_live_token_get_401(api_as, services):
    assert error_of(api_as(None).get("/me"))["code"] == "unauthorized"
    bogus = api_as(None)
    bogus.token = "gt_" + "A" * 43
    assert bogus.get("/tasks").status_code == 401
    basic = api_as(None)
    assert basic.get("/me", headers={"Authorization": "Basic Y20xOnBhc3N3b3Jk"}).status_code == 401


def test_revoked_token_stops_working(api_as, services):
    cm1 = api_as("cm1")
    assert cm1.get("/me").status_code == 200
    assert cm1.delete("/auth/token").status_code == 204
    resp = cm1.get("/me")
    assert resp.status_code == 401
    with services.db.session() as s:
        assert s.scalar(select(ApiToken.revoked_at)) is not None
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_revoked")) is not None
    # A second token of the same user is unaffected.
    assert api_as("cm1").get("/me").status_code == 200


def test_expired_token_and_disabled_user(api_as, services, frozen_clock):
    cm1 = api_as("cm1")
    assert cm1.get("/me").status_code == 200
    frozen_clock.advance(hours=8, seconds=1)
    assert cm1.get("/me").status_code == 401
    cm2 = api_as("cm2")
    assert cm2.get("/me").status_code == 200
    from engine.models import User

    with services.db.session() as s:
        s.scalar(select(User).where(User.username == "cm2")).active = False
    assert cm2.get("/me").status_code == 401


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def test_session_cookie_never_authenticates_the_api(app):
    http = app.test_client()
    page = http.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    signed_in = http.post("/login", data={"username": "cm1", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    assert http.get("/inbox").status_code == 200  # the cookie works for pages...
    resp = http.get("/api/v1/me")  # ...and means nothing to the API
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"


def test_api_posts_need_no_csrf_token(api_as):
    # CSRFProtect guards the web forms; a bearer-token POST without any CSRF token is accepted.
    resp = api_as("cm1").post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-CSRF"}})
    assert resp.status_code == 201, resp.get_json()


def test_me_lists_roles_and_units(api_as):
    body = api_as("cm2").get("/me").get_json()
    assert body["roles"] == ["case_management"]
    assert body["units"] == [{"code": "ags", "name": "案件监督管理室", "roles": ["case_management"], "leader": True}]
    assert body["admin_kind"] is None and body["may_reveal_confidential"] is False
    boss = api_as("boss").get("/me").get_json()
    assert boss["may_reveal_confidential"] is True
    assert api_as("admin").get("/me").get_json()["admin_kind"] == "system"
    assert api_as("auditadmin").get("/me").get_json()["admin_kind"] == "audit"
