"""Organisation use cases: the right administrator only (三员分立: the system administrator keeps units,
links and accounts, the security administrator grants roles and kinds, never to himself, a reveal role
only with a second person's approval), every refusal names its field or rule, a refusal writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.access import sanyuan
from engine.access.principal import SYSTEM_PRINCIPAL, Principal
from engine.approvals import operations as approvals
from engine.errors import Forbidden, NotFound, ValidationError
from engine.models import ApprovalRequest, AuditEvent, Membership, Unit, UnitLink, User
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
                (u.username, u.display_name, u.active, u.admin_kind, u.locale, u.password_hash)
                for u in s.scalars(select(User))
            ),
            "memberships": sorted(
                (m.user_id, m.unit_code, m.role_code, m.is_leader) for m in s.scalars(select(Membership))
            ),
            "events": s.scalar(select(func.count()).select_from(AuditEvent)),
            "requests": s.scalar(select(func.count()).select_from(ApprovalRequest)),
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


def _calls(county, person, uid: int) -> dict[str, list]:
    """Every organisation use case as ``person``, by the administrator it belongs to."""
    return {
        sanyuan.ORGANISATION_ADMINS_ONLY: [
            lambda: org.overview(county, person),
            lambda: org.list_units(county, person),
            lambda: org.unit_detail(county, person, "jc1"),
            lambda: org.list_users(county, person),
            lambda: org.user_detail(county, person, uid),
        ],
        sanyuan.SYSTEM_ADMIN_ONLY: [
            lambda: org.create_unit(county, person, code="x1", name="X", kind="office"),
            lambda: org.update_unit(county, person, "jc1", name="改名", kind="office"),
            lambda: org.add_link(county, person, kind="office_township", from_code="jc1", to_code="jc2"),
            lambda: org.remove_link(county, person, _link_id(county)),
            lambda: org.create_user(county, person, username="x", display_name="X", password="a-long-password"),
            lambda: org.update_user(county, person, uid, display_name="X", active=True, password="b-long-password"),
            lambda: org.import_organisation(county, person, "units: []\n"),
        ],
        sanyuan.SECURITY_ADMIN_ONLY: [
            lambda: org.set_admin_kind(county, person, uid, admin_kind="system"),
            lambda: org.add_membership(county, person, uid, unit="jc2", role="supervision_office"),
            lambda: org.add_membership(county, person, uid, unit="cdi", role="commission_secretary"),
            lambda: org.toggle_leader(county, person, _membership_id(county)),
            lambda: org.remove_membership(county, person, _membership_id(county)),
        ],
    }


def _refused_by_rule(county, calls, rule: str) -> None:
    before = _snapshot(county)
    for call in calls:
        with pytest.raises(Forbidden) as caught:
            call()
        assert caught.value.details["reason"] == rule
    assert _snapshot(county) == before


def test_every_use_case_refuses_a_non_administrator_itself(county, who):
    for person in (who("cm1"), who("boss"), who("auditadmin")):
        for rule, calls in _calls(county, person, _user_id(county, "so1")).items():
            _refused_by_rule(county, calls, rule)
    assert org.is_administrator(who("admin")) and org.is_administrator(who("secadmin"))
    assert not org.is_administrator(who("cm1")) and not org.is_administrator(who("auditadmin"))


def test_the_system_administrator_grants_nothing_and_the_security_administrator_edits_no_account(county, who):
    uid = _user_id(county, "so1")
    _refused_by_rule(
        county, _calls(county, who("admin"), uid)[sanyuan.SECURITY_ADMIN_ONLY], sanyuan.SECURITY_ADMIN_ONLY
    )
    _refused_by_rule(county, _calls(county, who("secadmin"), uid)[sanyuan.SYSTEM_ADMIN_ONLY], sanyuan.SYSTEM_ADMIN_ONLY)
    # Both read the organisation: one keeps it, the other grants roles in it.
    for person in (who("admin"), who("secadmin")):
        assert org.user_detail(county, person, uid).user.username == "so1"
        assert org.overview(county, person)["users"] > 0
    assert org.user_detail(county, who("secadmin"), uid).may_grant
    assert not org.user_detail(county, who("admin"), uid).may_grant


def test_the_security_administrator_never_grants_to_himself_nor_to_an_administrator(county, who):
    sec = who("secadmin")
    me, other_admin = _user_id(county, "secadmin"), _user_id(county, "admin")
    _refused_by_rule(
        county,
        [
            lambda: org.add_membership(county, sec, me, unit="cdi", role="commission_secretary"),
            lambda: org.add_membership(county, sec, me, unit="jc2", role="supervision_office"),
            lambda: org.set_admin_kind(county, sec, me, admin_kind=None),
        ],
        sanyuan.NOT_TO_ONESELF,
    )
    _refused_by_rule(
        county,
        [lambda: org.add_membership(county, sec, other_admin, unit="jc2", role="supervision_office")],
        sanyuan.ADMIN_HOLDS_NO_ROLE,
    )
    assert not org.user_detail(county, sec, me).may_grant
    # A person holding working roles cannot become an administrator: no administrator does case work.
    assert _refused(
        county, org.set_admin_kind, services=county, principal=sec, user_id=_user_id(county, "so1"), admin_kind="audit"
    ) == {"admin_kind": org.HOLDS_ROLES}
    assert _refused(
        county, org.set_admin_kind, services=county, principal=sec, user_id=other_admin, admin_kind="root"
    ) == {"admin_kind": org.UNKNOWN_ADMIN_KIND}
    newbie = org.create_user(county, who("admin"), username="newsec", display_name="新安全员", password="a-long-pass-9")
    assert org.set_admin_kind(county, sec, newbie.id, admin_kind="security").admin_kind == "security"
    assert org.set_admin_kind(county, sec, newbie.id, admin_kind="").admin_kind is None
    with county.db.session() as s:
        changes = [
            (e.detail.get("before"), e.detail.get("after"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "admin_kind_changed"))
        ]
    assert changes == [(None, "security"), ("security", None)]


def test_a_reveal_role_takes_effect_only_when_a_second_person_approves(county, who):
    sec, so2 = who("secadmin"), _user_id(county, "so2")
    assert org.add_membership(county, sec, so2, unit="cdi", role="commission_secretary") == org.PENDING
    # Asked again while waiting: the same request, not a second one.
    assert org.add_membership(county, sec, so2, unit="cdi", role="commission_secretary") == org.PENDING
    assert "commission_secretary" not in who("so2").roles
    [pending] = approvals.list_requests(county, sec).pending
    assert (pending.kind, pending.requested_by, pending.may_decide) == ("reveal_grant", "secadmin", False)
    # The requester, the system administrator and the grantee may not decide it; each refusal names its rule.
    for person, rule in (
        (sec, sanyuan.OWN_REQUEST),
        (who("so2"), sanyuan.APPROVALS_ONLY),
        (who("admin"), sanyuan.NOT_AN_APPROVER),
    ):
        with pytest.raises((Forbidden, NotFound)) as caught:
            approvals.approve(county, person, pending.id)
        if isinstance(caught.value, Forbidden):
            assert caught.value.details["reason"] == rule, person
    assert "commission_secretary" not in who("so2").roles
    done = approvals.approve(county, who("secadmin2"), pending.id)
    assert (done.decision, done.decided_by) == ("approved", "secadmin2")
    assert "commission_secretary" in who("so2").roles
    with county.db.session() as s:
        added = s.scalar(
            select(AuditEvent).where(AuditEvent.action == "membership_added", AuditEvent.actor == "secadmin2")
        )
    assert (added.detail["requested_by"], added.detail["approved_by"], added.detail["role"]) == (
        "secadmin",
        "secadmin2",
        "commission_secretary",
    )
    # Revoking narrows: at once.
    membership = next(m for m in org.user_detail(county, sec, so2).memberships if m.role_code == "commission_secretary")
    org.remove_membership(county, sec, membership.id)
    assert "commission_secretary" not in who("so2").roles


def test_no_administrator_resets_another_administrators_password(county, who):
    """He could then sign in as him (the system administrator as a security administrator, to approve
    his own deploy): an administrator's password is reset at the console, or by himself."""
    admin = who("admin")
    for username in ("secadmin", "auditadmin"):
        _refused_by_rule(
            county,
            [
                lambda username=username: org.update_user(
                    county, admin, _user_id(county, username), display_name="X", active=True, password="Qinghu-Reset-1p"
                )
            ],
            sanyuan.ADMIN_PASSWORD_AT_CONSOLE,
        )
    org.update_user(
        county, admin, _user_id(county, "admin"), display_name="管理员", active=True, password="Qinghu-Reset-2q"
    )
    org.update_user(
        county, admin, _user_id(county, "so1"), display_name="刘洋", active=True, password="Qinghu-Reset-3r"
    )
    console = Principal("ops", console=True)
    org.update_user(
        county,
        console,
        _user_id(county, "secadmin"),
        display_name="安全管理员",
        active=True,
        password="Qinghu-Reset-4s",
    )


def test_an_ordinary_role_is_granted_at_once(county, who):
    sec, created = (
        who("secadmin"),
        org.create_user(county, who("admin"), username="newbie", display_name="新同志", password="a-long-password-1"),
    )
    assert org.add_membership(county, sec, created.id, unit="jc2", role="supervision_office") == org.ADDED
    assert org.add_membership(county, sec, created.id, unit="jc2", role="supervision_office") == org.ALREADY_HELD
    assert approvals.list_requests(county, sec).pending == ()


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
    assert _refused(
        county,
        org.create_user,
        services=county,
        principal=admin,
        username="system",
        display_name="X",
        password="Qinghu-Reset-1p",
    ) == {"username": org.TAKEN}  # the engine's own name: it would hold every power
    uid = _user_id(county, "so1")
    fields = _refused(
        county,
        org.update_user,
        services=county,
        principal=admin,
        user_id=uid,
        display_name="",
        active=True,
        locale="fr",
        password="short",
    )
    assert fields == {"display_name": org.REQUIRED, "locale": org.UNKNOWN_LOCALE, "password": org.TOO_SHORT}


def test_an_administrator_cannot_lock_themselves_out(county, who):
    admin = who("admin")
    me = _user_id(county, "admin")
    assert _refused(
        county,
        org.update_user,
        services=county,
        principal=admin,
        user_id=me,
        display_name="管理员",
        active=False,
    ) == {"active": org.SELF_LOCKOUT}


def test_people_roles_and_leaders(county, who):
    admin, sec = who("admin"), who("secadmin")
    created = org.create_user(county, admin, username="newbie", display_name="新同志", password="a-long-password-1")
    assert _refused(
        county, org.add_membership, services=county, principal=sec, user_id=created.id, unit="nowhere", role=""
    ) == {"unit": org.UNKNOWN_UNIT, "role": org.REQUIRED}
    assert _refused(
        county, org.add_membership, services=county, principal=sec, user_id=created.id, unit="jc2", role="pope"
    ) == {"role": org.UNKNOWN_ROLE}
    with pytest.raises(NotFound):
        org.add_membership(county, sec, 99999, unit="jc2", role="supervision_office")
    assert org.add_membership(county, sec, created.id, unit="jc2", role="supervision_office", leader=True) == org.ADDED
    assert org.add_membership(county, sec, created.id, unit="jc2", role="supervision_office") == org.ALREADY_HELD
    detail = org.user_detail(county, admin, created.id)
    [m] = detail.memberships
    assert (m.unit_code, m.role_code, m.is_leader) == ("jc2", "supervision_office", True)
    assert "supervision_office" in detail.roles and "jc2" in {u.code for u in detail.active_units}
    assert org.toggle_leader(county, sec, m.id).is_leader is False
    assert org.remove_membership(county, sec, m.id).user_id == created.id
    with pytest.raises(NotFound):
        org.toggle_leader(county, sec, m.id)
    updated = org.update_user(
        county,
        admin,
        created.id,
        display_name="新同志",
        active=False,
        locale="en",
        password="Qinghu-Reset-12",
    )
    assert (updated.active, updated.locale) == (False, "en")
    listed = {u.username: u for u in org.list_users(county, admin)}
    assert {(m.unit_code, m.role_code) for m in listed["so1lead"].memberships} == {("jc1", "supervision_office")}
    with county.db.session() as s:
        actions = [(e.actor, e.action) for e in s.scalars(select(AuditEvent).where(AuditEvent.actor.like("%admin")))]
    assert actions == [
        ("admin", "user_created"),
        ("secadmin", "membership_added"),
        ("secadmin", "membership_updated"),
        ("secadmin", "membership_removed"),
        ("admin", "user_updated"),
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
def test_import_refuses_a_bad_file_whole(county, text, field, reason):
    fields = _refused(county, org.import_organisation, services=county, principal=SYSTEM_PRINCIPAL, text=text)
    assert field in fields
    if reason is not None:
        assert fields[field] == reason


def test_import_writes_and_audits(county, who):
    counts = org.import_organisation(county, SYSTEM_PRINCIPAL, GOOD_YAML)
    assert counts == {"units": 1, "links": 1, "users": 1}
    assert names.unit_names(county)["tl"].name == "塔拉镇纪委"
    assert "supervision_office" in who("tl1").roles
    with county.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "organisation_imported"))
    assert (event.actor, event.detail) == ("system", {"units": 1, "links": 1, "users": 1})


def test_the_system_administrator_imports_a_file_that_grants_nothing(county, who):
    admin = who("admin")
    fields = _refused(
        county,
        org.import_organisation,
        services=county,
        principal=admin,
        text=GOOD_YAML + "  - {username: boss2, name: 书记二, admin: security}\n",
    )
    assert fields == {"users[0].roles": org.GRANT_NOT_ALLOWED, "users[1].admin": org.GRANT_NOT_ALLOWED}
    # Without grants it goes through, and the accounts it names keep the roles they hold.
    org.import_organisation(
        county, admin, "users:\n  - {username: so1, name: 刘洋（改）}\n  - {username: tl2, name: 新人}\n"
    )
    assert who("so1").display_name == "刘洋（改）" and "supervision_office" in who("so1").roles
    assert who("tl2").roles == set()


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
        principal=who("secadmin"),
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
