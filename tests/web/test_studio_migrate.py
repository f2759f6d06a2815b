"""The studio's 迁移 page: the dry run lists what moves and what is refused (and why), the POST moves the
chosen instances; designers only (issue 17)."""

import hashlib

from sqlalchemy import select

from engine.models import DefinitionFile, ProcessInstance
from tests.engine.definitions.test_migration import _without_register

FILE = "clue_simple.bpmn"


def _stored(services) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == 1, DefinitionFile.filename == FILE)
        )


def _version_two(client_for, services):
    """登记线索 removed in version 2 (asked by the designer, approved by the security administrator)."""
    admin = client_for("admin")
    original = _stored(services)
    xml = _without_register(original)  # the same version 2 as the engine's migration tests
    resp = admin.post(
        "/studio/deploy",
        data={"filename": FILE, "xml": xml, "base_sha": hashlib.sha256(original.encode()).hexdigest()},
        headers={"X-CSRFToken": admin.token()},
    )
    assert resp.status_code == 200, resp.json
    assert client_for("secadmin").post(f"/admin/approvals/{resp.json['request']}/approve").status_code == 302
    return admin


def test_dry_run_then_move_the_chosen(client_for, services, start_clue, who):
    at_register = start_clue()
    at_propose = start_clue()
    services.runtime.complete_task(
        at_propose.created_tasks[0], actor=who("cm1"), data={"clue_no": "XS-9", "handling_unit": "qh_jc2"}
    )
    admin = _version_two(client_for, services)
    page = admin.get("/studio/migrate?process=gt_test_clue&from_version=1&to_version=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    moves = html.split('data-testid="migrate-moves"')[1].split("</table>")[0]
    refused = html.split('data-testid="migrate-refused"')[1].split("</table>")[0]
    assert f'value="{at_propose.instance_id}"' in moves and f'data-instance="{at_register.instance_id}"' not in moves
    assert f'data-instance="{at_register.instance_id}"' in refused and "已被删除" in refused
    done = admin.post(
        "/studio/migrate",
        data={
            "process": "gt_test_clue",
            "from_version": "1",
            "to_version": "2",
            "instance": [str(at_propose.instance_id), str(at_register.instance_id)],
            "csrf_token": admin.token(),
        },
    )
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "已迁移 1 个实例到第 2 版" in text
    with services.db.session() as s:
        versions = dict(s.execute(select(ProcessInstance.id, ProcessInstance.version_id)).all())
    assert versions[at_propose.instance_id] == 2 and versions[at_register.instance_id] == 1


def test_only_designers(client_for, services):
    officer = client_for("cm1")
    assert officer.get("/studio/migrate").status_code == 403
    assert (
        officer.post("/studio/migrate", data={"process": "gt_test_clue", "csrf_token": officer.token()}).status_code
        == 403
    )
    assert client_for("admin").get("/studio/migrate").status_code == 200
