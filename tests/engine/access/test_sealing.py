"""engine.sealing: confidential fields encrypted with a key derived from the configuration."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.access.principal import Principal
from engine.access.sealing import DEFAULT_REVEAL_ROLES, Sealer, SealError, may_reveal, reveal_roles


def test_seal_and_open_round_trip():
    sealer = Sealer("a secret")
    token = sealer.seal({"reporter_name": "李某", "phone": "138"})
    assert "李某".encode() not in token.encode() and "138" not in token
    assert sealer.open(token) == {"reporter_name": "李某", "phone": "138"}
    assert sealer.seal({}) is None and sealer.open(None) == {}


def test_another_key_cannot_open():
    token = Sealer("key one").seal({"x": 1})
    with pytest.raises(SealError):
        Sealer("key two").open(token)
    with pytest.raises(SealError):
        Sealer("key one").open(token[:-4] + "AAAA")


def test_key_from_env_wins_over_secret_key():
    config = SimpleNamespace(secret_key="app secret")
    token = Sealer.from_config(config, environ={"GUANTONG_SEAL_KEY": "seal key"}).seal({"x": 1})
    assert Sealer("seal key").open(token) == {"x": 1}
    with pytest.raises(SealError):
        Sealer.from_config(config, environ={}).open(token)
    with pytest.raises(SealError):
        Sealer("")


def test_reveal_roles_setting():
    assert reveal_roles(environ={}) == DEFAULT_REVEAL_ROLES
    assert reveal_roles(environ={"GUANTONG_REVEAL_ROLES": "petition_office, hearing_office"}) == {
        "petition_office",
        "hearing_office",
    }
    petition = Principal("xf", memberships=frozenset({("xfs", "petition_office")}))
    office = Principal("so", memberships=frozenset({("jc1", "supervision_office")}))
    assert may_reveal(petition) and not may_reveal(office)
    assert may_reveal(office, {"supervision_office"})
    for kind in ("system", "security", "audit"):  # being an administrator is not enough
        assert not may_reveal(Principal("admin", admin_kind=kind))
