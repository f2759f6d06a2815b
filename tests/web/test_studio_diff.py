"""The studio's 对比 page: elements added, removed and changed (with their properties) in a table and
marked on the two versions' diagrams; designers only (issue 17)."""

import hashlib
import json
import re

from sqlalchemy import select

from engine.models import DefinitionFile

FILE = "clue_simple.bpmn"


def _stored(services, version_id=1) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(
                DefinitionFile.version_id == version_id, DefinitionFile.filename == FILE
            )
        )


def _post(client, url, xml, **extra):
    return client.post(url, data={"filename": FILE, "xml": xml, **extra}, headers={"X-CSRFToken": client.token()})


def _second_version(client_for, services):
    """Version 2, asked for by the designer and approved by a second person (三员分立)."""
    admin = client_for("admin")
    original = _stored(services)
    changed = original.replace('name="登记线索"', 'name="登记问题线索"').replace(
        '<spiffworkflow:property name="dueIn" value="propose"/>',
        '<spiffworkflow:property name="dueIn" value="reply"/>',
    )
    resp = _post(admin, "/studio/deploy", changed, base_sha=hashlib.sha256(original.encode()).hexdigest())
    assert resp.status_code == 200 and resp.json["pending"] is True
    # the designer cannot approve his own deploy; the security administrator can
    assert admin.post(f"/admin/approvals/{resp.json['request']}/approve").status_code == 403
    sec = client_for("secadmin")
    # the approver reads the change element by element before deciding
    request_page = sec.get(f"/admin/approvals/{resp.json['request']}").get_data(as_text=True)
    changes = request_page.split('data-testid="changes"')[1].split("</table>")[0]
    assert 'data-element-id="register"' in changes and "登记问题线索" in changes
    assert 'data-element-id="propose"' in changes and "property:dueIn" in changes
    assert sec.post(f"/admin/approvals/{resp.json['request']}/approve").status_code == 302
    return admin


def test_the_diff_page_lists_changed_elements_and_marks_them(client_for, services):
    admin = _second_version(client_for, services)
    page = admin.get(f"/studio/diff?file={FILE}&a=1&b=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-element-id="register" data-change="changed"' in html
    assert "登记线索" in html and "登记问题线索" in html
    assert "property:dueIn" in html and "propose" in html and "reply" in html
    marks = json.loads(
        re.search(r'<script type="application/json" id="diff-marks">(.*?)</script>', html, re.S).group(1)
    )
    assert marks == {"added": [], "removed": [], "changed": ["propose", "register"]}
    assert 'data-diff-pane="a"' in html and f"/studio/versions/1/xml/{FILE}" in html
    assert f"/studio/versions/2/xml/{FILE}" in html
    assert "js/studio-diff.js" in html


def test_the_diff_page_is_for_designers_only(client_for, services):
    _second_version(client_for, services)
    assert client_for("cm1").get(f"/studio/diff?file={FILE}&a=1&b=2").status_code == 403
