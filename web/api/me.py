"""Who the token acts for: the user, their roles and the units they hold them in."""

from __future__ import annotations

from engine.access import accounts

from .common import can_reveal, documents, principal, services
from .parsing import Blueprint
from .schemas import MeSchema

blp = Blueprint("Me", __name__, description="The caller")


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@documents(blp, 401)
def me():
    """The calling user, their roles and units."""
    p = principal()
    return {**accounts.me(services(), p), "may_reveal_confidential": can_reveal(p)}
