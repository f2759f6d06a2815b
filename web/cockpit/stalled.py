"""The cockpit's list of stalled tasks (无人可办的任务): open tasks no active account can act on.

engine/cockpit/stalled.py says which; the page only shows them, within the manager's commissions, so he
can appoint someone or have a unit leader hand the task on (issue 15: a case must never stall).
"""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from engine.cockpit import operations

from ..security import principal, services, unit_names
from .views import bp


@bp.get("/stalled")
@login_required
def stalled() -> str:
    rows = operations.stalled(services(), principal())
    return render_template("cockpit/stalled.html", rows=rows, unit_names=unit_names())
