"""The 巡察 recusal rule a form can declare: no one inspects the unit his own 派驻组 is stationed in.

3-4 派驻组长 are seconded to each round as 巡察组长 or 副组长 (巡察与派驻联动); one who led the
supervision of a unit day to day cannot inspect it (任职回避、公务回避, regulations-and-practice.md §2
and §6.6). A people field of a form says so with ``"x-not-resident-of": "<unit field>"``: nobody named
in it may belong to a 派驻纪检监察组 whose 驻在单位 or 监督覆盖单位 (organisation links ``group_host``,
``group_covers``) is the unit chosen in ``<unit field>``.

The rule needs the organisation, the check needs the submission; so ``facts`` is read where a form's
options are read (``resolve_options``, one session) and travels with them under a key no field can
have, and ``problems`` runs where the options are checked (``validate``). The web page, the API and
the demo autopilot all call those two, so one refusal, in Chinese, reaches every way of completing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.models import Membership, Unit, UnitLink, User

RULE = "x-not-resident-of"
GROUP_ROLE = "resident_group"
STATIONED = ("group_host", "group_covers")


def key(field: str) -> str:
    """Where the facts for ``field`` travel among the options (a key no form field can have)."""
    return f"{RULE}:{field}"


def declared(fields: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, str]]:
    """(people field, unit field) of every field that declares the rule."""
    for name, prop in fields:
        other = prop.get(RULE)
        if isinstance(other, str) and other:
            yield name, other


def facts(session: Session) -> list[tuple[str, str]]:
    """(``username|unit code``, who he is) for every member of a 派驻组 and each unit it is stationed in
    or covers: the pairs the rule forbids."""
    group = aliased(Unit)
    covered = aliased(Unit)
    rows = session.execute(
        select(User.username, User.display_name, group.name, UnitLink.to_code, covered.name)
        .join(Membership, Membership.user_id == User.id)
        .join(group, group.code == Membership.unit_code)
        .join(UnitLink, (UnitLink.from_code == Membership.unit_code) & UnitLink.kind.in_(STATIONED))
        .join(covered, covered.code == UnitLink.to_code)
        .where(Membership.role_code == GROUP_ROLE, User.active.is_(True))
        .order_by(User.username, UnitLink.to_code)
    ).all()
    return [
        (f"{username}|{unit}", f"{display or username}：所在{group_name}驻在或监督{unit_name}")
        for username, display, group_name, unit, unit_name in dict.fromkeys(rows)
    ]


def problems(
    fields: Iterable[tuple[str, dict[str, Any]]], data: Mapping[str, Any], options: Mapping[str, Iterable[object]]
) -> dict[str, str]:
    """{people field: 中文说明} for every person the submission names against the rule."""
    errors: dict[str, str] = {}
    for name, other in declared(fields):
        target = data.get(other)
        if name not in data or not target:
            continue
        forbidden = {str(v[0]): str(v[1]) for v in options.get(key(name), ()) if isinstance(v, tuple)}
        people = data[name] if isinstance(data[name], list) else [data[name]]
        found = [forbidden[f"{p}|{target}"] for p in people if f"{p}|{target}" in forbidden]
        if found:
            errors[name] = (
                "、".join(found)
                + "，不得参加对该单位的巡察（巡察与派驻联动：派驻组长不巡察本组驻在和监督单位，任职回避、公务回避）"
            )
    return errors
