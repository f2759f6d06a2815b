"""Who calls the routes in the authorization matrix, with which arguments and which request bodies.

Three tables, each a place a new route may need a line:

- ``PERSONAS``: one demo user per kind of person the issue names (alias -> username), plus the
  anonymous visitor and two channel checks (a bearer token alone on the pages, a session cookie alone on
  the API);
- ``ARGUMENTS``: each URL converter argument name -> the values it takes from the demo state. An
  argument with several named values (``task_id``: one task per lane) gives one matrix entry per value,
  ``"GET /tasks/<int:task_id> @reply"``;
- ``BODIES``: what each non-GET route posts (a form for the pages, JSON for the API), chosen so that a
  person allowed to do it succeeds: the matrix then separates *allowed* from *refused* and from *invalid*
  (authorized, but the data or the state was refused).

A route whose argument or body is not known here fails the test with its name, like a route without an
entry in the golden file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.county import PASSWORD
from tests.web.matrix_state import DemoState


@dataclass(frozen=True)
class Persona:
    """Who calls. ``session``: signs in on the pages; ``token``: sends his API token (on every route)."""

    username: str | None
    who: str
    session: bool = True
    token: bool = True
    # a channel check, left out of the page/API parity comparison
    channel_check: bool = False


PERSONAS: dict[str, Persona] = {
    "secretary": Persona("machengzhi", "马成志, 纪委书记"),
    "leader_in_charge": Persona("hanwei", "韩伟, 分管副书记"),
    "petition": Persona("lihong", "李红, 信访室主任"),
    "case_management": Persona("gaoyuan", "高远, 案管室主任"),
    "supervision": Persona("chenhao", "陈浩, 第二监督检查室干部 (the office handling the cases)"),
    "supervision_other": Persona("liuyang", "刘洋, 第一监督检查室主任 (another office)"),
    "investigation": Persona("wujun", "吴军, 审查调查室干部"),
    "hearing": Persona("xuqing", "徐青, 案件审理室主任"),
    "resident_group": Persona("guoxia", "郭霞, 派驻第三组干部 (covers 农牧局; in the 室组地 team)"),
    "township": Persona("suonan", "索南, 河卡镇纪委书记 (in the 室组地 team)"),
    "inspection_office": Persona("hualin", "华林, 巡察办主任"),
    "inspection_team": Persona("zhouping", "周平, 第二巡察组组员"),
    "x_assisting": Persona("qinfeng", "秦峰, 财政局 (X department assisting the joint check)"),
    "x_other": Persona("dorje", "多杰, 农牧局 (X department of the reported official's unit, not assisting)"),
    "host_leader": Persona("nmjsj", "旦增, 农牧局党组书记 (host unit's Party leader)"),
    "reported": Persona("duoji", "多吉, 被反映人"),
    "county_secretary": Persona("sunjianguo", "孙建国, 县委书记"),
    "neighbour_manager": Persona("lixin", "李新, 共和县案管室主任 (the neighbouring county's commission)"),
    "prefecture_manager": Persona("majun", "马骏, 海南州纪委分管副书记 (the prefecture above the county)"),
    "admin": Persona("admin", "系统管理员 (三员: organisation, accounts, calendar, process design)"),
    "security_admin": Persona("secadmin", "安全管理员 (三员: grants roles and reveal rights, never to himself)"),
    "audit_admin": Persona("auditadmin", "审计管理员 (三员: the audit trail only)"),
    "api_client": Persona(
        "chenhao", "陈浩's API token alone, no session (pages must refuse it)", session=False, channel_check=True
    ),
    "session_only": Persona(
        "chenhao", "陈浩's session cookie alone, no token (the API must refuse it)", token=False, channel_check=True
    ),
    "anonymous": Persona(None, "nobody signed in", session=False, token=False),
}


# --------------------------------------------------------------------------- URL arguments
def _one(value: Callable[[DemoState], Any]) -> Callable[[DemoState], dict[str, Any]]:
    return lambda state: {"": value(state)}


ARGUMENTS: dict[str, Callable[[DemoState], dict[str, Any]]] = {
    # one entry per lane: the reported official's letter, the host leader's signature, the X
    # department's 协查, a 监督检查室 task claimed by 陈浩
    "task_id": lambda state: dict(state.tasks),
    # the 函询 case (its whole file) and the 室组地 joint check
    "instance_id": lambda state: dict(state.instances),
    "attachment_id": _one(lambda state: state.attachment_id),
    "notification_id": _one(lambda state: state.notification_id),
    "version_id": _one(lambda state: state.version_id),
    "filename": _one(lambda state: state.bpmn_file),
    "form_key": _one(lambda state: state.form_key),
    "membership_id": _one(lambda state: state.membership_id),
    "link_id": _one(lambda state: state.link_id),
    "user_id": _one(lambda state: state.user_ids["chenhao"]),
    "code": _one(lambda _state: "qh_jc2"),
    "year": _one(lambda _state: 2024),
    "key": _one(lambda _state: "gt_p5_intake_report"),
    "name": _one(lambda _state: "gt_msg_clue_handover"),
    "action": _one(lambda _state: "suspend"),
    "session_id": _one(lambda state: state.session_id),
    "conflict_id": _one(lambda state: state.conflict_id),
    "entry_id": _one(lambda state: state.entry_id),
    "copy_id": _one(lambda state: state.copy_id),
    "phrase_id": _one(lambda state: state.phrase_id),
    "consultation_id": _one(lambda state: state.consultation_id),
    "request_id": _one(lambda state: state.request_id),
    # the cockpit's exports (issue 16): the outcome metrics and the instance list, as a workbook
    "table": lambda _state: {"metrics": "metrics", "instances": "instances"},
    "fmt": _one(lambda _state: "xlsx"),
    # the documents of a case: the 登记表 every clue instance has
    "kind": _one(lambda _state: "clue_register"),
    "doc_format": _one(lambda _state: "docx"),
}


# Query strings a GET route needs to show anything at all (route -> state -> arguments).
QUERIES: dict[str, Callable[[DemoState], dict[str, Any]]] = {
    "GET /studio/diff": lambda state: {"file": state.bpmn_file, "a": state.version_id, "b": state.version_id},
    # the dry run of moving the inquiry's instances (to the same version: refused as invalid, but authorized)
    "GET /studio/migrate": lambda state: {
        "process": "gt_p5_inquiry",
        "from_version": state.version_id,
        "to_version": state.version_id,
    },
    "GET /studio/forms/edit": lambda _state: {"key": "approval"},
}


# --------------------------------------------------------------------------- request bodies
@dataclass(frozen=True)
class Body:
    form: dict[str, Any] | None = None
    json: Any = None


BodyFor = Callable[[DemoState, Persona, str], Body]


def _form(**values: Any) -> BodyFor:
    return lambda _state, _persona, _target: Body(form=values)


def _json(value: Any) -> BodyFor:
    return lambda _state, _persona, _target: Body(json=value)


NOTHING: BodyFor = lambda _state, _persona, _target: Body()  # noqa: E731


def _credentials(_state: DemoState, persona: Persona, _target: str) -> dict[str, str]:
    if persona.username and persona.session:
        return {"username": persona.username, "password": PASSWORD}
    return {"username": "nobody", "password": "wrong-password"}


def _studio(state: DemoState, _persona: Persona, _target: str) -> Body:
    xml = state.bpmn_xml.replace("</bpmn:definitions>", "<!-- matrix --></bpmn:definitions>")
    return Body(form={"filename": state.bpmn_file, "xml": xml, "base_sha": state.bpmn_base_sha, "comment": "matrix"})


ORGANISATION_YAML = """units:
  - {code: mx_unit, name: 矩阵测试单位, kind: office, parent: qh_cdi}
"""

BODIES: dict[str, BodyFor] = {
    # sign-in, sign-out, language: each with his own credentials (the anonymous with wrong ones)
    "POST /login": lambda state, persona, target: Body(form=_credentials(state, persona, target)),
    "POST /logout": NOTHING,
    "POST /locale": _form(locale="en"),
    # the officers' task pages: a draft (the same authorization as completing; no form encoding)
    "POST /tasks/<int:task_id>": _form(action="draft"),
    "POST /tasks/<int:task_id>/claim": NOTHING,
    "POST /tasks/<int:task_id>/unclaim": NOTHING,
    "POST /tasks/<int:task_id>/reassign": _form(assignee="wangfang"),
    "POST /tasks/<int:task_id>/attachments": lambda _s, _p, _t: Body(
        form={"file": (io.BytesIO(b"matrix"), "matrix.txt")}
    ),
    # the cockpit
    "POST /cockpit/instances/<int:instance_id>/<action>": _form(reason="matrix"),
    # the overseers hand the 室组地 X department's task to 财政局's 秦峰 (its pool); other pairs do not match
    "POST /cockpit/instances/<int:instance_id>/tasks/<int:task_id>/reassign": _form(
        assignee="qinfeng", reason="matrix"
    ),
    "POST /cockpit/notifications/<int:notification_id>/read": NOTHING,
    "POST /cockpit/notifications/read-all": NOTHING,
    "POST /cockpit/start/<key>": NOTHING,
    "POST /cockpit/refresh": _form(page="overview"),  # the overview's 刷新
    # the studio: the inquiry's file with one comment added
    "POST /studio/validate": _studio,
    "POST /studio/deploy": _studio,
    # the form editor: a new, empty form (checked, then asked to be deployed)
    "POST /studio/forms/check": _form(key="matrix_form", schema='{"type": "object", "properties": {}}'),
    "POST /studio/forms/deploy": _form(key="matrix_form", schema='{"type": "object", "properties": {}}'),
    "POST /studio/migrate": lambda state, _persona, _target: Body(
        form={"process": "gt_p5_inquiry", "from_version": state.version_id, "to_version": state.version_id}
    ),
    # the administrators' pages
    "POST /admin/units": _form(code="mx_unit", name="矩阵测试单位", kind="office", parent="qh_cdi", sort="99"),
    "POST /admin/units/<code>": _form(name="第二监督检查室", kind="office", parent="qh_cdi", sort="", active="1"),
    "POST /admin/links": _form(kind="office_group", **{"from": "qh_jc3", "to": "qh_pz4"}),
    "POST /admin/links/<int:link_id>/delete": NOTHING,
    "POST /admin/users": _form(username="mxuser", display_name="矩阵测试", password="a-long-matrix-password-42"),
    "POST /admin/users/<int:user_id>": _form(display_name="陈浩（第二监督检查室干部）", active="1"),
    "POST /admin/users/<int:user_id>/memberships": _form(unit="qh_jc3", role="supervision_office"),
    "POST /admin/memberships/<int:membership_id>/leader": NOTHING,
    "POST /admin/memberships/<int:membership_id>/delete": NOTHING,
    "POST /admin/import": _form(yaml=ORGANISATION_YAML),
    "POST /admin/calendar/": _form(
        year="2025",
        official="1",
        notice_no="国办发明电〔2024〕7号",
        notice_date="2024-04-01",
        holidays="2025-01-01",
        workdays="",
        comment="matrix",
    ),
    # one's own account: a new password (the persona's own, current one), ending another session
    "POST /account/password": lambda _s, persona, _t: Body(
        form={"current_password": PASSWORD, "new_password": "Matrix-Pass-2024!", "repeat_password": "Matrix-Pass-2024!"}
    ),
    "POST /account/sessions/<int:session_id>/end": NOTHING,
    # the case registers: a conflict (回避) and an interference entry (干预登记)
    "POST /instances/<int:instance_id>/recusal": _form(kind="other", reason="矩阵：曾在被反映人单位任职"),
    "POST /recusal/<int:conflict_id>/decision": _form(decision="replace", reason="矩阵：予以回避"),
    "POST /instances/<int:instance_id>/interference": _form(
        intervener_name="某人",
        intervener_post="某单位",
        kind="enquire",
        channel="phone",
        occurred_at="2024-04-17T10:00",
        content="打听案情",
        response="未透露",
    ),
    "POST /interference/<int:entry_id>/follow-up": _form(action="received", note=""),
    # the 三员: an administrator kind, approvals
    "POST /admin/users/<int:user_id>/admin-kind": _form(admin_kind=""),
    "POST /admin/approvals/<int:request_id>/approve": NOTHING,
    "POST /admin/approvals/<int:request_id>/reject": _form(reason="矩阵：不予批准"),
    # the JSON API
    "POST /api/v1/auth/password": lambda _s, persona, _t: Body(
        json={
            "username": persona.username or "nobody",
            "current_password": PASSWORD,
            "new_password": "Matrix-Pass-2024!",
        }
    ),
    "POST /api/v1/instances/<int(min=1, max=2147483647):instance_id>/interference": _json(
        {
            "intervener_name": "某人",
            "kind": "enquire",
            "channel": "phone",
            "occurred_at": "2024-04-17T10:00:00+08:00",
            "content": "打听案情",
            "response": "未透露",
        }
    ),
    "POST /api/v1/interference/<int(min=1, max=2147483647):entry_id>/follow-ups": _json(
        {"action": "received", "note": ""}
    ),
    "POST /api/v1/instances/<int(min=1, max=2147483647):instance_id>/recusal": _json(
        {"kind": "other", "reason": "矩阵：曾在被反映人单位任职"}
    ),
    "POST /api/v1/recusal/<int(min=1, max=2147483647):conflict_id>/decision": _json(
        {"decision": "replace", "reason": "矩阵：予以回避"}
    ),
    "POST /api/v1/auth/token": lambda state, persona, target: Body(json=_credentials(state, persona, target)),
    "DELETE /api/v1/auth/token": NOTHING,
    # 退回, 撤回, 催办 (web/actions.py, web/api/actions.py): a step that may not be the task's own (422 for
    # whoever may act), a withdrawal of a task that is not the persona's last completion (404/409)
    "POST /tasks/<int:task_id>/return": _form(target="1", reason="矩阵：退回重办"),
    "POST /tasks/<int:task_id>/withdraw": _form(reason="矩阵：撤回"),
    "POST /tasks/<int:task_id>/urge": _form(note="矩阵：请抓紧办理"),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/return": _json(
        {"target_task_id": 1, "reason": "矩阵：退回重办"}
    ),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/withdraw": _json({"reason": "矩阵：撤回"}),
    # 转办, 委派 to a colleague of 陈浩's office; 抄送 to 刘洋 (another office: refused unless he reads the case)
    "POST /tasks/<int:task_id>/transfer": _form(assignee="wangfang", reason="矩阵：转办"),
    "POST /tasks/<int:task_id>/delegate": _form(assignee="wangfang", reason="矩阵：委派"),
    "POST /tasks/<int:task_id>/give-back": NOTHING,
    "POST /tasks/<int:task_id>/copies": _form(readers="wangfang", note="矩阵：请阅"),
    "POST /copies/<int:copy_id>/read": NOTHING,
    # 加签 (web/countersign.py): asked on the persona's task (refused unless it is an approval step he holds)
    "POST /tasks/<int:task_id>/consult": _form(asked="wangfang", question="矩阵：请提意见"),
    "POST /opinions/<int:consultation_id>": _form(answer="矩阵：同意"),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/consultations": _json(
        {"asked": "wangfang", "question": "矩阵：请提意见"}
    ),
    "POST /api/v1/opinions/<int(min=1, max=2147483647):consultation_id>/answer": _json({"answer": "矩阵：同意"}),
    # 批量移交: 陈浩's open work to 王芳 (a leader of 第二监督检查室 may; the task stays in the office)
    "POST /handover": _form(from_username="chenhao", to_username="wangfang", reason="矩阵：调岗"),
    # 常用审批意见: each person's own (no case data)
    "POST /phrases": _form(text="矩阵：同意。"),
    "POST /phrases/<int:phrase_id>/delete": NOTHING,
    "POST /api/v1/phrases": _json({"text": "矩阵：同意。"}),
    "DELETE /api/v1/phrases/<int(min=1, max=2147483647):phrase_id>": NOTHING,
    "POST /api/v1/handovers": _json({"from_username": "chenhao", "to_username": "wangfang", "reason": "矩阵：调岗"}),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/transfer": _json(
        {"assignee": "wangfang", "reason": "矩阵：转办"}
    ),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/delegate": _json(
        {"assignee": "wangfang", "reason": "矩阵：委派"}
    ),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/give-back": NOTHING,
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/copies": _json(
        {"readers": ["wangfang"], "note": "矩阵：请阅"}
    ),
    "POST /api/v1/copies/<int(min=1, max=2147483647):copy_id>/read": NOTHING,
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/urge": _json({"note": "矩阵：请抓紧办理"}),
    "POST /api/v1/definitions/<name:key>/instances": _json({"data": {}}),
    "POST /api/v1/messages/<name:name>": _json(
        {
            "correlation": "XCB〔2024〕99号",
            "data": {"source_category": "xuncha_yijiao", "transfer_doc_no": "XCB〔2024〕99号"},
        }
    ),
    "POST /api/v1/instances/<int(min=1, max=2147483647):instance_id>/<any(retry, suspend, resume, cancel):action>": (
        _json({"reason": "matrix"})
    ),
    "POST /api/v1/instances/<int(min=1, max=2147483647):instance_id>/tasks/<int(min=1, max=2147483647):task_id>"
    "/reassign": _json({"assignee": "qinfeng", "reason": "matrix"}),
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/claim": NOTHING,
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/unclaim": NOTHING,
    "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/complete": lambda state, _p, target: Body(
        json=state.task_forms[target]
    ),
}

# Pages and the API route that gives the same answer (tests/web/test_parity.py checks their content).
PARITY: list[tuple[str, str]] = [
    ("GET /inbox", "GET /api/v1/tasks"),
    ("GET /tasks/<int:task_id>", "GET /api/v1/tasks/<int(min=1, max=2147483647):task_id>"),
    ("POST /tasks/<int:task_id>", "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/complete"),
    ("POST /tasks/<int:task_id>/claim", "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/claim"),
    ("POST /tasks/<int:task_id>/unclaim", "POST /api/v1/tasks/<int(min=1, max=2147483647):task_id>/unclaim"),
    ("GET /instances/<int:instance_id>", "GET /api/v1/instances/<int(min=1, max=2147483647):instance_id>"),
    ("GET /cockpit/instances/<int:instance_id>", "GET /api/v1/instances/<int(min=1, max=2147483647):instance_id>"),
    ("GET /cockpit/instances/<int:instance_id>", "GET /instances/<int:instance_id>"),
    ("GET /cockpit/instances", "GET /api/v1/instances"),
    ("GET /cockpit/start", "GET /api/v1/definitions"),
    ("POST /cockpit/start/<key>", "POST /api/v1/definitions/<name:key>/instances"),
]
