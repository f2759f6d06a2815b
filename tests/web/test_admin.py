"""Organisation administration: units, links, people, memberships, leaders and YAML import."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, Membership, Unit, UnitLink, User


def _actions(services):
    with services.db.session() as s:
        return [
            e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "admin").order_by(AuditEvent.id))
        ]


def test_overview_and_lists(client_for):
    admin = client_for("admin")
    html = admin.get("/admin/").get_data(as_text=True)
    assert 'data-testid="count-units">6<' in html and 'data-testid="count-users">10<' in html
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
    admin = client_for("admin")
    resp = admin.post("/admin/users", data={"username": "newbie", "display_name": "新同志", "password": "short"})
    assert resp.status_code == 422 and "密码至少 12 位" in resp.get_data(as_text=True)
    resp = admin.post(
        "/admin/users", data={"username": "newbie", "display_name": "新同志", "password": "a-long-password-1"}
    )
    assert resp.status_code == 302
    with services.db.session() as s:
        user = s.scalar(select(User).where(User.username == "newbie"))
    admin.post(f"/admin/users/{user.id}/memberships", data={"unit": "jc2", "role": "supervision_office", "leader": "1"})
    with services.db.session() as s:
        [m] = s.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert (m.unit_code, m.role_code, m.is_leader) == ("jc2", "supervision_office", True)
    admin.post(f"/admin/memberships/{m.id}/leader")
    with services.db.session() as s:
        assert s.get(Membership, m.id).is_leader is False
    c = client_for()
    assert c.login("newbie", "a-long-password-1").status_code == 302
    admin.post(f"/admin/memberships/{m.id}/delete")
    with services.db.session() as s:
        assert s.get(Membership, m.id) is None
    # Disabling the account ends its sessions.
    admin.post(f"/admin/users/{user.id}", data={"display_name": "新同志"})
    assert c.get("/inbox").status_code == 302
    assert _actions(services)[-5:] == [
        "user_created",
        "membership_added",
        "membership_updated",
        "membership_removed",
        "user_updated",
    ]


def test_admin_cannot_lock_themselves_out(client_for, services):
    admin = client_for("admin")
    with services.db.session() as s:
        me = s.scalar(select(User).where(User.username == "admin"))
    resp = admin.post(f"/admin/users/{me.id}", data={"display_name": "管理员", "active": "1"})
    assert resp.status_code == 422
    with services.db.session() as s:
        assert s.get(User, me.id).is_admin


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
  - {username: tl1, name: 塔拉镇干部, password: a-long-password-2, roles: [{unit: tl, role: supervision_office}]}
"""
    resp = admin.post("/admin/import", data={"yaml": yaml_text})
    assert resp.status_code == 302
    with services.db.session() as s:
        assert s.get(Unit, "tl").kind == "township"
        assert {(link.kind, link.from_code, link.to_code) for link in s.scalars(select(UnitLink))} == {
            ("zone_member", "zone3", "tl"),
            ("office_township", "jc1", "tl"),
        }
    unknown_role = yaml_text.replace("role: supervision_office", "role: no_such_role")
    resp = admin.post("/admin/import", data={"yaml": unknown_role})
    assert resp.status_code == 422 and "not in the role catalogue" in resp.get_data(as_text=True)
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
    assert admin.post("/admin/memberships/999999/leader").status_code == 404
    resp = admin.post("/admin/units/jc1", data={"name": "第一室", "kind": "office", "parent": "jc1"})
    assert resp.status_code == 422 and "上级单位不能是本单位或其下级单位" in resp.get_data(as_text=True)
    resp = admin.post("/admin/import", data={"yaml": "links: [1]\n"})
    assert resp.status_code == 422 and "each link needs kind, from and to" in resp.get_data(as_text=True)
    with services.db.session() as s:
        assert s.get(Unit, "x1") is None and s.get(Unit, "jc1").parent_code == "cdi"
