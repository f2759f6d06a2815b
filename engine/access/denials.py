"""One place that writes ``access_denied``: every refusal, from a page, the API or a blueprint guard.

A refused attempt is evidence (who tried to open which case, by which path), so the web's 403 pages and
the API's error envelope both leave the same event through :func:`record_denial`. The event is written in
its own transaction: the refused change rolled back, the record of the attempt must not.

An administrator refused anything that is not already a 三员 rule (a case page, a task, the cockpit) is
recorded under ``sanyuan_outside_duties`` with the rule that refused him, so the audit administrator
finds every attempt of the three administrators to step outside their duties under one name, whatever
page or route they tried (engine/access/sanyuan.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import audit
from engine.access import sanyuan
from engine.errors import Forbidden
from engine.models import User
from engine.services import Services


def denial_reason(exc: Forbidden) -> str:
    """The short reason kept in the event: the rule's code when the engine named one (a NotVisible's
    ``reason``, or a ``reason`` detail), else its message."""
    reason = getattr(exc, "reason", None) or exc.details.get("reason")
    return str(reason) if reason else exc.message


def record_denial(
    services: Services,
    reason: str | Forbidden,
    *,
    actor: str | None,
    path: str | None = None,
    method: str | None = None,
    channel: str | None = None,
    task_id: int | None = None,
    instance_id: int | None = None,
    **detail: Any,
) -> None:
    """Append one ``access_denied`` event naming who tried what; a Forbidden carries its task and instance."""
    if isinstance(reason, Forbidden):
        task_id = task_id if task_id is not None else reason.details.get("task")
        instance_id = instance_id if instance_id is not None else reason.details.get("instance")
        reason = denial_reason(reason)
    with services.db.session() as s:
        if actor and not reason.startswith("sanyuan_"):
            kind = s.scalar(select(User.admin_kind).where(User.username == actor))
            if kind:
                detail = {**detail, "admin_kind": kind, "refused_by": reason}
                reason = sanyuan.OUTSIDE_DUTIES
        audit.record(
            s,
            "access_denied",
            actor=actor,
            task_id=task_id,
            instance_id=instance_id,
            reason=reason,
            path=path,
            method=method,
            channel=channel,
            **detail,
        )
