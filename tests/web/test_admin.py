"""Organisation administration: units, links, people, memberships, leaders and YAML import, each by the
administrator it belongs to (三员分立: ``admin`` the system administrator, ``secadmin`` the security
administrator), and the approvals pages where a second person decides a reveal-role grant."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import ApprovalRequest, AuditEvent, Membership, Unit, UnitLink, User


def _actions(services, actor="admin"):
    with services.db.session() as s:
        return [
            e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == actor).order_by(AuditEvent.id))
        ]


def _denials(services, actor):
    with services.db.session() as s:
        return [
            e.detail["reason"]
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "access_denied", AuditEvent.actor == actor)
                .order_by(AuditEvent.id)
            )
        ]


def _user_id(services, username):
    with services.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def test_overview_and_lists(client_for):
    admin = client_for("admin")
    html = admin.get("/admin/").get_data(as_text=True)
    assert 'data-testid="count-units">6<' in html and 'data-testid="count-users">13<' in html
    assert "第一监督检查室" in admin.get("/admin/units").get_data(as_text=True)
    users = admin.get("/admin/users").get_data(as_text=True)
    assert ("刘洋" in users and "supervision_office" in users) or "监督检查室" in users


def test_create_unit_validates_and_saves(client_for, services):
    admin = client_for("admin")
    resp = admin.post("/admin/units", data={"code": "bad code!", "name": "", "kind": "office"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "编码只能包含字母" in html and "此项为必填项" in html
    resp = admin.post("/admin/units", data={"code": "jc3", "name": "第三监督检查室", "kind": "office", "parent": "cdi"})
    assert resp.status_code == 302
    with services.db.session() as s:
        unit = s.get(Unit, "jc3")
        assert (unit.name, unit.parent_code) == ("第三监督检查室", "cdi")
    assert admin.post("/admin/units", data={"code": "jc3", "name": "x", "kind": "office"}).status_code == 422
    resp = admin.post(
        "/admin/units/jc3", data={"name": "第三室", "kind": "office", "parent": "cdi", "sort": "3", "active": "1"}
    )
    assert resp.status_code == 302
    with services.db.session() as s:
        assert s.get(Unit, "jc3").name == "第三室"
    assert _actions(services)[-2:] == ["unit_created", "unit_updated"]


def test_links_between_units(client_for, services):
    admin = client_for("admin")
    resp = admin.post("/admin/links", data={"kind": "office_township", "from": "jc1", "to": "pz1", "back": "jc1"})
    assert resp.status_code == 302
    page = admin.get("/admin/units/jc1").get_data(as_text=True)
    assert "监督检查室联系乡镇" in page and "监督检查室联系派驻组" in page
    with services.db.session() as s:
        link = s.scalar(select(UnitLink).where(UnitLink.kind == "office_township"))
    admin.post(f"/admin/links/{link.id}/delete", data={"back": "jc1"})
    with services.db.session() as s:
        assert s.scalar(select(UnitLink).where(UnitLink.kind == "office_township")) is None
    resp = admin.post("/admin/links", data={"kind": "nonsense", "from": "jc1", "to": "pz1"})
    assert "关联无效" in admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert _actions(services)[-2:] == ["unit_link_added", "unit_link_removed"]


def test_create_user_assign_role_and_leader_then_sign_in(client_for, services):
    admin, sec = client_for("admin"), client_for("secadmin")
    resp = admin.post("/admin/users", data={"username": "newbie", "display_name": "新同志", "password": "short"})
    assert resp.status_code == 422 and "密码至少 12 位" in resp.get_data(as_text=True)
    resp = admin.post(
        "/admin/users", data={"username": "newbie", "display_name": "新同志", "password": "a-long-password-1"}
    )
    assert resp.status_code == 302
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == "newbie"))
    # The system administrator grants no role: the security administrator does.
    assert (
        admin.post(
            f"/admin/users/{user.id}/memberships", data={"unit": "jc2", "role": "supervision_office"}
        ).status_code
        == 403
    )
    sec.post(f"/admin/users/{user.id}/memberships", data={"unit": "jc2", "role": "supervision_office", "leader": "1"})
    with services.db.session() as s:
        [m] = s.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert (m.unit_code, m.role_code, m.is_leader) == ("jc2", "supervision_office", True)
    sec.post(f"/admin/memberships/{m.id}/leader")
    with services.db.session() as s:
        assert s.get(Membership, m.id).is_leader is False
    c = client_for()
    assert c.login("newbie", "a-long-password-1").status_code == 302
    sec.post(f"/admin/memberships/{m.id}/delete")
    with services.db.session() as s:
        assert s.get(Membership, m.id) is None
    # Disabling the account ends its sessions.
    admin.post(f"/admin/users/{user.id}", data={"display_name": "新同志"})
    assert c.get("/inbox").status_code == 302
    assert _actions(services)[-3:] == ["user_created", "access_denied", "user_updated"]
    assert _actions(services, "secadmin")[-3:] == ["membership_added", "membership_updated", "membership_removed"]
    assert _denials(services, "admin") == ["sanyuan_security_admin_only"]


def test_admin_cannot_lock_themselves_out(client_for, services):
    admin = client_for("admin")
    with services.db.session() as s:
        me = s.scalar(select(User).where(User.username == "admin"))
    resp = admin.post(f"/admin/users/{me.id}", data={"display_name": "管理员"})
    assert resp.status_code == 422 and "不能停用自己的账号" in resp.get_data(as_text=True)
    with services.db.session() as s:
        assert s.get(User, me.id).active and s.get(User, me.id).admin_kind == "system"


def test_yaml_import(client_for, services):
    admin = client_for("admin")
    yaml_text = """
units:
  - {code: tl, name: 塔拉镇纪委, kind: township, parent: cdi}
  - {code: zone3, name: 第三片区协作区, kind: zone, parent: cdi}
links:
  - {kind: zone_member, from: zone3, to: tl}
  - {kind: office_township, from: jc1, to: tl}
users:
  - {username: tl1, name: 塔拉镇干部, password: a-long-password-2}
"""
    resp = admin.post("/admin/import", data={"yaml": yaml_text})
    assert resp.status_code == 302
    with services.db.session() as s:
        assert s.get(Unit, "tl").kind == "township"
        assert {(link.kind, link.from_code, link.to_code) for link in s.scalars(select(UnitLink))} == {
            ("zone_member", "zone3", "tl"),
            ("office_township", "jc1", "tl"),
        }
    # The system administrator's file grants nothing: roles and administrator kinds are refused by entry.
    granting = yaml_text.replace(
        "a-long-password-2}", "a-long-password-2, roles: [{unit: tl, role: supervision_office}]}"
    )
    resp = admin.post("/admin/import", data={"yaml": granting})
    assert resp.status_code == 422 and "系统管理员导入的文件不能分配角色" in resp.get_data(as_text=True)
    with services.db.session() as s:
        assert s.scalar(select(Membership).join(User).where(User.username == "tl1")) is None
    resp = admin.post("/admin/import", data={"yaml": "units:\n  - {code: x}\n"})
    assert resp.status_code == 422
    assert "each unit needs code and name" in resp.get_data(as_text=True)
    resp = admin.post("/admin/import", data={"yaml": "units: [unclosed"})
    assert resp.status_code == 422 and "YAML 格式错误" in resp.get_data(as_text=True)
    assert "organisation_imported" in _actions(services)


def test_bad_input_answers_4xx_and_changes_nothing(client_for, services):
    admin = client_for("admin")
    resp = admin.post("/admin/units", data={"code": "x1", "name": "a\x00b", "kind": "office", "sort": "9" * 30})
    assert resp.status_code == 422 and "请输入整数" in resp.get_data(as_text=True)
    assert admin.get("/admin/units/jc1%00").status_code == 404
    assert admin.post("/admin/memberships/999999/leader").status_code == 403  # not his to change at all
    assert client_for("secadmin").post("/admin/memberships/999999/leader").status_code == 404
    resp = admin.post("/admin/units/jc1", data={"name": "第一室", "kind": "office", "parent": "jc1"})
    assert resp.status_code == 422 and "上级单位不能是本单位或其下级单位" in resp.get_data(as_text=True)
    resp = admin.post("/admin/import", data={"yaml": "links: [1]\n"})
    assert resp.status_code == 422 and "each link needs kind, from and to" in resp.get_data(as_text=True)
    with services.db.session() as s:
        assert s.get(Unit, "x1") is None and s.get(Unit, "jc1").parent_code == "cdi"


def test_each_administrator_sees_only_his_own_pages(client_for, services):
    """三员分立 through the pages: every refusal is a 403 with an ``access_denied`` event naming the rule."""
    so1 = _user_id(services, "so1")
    sec, audit, admin = client_for("secadmin"), client_for("auditadmin"), client_for("admin")
    # The security administrator reads the organisation but edits no unit, account or calendar.
    assert sec.get("/admin/").status_code == 200 and sec.get(f"/admin/users/{so1}").status_code == 200
    assert sec.post("/admin/units", data={"code": "x", "name": "X", "kind": "office"}).status_code == 403
    assert (
        sec.post(f"/admin/users/{so1}", data={"display_name": "X", "active": "1", "password": "p" * 12}).status_code
        == 403
    )
    assert sec.get("/admin/calendar/").status_code == 403
    assert _denials(services, "secadmin") == [
        "sanyuan_system_admin_only",
        "sanyuan_system_admin_only",
        "sanyuan_system_admin_only",
    ]
    # The audit administrator opens none of it; the system administrator sets no administrator kind.
    for path in ("/admin/", "/admin/users", "/admin/calendar/", "/admin/approvals/"):
        assert audit.get(path).status_code == 403, path
    assert _denials(services, "auditadmin") == [
        "sanyuan_organisation_admins_only",
        "sanyuan_organisation_admins_only",
        "sanyuan_system_admin_only",
        "sanyuan_approvals_only",
    ]
    assert admin.post(f"/admin/users/{so1}/admin-kind", data={"admin_kind": "audit"}).status_code == 403
    assert _denials(services, "admin") == ["sanyuan_security_admin_only"]


def test_the_security_administrator_never_grants_to_himself(client_for, services):
    sec = client_for("secadmin")
    me = _user_id(services, "secadmin")
    page = sec.get(f"/admin/users/{me}").get_data(as_text=True)
    assert "admin.add_membership" not in page and f"/admin/users/{me}/memberships" not in page
    assert (
        sec.post(f"/admin/users/{me}/memberships", data={"unit": "cdi", "role": "commission_secretary"}).status_code
        == 403
    )
    assert sec.post(f"/admin/users/{me}/admin-kind", data={"admin_kind": ""}).status_code == 403
    assert _denials(services, "secadmin") == ["sanyuan_not_to_oneself", "sanyuan_not_to_oneself"]
    with services.db.session() as s:
        assert s.scalar(select(Membership).where(Membership.user_id == me)) is None
        assert s.get(User, me).admin_kind == "security"


def test_a_reveal_grant_waits_for_a_second_persons_approval(client_for, services):
    sec, sec2, boss = client_for("secadmin"), client_for("secadmin2"), client_for("boss")
    so2 = _user_id(services, "so2")
    resp = sec.post(f"/admin/users/{so2}/memberships", data={"unit": "cdi", "role": "commission_secretary"})
    assert "已提交审批" in sec.get(resp.headers["Location"]).get_data(as_text=True)
    with services.db.session() as s:
        [request] = s.scalars(select(ApprovalRequest)).all()
        assert (
            s.scalar(
                select(Membership).where(Membership.user_id == so2, Membership.role_code == "commission_secretary")
            )
            is None
        )
    # The requester sees it waiting for someone else, and may not decide it.
    page = sec.get(f"/admin/approvals/{request.id}").get_data(as_text=True)
    assert "这是您本人提出的申请" in page and 'data-testid="approve"' not in page
    assert sec.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    # A rejection needs a reason; the commission's secretary may decide it too.
    resp = boss.post(f"/admin/approvals/{request.id}/reject", data={"reason": " "})
    assert resp.status_code == 422 and "请填写驳回理由" in resp.get_data(as_text=True)
    assert 'data-testid="approve"' in boss.get(f"/admin/approvals/{request.id}").get_data(as_text=True)
    assert sec2.post(f"/admin/approvals/{request.id}/approve").status_code == 302
    with services.db.session() as s:
        assert s.get(ApprovalRequest, request.id).decided_by == "secadmin2"
        assert s.scalar(
            select(Membership).where(Membership.user_id == so2, Membership.role_code == "commission_secretary")
        )
    assert sec2.post(f"/admin/approvals/{request.id}/approve").status_code == 302  # decided already: a message
    assert _denials(services, "secadmin") == ["sanyuan_own_request"]
    assert "approval_approved" in _actions(services, "secadmin2")
    # Listed as decided for everyone who may see it.
    assert f'data-testid="request-{request.id}"' in boss.get("/admin/approvals/").get_data(as_text=True)


def test_the_audit_administrator_reads_the_audit_trail_and_nothing_else(client_for, services):
    audit = client_for("auditadmin")
    client_for("secadmin").post(f"/admin/users/{_user_id(services, 'secadmin')}/admin-kind", data={"admin_kind": ""})
    html = audit.get("/audit/").get_data(as_text=True)
    assert 'data-testid="nav-audit"' in html and 'data-testid="integrity"' in html
    assert "access_denied" in html and "sanyuan_not_to_oneself" in html and "signed_in" in html
    only = audit.get("/audit/?action=access_denied&actor=secadmin").get_data(as_text=True)
    assert "sanyuan_not_to_oneself" in only and "signed_in</code>" not in only
    assert "组织管理" not in html and 'href="/cockpit/"' not in html
    for person in ("admin", "secadmin", "boss"):
        client = client_for(person)
        assert client.get("/audit/").status_code == 403, person
        assert 'data-testid="nav-audit"' not in client.get("/inbox").get_data(as_text=True)
    assert _denials(services, "boss") == ["sanyuan_audit_admin_only"]
