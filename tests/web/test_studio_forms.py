"""The studio's form editor (issue 17): a form's JSON Schema checked as a deploy would, with a preview
rendered by the officers' own form macros and the fields the process reads; clear errors for broken
JSON, a wrong schema and a field a process still needs; new and changed forms deployed through a
second person's approval like a diagram; designers only."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from engine.models import DefinitionVersion

PROPOSE = {
    "title": "处置意见",
    "type": "object",
    "required": ["disposal"],
    "properties": {
        "disposal": {
            "title": "处置方式",
            "x-process": True,
            "oneOf": [
                {"const": "tanhua_hanxun", "title": "谈话函询"},
                {"const": "chubu_heshi", "title": "初步核实"},
                {"const": "zancun", "title": "暂存待查"},
                {"const": "liaojie", "title": "予以了结"},
            ],
        },
        "reason": {"type": "string", "title": "理由", "x-widget": "textarea"},
    },
}


def _check(client, key, text):
    return client.post(
        "/studio/forms/check", data={"key": key, "schema": text}, headers={"X-CSRFToken": client.token()}
    )


def _deploy(client, key, text, **extra):
    return client.post(
        "/studio/forms/deploy", data={"key": key, "schema": text, **extra}, headers={"X-CSRFToken": client.token()}
    )


def test_editor_opens_a_form_with_the_tasks_that_use_it(client_for):
    html = client_for("admin").get("/studio/forms/edit?key=propose").get_data(as_text=True)
    assert "处置方式" in html and "gt_test_clue:propose" in html
    new = client_for("admin").get("/studio/forms/edit?key=new_form").get_data(as_text=True)
    assert "新表单" in new
    assert client_for("admin").get("/studio/forms/edit?key=Bad-Key").status_code == 404


def test_check_previews_with_the_task_macros_and_lists_what_the_process_reads(client_for):
    changed = json.loads(json.dumps(PROPOSE))
    changed["properties"]["reason"]["title"] = "处置理由（含依据）"
    resp = _check(client_for("admin"), "propose", json.dumps(changed, ensure_ascii=False))
    assert resp.status_code == 200, resp.json
    assert resp.json["ok"] is True and resp.json["process_fields"] == ["disposal"]
    assert "处置理由（含依据）" in resp.json["preview"]
    assert "<textarea" in resp.json["preview"]  # the widget the task page draws for x-widget: textarea
    assert 'value="liaojie"' in resp.json["preview"]
    assert resp.json["used_by"] == [{"process": "gt_test_clue", "task": "propose", "name": "提出处置意见"}]


def test_broken_json_says_line_and_column(client_for):
    resp = _check(client_for("admin"), "propose", '{"title": "x",\n  "properties": {,}}')
    assert resp.status_code == 422
    (problem,) = resp.json["problems"]
    assert "不是有效的 JSON：第 2 行第 18 列" in problem["reason"]
    assert resp.json["preview"] == ""


def test_wrong_schema_names_the_place(client_for):
    bad = {**PROPOSE, "properties": {**PROPOSE["properties"], "reason": {"type": "text", "title": "理由"}}}
    resp = _check(client_for("admin"), "propose", json.dumps(bad, ensure_ascii=False))
    assert resp.status_code == 422
    (problem,) = resp.json["problems"]
    assert problem["reason"].startswith("不是有效的 JSON Schema：位置 properties/reason/type")


def test_removing_a_field_the_process_tests_is_refused_naming_the_gateway(client_for):
    without = {**PROPOSE, "required": [], "properties": {"reason": PROPOSE["properties"]["reason"]}}
    resp = _check(client_for("admin"), "propose", json.dumps(without, ensure_ascii=False))
    assert resp.status_code == 422
    said = " ".join(p["reason"] for p in resp.json["problems"])
    assert "disposal" in said, said
    assert any(p["element"] in ("f_close", "gw_disposal") for p in resp.json["problems"]), resp.json["problems"]
    assert resp.json["process_fields"] == []


def test_new_form_deployed_after_a_second_persons_approval(client_for, services):
    admin = client_for("admin")
    form = {"title": "补充材料", "type": "object", "properties": {"note": {"type": "string", "title": "说明"}}}
    text = json.dumps(form, ensure_ascii=False)
    resp = _deploy(admin, "extra_note", text, comment="新增补充材料表单")
    assert resp.status_code == 200 and resp.json["ok"], resp.json
    request = resp.json["request"]
    admin.post(f"/admin/approvals/{request}/approve")  # the designer may not approve his own request
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == 1
    secadmin = client_for("secadmin")
    page = secadmin.get(f"/admin/approvals/{request}").get_data(as_text=True)
    assert "forms/extra_note.json" in page and "补充材料" in page
    assert secadmin.post(f"/admin/approvals/{request}/approve").status_code == 302
    with services.db.session() as s:
        versions = s.execute(select(DefinitionVersion.id, DefinitionVersion.forms).order_by(DefinitionVersion.id)).all()
    assert len(versions) == 2
    assert versions[1].forms["extra_note"] == form
    assert set(versions[0].forms) | {"extra_note"} == set(versions[1].forms)


def test_a_form_changed_since_it_was_opened_is_a_conflict(client_for):
    admin = client_for("admin")
    stale = "0" * 64
    changed = {**PROPOSE, "title": "处置意见（新）"}
    resp = _deploy(admin, "propose", json.dumps(changed, ensure_ascii=False), base_sha=stale)
    assert resp.status_code == 409 and "已被他人修改" in resp.json["message"]


def test_form_editor_for_designers_only(client_for):
    for username in ("cm1", "boss"):
        client = client_for(username)
        assert client.get("/studio/forms/edit?key=propose").status_code == 403
        assert _check(client, "propose", json.dumps(PROPOSE)).status_code == 403
        assert _deploy(client, "propose", json.dumps(PROPOSE)).status_code == 403
