"""The studio's use cases, called as the engine's own API: authorization, validation, deploy, conflicts, diffs.

The web pages only translate these; here each rule is proved without HTTP, so the command line and any
later API inherit it.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time

import pytest
from sqlalchemy import func, select

from engine.access.principal import Principal
from engine.approvals import operations as approvals
from engine.config import Config
from engine.definitions import compile_bundle, load_bundle
from engine.definitions import operations as ops
from engine.errors import Conflict, DeployError, Forbidden, NotFound
from engine.models import AuditEvent, DefinitionVersion
from engine.services import Services
from tests.conftest import FIXTURES

FILE = "clue_simple.bpmn"
DESIGNER = Principal(username="sheji", memberships=frozenset({("ags", "security_admin")}))
OFFICER = Principal(username="cm1", memberships=frozenset({("ags", "case_management")}))
ADMIN = Principal(username="admin", admin_kind="system")
SECURITY = Principal(username="secadmin", admin_kind="security")


def deploy_file(services, who, filename, content, **kwargs) -> ops.Deployment:
    """A studio deploy as it takes effect: asked by ``who``, approved by a security administrator."""
    asked = ops.request_deploy(services, who, filename, content, **kwargs)
    result = dict(approvals.approve(services, SECURITY, asked.request_id).result)
    return ops.Deployment(version_id=result["version"], created=result["created"], based_on=result["based_on"])


@pytest.fixture
def services(db, deployed, tmp_path):
    config = Config(
        database_url=db.url,
        processes_dir=FIXTURES / "lib",
        instance_dir=tmp_path,
        secret_key="test",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    return Services(config, db=db)


def _stored(services, version_id=1, filename=FILE) -> str:
    return ops.read_file(services, ADMIN, version_id, filename).content


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _state(services) -> tuple[int, int]:
    """How many versions and audit events exist: a refused call must leave both as they were."""
    with services.db.session() as s:
        return s.scalar(select(func.count(DefinitionVersion.id))), s.scalar(select(func.count(AuditEvent.id)))


# --------------------------------------------------------------------------- who may design
def test_a_non_designer_is_refused_by_the_engine_itself(services, library):
    before = _state(services)
    xml = _stored(services)
    calls = [
        lambda: ops.list_versions(services, OFFICER),
        lambda: ops.show_version(services, OFFICER, 1),
        lambda: ops.read_file(services, OFFICER, 1, FILE),
        lambda: ops.read_form(services, OFFICER, 1, "register"),
        lambda: ops.overlay(services, OFFICER, 1, FILE),
        lambda: ops.open_for_edit(services, OFFICER, FILE),
        lambda: ops.diff_file(services, OFFICER, FILE, 1, 1),
        lambda: ops.diff_versions(services, OFFICER, 1, 1),
        lambda: ops.validate_file(services, OFFICER, FILE, xml),
        lambda: ops.validate_bundle(services, OFFICER, library),
        lambda: ops.request_deploy(services, OFFICER, FILE, xml.replace("登记线索", "登记")),
    ]
    for call in calls:
        with pytest.raises(Forbidden) as info:
            call()
        assert info.value.details["reason"] == "studio_only"
    assert _state(services) == before
    assert not ops.may_design(services, OFFICER)
    assert ops.may_design(services, DESIGNER) and ops.may_design(services, ADMIN)
    # 三员分立: neither the security nor the audit administrator designs; nobody but the console deploys alone.
    assert not ops.may_design(services, SECURITY)
    assert not ops.may_design(services, Principal(username="auditadmin", admin_kind="audit"))
    for who in (OFFICER, DESIGNER, ADMIN):
        with pytest.raises(Forbidden) as info:
            ops.deploy_bundle(services, who, library)
        assert info.value.details["reason"] == "sanyuan_deploy_needs_approval"
    assert _state(services) == before


def test_the_studio_roles_are_a_setting(services, monkeypatch):
    assert ops.list_versions(services, DESIGNER).latest == 1
    services.config.studio_roles = frozenset({"case_management"})
    assert ops.list_versions(services, OFFICER).latest == 1
    with pytest.raises(Forbidden):
        ops.list_versions(services, DESIGNER)
    monkeypatch.setenv("GUANTONG_STUDIO_ROLES", " process_designer, security_admin ,")
    assert Config.from_env().studio_roles == {"process_designer", "security_admin"}


# --------------------------------------------------------------------------- validate
def test_a_broken_file_returns_each_problem_with_file_and_element_and_stores_nothing(services):
    before = _state(services)
    broken = (
        _stored(services)
        .replace('name="formKey" value="register"', 'name="formKey" value="no_such_form"')
        .replace('<bpmn:lane id="Lane_so" name="监督检查室">', '<bpmn:lane id="Lane_so" name="不存在的角色">')
    )
    result = ops.validate_file(services, DESIGNER, FILE, broken)
    assert not result.ok and result.based_on == 1
    found = {(p.file, p.element) for p in result.problems}
    assert (FILE, "register") in found and (FILE, "Lane_so") in found, result.problems
    assert all(p.reason for p in result.problems)
    with pytest.raises(DeployError) as info:
        deploy_file(services, DESIGNER, FILE, broken, comment="坏的")
    assert {(p["file"], p["element"]) for p in info.value.problems} == found
    assert _state(services) == before


def test_file_checks_come_before_the_xml_is_read(services):
    xml = _stored(services)
    cases = {
        ("../etc/passwd", xml): "bad_filename",
        (FILE, xml.replace("登记线索", "登记\x00线索")): "nul",
        (FILE, "  \n"): "empty",
        (FILE, "<x/>" + " " * (6 * 1024 * 1024)): "too_large",
    }
    for (filename, content), code in cases.items():
        problems = ops.validate_file(services, DESIGNER, filename, content).problems
        assert [(p.code, p.element) for p in problems] == [(code, None)], (code, problems)
    assert ops.validate_file(services, DESIGNER, FILE, xml).ok


def test_the_command_line_applies_the_studio_checks(services, tmp_path):
    """``Services.deploy_path`` (``guantong deploy``) goes through the same use case: a badly named file is refused."""
    library = tmp_path / "lib"
    shutil.copytree(FIXTURES / "lib", library)
    shutil.copy(library / "bpmn" / "waiter.bpmn", library / "bpmn" / "waiter copy.bpmn")
    before = _state(services)
    with pytest.raises(DeployError) as info:
        services.deploy_path(library, actor="ops")
    assert [(p["file"], p["code"]) for p in info.value.problems] == [("waiter copy.bpmn", "bad_filename")]
    assert _state(services) == before
    assert not ops.validate_bundle(services, DESIGNER, load_bundle(library)).ok
    assert services.deploy_path(FIXTURES / "lib", actor="ops") == (1, False)


# --------------------------------------------------------------------------- deploy
def test_deploy_creates_a_version_and_an_audit_event(services):
    original = _stored(services)
    changed = original.replace('name="登记线索"', 'name="登记问题线索"')
    done = deploy_file(services, DESIGNER, FILE, changed, base_sha=_sha(original), comment=" 改名\x00 ")
    assert done == ops.Deployment(version_id=2, created=True, based_on=1)
    overview = ops.list_versions(services, DESIGNER)
    assert overview.latest == 2
    newest = overview.versions[0]
    assert (newest.id, newest.created_by, newest.comment, newest.processes) == (2, "sheji", "改名", 4)
    with services.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "deployed", AuditEvent.version_id == 2))
        assert event.actor == "sheji" and FILE in event.detail["files"]
    assert 'name="登记问题线索"' in _stored(services, 2)
    assert _stored(services, 1) == original  # versions are immutable
    again = deploy_file(services, DESIGNER, FILE, changed)
    assert again == ops.Deployment(version_id=2, created=False, based_on=2)


def test_a_stale_base_is_a_conflict_and_changes_nothing(services):
    original = _stored(services)
    deploy_file(services, DESIGNER, FILE, original.replace('name="登记线索"', 'name="登记问题线索"'))
    before = _state(services)
    draft_of_v1 = ops.open_for_edit(services, DESIGNER, FILE, version_id=1)
    assert draft_of_v1.base_sha != _sha(original) and draft_of_v1.latest == 2
    with pytest.raises(Conflict) as info:
        deploy_file(services, ADMIN, FILE, original.replace('name="登记线索"', 'name="登记"'), base_sha=_sha(original))
    assert info.value.details == {"file": FILE, "version": 2, "reason": "stale_base"}
    assert _state(services) == before
    # Opened from the latest version, the same edit goes through.
    done = deploy_file(
        services, ADMIN, FILE, original.replace('name="登记线索"', 'name="登记"'), base_sha=draft_of_v1.base_sha
    )
    assert done.created and done.version_id == 3


def test_two_deploys_at_once_keep_both_changes(services, db):
    """The second deploy waits for the first and builds on its version (PostgreSQL's advisory lock)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in one process; the lock is PostgreSQL's")
    clue = _stored(services).replace('name="登记线索"', 'name="登记问题线索"')
    monthly = _stored(services, 1, "monthly.bpmn").replace('name="测试月例会"', 'name="测试月度例会"')
    done: dict[str, ops.Deployment] = {}
    second = threading.Thread(target=lambda: done.update(v=deploy_file(services, DESIGNER, "monthly.bpmn", monthly)))
    with services.db.session() as s:  # the first deploy, holding the lock while it stores
        ops._one_deploy_at_a_time(s)
        second.start()
        time.sleep(0.5)
        assert second.is_alive() and not done
        services.definitions.store(
            s, compile_bundle(services.definitions.stored_bundle(s, 1).with_bpmn(FILE, clue.encode()))
        )
    second.join(timeout=60)
    assert done["v"] == ops.Deployment(version_id=3, created=True, based_on=2)
    assert 'name="登记问题线索"' in _stored(services, 3) and 'name="测试月度例会"' in _stored(
        services, 3, "monthly.bpmn"
    )


# --------------------------------------------------------------------------- browse and compare
def test_diff_names_the_changed_files(services):
    original = _stored(services)
    deploy_file(services, DESIGNER, FILE, original.replace('name="登记线索"', 'name="登记问题线索"'))
    waiter = _stored(services, 1, "waiter.bpmn")
    copy = waiter.replace('"gt_test_waiter"', '"gt_test_waiter_copy"').replace(
        '"gt_test_intake"', '"gt_test_intake_copy"'
    )
    deploy_file(services, DESIGNER, "waiter_copy.bpmn", copy)
    diff = ops.diff_versions(services, DESIGNER, 1, 3)
    assert diff.files_changed == (FILE,)
    assert diff.files_added == ("waiter_copy.bpmn",) and diff.files_removed == ()
    assert diff.forms_changed == diff.forms_added == () and not diff.roles_changed and not diff.settings_changed
    text = ops.diff_file(services, DESIGNER, FILE, 1, 2)
    assert any(line.startswith("-") and "登记线索" in line for line in text.lines)
    assert any(line.startswith("+") and "登记问题线索" in line for line in text.lines)
    assert ops.diff_file(services, DESIGNER, "monthly.bpmn", 1, 2).lines == ()
    added = ops.diff_file(services, DESIGNER, "waiter_copy.bpmn", 2, 3)
    assert added.missing_a and not added.missing_b
    with pytest.raises(NotFound):
        ops.diff_file(services, DESIGNER, "nope.bpmn", 1, 3)
    detail = ops.show_version(services, DESIGNER, 3)
    assert {f.filename: f.change for f in detail.files} == {
        FILE: None,
        "monthly.bpmn": None,
        "waiter.bpmn": None,
        "waiter_copy.bpmn": "added",
    }
    assert {f.filename: f.change for f in ops.show_version(services, DESIGNER, 2).files}[FILE] == "changed"


def test_versions_files_forms_and_live_counts(services):
    starter = Principal(username="cm1", memberships=frozenset({("ags", "case_management")}))
    services.runtime.start("gt_test_clue", actor=starter)
    services.runtime.start("gt_test_clue", actor=starter)
    overview = ops.list_versions(services, DESIGNER)
    assert overview.versions[0].instances == ops.Counts(total=2, live=2)
    clue = next(p for p in overview.processes if p.process_key == "gt_test_clue")
    assert clue.instances == ops.Counts(2, 2) and clue.filename == FILE
    assert ops.overlay(services, DESIGNER, 1, FILE) == {"register": {"ready": 2}}
    assert ops.overlay(services, DESIGNER, 1, "monthly.bpmn") == {}
    assert ops.read_file(services, DESIGNER, 1, FILE).processes == (("gt_test_clue", "测试线索处置"),)
    form = ops.read_form(services, DESIGNER, 1, "register")
    form["title"] = "changed by the caller"
    assert ops.read_form(services, DESIGNER, 1, "register") != form
    for call in (
        lambda: ops.read_form(services, DESIGNER, 1, "nope"),
        lambda: ops.read_file(services, DESIGNER, 1, "nope.bpmn"),
        lambda: ops.overlay(services, DESIGNER, 1, "nope.bpmn"),
        lambda: ops.show_version(services, DESIGNER, 99),
    ):
        with pytest.raises(NotFound):
            call()
