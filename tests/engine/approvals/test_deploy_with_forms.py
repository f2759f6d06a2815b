"""One deploy request carries a diagram and the forms edited in the same studio session (issue 17): the
approver reads the element changes and each form's text diff on one request, approves once, and one new
version holds both; a refused or unreadable change stores nothing, and a stale form is a conflict."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.approvals import operations as approvals
from engine.definitions import operations as studio
from engine.definitions.forms_studio import form_hash
from engine.errors import Conflict, DeployError
from engine.models import ApprovalRequest, AuditEvent, DefinitionFile, DefinitionVersion

FILE = "clue_simple.bpmn"


def _stored(services) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 1, DefinitionFile.filename == FILE)
        )


def _form(services, key: str) -> dict:
    with services.db.session() as s:
        return dict(s.scalar(select(DefinitionVersion.forms).where(DefinitionVersion.id == 1))[key])


def _count(services, model) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _relabelled(services, title: str = "线索编号（文号）") -> studio.FormEdit:
    schema = _form(services, "register")
    schema["properties"]["clue_no"]["title"] = title
    return studio.FormEdit("register", json.dumps(schema, ensure_ascii=False), form_hash(_form(services, "register")))


def test_a_diagram_and_its_form_are_approved_once_and_deployed_as_one_version(county, who):
    diagram = _stored(county).replace('name="登记线索"', 'name="登记问题线索"')
    asked = studio.request_deploy(county, who("admin"), FILE, diagram, forms=[_relabelled(county)], comment="一并")
    assert asked.forms == ("register",)
    with county.db.session() as s:
        [event] = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "approval_requested")).all()
    assert event["forms"] == ["register"]  # the keys in the trail, the schemas only in the request

    detail = approvals.show_request(county, who("secadmin"), asked.request_id)
    assert [e.id for e in detail.changes] == ["register"]  # the diagram's element change
    assert dict(detail.request.details)["forms"] == "forms/register.json"
    assert "+++ requested/clue_simple.bpmn" in detail.diff
    [(name, lines)] = detail.form_diffs
    assert name == "forms/register.json" and "+++ requested/forms/register.json" in lines
    assert any(line.startswith("+") and "线索编号（文号）" in line for line in lines)
    assert any(line.startswith("-") and '"线索编号"' in line for line in lines)

    done = approvals.approve(county, who("secadmin"), asked.request_id)
    assert dict(done.result) == {"version": 2, "created": True, "based_on": 1}
    assert _count(county, DefinitionVersion) == 2  # one new version, not one per file
    with county.db.session() as s:
        version = s.get(DefinitionVersion, 2)
        assert version.forms["register"]["properties"]["clue_no"]["title"] == "线索编号（文号）"
        assert version.forms["approve"] == s.get(DefinitionVersion, 1).forms["approve"]
        content = s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 2, DefinitionFile.filename == FILE)
        )
    assert 'name="登记问题线索"' in content


def test_bad_or_breaking_form_edits_refuse_the_whole_request_and_store_nothing(county, who):
    diagram = _stored(county).replace('name="登记线索"', 'name="登记问题线索"')
    unreadable = studio.FormEdit("register", '{"type": "object", "properties": ', "")
    with pytest.raises(DeployError) as refused:
        studio.request_deploy(county, who("admin"), FILE, diagram, forms=[unreadable])
    assert refused.value.problems[0]["code"] == "form_json"
    dropped = _form(county, "register")
    dropped["properties"]["handling_unit"].pop("x-process")  # the diagram still reads handling_unit
    with pytest.raises(DeployError) as refused:
        studio.request_deploy(
            county,
            who("admin"),
            FILE,
            diagram,
            forms=[studio.FormEdit("register", json.dumps(dropped), form_hash(_form(county, "register")))],
        )
    assert {p["code"] for p in refused.value.problems} == {"form_field_read"}
    with pytest.raises(DeployError):
        studio.request_deploy(county, who("admin"), FILE, diagram, forms=[studio.FormEdit("Bad Key", "{}")])
    with pytest.raises(DeployError):  # the same form twice: which one would the version hold?
        studio.request_deploy(county, who("admin"), FILE, diagram, forms=[_relabelled(county)] * 2)
    assert (_count(county, ApprovalRequest), _count(county, DefinitionVersion)) == (0, 1)


def test_a_form_deployed_by_someone_else_since_is_a_conflict_and_a_rejection_deploys_nothing(county, who):
    diagram = _stored(county).replace('name="登记线索"', 'name="登记问题线索"')
    together = studio.request_deploy(county, who("admin"), FILE, diagram, forms=[_relabelled(county)])
    # Meanwhile another form edit of register, from the same base, is approved first.
    from engine.definitions import forms_studio

    other = _form(county, "register")
    other["properties"]["clue_no"]["title"] = "线索号"
    alone = forms_studio.request_form_deploy(
        county, who("admin"), "register", json.dumps(other), base_sha=form_hash(_form(county, "register"))
    )
    approvals.approve(county, who("secadmin"), alone.request_id)
    with pytest.raises(Conflict) as stale:
        approvals.approve(county, who("secadmin"), together.request_id)
    assert stale.value.details["reason"] == "stale_base"
    assert _count(county, DefinitionVersion) == 2  # the combined request changed nothing
    with pytest.raises(Conflict):  # asking again from the old base is refused at once
        studio.request_deploy(county, who("admin"), FILE, diagram, forms=[_relabelled(county)])
    approvals.reject(county, who("secadmin"), together.request_id, reason="表单已被他人修改")
    assert _count(county, DefinitionVersion) == 2
