"""Who the token acts for: the user, their roles and the units they hold them in."""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from engine.models import Unit, User

from .common import can_reveal, documents, principal, services
from .schemas import MeSchema

blp = Blueprint("Me", __name__, description="The caller")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@documents(blp, 401)
def me():
    """The calling user, their roles and units."""
    p = principal()
    with services().db.session() as s:
        locale = s.scalar(select(User.locale).where(User.username == p.username)) or "zh_CN"
        names = dict(s.execute(select(Unit.code, Unit.name).where(Unit.code.in_(sorted(p.units)))).all())
    units = []
    for code in sorted(p.units):
        units.append(
            {
                "code": code,
                "name": names.get(code, code),
                "roles": sorted(role for unit, role in p.memberships if unit == code),
                "leader": code in p.leader_of,
            }
        )
    return {
        "username": p.username,
        "display_name": p.display_name,
        "is_admin": p.is_admin,
        "locale": locale,
        "roles": sorted(p.roles),
        "units": units,
        "may_reveal_confidential": can_reveal(p),
    }
