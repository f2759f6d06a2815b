"""Import the organisation (units, the links between them, people and their roles) from YAML.

The same file format seeds the demo county and lets a commission load its real structure; importing
is idempotent (units and users are matched by code and username, links and memberships replaced).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .models import Membership, Unit, UnitLink, User
from .passwords import hash_password

LINK_KINDS = {"office_group", "office_township", "group_covers", "group_host", "zone_member", "zone_lead_unit"}


def load_file(path: str | Path) -> dict:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected a mapping with units, links, users")
    return data


def import_organisation(session: Session, data: dict, *, known_roles: set[str] | None = None) -> dict:
    """Create or update units, links and users; returns counts. Raises ValidationError naming the entry."""
    units = data.get("units") or []
    codes = {u["code"] for u in units if isinstance(u, dict) and "code" in u}
    codes |= set(session.scalars(select(Unit.code)))
    problems: dict[str, str] = {}
    for i, unit in enumerate(units):
        if not isinstance(unit, dict) or not unit.get("code") or not unit.get("name"):
            problems[f"units[{i}]"] = "each unit needs code and name"
        elif unit.get("parent") and unit["parent"] not in codes:
            problems[f"units[{i}].parent"] = f"unknown unit {unit['parent']}"
    for i, link in enumerate(data.get("links") or []):
        if link.get("kind") not in LINK_KINDS:
            problems[f"links[{i}].kind"] = f"must be one of {sorted(LINK_KINDS)}"
        for end in ("from", "to"):
            if link.get(end) not in codes:
                problems[f"links[{i}].{end}"] = f"unknown unit {link.get(end)}"
    for i, user in enumerate(data.get("users") or []):
        if not user.get("username") or not user.get("name"):
            problems[f"users[{i}]"] = "each user needs username and name"
        for j, m in enumerate(user.get("roles") or []):
            if m.get("unit") not in codes:
                problems[f"users[{i}].roles[{j}].unit"] = f"unknown unit {m.get('unit')}"
            if known_roles is not None and m.get("role") not in known_roles:
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
            raise ValidationError("organisation file refused: unit parents form a cycle",
                                  fields={u["code"]: "parent cycle" for u in pending})
    for sort, unit in enumerate(order):
        row = session.get(Unit, unit["code"]) or Unit(code=unit["code"])
        row.name = unit["name"]
        row.name_en = unit.get("name_en")
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
        row = session.scalar(select(User).where(User.username == user["username"]))
        if row is None:
            row = User(username=user["username"])
            password = user.get("password") or default_password
            row.password_hash = hash_password(password) if password else None
            session.add(row)
        row.display_name = user["name"]
        row.is_admin = bool(user.get("admin", False))
        row.active = user.get("active", True)
        row.locale = user.get("locale", "zh_CN")
        session.flush()
        session.execute(delete(Membership).where(Membership.user_id == row.id))
        for m in user.get("roles") or []:
            session.add(Membership(user_id=row.id, unit_code=m["unit"], role_code=m["role"],
                                   is_leader=bool(m.get("leader", False))))
    session.flush()
    return {"units": len(units), "links": len(data.get("links") or []), "users": len(data.get("users") or [])}


def linked_units(session: Session, unit_code: str, kind: str) -> list[str]:
    """Units linked from ``unit_code`` by ``kind`` (e.g. the 派驻组 a 监督检查室 links)."""
    return list(session.scalars(select(UnitLink.to_code).where(UnitLink.from_code == unit_code, UnitLink.kind == kind)))
