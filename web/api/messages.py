"""Messages from other systems: start or continue the instance waiting for them.

Who may send is ``engine.instances.entry.may_send_message`` with the ``API_MESSAGE_SENDERS`` setting
(per message name, ``"*"`` for the rest; administrators always); the use case is
``engine.instances.operations.send_message``.
"""

from __future__ import annotations

from flask import current_app

from engine.instances import entry
from engine.instances import operations as instances

from .common import documents, principal, services
from .parsing import Blueprint
from .schemas import MessageRequestSchema, MessageResultSchema

blp = Blueprint("Messages", __name__, description="Messages from other systems")


def senders() -> dict:
    return entry.message_senders(configured=current_app.config.get("API_MESSAGE_SENDERS"))


@blp.route("/messages/<name:name>", methods=["POST"])
@blp.arguments(MessageRequestSchema)
@blp.response(200, MessageResultSchema)
@documents(blp, 400, 401, 403, 404, 409, 422)
def send(body, name: str):
    """Deliver a message to the instance waiting for it (by name and correlation key), or start the
    process that starts on it; ``pending`` when neither exists yet (it is kept and delivered later)."""
    return instances.send_message(
        services(), principal(), name, correlation=body.get("correlation"), data=body["data"], senders=senders()
    )
