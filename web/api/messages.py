"""Messages from other systems: start or continue the instance waiting for them.

Who may send is ``engine.entry.may_send_message`` with the ``API_MESSAGE_SENDERS`` setting (per message
name, ``"*"`` for the rest; administrators always). A name no deployed process knows is refused with
404 rather than parked, so a sending system learns of a typo at once.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from engine.errors import NotFound
from engine.instances import entry

from .common import documents, principal, services
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
    p = principal()
    entry.require_can_send_message(p, name, senders())
    svc = services()
    with svc.db.session() as s:
        if not entry.message_is_known(s, svc.definitions, name):
            raise NotFound(f"no deployed process waits for or starts on message '{name}'", message_name=name)
    result = svc.runtime.send_message(name, body.get("correlation"), body["data"], actor=p)
    return {"status": result["status"], "message_id": result["message_id"], "instance_id": result.get("instance_id")}
