"""The studio's 校验 says the data-flow and structural findings in the reader's language, names the element
(id and name) for the modeler to mark, and lists warnings apart from problems (issue 17)."""

from sqlalchemy import select

from engine.models import DefinitionFile

FILE = "clue_simple.bpmn"
LATE_TASK = '<spiffworkflow:property name="formKey" value="approve"/></spiffworkflow:properties></bpmn:extensionElements>\n      <bpmn:incoming>f_late</bpmn:incoming>'


def _stored(services) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 1, DefinitionFile.filename == FILE)
        )


def _post(client, url, xml, **extra):
    return client.post(url, data={"filename": FILE, "xml": xml, **extra}, headers={"X-CSRFToken": client.token()})


def test_validate_names_the_element_and_the_unset_variable_in_chinese(client_for, services):
    admin = client_for("admin")
    xml = _stored(services)
    assert LATE_TASK in xml
    broken = xml.replace(
        LATE_TASK,
        LATE_TASK.replace(
            'value="approve"/>', 'value="approve"/><spiffworkflow:property name="unitVar" value="disposal"/>'
        ),
    )
    resp = _post(admin, "/studio/validate", broken)
    assert resp.status_code == 422
    (problem,) = resp.json["problems"]
    assert problem["element"] == "escalated" and problem["name"] == "督办逾期处置"
    assert "disposal" in problem["reason"] and "办理单位变量" in problem["reason"]
    deploy = _post(admin, "/studio/deploy", broken)
    assert deploy.status_code == 422 and deploy.json["problems"][0]["element"] == "escalated"


def test_validate_lists_warnings_apart_and_still_passes(client_for, services):
    admin = client_for("admin")
    resp = _post(admin, "/studio/validate", _stored(services))
    assert resp.status_code == 200 and resp.json["ok"] is True
    said = [(w["element"], w["reason"]) for w in resp.json["warnings"]]
    assert ("register", "用户任务没有指定办理单位变量（unitVar）。") in said
    assert ("propose", "用户任务既没有办理时限（dueIn），也没有说明不设时限的理由（noDueReason）。") not in said
    assert all(w["file"] == FILE for w in resp.json["warnings"])


def test_validate_says_what_the_edit_changes_for_the_deploy_confirmation(client_for, services):
    admin = client_for("admin")
    resp = _post(admin, "/studio/validate", _stored(services).replace('name="登记线索"', 'name="登记问题线索"'))
    assert resp.status_code == 200
    changes = resp.json["changes"]
    assert changes["summary"] == {"added": 0, "removed": 0, "changed": 1, "forms": 0}
    assert changes["elements"] == [
        {
            "id": "register",
            "name": "登记问题线索",
            "kind": "userTask",
            "change": "changed",
            "said": "修改",
            "properties": ["name"],
        }
    ]
