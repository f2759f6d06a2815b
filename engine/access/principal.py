"""Who is acting: a user with the (unit, role) pairs they hold, loaded once per request.

Every permission question in Guantong is answered from a ``Principal``, in the engine, so the web pages
and the JSON API cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from engine.errors import Forbidden, NotFound
from engine.models import Membership, User

SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    username: str
    display_name: str = ""
    memberships: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (unit_code, role_code)
    leader_of: frozenset[str] = field(default_factory=frozenset)
    admin_kind: str | None = None  # 三员分立: "system", "security" or "audit" (engine/access/sanyuan.py)
    user_id: int | None = None
    # The installation operator at the console (``guantong deploy``, ``guantong calendar``): whoever holds
    # the database credentials already holds every power, so the console acts as the engine itself,
    # under the name the operator gives (recorded in the audit trail).
    console: bool = False

    @property
    def roles(self) -> set[str]:
        return {role for _, role in self.memberships}

    @property
    def units(self) -> set[str]:
        return {unit for unit, _ in self.memberships}

    def units_for(self, role: str) -> set[str]:
        return {unit for unit, r in self.memberships if r == role}

    def holds(self, role: str, unit: str | None = None) -> bool:
        if unit is None:
            return role in self.roles
        return (unit, role) in self.memberships

    @property
    def is_system(self) -> bool:
        """The engine itself (worker, timers, the console's bootstrap): not a person, keeps every power."""
        return self.username == SYSTEM or self.console

    @property
    def is_system_admin(self) -> bool:
        return self.admin_kind == "system"

    @property
    def is_security_admin(self) -> bool:
        return self.admin_kind == "security"

    @property
    def is_audit_admin(self) -> bool:
        return self.admin_kind == "audit"


SYSTEM_PRINCIPAL = Principal(username=SYSTEM, display_name="系统")


def load_principal(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user '{username}'", user=username)
    if not user.active:
        raise Forbidden(f"user '{username}' is disabled", user=username)
    rows = session.execute(
        select(Membership.unit_code, Membership.role_code, Membership.is_leader).where(Membership.user_id == user.id)
    ).all()
    return Principal(
        username=user.username,
        display_name=user.display_name,
        memberships=frozenset((r.unit_code, r.role_code) for r in rows),
        leader_of=frozenset(r.unit_code for r in rows if r.is_leader),
        admin_kind=user.admin_kind,
        user_id=user.id,
    )


_USER, _MEMBERSHIP = (cast(Table, m.__table__) for m in (User, Membership))


def person_by_token(holder: Table, *columns: ColumnElement[Any]) -> Select[Any]:
    """The row of ``holder`` (an API token, a web session) whose ``token_hash`` is ``:token_hash``, with
    its user and his memberships, in one statement: ``columns`` of the holder and of the user, then what
    :func:`principal_of_rows` reads. One row per membership (one row with NULL membership columns for a
    user who holds none)."""
    return (
        select(
            *columns,
            _USER.c.id.label("user_id"),
            _USER.c.username,
            _USER.c.display_name,
            _USER.c.admin_kind,
            _USER.c.active,
            _MEMBERSHIP.c.unit_code,
            _MEMBERSHIP.c.role_code,
            _MEMBERSHIP.c.is_leader,
        )
        .join(_USER, _USER.c.id == holder.c.user_id)
        .outerjoin(_MEMBERSHIP, _MEMBERSHIP.c.user_id == _USER.c.id)
        .where(holder.c.token_hash == bindparam("token_hash"))
    )


def principal_of_rows(rows: Sequence[Any]) -> Principal:
    """The principal of one read that joined a user to his memberships: one row per membership (one row
    with NULL membership columns for a user who holds none), each naming ``user_id``, ``username``,
    ``display_name``, ``admin_kind``, ``unit_code``, ``role_code`` and ``is_leader``. The API token's
    lookup and the web session's build the person of a request so, in the statement that finds him, so
    a disabled account or a removed membership counts from the next request on."""
    first = rows[0]
    held = [r for r in rows if r.unit_code is not None]
    return Principal(
        username=first.username,
        display_name=first.display_name,
        memberships=frozenset((r.unit_code, r.role_code) for r in held),
        leader_of=frozenset(r.unit_code for r in held if r.is_leader),
        admin_kind=first.admin_kind,
        user_id=first.user_id,
    )
