"""Accounts: sign-in with a password, the session's person, tokens, "me", and the one denial recorder."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from engine import health
from engine.access import accounts
from engine.access.denials import record_denial
from engine.errors import Forbidden, ValidationError
from engine.models import AuditEvent, Unit, User
from engine.organisation import names
from tests.county import PASSWORD


def _events(services, action: str) -> list[AuditEvent]:
    with services.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_sign_in_loads_the_principal_and_is_audited(county):
    signed_in = accounts.sign_in(county, " cm2 ", PASSWORD, remote="10.0.0.7")
    account = signed_in.account
    assert (account.username, account.display_name, account.locale) == ("cm2", "高远", "zh_CN")
    assert account.principal.memberships == {("ags", "case_management")}
    assert account.principal.leader_of == {"ags"}
    [event] = _events(county, "signed_in")
    assert (event.actor, event.detail["remote"]) == ("cm2", "10.0.0.7") and event.detail["session_id"]


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("cm1", "wrong-password", "bad_credentials"),
        ("nobody", PASSWORD, "bad_credentials"),
        ("gone", PASSWORD, "disabled"),
    ],
)
def test_refused_sign_ins_are_audited_though_refused(county, username, password, reason):
    with pytest.raises(accounts.SignInRefused) as caught:
        accounts.sign_in(county, username, password, remote="10.0.0.8")
    assert caught.value.status == 401 and "disabled" not in caught.value.message  # the caller learns nothing more
    [event] = _events(county, "sign_in_failed")
    assert (event.actor, event.detail) == (None, {"username": username, "reason": reason, "remote": "10.0.0.8"})
    assert _events(county, "signed_in") == []


def test_a_session_ends_with_a_password_change_or_a_disabled_account(county):
    signed_in = accounts.sign_in(county, "so1", PASSWORD)
    token = signed_in.session_token
    assert accounts.load_session(county, token).principal == signed_in.account.principal
    assert accounts.load_session(county, token + "x") is None
    assert token not in _password_hash(county, "so1")  # the cookie's id is random: no password material
    with county.db.session() as s:  # a reset behind the engine's back does not end it: the use cases do
        s.execute(update(User).where(User.username == "so1").values(active=False))
    assert accounts.load_session(county, token) is None


def _password_hash(services, username: str) -> str:
    with services.db.session() as s:
        return s.scalar(select(User.password_hash).where(User.username == username))


def test_sign_out_and_language(county, who):
    so1 = who("so1")
    accounts.sign_out(county, so1)
    assert [e.actor for e in _events(county, "signed_out")] == ["so1"]
    accounts.set_locale(county, so1, "en")
    assert accounts.me(county, so1)["locale"] == "en"
    with pytest.raises(ValidationError) as caught:
        accounts.set_locale(county, so1, "xx")
    assert caught.value.fields == {"locale": "unknown_locale"}


def test_tokens_issue_authenticate_revoke(county):
    issued = accounts.issue_token(county, "cm1", PASSWORD, ttl=dt.timedelta(hours=1), name="intake", remote="10.0.0.9")
    principal, token_id = accounts.authenticate_token(county, issued.token)
    assert (principal.username, token_id) == ("cm1", issued.token_id)
    assert accounts.authenticate_token(county, issued.token + "x") is None
    assert accounts.revoke_token(county, principal, token_id) is True
    assert accounts.revoke_token(county, principal, token_id) is False
    assert accounts.authenticate_token(county, issued.token) is None
    assert [e.action for e in _events(county, "api_token_issued") + _events(county, "api_token_revoked")] == [
        "api_token_issued",
        "api_token_revoked",
    ]


def test_a_refused_token_request_is_audited_on_the_api_channel(county):
    with pytest.raises(accounts.SignInRefused):
        accounts.issue_token(county, "gone", PASSWORD)
    [event] = _events(county, "sign_in_failed")
    assert event.detail == {"username": "gone", "channel": "api", "reason": "disabled"}
    assert _events(county, "api_token_issued") == []


def test_me_lists_roles_units_and_leadership(county, who):
    me = accounts.me(county, who("so1lead"))
    assert me == {
        "username": "so1lead",
        "display_name": "赵刚",
        "admin_kind": None,
        "locale": "zh_CN",
        "roles": ["supervision_office"],
        "units": [{"code": "jc1", "name": "第一监督检查室", "roles": ["supervision_office"], "leader": True}],
    }


def test_one_recorder_for_every_denial(county):
    refusal = Forbidden("task 7 is not for your role or unit", task=7, instance=3)
    record_denial(county, refusal, actor="so2", path="/api/v1/tasks/7", method="GET", channel="api")
    record_denial(county, Forbidden("no", reason="admin_only"), actor="cm1", path="/admin/", method="GET")
    record_denial(county, "cockpit_only", actor=None, path="/cockpit/", method="GET")
    events = _events(county, "access_denied")
    assert [(e.actor, e.task_id, e.instance_id, e.detail["reason"]) for e in events] == [
        ("so2", 7, 3, "task 7 is not for your role or unit"),
        ("cm1", None, None, "admin_only"),
        (None, None, None, "cockpit_only"),
    ]
    assert events[0].detail["channel"] == "api" and "channel" not in events[1].detail


def test_names_are_cached_until_the_organisation_changes(county):
    assert names.unit_names(county)["jc1"].name == "第一监督检查室"
    with county.db.session() as s:  # a change behind the engine's back (another process, say)
        s.execute(update(Unit).where(Unit.code == "jc1").values(name="改名"))
    assert names.unit_names(county)["jc1"].name == "第一监督检查室"  # served from memory, no query
    names.forget(county)
    assert names.unit_names(county)["jc1"].name == "改名"
    assert names.role_name(names.role_catalogue(county).get("case_management"), "case_management", False)
    assert names.role_name(None, "unknown_role", False) == "unknown_role"


def test_health_check(county):
    assert health.check(county) == {"status": "ok"}


@pytest.mark.parametrize("username", ["cm1\x00", "\ud800cm1", "x" * 500])
def test_a_name_no_account_can_have_is_refused_like_any_other(county, username):
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(county, username, PASSWORD)
    [event] = _events(county, "sign_in_failed")
    assert event.detail["reason"] == "bad_credentials" and "\x00" not in event.detail["username"]
