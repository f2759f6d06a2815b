"""The cockpit's pages (驾驶舱): overview, deadlines, durations, failed instances, and everyone's notifications.

Each view reads the request's parameters, calls one use case of engine/cockpit/operations.py and renders
what it returns: who may open which page (administrators and the cockpit roles, ``Config.cockpit_roles``;
the notifications: every signed-in person, their own only) is decided there, and a refusal comes back as
``Forbidden``, which the error handlers turn into a 403 page with an ``access_denied`` audit event.

The instance list, the instance page, its actions and starting a process are in ``instances``, on this
same blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engine.cockpit import deadline_groups, operations

from ..security import principal, services

bp = Blueprint("cockpit", __name__)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    """The navigation bar's cockpit link and notification bell, on every page of a signed-in person.

    A view whose use case has read the bell's count with the rest of its page (the inbox:
    engine/tasks/inbox_screen.py) leaves it in ``g.unread_notifications``; it is not asked again."""
    if not current_user.is_authenticated:
        return {"cockpit_allowed": False, "unread_notifications": 0}
    p = current_user.principal
    unread = g.get("unread_notifications")
    return {
        "cockpit_allowed": operations.may_open_cockpit(services(), p),
        "unread_notifications": operations.unread_notifications(services(), p) if unread is None else unread,
    }


def _int(value: Any, default: int = 1, *, low: int = 1, high: int = 10**6) -> int:
    """A page number from the query string; anything unreadable is the default."""
    try:
        return min(high, max(low, int(value)))
    except (TypeError, ValueError):
        return default


def _soon() -> int:
    return int(current_app.config["DUE_SOON_WORKDAYS"])


# --------------------------------------------------------------------------- the cockpit's figures
@bp.get("/")
@login_required
def index() -> str:
    dated = operations.overview_dated(services(), principal(), soon_workdays=_soon())
    return render_template("cockpit/index.html", data=dated.data, as_of=dated)


@bp.get("/deadlines")
@login_required
def deadlines() -> str:
    dated = deadline_groups.deadlines_preview(
        services(), principal(), page=_int(request.args.get("page")), soon_workdays=_soon()
    )
    return render_template("cockpit/deadlines.html", data=dated.data.source, shown=dated.data, as_of=dated)


@bp.get("/deadlines/group")
@login_required
def deadline_group() -> str:
    """All of one group's tasks (``unit``, ``role``: empty for "not specified"), a page at a time."""
    dated = deadline_groups.deadline_group(
        services(),
        principal(),
        unit=request.args.get("unit", ""),
        role=request.args.get("role", ""),
        page=_int(request.args.get("page")),
        soon_workdays=_soon(),
    )
    return render_template("cockpit/deadlines_group.html", data=dated.data, as_of=dated)


@bp.get("/durations")
@login_required
def durations() -> str:
    dated = operations.durations_dated(
        services(),
        principal(),
        process_key=request.args.get("process"),
        sample_limit=current_app.config.get("DURATION_SAMPLE_LIMIT", 20000),
    )
    return render_template("cockpit/durations.html", data=dated.data, as_of=dated)


@bp.get("/failed")
@login_required
def failed() -> str:
    data = operations.failed(services(), principal(), page=_int(request.args.get("page")))
    return render_template("cockpit/failed.html", data=data)


# --------------------------------------------------------------------------- notifications
@bp.get("/notifications")
@login_required
def notifications() -> str:
    data = operations.list_notifications(
        services(), principal(), unread_only=request.args.get("unread") == "1", page=_int(request.args.get("page"))
    )
    return render_template("cockpit/notifications.html", data=data)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    operations.mark_notification_read(services(), principal(), notification_id)
    return redirect(url_for("cockpit.notifications"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> Response:
    operations.mark_all_notifications_read(services(), principal())
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for("cockpit.notifications"))
