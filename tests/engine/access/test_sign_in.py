"""The engine's side of 身份鉴别: the password policy, the per-account lock-out, server-side sessions and
the owner's password change, without the web (tests/web/test_sessions.py drives them through pages)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from engine.access import accounts, sessions
from engine.access.passwords import PasswordPolicy, character_classes, policy_problem
from engine.errors import ValidationError
from engine.models import AuditEvent, PasswordHistory, SignInLock, User, UserSession
from tests.county import PASSWORD

NEW = "Qinghu-River-2024"


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abc", 1), ("abcDEF", 2), ("abc123", 2), ("abc-123", 3), ("Abc-123", 4), ("纪检监察abc12", 3)],
)
def test_character_classes(password, classes):
    assert character_classes(password) == classes


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1-short", "too_short"),
        ("x" * 1025, "too_long"),
        ("onlylowercaseletters", "too_few_classes"),
        ("ALLUPPER-AND-DASHES", "too_few_classes"),
        ("ALLUPPER-AND-DASHES-7", None),
        ("Zhoujing-2024!", "contains_username"),
        ("ZHOUJING-2024!", "contains_username"),  # whatever the case
        ("清湖县纪委监委-2024", "too_few_classes"),  # CJK and the dash are both "other": two classes
        ("清湖县纪委监委-Ab2024", None),
    ],
)
def test_policy_rules(password, rule):
    assert policy_problem(password, username="zhoujing", policy=PasswordPolicy()) == rule


def test_the_policy_follows_its_settings():
    assert policy_problem("Ab1-short", username="x", policy=PasswordPolicy(min_length=8)) is None


def _events(services, action):
    with services.db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_five_failures_lock_the_account_then_the_lock_lifts(county, frozen_clock):
    for _ in range(4):
        with pytest.raises(accounts.SignInRefused) as caught:
            accounts.sign_in(county, "cm1", "wrong")
        assert not isinstance(caught.value, accounts.AccountLocked)
    with pytest.raises(accounts.AccountLocked) as locked:
        accounts.sign_in(county, "cm1", "wrong")
    assert locked.value.minutes == 15 and locked.value.status == 429
    with pytest.raises(accounts.AccountLocked):
        accounts.sign_in(county, "CM1", PASSWORD)  # the right password, another spelling: still locked
    assert [e.detail["reason"] for e in _events(county, "sign_in_failed")][-1] == "locked"
    assert len(_events(county, "account_locked")) == 1
    frozen_clock.advance(minutes=15, seconds=1)
    assert accounts.sign_in(county, "cm1", PASSWORD).account.username == "cm1"


def test_failures_outside_the_window_do_not_add_up(county, frozen_clock):
    for _ in range(4):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(county, "cm1", "wrong")
        frozen_clock.advance(minutes=5)  # four failures over twenty minutes
    with pytest.raises(accounts.SignInRefused) as caught:
        accounts.sign_in(county, "cm1", "wrong")
    assert not isinstance(caught.value, accounts.AccountLocked)


def test_a_success_starts_the_count_again(county):
    for _ in range(4):
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(county, "cm1", "wrong")
    accounts.sign_in(county, "cm1", PASSWORD)
    with pytest.raises(accounts.SignInRefused) as caught:
        accounts.sign_in(county, "cm1", "wrong")
    assert not isinstance(caught.value, accounts.AccountLocked)
    with county.db.session() as s:
        assert s.scalar(select(SignInLock.failures).where(SignInLock.username == "cm1")) == 1


def test_the_lock_out_follows_its_settings(county):
    county.config = dataclasses.replace(county.config, lockout_failures=2, lockout_minutes=1)
    with pytest.raises(accounts.SignInRefused):
        accounts.sign_in(county, "so1", "wrong")
    with pytest.raises(accounts.AccountLocked) as locked:
        accounts.sign_in(county, "so1", "wrong")
    assert locked.value.minutes == 1


def test_sessions_are_rows_and_sign_out_ends_one(county):
    first = accounts.sign_in(county, "so1", PASSWORD, remote="10.0.0.1", user_agent="Firefox")
    second = accounts.sign_in(county, "so1", PASSWORD, remote="10.0.0.2", user_agent="Chromium")
    listed = accounts.list_sessions(county, first.account.principal, first.session_token)
    assert [(s.remote, s.user_agent, s.current) for s in listed] == [
        ("10.0.0.2", "Chromium", False),
        ("10.0.0.1", "Firefox", True),
    ]
    accounts.sign_out(county, first.account.principal, first.session_token)
    assert accounts.load_session(county, first.session_token) is None
    assert accounts.load_session(county, second.session_token) is not None


def test_last_seen_is_written_at_most_once_a_minute(county, frozen_clock):
    signed_in = accounts.sign_in(county, "so1", PASSWORD)

    def last_seen():
        with county.db.session() as s:
            return s.scalar(select(UserSession.last_seen_at))

    start = last_seen()
    frozen_clock.advance(seconds=30)
    accounts.load_session(county, signed_in.session_token)
    assert last_seen() == start
    frozen_clock.advance(seconds=31)
    accounts.load_session(county, signed_in.session_token)
    assert last_seen() > start


def test_changing_ones_password_ends_every_session_and_keeps_history(county):
    signed_in = accounts.sign_in(county, "so1", PASSWORD)
    me = signed_in.account.principal
    fresh = accounts.change_password(county, me, current=PASSWORD, new=NEW, repeat=NEW)
    assert accounts.load_session(county, signed_in.session_token) is None
    assert accounts.load_session(county, fresh) is not None
    with county.db.session() as s:
        reasons = s.scalars(select(UserSession.revoked_reason).order_by(UserSession.id)).all()
        kept = s.scalar(select(func.count()).select_from(PasswordHistory))
        stored = s.scalar(select(User.password_hash).where(User.username == "so1"))
    assert reasons == [sessions.PASSWORD_CHANGED, None] and kept == 2 and NEW not in stored  # the old one too
    with pytest.raises(ValidationError) as caught:
        accounts.change_password(county, me, current=NEW, new=PASSWORD, repeat=PASSWORD)
    assert caught.value.fields == {"new_password": "recently_used"}  # the one before is remembered too


def test_history_keeps_only_the_last_few(county):
    county.config = dataclasses.replace(county.config, password_history=2)
    me = accounts.sign_in(county, "so1", PASSWORD).account.principal
    current = PASSWORD
    for n in range(4):
        new = f"Qinghu-River-{n:04d}"
        accounts.change_password(county, me, current=current, new=new, repeat=new)
        current = new
    with county.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PasswordHistory)) == 2
    accounts.change_password(county, me, current=current, new="Qinghu-River-0001", repeat="Qinghu-River-0001")
