"""The conflict register (回避登记) in a case's forms: nobody kept out of the case is offered or accepted.

A person with a binding conflict in the case (undecided, or decided ``replace``; engine/access/duties.py)
may not act on any of its tasks, so its forms must not put him back in through a team list: the
people pickers (``"x-options": "users:<role>"``) of a form opened in the case leave him out, and every
people field of the form, plus a field of free-typed usernames that declares ``"x-no-conflict": true``
(the 核查组 list), refuses a submission naming him, with a message naming the person. A people field
that lists people to keep apart rather than a team says ``"x-no-conflict": false``.

A form recording the leader's decision (``"x-recusal": {"role": "decision", "outcome": ...}``,
engine/recusal/register.py) may keep a member whose conflict is still undecided when its outcome field
says ``keep``: the submission itself records that decision. A ``replace`` decision always binds.

As with the 巡察 rule (engine/forms/recusal.py), the facts are read where the options are read
(``resolve_options`` with the task's instance) and travel with them under a key no field can have; the
check runs in ``validate``: one refusal for the page, the API and the autopilot alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access.duties import conflicts_in_case, replaced_in_case
from engine.models import User

RULE = "x-no-conflict"
KEY = "x-no-conflict:case"  # where the facts travel among the options


def people_fields(fields: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """Fields that name people: a ``users:`` picker (alone or as list items) or ``x-no-conflict``."""
    names = []
    for name, prop in fields:
        if prop.get(RULE) is False:
            continue
        source = prop.get("x-options") or (prop.get("items") or {}).get("x-options") or ""
        if prop.get(RULE) is True or str(source).startswith("users:"):
            names.append(name)
    return names


def facts(session: Session, instance_id: int) -> list[tuple[str, str, bool]]:
    """(username, 中文说明 naming the person, decided ``replace``) of everyone the case's register keeps out."""
    found = conflicts_in_case(session, instance_id)
    if not found:
        return []
    replaced = replaced_in_case(session, instance_id)
    names = dict(
        session.execute(select(User.username, User.display_name).where(User.username.in_(sorted(found)))).all()
    )
    return [(who, f"{names.get(who) or who}：{why}，不得参与本案", who in replaced) for who, why in found.items()]


def exclude(options: list[tuple[str, str]], kept_out: Iterable[str]) -> list[tuple[str, str]]:
    """A people picker's choices without the people kept out of the case."""
    out = set(kept_out)
    return [o for o in options if str(o[0]) not in out]


def problems(
    schema: Mapping[str, Any],
    fields: Iterable[tuple[str, dict[str, Any]]],
    data: Mapping[str, Any],
    options: Mapping[str, Iterable[object]],
) -> dict[str, str]:
    """{people field: 中文说明} for every person the submission names who is kept out of the case."""
    config = schema.get("x-recusal") or {}
    keeping = (
        isinstance(config, dict) and config.get("role") == "decision" and data.get(str(config.get("outcome"))) == "keep"
    )
    kept_out = {
        str(v[0]): str(v[1])
        for v in options.get(KEY, ())
        if isinstance(v, tuple) and len(v) == 3 and (v[2] or not keeping)
    }
    if not kept_out:
        return {}
    errors: dict[str, str] = {}
    for name in people_fields(fields):
        if name not in data or not data[name]:
            continue
        people = data[name] if isinstance(data[name], list) else [data[name]]
        found = [kept_out[str(p)] for p in people if str(p) in kept_out]
        if found:
            errors[name] = "；".join(found) + "（回避：须由领导决定保留或替换）"
    return errors
