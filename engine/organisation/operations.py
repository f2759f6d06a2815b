"""Organisation use cases: units, the links between them, people, their roles, leaders, YAML import.

One function per thing an administrator does (the admin pages call these and nothing else). Each takes
the acting ``Principal`` and plain values, checks that the person is the right administrator, validates
everything before writing anything, writes and audits in one transaction, and returns frozen views, so
a refused change leaves nothing behind and no ORM object leaves its session.

三员分立 (engine/access/sanyuan.py): the system administrator keeps units, links and accounts (create,
disable, reset a password) and imports organisation files that grant nothing; the security administrator
grants and revokes roles and administrator kinds, never on his own account. A role in the reveal-role
set (``Config.reveal_roles``: it shows reporters' identities) is not granted at once: the grant is stored
as a request (``engine.approvals``) and takes effect when a second person approves it.

Refusals name the field at fault: ``ValidationError.fields`` maps a field to a reason code (``REQUIRED``,
``TAKEN`` …) that a page translates into the reader's language and an API client can switch on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.access import credentials, sanyuan, sessions
from engine.access.accounts import LOCALES
from engine.access.principal import SYSTEM, Principal
from engine.approvals import requests
from engine.errors import NotFound, ValidationError
from engine.models import Membership, Unit, UnitLink, User
from engine.organisation import directory, names
from engine.services import Services

CODE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,80}$")
_Row = TypeVar("_Row", Unit, UnitLink, User, Membership)
INT_RANGE = (-(2**31), 2**31 - 1)  # the database's INTEGER

# Reason codes in ValidationError.fields.
REQUIRED = "required"
INVALID_FORMAT = "invalid_format"
TOO_LONG = "too_long"
TOO_SHORT = "too_short"
TAKEN = "taken"
UNKNOWN_UNIT = "unknown_unit"
UNKNOWN_ROLE = "unknown_role"
UNKNOWN_KIND = "unknown_kind"
UNKNOWN_LOCALE = "unknown_locale"
SAME_UNIT = "same_unit"
PARENT_CYCLE = "parent_cycle"
NOT_INTEGER = "not_integer"
SELF_LOCKOUT = "self_lockout"
INVALID_YAML = "invalid_yaml"
EMPTY = "empty"
NOT_MAPPING = "not_mapping"
UNKNOWN_ADMIN_KIND = "unknown_admin_kind"
HOLDS_ROLES = "holds_roles"  # an account holding working roles cannot become an administrator
GRANT_NOT_ALLOWED = "grant_not_allowed"  # an import by the system administrator grants no role or kind

# What ``add_membership`` did.
ADDED = "added"
ALREADY_HELD = "already_held"
PENDING = "pending"  # a reveal role: stored as a request for a second person's approval


# --------------------------------------------------------------------------- views
@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_code: str | None
    sort: int
    active: bool


@dataclass(frozen=True)
class LinkView:
    id: int
    kind: str
    from_code: str
    to_code: str


@dataclass(frozen=True)
class MembershipView:
    id: int
    user_id: int
    unit_code: str
    role_code: str
    is_leader: bool


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    active: bool
    admin_kind: str | None
    locale: str
    memberships: tuple[MembershipView, ...] = ()


@dataclass(frozen=True)
class UnitsPage:
    units: list[UnitView]
    members: dict[str, int]  # unit code -> number of people holding a role there


@dataclass(frozen=True)
class UnitDetail:
    unit: UnitView
    all_units: list[UnitView]
    links_from: list[LinkView]
    links_to: list[LinkView]
    members: list[tuple[MembershipView, UserView]]


@dataclass(frozen=True)
class UserDetail:
    user: UserView
    memberships: list[MembershipView]
    active_units: list[UnitView]
    roles: list[str]  # the catalogue's roles and any already held
    may_grant: bool = False  # this person may grant and revoke this account's roles (sanyuan rules)


def _unit(row: Unit) -> UnitView:
    return UnitView(row.code, row.name, row.name_en, row.kind, row.parent_code, row.sort, row.active)


def _link(row: UnitLink) -> LinkView:
    return LinkView(row.id, row.kind, row.from_code, row.to_code)


def _membership(row: Membership) -> MembershipView:
    return MembershipView(row.id, row.user_id, row.unit_code, row.role_code, row.is_leader)


def _user(row: User, memberships: Iterable[Membership] = ()) -> UserView:
    return UserView(
        row.id,
        row.username,
        row.display_name,
        row.active,
        row.admin_kind,
        row.locale,
        tuple(_membership(m) for m in memberships),
    )


# --------------------------------------------------------------------------- who may
def is_administrator(principal: Principal) -> bool:
    """Who opens the organisation's pages: the system and the security administrator (and the engine)."""
    return principal.is_system_admin or principal.is_security_admin or principal.is_system


def require_administrator(principal: Principal) -> None:
    sanyuan.require_organisation_reader(principal)


def reveal_roles(services: Services) -> frozenset[str]:
    """The roles that show reporters' identities: granting one needs a second person's approval."""
    return services.config.reveal_roles


# --------------------------------------------------------------------------- validation helpers
def _text(value: str | None) -> str:
    return (value or "").strip()


def _storable(value: str) -> bool:
    """No control characters or lone surrogates: a database refuses some (NUL) and no name needs them."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def _required(problems: dict[str, str], field: str, value: str, max_length: int) -> None:
    if not value:
        problems[field] = REQUIRED
    elif len(value) > max_length:
        problems[field] = TOO_LONG
    elif not _storable(value):
        problems[field] = INVALID_FORMAT


def _unit_exists(session: Session, code: str) -> bool:
    return bool(code) and len(code) <= 64 and _storable(code) and session.get(Unit, code) is not None


def _integer(problems: dict[str, str], field: str, value: str | int | None) -> int:
    text = str(value).strip() if value is not None else ""
    if not text:
        return 0
    if not re.fullmatch(r"-?\d{1,10}", text) or not INT_RANGE[0] <= int(text) <= INT_RANGE[1]:
        problems[field] = NOT_INTEGER
        return 0
    return int(text)


def _refuse(problems: dict[str, str], what: str) -> None:
    if problems:
        raise ValidationError(f"{what} refused: " + ", ".join(f"{k}: {v}" for k, v in problems.items()), problems)


def _ancestors(session: Session, code: str) -> set[str]:
    seen: set[str] = set()
    current: str | None = code
    while current and current not in seen:
        seen.add(current)
        current = session.scalar(select(Unit.parent_code).where(Unit.code == current))
    return seen


def _get(session: Session, model: type[_Row], key: str | int, what: str) -> _Row:
    """The row ``key`` of ``model``, or NotFound naming it (``what``: unit, user, link, membership)."""
    row = session.get(model, key) if not isinstance(key, str) or _storable(key) else None
    if row is None:
        raise NotFound(f"no {what} {key!r}", **{what: key})
    return row


def _changed(services: Services) -> None:
    """Names on pages come from a cache (engine.organisation.names): drop it after a change."""
    names.forget(services)


# --------------------------------------------------------------------------- overview and units
def overview(services: Services, principal: Principal) -> dict[str, int]:
    require_administrator(principal)
    with services.db.session() as s:
        return {
            key: int(s.scalar(select(func.count()).select_from(model)) or 0)
            for key, model in (("units", Unit), ("users", User), ("links", UnitLink), ("memberships", Membership))
        }


def _all_units(session: Session, *, active_only: bool = False) -> list[UnitView]:
    query = select(Unit).order_by(Unit.sort, Unit.code)
    if active_only:
        query = query.where(Unit.active.is_(True))
    return [_unit(u) for u in session.scalars(query)]


def list_units(services: Services, principal: Principal) -> UnitsPage:
    require_administrator(principal)
    with services.db.session() as s:
        counts = s.execute(
            select(Membership.unit_code, func.count(func.distinct(Membership.user_id))).group_by(Membership.unit_code)
        ).all()
        return UnitsPage(units=_all_units(s), members={code: int(n) for code, n in counts})


def _unit_problems(
    session: Session, *, name: str, name_en: str, kind: str, parent: str, sort: str | int | None, code: str
) -> tuple[dict[str, str], int]:
    problems: dict[str, str] = {}
    _required(problems, "name", name, 200)
    if len(name_en) > 200:
        problems["name_en"] = TOO_LONG
    elif not _storable(name_en):
        problems["name_en"] = INVALID_FORMAT
    _required(problems, "kind", kind, 40)
    if parent:
        if not _unit_exists(session, parent):
            problems["parent"] = UNKNOWN_UNIT
        elif code in _ancestors(session, parent):
            problems["parent"] = PARENT_CYCLE
    return problems, _integer(problems, "sort", sort)


def create_unit(
    services: Services,
    principal: Principal,
    *,
    code: str,
    name: str,
    kind: str,
    name_en: str | None = None,
    parent: str | None = None,
    sort: str | int | None = 0,
) -> UnitView:
    sanyuan.require_system_admin(principal)
    code, name, name_en_, kind, parent_ = _text(code), _text(name), _text(name_en), _text(kind), _text(parent)
    with services.db.session() as s:
        problems: dict[str, str] = {}
        if not CODE_RE.match(code):
            problems["code"] = INVALID_FORMAT
        elif s.get(Unit, code) is not None:
            problems["code"] = TAKEN
        more, sort_ = _unit_problems(s, name=name, name_en=name_en_, kind=kind, parent=parent_, sort=sort, code=code)
        problems.update(more)
        _refuse(problems, "unit")
        row = Unit(
            code=code,
            name=name,
            name_en=name_en_ or None,
            kind=kind,
            parent_code=parent_ or None,
            sort=sort_,
            active=True,
        )
        s.add(row)
        audit.record(s, "unit_created", actor=principal.username, unit=code, name=name)
        view = _unit(row)
    _changed(services)
    return view


def unit_detail(services: Services, principal: Principal, code: str) -> UnitDetail:
    require_administrator(principal)
    with services.db.session() as s:
        row = _get(s, Unit, code, "unit")
        links_from = s.scalars(
            select(UnitLink).where(UnitLink.from_code == code).order_by(UnitLink.kind, UnitLink.to_code)
        )
        links_to = s.scalars(
            select(UnitLink).where(UnitLink.to_code == code).order_by(UnitLink.kind, UnitLink.from_code)
        )
        members = s.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.unit_code == code)
            .order_by(User.username)
        ).all()
        return UnitDetail(
            unit=_unit(row),
            all_units=_all_units(s),
            links_from=[_link(link) for link in links_from],
            links_to=[_link(link) for link in links_to],
            members=[(_membership(m), _user(u)) for m, u in members],
        )


def update_unit(
    services: Services,
    principal: Principal,
    code: str,
    *,
    name: str,
    kind: str,
    name_en: str | None = None,
    parent: str | None = None,
    sort: str | int | None = 0,
    active: bool = True,
) -> UnitView:
    sanyuan.require_system_admin(principal)
    name, name_en_, kind, parent_ = _text(name), _text(name_en), _text(kind), _text(parent)
    with services.db.session() as s:
        row = _get(s, Unit, code, "unit")
        problems, sort_ = _unit_problems(
            s, name=name, name_en=name_en_, kind=kind, parent=parent_, sort=sort, code=code
        )
        _refuse(problems, "unit")
        row.name, row.name_en, row.kind = name, name_en_ or None, kind
        row.parent_code, row.sort, row.active = parent_ or None, sort_, bool(active)
        audit.record(s, "unit_updated", actor=principal.username, unit=code, name=name, active=row.active)
        view = _unit(row)
    _changed(services)
    return view


# --------------------------------------------------------------------------- links
def add_link(services: Services, principal: Principal, *, kind: str, from_code: str, to_code: str) -> bool:
    """Link two units (室组地: an office to a resident group …); False when the link already exists."""
    sanyuan.require_system_admin(principal)
    kind, from_code, to_code = _text(kind), _text(from_code), _text(to_code)
    with services.db.session() as s:
        problems: dict[str, str] = {}
        if kind not in directory.LINK_KINDS:
            problems["kind"] = UNKNOWN_KIND
        for field, code in (("from", from_code), ("to", to_code)):
            if not _unit_exists(s, code):
                problems[field] = UNKNOWN_UNIT
        if "to" not in problems and from_code == to_code:
            problems["to"] = SAME_UNIT
        _refuse(problems, "link")
        exists = s.scalar(
            select(UnitLink.id).where(
                UnitLink.kind == kind, UnitLink.from_code == from_code, UnitLink.to_code == to_code
            )
        )
        if exists is not None:
            return False
        s.add(UnitLink(kind=kind, from_code=from_code, to_code=to_code))
        audit.record(s, "unit_link_added", actor=principal.username, kind=kind, from_unit=from_code, to_unit=to_code)
    _changed(services)
    return True


def remove_link(services: Services, principal: Principal, link_id: int) -> LinkView:
    sanyuan.require_system_admin(principal)
    with services.db.session() as s:
        row = _get(s, UnitLink, link_id, "link")
        view = _link(row)
        audit.record(
            s,
            "unit_link_removed",
            actor=principal.username,
            kind=row.kind,
            from_unit=row.from_code,
            to_unit=row.to_code,
        )
        s.delete(row)
    _changed(services)
    return view


# --------------------------------------------------------------------------- people
def _memberships_by_user(session: Session) -> dict[int, list[Membership]]:
    found: dict[int, list[Membership]] = {}
    for m in session.scalars(select(Membership).order_by(Membership.unit_code, Membership.role_code)):
        found.setdefault(m.user_id, []).append(m)
    return found


def list_users(services: Services, principal: Principal) -> list[UserView]:
    """Everyone, by username, each with the roles they hold in which units (the admin list, ``guantong users``)."""
    require_administrator(principal)
    with services.db.session() as s:
        held = _memberships_by_user(s)
        return [_user(u, held.get(u.id, ())) for u in s.scalars(select(User).order_by(User.username))]


def _password_problem(
    problems: dict[str, str], session: Session, user: User | None, username: str, password: str, services: Services
) -> None:
    """The password policy (engine/access/passwords.py), the same for an administrator as for the owner."""
    rule = credentials.problem(session, user, username, password, services.config)
    if rule is not None:
        problems["password"] = rule


def create_user(
    services: Services,
    principal: Principal,
    *,
    username: str,
    display_name: str,
    password: str,
) -> UserView:
    """A new account, holding nothing: roles and administrator kinds are the security administrator's."""
    sanyuan.require_system_admin(principal)
    username, display_name = _text(username), _text(display_name)
    with services.db.session() as s:
        problems: dict[str, str] = {}
        if not USERNAME_RE.match(username):
            problems["username"] = INVALID_FORMAT
        elif username.lower() == SYSTEM or s.scalar(select(User.id).where(User.username == username)) is not None:
            problems["username"] = TAKEN  # "system" names the engine itself, which holds every power
        _required(problems, "display_name", display_name, 120)
        _password_problem(problems, s, None, username, password or "", services)
        _refuse(problems, "user")
        row = User(username=username, display_name=display_name, active=True)
        s.add(row)
        s.flush()
        # An administrator chose it: an initial password, changed by its owner at the first sign-in.
        credentials.store(s, row, password, services.config, initial=True, reason=sessions.PASSWORD_CHANGED)
        audit.record(s, "user_created", actor=principal.username, username=username)
        return _user(row)


def _known_roles(session: Session) -> list[str]:
    catalogue = set(names.read_role_catalogue(session))
    used = set(session.scalars(select(Membership.role_code).distinct()))
    return sorted(catalogue | used)


def user_detail(services: Services, principal: Principal, user_id: int) -> UserDetail:
    require_administrator(principal)
    with services.db.session() as s:
        row = _get(s, User, user_id, "user")
        memberships = s.scalars(
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.unit_code, Membership.role_code)
        ).all()
        return UserDetail(
            user=_user(row, memberships),
            memberships=[_membership(m) for m in memberships],
            active_units=_all_units(s, active_only=True),
            roles=_known_roles(s),
            may_grant=(
                (principal.is_security_admin or principal.is_system)
                and row.username != principal.username
                and not row.admin_kind
            ),
        )


def update_user(
    services: Services,
    principal: Principal,
    user_id: int,
    *,
    display_name: str,
    active: bool,
    locale: str | None = None,
    password: str | None = None,
) -> UserView:
    """Edit an account (the system administrator's); a new password (reset) is an initial one (changed at
    the next sign-in) and, like disabling the account, ends every session and API token of that person.
    He cannot disable his own account (nobody might be left to undo it)."""
    sanyuan.require_system_admin(principal)
    display_name = _text(display_name)
    with services.db.session() as s:
        row = _get(s, User, user_id, "user")
        if password:
            sanyuan.require_may_reset_password(principal, row.username, row.admin_kind)
        problems: dict[str, str] = {}
        _required(problems, "display_name", display_name, 120)
        if password:
            _password_problem(problems, s, row, row.username, password, services)
        if locale is not None and locale not in LOCALES:
            problems["locale"] = UNKNOWN_LOCALE
        if row.username == principal.username and not active:
            problems["active"] = SELF_LOCKOUT
        _refuse(problems, "user")
        row.display_name, row.active = display_name, bool(active)
        if locale is not None:
            row.locale = locale
        if password:  # a reset: initial again, and every session and token of that person ends
            credentials.store(s, row, password, services.config, initial=True, reason=sessions.PASSWORD_CHANGED)
        elif not row.active:
            sessions.revoke_all(s, row.id, reason=sessions.DISABLED)
        audit.record(
            s,
            "user_updated",
            actor=principal.username,
            username=row.username,
            active=row.active,
            password_reset=bool(password) or None,
        )
        return _user(row)


def set_admin_kind(services: Services, principal: Principal, user_id: int, *, admin_kind: str | None) -> UserView:
    """Make an account one of the three administrators, or none (the security administrator's, never on
    his own account). An account that holds working roles cannot become one: an administrator does no
    case work (remove the roles first)."""
    sanyuan.require_security_admin(principal)
    kind = _text(admin_kind) or None
    with services.db.session() as s:
        row = _get(s, User, user_id, "user")
        sanyuan.require_not_oneself(principal, row.username)
        problems: dict[str, str] = {}
        if kind is not None and kind not in sanyuan.ADMIN_KINDS:
            problems["admin_kind"] = UNKNOWN_ADMIN_KIND
        elif kind and s.scalar(select(Membership.id).where(Membership.user_id == user_id).limit(1)) is not None:
            problems["admin_kind"] = HOLDS_ROLES
        _refuse(problems, "user")
        if row.admin_kind != kind:
            before, row.admin_kind = row.admin_kind, kind
            audit.record(
                s, "admin_kind_changed", actor=principal.username, username=row.username, before=before, after=kind
            )
        return _user(row)


# --------------------------------------------------------------------------- roles held in units
def add_membership(
    services: Services, principal: Principal, user_id: int, *, unit: str, role: str, leader: bool = False
) -> str:
    """Give a person a role in a unit (optionally as its leader): ``ADDED``, ``ALREADY_HELD``, or ``PENDING``
    for a reveal role, which is stored as a request and granted when a second person approves it.

    The security administrator's, never on his own account, never to an administrator account."""
    sanyuan.require_security_admin(principal)
    unit, role = _text(unit), _text(role)
    with services.db.session() as s:
        target = _get(s, User, user_id, "user")
        sanyuan.require_not_oneself(principal, target.username)
        sanyuan.require_holds_no_role(target.username, target.admin_kind, principal)
        problems: dict[str, str] = {}
        if not _unit_exists(s, unit):
            problems["unit"] = UNKNOWN_UNIT
        catalogue = names.read_role_catalogue(s)
        if not role:
            problems["role"] = REQUIRED
        elif len(role) > 64 or not _storable(role) or (catalogue and role not in _known_roles(s)):
            problems["role"] = UNKNOWN_ROLE
        _refuse(problems, "membership")
        if _held(s, user_id, unit, role):
            return ALREADY_HELD
        if role in reveal_roles(services) and not principal.is_system:
            if requests.pending_grant(s, user_id, unit, role) is None:
                requests.open_request(
                    s,
                    principal,
                    requests.REVEAL_GRANT,
                    summary=f"{target.username}: {role} @ {unit}",
                    payload={
                        "user_id": user_id,
                        "username": target.username,
                        "unit": unit,
                        "role": role,
                        "leader": bool(leader),
                    },
                )
            return PENDING
        s.add(Membership(user_id=user_id, unit_code=unit, role_code=role, is_leader=bool(leader)))
        audit.record(
            s,
            "membership_added",
            actor=principal.username,
            user_id=user_id,
            unit=unit,
            role=role,
            leader=bool(leader) or None,
        )
        return ADDED


def _held(s: Session, user_id: int, unit: str, role: str) -> bool:
    return (
        s.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.unit_code == unit, Membership.role_code == role
            )
        )
        is not None
    )


def apply_reveal_grant(s: Session, payload: dict[str, Any], *, approval: dict[str, Any]) -> dict[str, Any]:
    """Grant an approved reveal role in the approver's transaction (``engine.approvals.operations``).

    What was checked at request time is checked again: the account may have become an administrator or
    been deleted, the unit closed, since. Its ``membership_added`` event names the requester and the
    approver."""
    user_id, unit, role = int(payload["user_id"]), str(payload["unit"]), str(payload["role"])
    target = s.get(User, user_id)
    if target is None or target.username != payload.get("username"):
        raise NotFound(f"no user {payload.get('username')!r}", user=payload.get("username"))
    if target.admin_kind:
        raise ValidationError("administrators hold no working role", {"user": HOLDS_ROLES})
    if not _unit_exists(s, unit):
        raise ValidationError("the unit no longer exists", {"unit": UNKNOWN_UNIT})
    if not _held(s, user_id, unit, role):
        s.add(Membership(user_id=user_id, unit_code=unit, role_code=role, is_leader=bool(payload.get("leader"))))
        audit.record(
            s,
            "membership_added",
            actor=str(approval["approved_by"]),
            user_id=user_id,
            unit=unit,
            role=role,
            leader=bool(payload.get("leader")) or None,
            **approval,
        )
    return {"user_id": user_id, "unit": unit, "role": role}


def _own_membership(s: Session, principal: Principal, membership_id: int) -> Membership:
    """The membership to change, refusing one of the acting administrator's own."""
    row = _get(s, Membership, membership_id, "membership")
    sanyuan.require_not_oneself(principal, s.scalar(select(User.username).where(User.id == row.user_id)) or "")
    return row


def toggle_leader(services: Services, principal: Principal, membership_id: int) -> MembershipView:
    """Make the holder the unit's leader, or not: a leader sees the unit's tasks (the security administrator's)."""
    sanyuan.require_security_admin(principal)
    with services.db.session() as s:
        row = _own_membership(s, principal, membership_id)
        row.is_leader = not row.is_leader
        audit.record(
            s,
            "membership_updated",
            actor=principal.username,
            user_id=row.user_id,
            unit=row.unit_code,
            role=row.role_code,
            leader=row.is_leader,
        )
        return _membership(row)


def remove_membership(services: Services, principal: Principal, membership_id: int) -> MembershipView:
    """Revoke a role (the security administrator's; a reveal role too, at once: revoking only narrows)."""
    sanyuan.require_security_admin(principal)
    with services.db.session() as s:
        row = _own_membership(s, principal, membership_id)
        view = _membership(row)
        audit.record(
            s,
            "membership_removed",
            actor=principal.username,
            user_id=row.user_id,
            unit=row.unit_code,
            role=row.role_code,
        )
        s.execute(delete(Membership).where(Membership.id == membership_id))
        return view


# --------------------------------------------------------------------------- YAML import
def parse_organisation(text: str) -> dict[str, Any]:
    """The mapping in an organisation file; ValidationError on the ``yaml`` field when it is not one."""
    try:
        data = yaml.safe_load(text) if text and text.strip() else None
    except yaml.YAMLError as exc:
        line = str(exc).splitlines()[0] if str(exc) else "YAML error"
        raise ValidationError(f"not valid YAML: {line}", {"yaml": INVALID_YAML}, reason=line) from None
    if data is None:
        raise ValidationError("no organisation given", {"yaml": EMPTY})
    if not isinstance(data, dict):
        raise ValidationError("expected a mapping with units, links, users", {"yaml": NOT_MAPPING})
    bad = dict.fromkeys(_unstorable(data), INVALID_FORMAT)
    if bad:
        raise ValidationError("control characters in the organisation file", bad)
    return data


def _unstorable(value: object, path: str = "") -> list[str]:
    """Paths of the texts in a parsed file that hold control characters (``"\\0"`` is valid YAML)."""
    if isinstance(value, str):
        return [] if _storable(value) else [path or "yaml"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unstorable(k, path) + _unstorable(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unstorable(v, f"{path}[{i}]")]
    return []


def import_organisation(services: Services, principal: Principal, text: str) -> dict[str, int]:
    """Load units, links and people from YAML (the demo/organisation.yaml format); all of it or nothing.

    Roles must be in the deployed role catalogue, when one is deployed. Field names in a refusal are paths
    into the file (``users[2].roles[0].unit``). The system administrator's: he grants nothing, so a file
    giving anyone a role or an administrator kind is refused (``GRANT_NOT_ALLOWED``) and the accounts it
    names keep theirs; the engine's own import (``guantong demo``, a fresh machine) loads them.
    """
    sanyuan.require_system_admin(principal)
    data = parse_organisation(text)
    grants = principal.is_system
    if not grants:
        _refuse(_grants_in(data), "organisation")
    with services.db.session() as s:
        known = set(names.read_role_catalogue(s)) or None
        counts = directory.import_organisation(s, data, known_roles=known, grants=grants)
        audit.record(s, "organisation_imported", actor=principal.username, **counts)
    _changed(services)
    return counts


def _grants_in(data: dict[str, Any]) -> dict[str, str]:
    """The entries of an organisation file that would grant a role or an administrator kind."""
    found: dict[str, str] = {}
    users = data.get("users")
    for i, user in enumerate(users if isinstance(users, list) else []):
        if not isinstance(user, dict):
            continue
        if user.get("roles"):
            found[f"users[{i}].roles"] = GRANT_NOT_ALLOWED
        if user.get("admin") not in (None, False):
            found[f"users[{i}].admin"] = GRANT_NOT_ALLOWED
    return found
