"""Organisation use cases: administrators only, every refusal names its field, a refusal writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import Forbidden, NotFound, ValidationError
from engine.models import AuditEvent, Membership, Unit, UnitLink, User
from engine.organisation import names
from engine.organisation import operations as org


def _snapshot(services) -> dict:
    """Everything an organisation change could touch, to compare before and after a refusal."""
    with services.db.session() as s:
        return {
            "units": sorted(
                (u.code, u.name, u.name_en, u.kind, u.parent_code, u.sort, u.active) for u in s.scalars(select(Unit))
            ),
            "links": sorted((link.kind, link.from_code, link.to_code) for link in s.scalars(select(UnitLink))),
            "users": sorted(
                (u.username, u.display_name, u.active, u.is_admin, u.locale, u.password_hash)
                for u in s.scalars(select(User))
            ),
            "memberships": sorted(
                (m.user_id, m.unit_code, m.role_code, m.is_leader) for m in s.scalars(select(Membership))
            ),
            "events": s.scalar(select(func.count()).select_from(AuditEvent)),
        }


def _user_id(services, username: str) -> int:
    with services.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def _refused(services, call, /, **kwargs) -> dict[str, str]:
    """Run a change that must be refused; return its field reasons after checking nothing changed."""
    before = _snapshot(services)
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert _snapshot(services) == before
    assert caught.value.fields, "a refusal names the field at fault"
    return caught.value.fields


def _membership_id(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(Membership.id).order_by(Membership.id).limit(1))


def _link_id(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(UnitLink.id).limit(1))


def test_every_use_case_refuses_a_non_administrator_itself(county, who):
    officer = who("cm1")
    uid = _user_id(county, "so1")
    calls = [
        lambda: org.overview(county, officer),
        lambda: org.list_units(county, officer),
        lambda: org.unit_detail(county, officer, "jc1"),
        lambda: org.create_unit(county, officer, code="x1", name="X", kind="office"),
        lambda: org.update_unit(county, officer, "jc1", name="改名", kind="office"),
        lambda: org.add_link(county, officer, kind="office_township", from_code="jc1", to_code="jc2"),
        lambda: org.remove_link(county, officer, _link_id(county)),
        lambda: org.list_users(county, officer),
        lambda: org.user_detail(county, officer, uid),
        lambda: org.create_user(county, officer, username="x", display_name="X", password="a-long-password"),
        lambda: org.update_user(county, officer, uid, display_name="X", active=True, is_admin=True),
        lambda: org.add_membership(county, officer, uid, unit="jc2", role="supervision_office"),
        lambda: org.toggle_leader(county, officer, _membership_id(county)),
        lambda: org.remove_membership(county, officer, _membership_id(county)),
        lambda: org.import_organisation(county, officer, "units: []\n"),
    ]
    before = _snapshot(county)
    for call in calls:
        with pytest.raises(Forbidden) as caught:
            call()
        assert caught.value.details["reason"] == "admin_only"
    assert _snapshot(county) == before
    assert org.is_administrator(who("admin")) and not org.is_administrator(officer)


def test_unit_create_and_update_name_each_bad_field(county, who):
    admin = who("admin")
    fields = _refused(
        county, org.create_unit, services=county, principal=admin, code="bad code!", name="", kind="", sort="x"
    )
    assert fields == {"code": org.INVALID_FORMAT, "name": org.REQUIRED, "kind": org.REQUIRED, "sort": org.NOT_INTEGER}
    fields = _refused(
        county,
        org.create_unit,
        services=county,
        principal=admin,
        code="jc1",
        name="x" * 201,
        kind="office",
        parent="no",
    )
    assert fields == {"code": org.TAKEN, "name": org.TOO_LONG, "parent": org.UNKNOWN_UNIT}
    assert _refused(
        county, org.create_unit, services=county, principal=admin, code="x9", name="X", kind="office", sort=2**40
    ) == {"sort": org.NOT_INTEGER}
    # A unit cannot be its own parent, nor be placed under one of its own sub-units.
    org.create_unit(county, admin, code="jc1a", name="一室一组", kind="office", parent="jc1")
    for parent in ("jc1", "jc1a"):
        assert _refused(
            county,
            org.update_unit,
            services=county,
            principal=admin,
            code="jc1",
            name="一室",
            kind="office",
            parent=parent,
        ) == {"parent": org.PARENT_CYCLE}
    with pytest.raises(NotFound):
        org.update_unit(county, admin, "nowhere", name="x", kind="office")


def test_units_are_created_updated_and_audited_and_names_follow(county, who):
    admin = who("admin")
    assert names.unit_names(county)["jc2"].name == "第二监督检查室"
    created = org.create_unit(county, admin, code="jc3", name=" 第三室 ", kind="office", parent="cdi", sort="3")
    assert (created.code, created.name, created.parent_code, created.sort, created.active) == (
        "jc3",
        "第三室",
        "cdi",
        3,
        True,
    )
    org.update_unit(
        county, admin, "jc2", name="第二室", name_en="2nd Office", kind="office", parent="cdi", active=False
    )
    # The names pages show change in this process at once (the cache is dropped by the change).
    assert names.unit_names(county)["jc3"].name == "第三室"
    assert names.unit_names(county)["jc2"].local(english=True) == "2nd Office"
    detail = org.unit_detail(county, admin, "jc1")
    assert [(link.kind, link.to_code) for link in detail.links_from] == [("office_group", "pz1")]
    assert {u.username for _m, u in detail.members} == {"so1", "so1b", "so1lead"}
    page = org.list_units(county, admin)
    assert page.members["jc1"] == 3 and {u.code for u in page.units} >= {"jc3", "jc2"}
    with county.db.session() as s:
        events = [(e.action, e.actor, e.detail.get("unit")) for e in s.scalars(select(AuditEvent))]
    assert events[-2:] == [("unit_created", "admin", "jc3"), ("unit_updated", "admin", "jc2")]


def test_links_validate_each_end_and_are_not_doubled(county, who):
    admin = who("admin")
    fields = _refused(
        county, org.add_link, services=county, principal=admin, kind="nonsense", from_code="x", to_code=""
    )
    assert fields == {"kind": org.UNKNOWN_KIND, "from": org.UNKNOWN_UNIT, "to": org.UNKNOWN_UNIT}
    assert _refused(
        county, org.add_link, services=county, principal=admin, kind="office_township", from_code="jc1", to_code="jc1"
    ) == {"to": org.SAME_UNIT}
    assert org.add_link(county, admin, kind="office_township", from_code="jc1", to_code="jc2") is True
    before = _snapshot(county)
    assert org.add_link(county, admin, kind="office_township", from_code="jc1", to_code="jc2") is False
    assert _snapshot(county) == before
    removed = org.remove_link(county, admin, _link_id(county))
    assert removed.kind == "office_group"
    with pytest.raises(NotFound):
        org.remove_link(county, admin, removed.id)


def test_users_validate_each_field(county, who):
    admin = who("admin")
    fields = _refused(
        county, org.create_user, services=county, principal=admin, username="a b", display_name=" ", password="short"
    )
    assert fields == {"username": org.INVALID_FORMAT, "display_name": org.REQUIRED, "password": org.TOO_SHORT}
    assert _refused(
        county,
        org.create_user,
        services=county,
        principal=admin,
        username="cm1",
        display_name="X",
        password="Qinghu-River-12",
    ) == {"username": org.TAKEN}
    uid = _user_id(county, "so1")
    fields = _refused(
        county,
        org.update_user,
        services=county,
        principal=admin,
        user_id=uid,
        display_name="",
        active=True,
        is_admin=False,
        locale="fr",
        password="short",
    )
    assert fields == {"display_name": org.REQUIRED, "locale": org.UNKNOWN_LOCALE, "password": org.TOO_SHORT}


def test_an_administrator_cannot_lock_themselves_out(county, who):
    admin = who("admin")
    me = _user_id(county, "admin")
    for active, is_admin in ((False, True), (True, False)):
        assert _refused(
            county,
            org.update_user,
            services=county,
            principal=admin,
            user_id=me,
            display_name="管理员",
            active=active,
            is_admin=is_admin,
        ) == {"active": org.SELF_LOCKOUT}


def test_people_roles_and_leaders(county, who):
    admin = who("admin")
    created = org.create_user(
        county, admin, username="newbie", display_name="新同志", password="a-long-password-1", is_admin=False
    )
    assert _refused(
        county, org.add_membership, services=county, principal=admin, user_id=created.id, unit="nowhere", role=""
    ) == {"unit": org.UNKNOWN_UNIT, "role": org.REQUIRED}
    assert _refused(
        county, org.add_membership, services=county, principal=admin, user_id=created.id, unit="jc2", role="pope"
    ) == {"role": org.UNKNOWN_ROLE}
    with pytest.raises(NotFound):
        org.add_membership(county, admin, 99999, unit="jc2", role="supervision_office")
    assert org.add_membership(county, admin, created.id, unit="jc2", role="supervision_office", leader=True)
    assert not org.add_membership(county, admin, created.id, unit="jc2", role="supervision_office")
    detail = org.user_detail(county, admin, created.id)
    [m] = detail.memberships
    assert (m.unit_code, m.role_code, m.is_leader) == ("jc2", "supervision_office", True)
    assert "supervision_office" in detail.roles and "jc2" in {u.code for u in detail.active_units}
    assert org.toggle_leader(county, admin, m.id).is_leader is False
    assert org.remove_membership(county, admin, m.id).user_id == created.id
    with pytest.raises(NotFound):
        org.toggle_leader(county, admin, m.id)
    updated = org.update_user(
        county,
        admin,
        created.id,
        display_name="新同志",
        active=False,
        is_admin=False,
        locale="en",
        password="Qinghu-Reset-12",
    )
    assert (updated.active, updated.locale) == (False, "en")
    listed = {u.username: u for u in org.list_users(county, admin)}
    assert {(m.unit_code, m.role_code) for m in listed["so1lead"].memberships} == {("jc1", "supervision_office")}
    with county.db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "admin"))]
    assert actions == [
        "user_created",
        "membership_added",
        "membership_updated",
        "membership_removed",
        "user_updated",
    ]


GOOD_YAML = """
units:
  - {code: tl, name: 塔拉镇纪委, kind: township, parent: cdi}
links:
  - {kind: office_township, from: jc1, to: tl}
users:
  - {username: tl1, name: 塔拉镇干部, password: a-long-password-2, roles: [{unit: tl, role: supervision_office}]}
"""


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("units: [unclosed", "yaml", org.INVALID_YAML),
        ("   ", "yaml", org.EMPTY),
        ("- a list\n", "yaml", org.NOT_MAPPING),
        ("units: 5\n", "units", "must be a list"),
        ("links: [1]\n", "links[0]", "each link needs kind, from and to"),
        ("users: [{username: [x], name: y}]\n", "users[0]", "each user needs username and name"),
        ("users: [{username: u, name: y, roles: [{unit: [1], role: r}]}]\n", "users[0].roles[0].unit", None),
        # A bad entry late in the file: nothing of the good entries before it is written either.
        (GOOD_YAML.replace("role: supervision_office", "role: no_such_role"), "users[0].roles[0].role", None),
    ],
)
def test_import_refuses_a_bad_file_whole(county, who, text, field, reason):
    fields = _refused(county, org.import_organisation, services=county, principal=who("admin"), text=text)
    assert field in fields
    if reason is not None:
        assert fields[field] == reason


def test_import_writes_and_audits(county, who):
    counts = org.import_organisation(county, who("admin"), GOOD_YAML)
    assert counts == {"units": 1, "links": 1, "users": 1}
    assert names.unit_names(county)["tl"].name == "塔拉镇纪委"
    with county.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "organisation_imported"))
    assert (event.actor, event.detail) == ("admin", {"units": 1, "links": 1, "users": 1})


def test_text_a_database_cannot_store_is_refused_by_field(county, who):
    admin = who("admin")
    fields = _refused(
        county,
        org.create_unit,
        services=county,
        principal=admin,
        code="x1",
        name="a\x00b",
        kind="office",
        parent="\x00",
    )
    assert fields == {"name": org.INVALID_FORMAT, "parent": org.UNKNOWN_UNIT}
    assert _refused(
        county,
        org.add_membership,
        services=county,
        principal=admin,
        user_id=_user_id(county, "so1"),
        unit="\ud800",
        role="r\x00",
    ) == {"unit": org.UNKNOWN_UNIT, "role": org.UNKNOWN_ROLE}
    with pytest.raises(NotFound):
        org.unit_detail(county, admin, "jc1\x00")
    fields = _refused(
        county, org.import_organisation, services=county, principal=admin, text='units: [{code: a, name: "x\\0"}]'
    )
    assert fields == {"units[0].name": org.INVALID_FORMAT}
