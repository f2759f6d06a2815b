"""Who is acting: a user with the (unit, role) pairs they hold, loaded once per request.

Every permission question in Guantong is answered from a ``Principal``, in the engine, so the web pages
and the JSON API cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
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
    is_admin: bool = False
    user_id: int | None = None

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
        return self.username == SYSTEM


SYSTEM_PRINCIPAL = Principal(username=SYSTEM, display_name="系统", is_admin=True)


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
        is_admin=user.is_admin,
        user_id=user.id,
    )
