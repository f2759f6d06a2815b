"""The process studio: versions, diagrams with live counts, validate and deploy through the engine, diffs, access.

A deploy from the studio is a request: it takes effect when a security administrator other than the
designer approves it on /admin/approvals (三员分立)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, DefinitionFile, DefinitionVersion, ProcessDefinition
from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - fixtures
from web.studio import layout

FILE = "clue_simple.bpmn"


def _stored(services, version_id=1, filename=FILE) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(
                DefinitionFile.version_id == version_id, DefinitionFile.filename == filename
            )
        )


def _post(client, url, xml, filename=FILE, **extra):
    return client.post(url, data={"filename": filename, "xml": xml, **extra}, headers={"X-CSRFToken": client.token()})


def _approve(client_for, resp, approver="secadmin"):
    """Approve the deploy request a studio deploy answered with; the approver's client."""
    assert resp.status_code == 200 and resp.json["pending"] is True, resp.json
    client = client_for(approver)
    assert client.post(f"/admin/approvals/{resp.json['request']}/approve").status_code == 302
    return client


def _versions(services):
    with services.db.session() as s:
        return s.execute(
            select(DefinitionVersion.id, DefinitionVersion.created_by, DefinitionVersion.comment).order_by(
                DefinitionVersion.id
            )
        ).all()


# --------------------------------------------------------------------------- access
def _pages():
    return [
        "/studio/",
        "/studio/versions/1",
        f"/studio/versions/1/files/{FILE}",
        f"/studio/versions/1/xml/{FILE}",
        f"/studio/versions/1/overlay/{FILE}",
        "/studio/versions/1/forms/register",
        f"/studio/edit/{FILE}",
        f"/studio/diff?file={FILE}&a=1&b=1",
    ]


def test_studio_pages_for_admins(client_for):
    admin = client_for("admin")
    for url in _pages():
        resp = admin.get(url)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
    assert "流程设计" in admin.get("/inbox").get_data(as_text=True)


def test_studio_is_403_for_everyone_else_and_audited(client_for, services):
    for username in ("cm1", "boss"):
        client = client_for(username)
        for url in _pages():
            assert client.get(url).status_code == 403, (username, url)
        assert _post(client, "/studio/validate", _stored(services)).status_code == 403
        assert _post(client, "/studio/deploy", _stored(services)).status_code == 403
        assert 'href="/studio/"' not in client.get("/inbox").get_data(as_text=True)
    with services.db.session() as s:
        reasons = {
            e.detail.get("reason") for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied"))
        }
    assert reasons == {"studio_only"}
    assert len(_versions(services)) == 1


def test_studio_roles_are_a_setting(services, client_for):
    assert client_for("cm1").get("/studio/").status_code == 403
    services.config.studio_roles = frozenset({"case_management"})
    assert client_for("cm1").get("/studio/").status_code == 200


def test_validate_and_deploy_need_the_csrf_token(client_for, services):
    admin = client_for("admin")
    xml = _stored(services)
    assert admin.http.post("/studio/validate", data={"filename": FILE, "xml": xml}).status_code == 400
    assert admin.http.post("/studio/deploy", data={"filename": FILE, "xml": xml}).status_code == 400
    assert len(_versions(services)) == 1


# --------------------------------------------------------------------------- versions and diagrams
def test_versions_list_processes_and_instance_counts(client_for, start_clue):
    start_clue()
    start_clue()
    admin = client_for("admin")
    html = admin.get("/studio/").get_data(as_text=True)
    row = html.split('data-version="1"')[1].split("</tr>")[0]
    assert "tester" in row and ">2 / 2<" in row
    version = admin.get("/studio/versions/1").get_data(as_text=True)
    for text in ("gt_test_clue", "测试线索处置", "处置问题", "P5", "M2", FILE, "monthly.bpmn", "定时触发"):
        assert text in version, text


def test_file_without_a_diagram_gets_a_layout(client_for, services):
    admin = client_for("admin")
    assert "BPMNDiagram" not in _stored(services)
    resp = admin.get(f"/studio/versions/1/xml/{FILE}")
    assert resp.mimetype == "application/xml"
    xml = resp.get_data(as_text=True)
    assert "BPMNDiagram" in xml and 'bpmnElement="register"' in xml and 'bpmnElement="propose_late"' in xml
    assert "自动生成简单布局" in admin.get(f"/studio/versions/1/files/{FILE}").get_data(as_text=True)
    # the generated layout is valid BPMN the engine accepts as is
    ok = _post(admin, "/studio/validate", xml)
    assert ok.status_code == 200 and ok.json["ok"] is True


def test_layout_keeps_a_file_that_has_a_diagram():
    laid_out, generated = layout.ensure_diagram(
        (Path(__file__).parent.parent / "fixtures" / "lib" / "bpmn" / FILE).read_text()
    )
    assert generated
    again, generated_again = layout.ensure_diagram(laid_out)
    assert again == laid_out and not generated_again


def test_overlay_counts_ready_tasks_per_element(client_for, start_clue, services, who):
    for _ in range(3):
        start_clue()
    admin = client_for("admin")
    assert admin.get(f"/studio/versions/1/overlay/{FILE}").json == {"elements": {"register": {"ready": 3}}}
    assert admin.get("/studio/versions/1/overlay/monthly.bpmn").json == {"elements": {}}
    assert admin.get("/studio/versions/1/overlay/nope.bpmn").status_code == 404
    assert admin.get("/studio/versions/99/files/x.bpmn").status_code == 404


def test_a_form_of_a_version_as_json(client_for):
    admin = client_for("admin")
    schema = admin.get("/studio/versions/1/forms/register").json
    assert schema["type"] == "object" and schema["properties"]
    assert admin.get("/studio/versions/1/forms/nope").status_code == 404


# --------------------------------------------------------------------------- validate and deploy
def test_validate_reports_problems_naming_the_element(client_for, services):
    admin = client_for("admin")
    xml = _stored(services).replace('name="formKey" value="register"', 'name="formKey" value="no_such_form"')
    resp = _post(admin, "/studio/validate", xml)
    assert resp.status_code == 422
    problems = resp.json["problems"]
    assert problems and all(set(p) == {"file", "element", "name", "reason"} for p in problems)
    assert any(p["element"] == "register" and p["file"] == FILE for p in problems), problems
    broken = _post(admin, "/studio/validate", "<bpmn:definitions")
    assert broken.status_code == 422 and broken.json["problems"][0]["file"] == FILE
    bad_name = _post(admin, "/studio/validate", _stored(services), filename="../etc/passwd")
    assert bad_name.status_code == 422 and "文件名" in bad_name.json["problems"][0]["reason"]
    nul = _post(admin, "/studio/validate", _stored(services).replace("登记线索", "登记\x00线索"))
    assert nul.status_code == 422 and "NUL" in nul.json["problems"][0]["reason"]
    assert len(_versions(services)) == 1


def test_validate_shows_a_need_to_know_declaration_deploy_refuses(client_for, services):
    """The designers see the 知悉范围 rules like every other deploy error: file, element id, rule."""
    admin = client_for("admin")
    unit = '<spiffworkflow:property name="unitVar" value="handling_unit"/>'
    xml = _stored(services)
    assert unit in xml
    resp = _post(
        admin, "/studio/validate", xml.replace(unit, unit + '<spiffworkflow:property name="reads" value="x"/>')
    )
    assert resp.status_code == 422
    assert {
        "file": FILE,
        "element": "propose",
        "name": "提出处置意见",
        "reason": resp.json["problems"][0]["reason"],
    } in resp.json["problems"]
    assert "reads: file" in resp.json["problems"][0]["reason"]
    assert len(_versions(services)) == 1


def test_deploy_refused_shows_the_element_and_stores_nothing(client_for, services):
    admin = client_for("admin")
    xml = _stored(services).replace(
        '<bpmn:lane id="Lane_so" name="监督检查室">', '<bpmn:lane id="Lane_so" name="不存在的角色">'
    )
    resp = _post(admin, "/studio/deploy", xml, comment="坏的")
    assert resp.status_code == 422
    assert any(p["element"] in ("propose", "Lane_so") for p in resp.json["problems"]), resp.json
    assert len(_versions(services)) == 1


def test_deploy_a_changed_file_then_unchanged_then_diff(client_for, services, start_clue):
    old = start_clue()
    admin = client_for("admin")
    original = _stored(services)
    # The rebuilt latest bundle is the stored one: approving the same file changes nothing.
    same = _post(admin, "/studio/deploy", original)
    sec = _approve(client_for, same)
    assert "内容未改变" in sec.get(f"/admin/approvals/{same.json['request']}").get_data(as_text=True)
    assert len(_versions(services)) == 1
    changed = original.replace('name="登记线索"', 'name="登记问题线索"')
    assert _post(admin, "/studio/validate", changed).json["ok"] is True
    resp = _post(
        admin, "/studio/deploy", changed, comment="调整环节名称", base_sha=hashlib.sha256(original.encode()).hexdigest()
    )
    n = resp.json["request"]
    assert resp.json == {
        "ok": True,
        "pending": True,
        "request": n,
        "message": f"deploy requested: approval request {n}",
        "text": f"已提交部署申请（第 {n} 号），经安全管理员批准后生效。",
        "url": f"/admin/approvals/{n}",
    }
    # Nothing is deployed until a security administrator approves; he reads the change first.
    assert len(_versions(services)) == 1
    page = sec.get(f"/admin/approvals/{n}").get_data(as_text=True)
    assert "登记问题线索" in page and '<ins class="diff-add">+' in page and "调整环节名称" in page
    # The designer may not approve his own deploy, and no other kind of administrator may approve it.
    assert admin.post(f"/admin/approvals/{n}/approve").status_code == 403
    assert client_for("auditadmin").post(f"/admin/approvals/{n}/approve").status_code == 403
    assert len(_versions(services)) == 1
    _approve(client_for, resp)
    assert _versions(services)[-1] == (2, "admin", "调整环节名称")
    with services.db.session() as s:
        revisions = dict(
            s.execute(
                select(ProcessDefinition.process_key, ProcessDefinition.revision).where(
                    ProcessDefinition.version_id == 2
                )
            ).all()
        )
        files = set(s.scalars(select(DefinitionFile.filename).where(DefinitionFile.version_id == 2)))
        deployed = s.scalar(select(AuditEvent).where(AuditEvent.action == "deployed", AuditEvent.version_id == 2))
    assert revisions["gt_test_clue"] == 2 and revisions["gt_test_monthly"] == 1
    assert files == {"clue_simple.bpmn", "monthly.bpmn", "waiter.bpmn"} and deployed.actor == "admin"
    assert (deployed.detail["requested_by"], deployed.detail["approved_by"]) == ("admin", "secadmin")
    # Someone opened version 1's file before the change: deploying it over version 2 is a conflict.
    stale = _post(
        admin,
        "/studio/deploy",
        original.replace('name="登记线索"', 'name="登记"'),
        base_sha=hashlib.sha256(original.encode()).hexdigest(),
    )
    assert stale.status_code == 409 and stale.json["conflict"] is True
    index = admin.get("/studio/").get_data(as_text=True)
    assert "调整环节名称" in index and "第 2 版" in index
    version = admin.get("/studio/versions/2").get_data(as_text=True)
    assert "有修改" in version and f"/studio/diff?file={FILE}&amp;a=1&amp;b=2" in version
    diff = admin.get(f"/studio/diff?file={FILE}&a=1&b=2").get_data(as_text=True)
    assert '<del class="diff-del">-' in diff and "登记线索" in diff
    assert '<ins class="diff-add">+' in diff and "登记问题线索" in diff
    same_diff = admin.get("/studio/diff?file=monthly.bpmn&a=1&b=2").get_data(as_text=True)
    assert "内容相同" in same_diff
    assert admin.get("/studio/diff?file=nope.bpmn&a=1&b=2").status_code == 404
    # Instances keep the version they started on.
    overlay = admin.get(f"/studio/versions/1/overlay/{FILE}").json
    assert overlay == {"elements": {"register": {"ready": 1}}}
    assert admin.get(f"/studio/versions/2/overlay/{FILE}").json == {"elements": {}}
    assert old.instance_id


def test_deploy_a_new_file(client_for, services):
    admin = client_for("admin")
    xml = _stored(services, filename="waiter.bpmn")
    ids = set(re.findall(r'<bpmn:process id="([^"]+)"', xml))
    renamed = xml
    for pid in ids:
        renamed = renamed.replace(f'"{pid}"', f'"{pid}_copy"')
    resp = _post(admin, "/studio/deploy", renamed, filename="waiter_copy.bpmn", comment="复制")
    assert resp.status_code == 200, json.dumps(resp.json, ensure_ascii=False)
    _approve(client_for, resp)
    with services.db.session() as s:
        keys = set(s.scalars(select(ProcessDefinition.process_key).where(ProcessDefinition.version_id == 2)))
    assert {f"{pid}_copy" for pid in ids} <= keys


# --------------------------------------------------------------------------- in a real browser
@pytest.mark.browser
def test_designer_renames_validates_and_deploys_in_the_modeler(live_server, browser, services, who):  # noqa: F811 - pytest fixtures imported above
    """bpmn-js under the app's CSP (script-src 'self'): view with live counts, edit, validate, deploy.

    Also renders the cockpit pages a leader opens. Screenshots go to docs/screenshots/ only with
    UPDATE_SCREENSHOTS=1.
    """
    base = live_server
    cm1 = who("cm1")
    outcome = services.runtime.start("gt_test_clue", actor=cm1, business_key="XS-2024-101")
    services.runtime.start("gt_test_clue", actor=cm1, business_key="XS-2024-102")
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN")
    page = context.new_page()
    errors, csp = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    _sign_in(page, base, "admin")

    # ---- the viewer shows where the running instances are
    page.goto(f"{base}/studio/versions/1/files/{FILE}")
    page.wait_for_selector("[data-testid=viewer][data-ready='1']")
    assert page.get_by_test_id("count-register").inner_text() == "2"
    page.screenshot(path=str(SHOTS / "studio-viewer.png"), full_page=True)

    # ---- the modeler: rename a task by direct editing
    page.goto(f"{base}/studio/edit/{FILE}")
    page.wait_for_selector("[data-testid=modeler][data-ready='1']")
    page.locator(".djs-element[data-element-id='register']").dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    editor.wait_for()
    page.keyboard.press("Control+A")
    page.keyboard.type("登记问题线索")
    page.locator("#canvas svg").first.click(position={"x": 20, "y": 20})
    name = page.evaluate("window.gtModeler.get('elementRegistry').get('register').businessObject.name")
    assert name == "登记问题线索"
    page.get_by_role("button", name="校验").click()
    page.wait_for_selector("[data-testid=studio-result] .alert-success")
    assert "校验通过" in page.get_by_test_id("studio-result").inner_text()
    assert page.locator("[data-testid=problems]").count() == 0
    page.get_by_label("部署说明", exact=True).fill("线索登记环节改名")
    page.get_by_role("button", name="部署").click()
    # a confirmation first: what the edit changes, and the note (carried over) the approver reads
    page.get_by_test_id("deploy-confirm").wait_for(state="visible")
    assert "登记问题线索" in page.get_by_test_id("confirm-list").inner_text()
    assert page.get_by_label("部署说明（审批人将看到）").input_value() == "线索登记环节改名"
    page.get_by_test_id("btn-confirm").click()
    page.wait_for_selector("text=经安全管理员批准后生效")
    page.screenshot(path=str(SHOTS / "studio-modeler.png"), full_page=True)
    page.get_by_role("link", name="查看部署申请").click()
    page.wait_for_url("**/admin/approvals/*")
    assert "这是您本人提出的申请" in page.get_by_test_id("refusal").inner_text()
    # ---- a security administrator reads the change and approves it
    approver = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN").new_page()
    _sign_in(approver, base, "secadmin")
    approver.goto(page.url)
    assert "登记问题线索" in approver.get_by_test_id("diff").inner_text()
    approver.get_by_test_id("approve").click()
    approver.wait_for_selector("text=已部署为第 2 版")
    approver.context.close()
    page.goto(f"{base}/studio/")
    row = page.locator("tr[data-version='2']")
    assert "线索登记环节改名" in row.inner_text() and "当前" in row.inner_text()
    page.screenshot(path=str(SHOTS / "studio.png"), full_page=True)
    with services.db.session() as s:
        content = s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 2, DefinitionFile.filename == FILE)
        )
    assert 'name="登记问题线索"' in content and "BPMNDiagram" in content and "spiffworkflow:property" in content

    # ---- a problem is marked on the diagram
    page.goto(f"{base}/studio/edit/{FILE}")
    page.wait_for_selector("[data-testid=modeler][data-ready='1']")
    page.evaluate("""() => {
        const m = window.gtModeler;
        const el = m.get('elementRegistry').get('propose');
        el.businessObject.lanes[0].name = '不存在的角色';  // the lane has no shape of its own here
    }""")
    page.get_by_role("button", name="校验").click()
    page.wait_for_selector("[data-testid=problems]")
    assert "Lane_so" in page.get_by_test_id("problems").inner_text()
    assert page.locator(".djs-element.gt-problem[data-element-id='propose']").count() == 1

    # ---- the cockpit, as the commission leader sees it (no administrator opens it: 三员分立)
    context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN")
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    _sign_in(page, base, "boss")
    page.goto(f"{base}/cockpit/")
    page.wait_for_selector("[data-testid=cockpit-summary]")
    assert page.get_by_test_id("summary-running").inner_text() == "2"
    page.screenshot(path=str(SHOTS / "cockpit.png"), full_page=True)
    page.goto(f"{base}/cockpit/instances/{outcome.instance_id}")
    assert "发起流程" in page.get_by_test_id("timeline").inner_text()
    assert "登记线索" in page.get_by_test_id("current-tasks").inner_text()
    page.screenshot(path=str(SHOTS / "cockpit-instance.png"), full_page=True)
    assert errors == [] and csp == []
    context.close()
