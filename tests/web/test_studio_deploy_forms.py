"""The studio's deploy carries the forms edited in the same session (issue 17): the modeler sends the
form editor's drafts with the diagram; validation checks them together, the approval page shows the
element changes and each form's text diff on one request, one approval makes one version; a bad draft
or a form the diagram still reads refuses the request with nothing stored, a stale form is a 409."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from engine.definitions.forms_studio import form_hash
from engine.models import ApprovalRequest, DefinitionFile, DefinitionVersion

FILE = "clue_simple.bpmn"


def _stored(services) -> tuple[str, dict]:
    with services.db.session() as s:
        xml = s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 1, DefinitionFile.filename == FILE)
        )
        forms = s.scalar(select(DefinitionVersion.forms).where(DefinitionVersion.id == 1))
    return xml, dict(forms)


def _draft(forms: dict, key: str, change) -> dict:
    schema = json.loads(json.dumps(forms[key]))
    change(schema)
    return {"key": key, "schema": json.dumps(schema, ensure_ascii=False), "base_sha": form_hash(forms[key])}


def _post(client, url, xml, drafts):
    forms = drafts if isinstance(drafts, str) else json.dumps(drafts, ensure_ascii=False)
    return client.post(
        url, data={"filename": FILE, "xml": xml, "forms": forms}, headers={"X-CSRFToken": client.token()}
    )


def _counts(services) -> tuple[int, int]:
    with services.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(ApprovalRequest)),
            s.scalar(select(func.count()).select_from(DefinitionVersion)),
        )


def _relabel(schema):
    schema["properties"]["clue_no"]["title"] = "线索编号（文号）"


def test_one_request_shows_the_diagram_and_the_form_and_one_approval_makes_one_version(client_for, services):
    xml, forms = _stored(services)
    xml = xml.replace('name="登记线索"', 'name="登记问题线索"')
    admin = client_for("admin")
    drafts = [_draft(forms, "register", _relabel)]
    checked = _post(admin, "/studio/validate", xml, drafts)
    assert checked.status_code == 200 and checked.json["ok"], checked.json
    asked = _post(admin, "/studio/deploy", xml, drafts)
    assert asked.status_code == 200 and asked.json["forms"] == ["register"], asked.json
    page = client_for("secadmin").get(f"/admin/approvals/{asked.json['request']}").get_data(as_text=True)
    assert 'data-element-id="register"' in page  # the diagram's element change
    assert 'data-form="forms/register.json"' in page and "线索编号（文号）" in page  # the form's text diff
    assert "一并修改的表单" in page
    assert client_for("secadmin").post(f"/admin/approvals/{asked.json['request']}/approve").status_code == 302
    assert _counts(services) == (1, 2)
    with services.db.session() as s:
        v2 = s.get(DefinitionVersion, 2)
        assert v2.forms["register"]["properties"]["clue_no"]["title"] == "线索编号（文号）"
        assert "登记问题线索" in s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 2, DefinitionFile.filename == FILE)
        )


def test_bad_drafts_and_breaking_forms_are_refused_with_nothing_stored(client_for, services):
    xml, forms = _stored(services)
    admin = client_for("admin")
    garbled = _post(admin, "/studio/deploy", xml, "[{not json")
    assert garbled.status_code == 422 and "表单草稿无法读取" in garbled.json["message"]
    assert _post(admin, "/studio/deploy", xml, {"key": "register"}).status_code == 422  # not a list
    unreadable = [{"key": "register", "schema": '{"type": ', "base_sha": form_hash(forms["register"])}]
    for url in ("/studio/validate", "/studio/deploy"):
        resp = _post(admin, url, xml, unreadable)
        assert resp.status_code == 422 and "第 1 行" in resp.json["problems"][0]["reason"], resp.json
    dropped = [_draft(forms, "register", lambda s: s["properties"]["handling_unit"].pop("x-process"))]
    for url in ("/studio/validate", "/studio/deploy"):
        resp = _post(admin, url, xml, dropped)
        assert resp.status_code == 422 and "handling_unit" in " ".join(p["reason"] for p in resp.json["problems"])
    assert _counts(services) == (0, 1)


def test_a_form_changed_since_it_was_opened_is_a_409_naming_the_form(client_for, services):
    xml, forms = _stored(services)
    stale = {**_draft(forms, "register", _relabel), "base_sha": "0" * 64}
    resp = _post(client_for("admin"), "/studio/deploy", xml, [stale])
    assert resp.status_code == 409 and "forms/register.json" in resp.json["message"], resp.json
    assert _counts(services) == (0, 1)


def test_a_designer_may_not_approve_the_combined_request_himself(client_for, services):
    xml, forms = _stored(services)
    admin = client_for("admin")
    asked = _post(
        admin, "/studio/deploy", xml.replace("登记线索", "登记问题线索"), [_draft(forms, "register", _relabel)]
    )
    admin.post(f"/admin/approvals/{asked.json['request']}/approve")
    assert _counts(services) == (1, 1)
    refused = client_for("secadmin").post(
        f"/admin/approvals/{asked.json['request']}/reject", data={"reason": "表单改名不妥"}
    )
    assert refused.status_code == 302 and _counts(services) == (1, 1)
