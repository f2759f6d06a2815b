"""Who may open the cockpit: the rule is the engine's, each use case checks it itself, the roles are a setting."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from engine.access.principal import Principal
from engine.cockpit import operations
from engine.cockpit.access import DEFAULT_COCKPIT_ROLES, cockpit_roles, may_use_cockpit, require_cockpit
from engine.config import Config
from engine.errors import Forbidden

FIGURES = (operations.overview, operations.deadlines, operations.durations, operations.failed)


def test_the_rule():
    leader = Principal("boss", memberships=frozenset({("cdi", "commission_secretary")}))
    officer = Principal("cm1", memberships=frozenset({("ags", "case_management")}))
    assert may_use_cockpit(leader) and not may_use_cockpit(officer)
    for kind in ("system", "security", "audit"):  # 三员分立: no administrator lists cases
        assert not may_use_cockpit(Principal("admin", admin_kind=kind))
    assert may_use_cockpit(officer, {"case_management"}) and not may_use_cockpit(leader, {"case_management"})
    with pytest.raises(Forbidden) as refused:
        require_cockpit(officer)
    assert refused.value.message == "cockpit_only" and refused.value.details == {"rule": "cockpit_only"}


def test_the_roles_come_from_the_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("GUANTONG_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("GUANTONG_COCKPIT_ROLES", raising=False)
    assert cockpit_roles(Config.from_env()) == DEFAULT_COCKPIT_ROLES
    monkeypatch.setenv("GUANTONG_COCKPIT_ROLES", " case_management , hearing_office,")
    assert cockpit_roles(Config.from_env()) == {"case_management", "hearing_office"}
    monkeypatch.setenv("GUANTONG_COCKPIT_ROLES", "")
    assert cockpit_roles(Config.from_env()) == frozenset()  # nobody


@pytest.mark.parametrize("use_case", FIGURES, ids=lambda f: f.__name__)
def test_an_officer_is_refused_by_the_use_case_itself_before_any_query(services, who, use_case):
    officer = who("cm1")
    seen: list[str] = []

    def capture(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", capture)
    try:
        with pytest.raises(Forbidden) as refused:
            use_case(services, officer)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", capture)
    assert refused.value.message == "cockpit_only" and seen == []
    assert operations.may_open_cockpit(services, officer) is False


@pytest.mark.parametrize("use_case", FIGURES, ids=lambda f: f.__name__)
def test_a_configured_role_opens_it_and_the_default_ones_no_longer_do(services, who, use_case):
    services.config.cockpit_roles = frozenset({"case_management"})
    use_case(services, who("cm1"))
    for person in ("boss", "admin", "secadmin", "auditadmin"):
        with pytest.raises(Forbidden):
            use_case(services, who(person))
    assert operations.may_open_cockpit(services, who("cm1")) and not operations.may_open_cockpit(services, who("boss"))
