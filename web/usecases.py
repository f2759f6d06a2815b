"""What the pages and the API hand every use case besides the person: the deployment's settings.

The use cases live in engine/<domain>/operations.py; a view only translates HTTP into their arguments
and their results into HTML or JSON. This module builds the arguments both channels share, so the page
and the API cannot configure a use case differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from engine.access.reveal import Reveal
from engine.errors import NotVisible

from .security import allowed_reveal_roles, deny, sealer

T = TypeVar("T")


def reveal() -> Reveal:
    """The sealing key and the reveal roles (``REVEAL_ROLES``, else ``GUANTONG_REVEAL_ROLES``)."""
    return Reveal(sealer=sealer(), roles=allowed_reveal_roles())


def soon() -> int:
    return int(current_app.config.get("DUE_SOON_WORKDAYS", 2))


def on_page(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a use case for a page: a need-to-know refusal becomes the 404 page (as if the record did not
    exist) with its audit event naming the rule (``task_not_visible`` …); other engine errors reach the
    app's error pages."""
    try:
        return call(*args, **kwargs)
    except NotVisible as exc:
        details = dict(exc.details)
        deny(
            exc.reason,
            task_id=details.pop("task", None),
            instance_id=details.pop("instance", None),
            status=404,
            **details,
        )
        raise  # deny() aborts; never reached
