"""Import the organisation (units, the links between them, people and their roles) from YAML.

The same file format seeds the demo county and lets a commission load its real structure; importing
is idempotent (units and users are matched by code and username, links and memberships replaced).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.access.passwords import hash_password
from engine.errors import ValidationError
from engine.models import Membership, Unit, UnitLink, User, UserContact
from engine.organisation.chart import Chart

LINK_KINDS = {
    "office_group",
    "office_township",
    "group_covers",
    "group_host",
    "zone_member",
    "zone_lead_unit",
    "commission_committee",
}  # 纪委监委 → its same-level Party committee (县委)
# The kind of a 纪委监委. A commission's ``parent`` is the commission one level up (a county's is its
# prefecture's): that is the whole prefecture → county relation, read by ``commissions_under``.
COMMISSION = "commission"


def load_file(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected a mapping with units, links, users")
    return data


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _among(value: object, allowed: set[str]) -> bool:
    return isinstance(value, str) and value in allowed


ADMIN_KINDS = ("system", "security", "audit")  # engine/access/sanyuan.py


def admin_kind_of(value: object) -> str | None:
    """A user entry's ``admin``: one of the three kinds, ``true`` (the system administrator: files written
    before 三员分立 meant that), or nothing."""
    if value is True:
        return "system"
    return value if isinstance(value, str) and value in ADMIN_KINDS else None


def import_organisation(
    session: Session, data: dict[str, Any], *, known_roles: set[str] | None = None, grants: bool = True
) -> dict[str, int]:
    """Create or update units, links and users; returns counts. Raises ValidationError naming the entry.

    ``grants=False`` (an import by the system administrator, who grants nothing) leaves the roles and
    administrator kinds of existing accounts as they are; the caller has refused a file that gives any."""
    problems: dict[str, str] = {}
    for key in ("units", "links", "users"):
        if data.get(key) is not None and not isinstance(data[key], list):
            problems[key] = "must be a list"
    if problems:
        raise ValidationError("organisation file refused", fields=problems)
    units = data.get("units") or []
    codes = {u["code"] for u in units if isinstance(u, dict) and isinstance(u.get("code"), str)}
    codes |= set(session.scalars(select(Unit.code)))
    for i, unit in enumerate(units):
        if not isinstance(unit, dict) or not _is_text(unit.get("code")) or not _is_text(unit.get("name")):
            problems[f"units[{i}]"] = "each unit needs code and name"
        elif len(unit["code"]) > 64 or len(unit["name"]) > 200 or not isinstance(unit.get("kind", ""), str):
            problems[f"units[{i}]"] = "code at most 64 characters, name at most 200, kind a text"
        elif unit.get("doc_prefix") is not None and not (
            isinstance(unit["doc_prefix"], str) and 0 < len(unit["doc_prefix"]) <= 20
        ):
            problems[f"units[{i}].doc_prefix"] = "机关代字 is a text of at most 20 characters"
        elif unit.get("parent") and not _among(unit["parent"], codes):
            problems[f"units[{i}].parent"] = f"unknown unit {unit['parent']}"
    for i, link in enumerate(data.get("links") or []):
        if not isinstance(link, dict):
            problems[f"links[{i}]"] = "each link needs kind, from and to"
            continue
        if not _among(link.get("kind"), LINK_KINDS):
            problems[f"links[{i}].kind"] = f"must be one of {sorted(LINK_KINDS)}"
        for end in ("from", "to"):
            if not _among(link.get(end), codes):
                problems[f"links[{i}].{end}"] = f"unknown unit {link.get(end)}"
    for i, user in enumerate(data.get("users") or []):
        if not isinstance(user, dict) or not _is_text(user.get("username")) or not _is_text(user.get("name")):
            problems[f"users[{i}]"] = "each user needs username and name"
            continue
        if len(user["username"]) > 80 or len(user["name"]) > 120:
            problems[f"users[{i}]"] = "username at most 80 characters, name at most 120"
        admin = user.get("admin")
        if admin not in (None, False) and admin_kind_of(admin) is None:
            problems[f"users[{i}].admin"] = f"must be one of {list(ADMIN_KINDS)}"
        roles = user.get("roles") or []
        if admin_kind_of(admin) and roles:
            problems[f"users[{i}].roles"] = "an administrator holds no working role (三员分立)"
            continue
        if not isinstance(roles, list):
            problems[f"users[{i}].roles"] = "must be a list"
            continue
        for j, m in enumerate(roles):
            if not isinstance(m, dict):
                problems[f"users[{i}].roles[{j}]"] = "each role needs unit and role"
                continue
            if not _among(m.get("unit"), codes):
                problems[f"users[{i}].roles[{j}].unit"] = f"unknown unit {m.get('unit')}"
            if known_roles is not None and not _among(m.get("role"), known_roles):
                problems[f"users[{i}].roles[{j}].role"] = f"role {m.get('role')} is not in the role catalogue"
    if problems:
        raise ValidationError("organisation file refused", fields=problems)

    # Parents first, so foreign keys hold on PostgreSQL.
    pending = list(units)
    placed = set(session.scalars(select(Unit.code)))
    order = []
    while pending:
        progressed = False
        for unit in list(pending):
            if not unit.get("parent") or unit["parent"] in placed or unit["parent"] == unit["code"]:
                order.append(unit)
                placed.add(unit["code"])
                pending.remove(unit)
                progressed = True
        if not progressed:
            raise ValidationError(
                "organisation file refused: unit parents form a cycle",
                fields={u["code"]: "parent cycle" for u in pending},
            )
    for sort, unit in enumerate(order):
        row = session.get(Unit, unit["code"]) or Unit(code=unit["code"])
        row.name = unit["name"]
        row.name_en = unit.get("name_en")
        row.doc_prefix = unit.get("doc_prefix")
        row.kind = unit.get("kind", "office")
        row.parent_code = unit.get("parent")
        row.sort = unit.get("sort", sort)
        row.active = unit.get("active", True)
        session.add(row)
        session.flush()

    if "links" in data:
        session.execute(delete(UnitLink))
        for link in data.get("links") or []:
            session.add(UnitLink(kind=link["kind"], from_code=link["from"], to_code=link["to"]))

    default_password = data.get("default_password")
    for user in data.get("users") or []:
        account = session.scalar(select(User).where(User.username == user["username"]))
        if account is None:
            account = User(username=user["username"])
            password = user.get("password") or default_password
            account.password_hash = hash_password(password) if password else None
            # A password from a file (the demo's shared one, a migration's) is an initial password.
            account.must_change_password = bool(password)
            session.add(account)
        account.display_name = user["name"]
        account.active = user.get("active", True)
        account.locale = user.get("locale", "zh_CN")
        session.flush()
        if user.get("email") or user.get("mobile"):  # where notices reach the person (engine/notifications)
            session.merge(
                UserContact(
                    username=account.username,
                    email=str(user.get("email") or "")[:200] or None,
                    mobile=str(user.get("mobile") or "")[:30] or None,
                )
            )
        if not grants:
            continue
        account.admin_kind = admin_kind_of(user.get("admin"))
        session.execute(delete(Membership).where(Membership.user_id == account.id))
        for m in user.get("roles") or []:
            session.add(
                Membership(
                    user_id=account.id, unit_code=m["unit"], role_code=m["role"], is_leader=bool(m.get("leader", False))
                )
            )
    session.flush()
    return {"units": len(units), "links": len(data.get("links") or []), "users": len(data.get("users") or [])}


def linked_units(session: Session, unit_code: str, kind: str) -> list[str]:
    """Units linked from ``unit_code`` by ``kind`` (e.g. the 派驻组 a 监督检查室 links)."""
    return list(session.scalars(select(UnitLink.to_code).where(UnitLink.from_code == unit_code, UnitLink.kind == kind)))


# --------------------------------------------------------------------------- the commission that owns a matter
def owner_vars(role_entries: dict[str, Any]) -> dict[str, list[str]]:
    """Process variable -> the role codes whose unit it names, from the role catalogue's ``owner_var``.

    ``role_entries`` is the catalogue as deployed (``RoleCatalogue.roles``: code -> entry). Several roles
    may share one variable (书记, 分管领导 and 常委会 all sit in the commission itself: ``commission_unit``).
    """
    result: dict[str, list[str]] = {}
    for code, entry in sorted((role_entries or {}).items()):
        var = (entry or {}).get("owner_var") if isinstance(entry, dict) else None
        if var:
            result.setdefault(str(var), []).append(code)
    return result


def commission_of(session: Session, unit_code: str | None, chart: Chart | None = None) -> str | None:
    """The 纪委监委 a unit belongs to: itself or its nearest ``commission`` ancestor; for a unit of the
    same-level Party committee (县委, 巡察办, 组织部 …), the commission linked to that committee.
    ``chart``: the units as read in this transaction (engine/organisation/chart.py), instead of reads."""
    seen = set()
    code = unit_code
    root = None
    while code and code not in seen:
        seen.add(code)
        if chart is not None:
            if code not in chart.units:
                return None
            parent, kind, _active = chart.units[code]
            if kind == COMMISSION:
                return code
            root, code = code, parent
            continue
        row = session.get(Unit, code)
        if row is None:
            return None
        if row.kind == COMMISSION:
            return row.code
        root = row.code
        code = row.parent_code
    if root is None:
        return None
    if chart is not None:
        linked = chart.linked.get(root)
        return linked[0] if linked else None
    return session.scalar(
        select(UnitLink.from_code)
        .where(UnitLink.kind == "commission_committee", UnitLink.to_code == root)
        .order_by(UnitLink.from_code)
    )


def _subtree(session: Session, roots: list[str], chart: Chart | None = None) -> set[str]:
    """The roots and the active units below them, stopping at a commission below a root: a prefecture
    commission's own offices are its units, its counties' commissions (their ``parent``) are not."""
    children: dict[str | None, list[str]] = {}  # None: the root units
    commissions: set[str] = set()
    active = (
        session.execute(select(Unit.code, Unit.parent_code, Unit.kind).where(Unit.active.is_(True)))
        if chart is None
        else ((code, parent, kind) for code, (parent, kind, on) in chart.units.items() if on)
    )
    for code, parent, kind in active:
        children.setdefault(parent, []).append(code)
        if kind == COMMISSION:
            commissions.add(code)
    found, pending = set(), list(roots)
    while pending:
        code = pending.pop()
        if code in found:
            continue
        found.add(code)
        pending.extend(c for c in children.get(code, []) if c not in commissions)
    return found


def commissions_under(session: Session, commissions: Iterable[str]) -> set[str]:
    """The commissions and every commission below them: a county commission's ``parent`` is its
    prefecture's commission (海南州纪委监委 → 青湖县纪委监委), a prefecture's the province's. Walks the
    ``parent`` chain through any unit between them, so a commission placed under an office still counts;
    two counties of one prefecture are siblings and never under each other."""
    children: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for code, parent, kind in session.execute(select(Unit.code, Unit.parent_code, Unit.kind)):
        kinds[code] = kind
        if parent:
            children.setdefault(parent, []).append(code)
    found: set[str] = set()
    seen: set[str] = set()
    pending = [c for c in commissions if kinds.get(c) == COMMISSION]
    while pending:
        code = pending.pop()
        if code in seen:
            continue
        seen.add(code)
        if kinds.get(code) == COMMISSION:
            found.add(code)
        pending.extend(children.get(code, []))
    return found


def owner_units(
    session: Session, commission: str, role_entries: dict[str, Any], chart: Chart | None = None
) -> dict[str, str | list[str]]:
    """The owner variables of a matter owned by ``commission``: variable -> unit code (or codes).

    Each variable names the units, inside the commission and its same-level Party committee (linked by
    ``commission_committee``), where an active person holds one of the variable's roles: ``petition_unit``
    is the commission's 信访室, ``commission_unit`` the commission itself, ``committee_unit`` the 县委.
    A variable no unit fills is left out (a task that needs it then fails loudly instead of opening to all).
    ``chart``: see :func:`roles_held`.
    """
    held = roles_held(session, commission, chart)
    result: dict[str, str | list[str]] = {}
    for var, roles in owner_vars(role_entries).items():
        units = sorted(set().union(*(held.get(r, set()) for r in roles)))
        if units:
            result[var] = units[0] if len(units) == 1 else units
    return result


def roles_held(session: Session, commission: str, chart: Chart | None = None) -> dict[str, set[str]]:
    """Role -> the units of the commission (and of its same-level Party committee, linked by
    ``commission_committee``) where an active person holds it; never a unit of a commission below.
    ``chart``: the units and links as read in this transaction (engine/organisation/chart.py): then only
    the memberships are read."""
    committees = (
        chart.committees_of(commission)
        if chart is not None
        else list(
            session.scalars(
                select(UnitLink.to_code).where(
                    UnitLink.kind == "commission_committee", UnitLink.from_code == commission
                )
            )
        )
    )
    scope = _subtree(session, [commission, *committees], chart)
    held: dict[str, set[str]] = {}
    rows = session.execute(
        select(Membership.role_code, Membership.unit_code)
        .join(User, User.id == Membership.user_id)
        .where(Membership.unit_code.in_(scope), User.active.is_(True))
    )
    for role, unit in rows:
        held.setdefault(role, set()).add(unit)
    return held
