"""The working-day calendar for administrators: the years and where their days come from, enter a year.

Each December the administrator enters the next year's arrangement from the 国务院办公厅 notice here
(or with ``guantong calendar import``); the use cases live in engine/scheduling/operations.py, this module
only turns the form into a call and the result into a page.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from engine import clock
from engine.access import sanyuan
from engine.errors import ValidationError
from engine.scheduling import operations as calendar_ops

from .security import deny, principal, services

bp = Blueprint("calendar", __name__)

FORM_FIELDS = ("year", "notice_no", "notice_date", "holidays", "workdays", "comment")


@bp.before_request
@login_required
def _admins_only() -> None:
    """The calendar is configuration: the system administrator's (三员分立); the engine refuses again."""
    if not principal().is_system_admin:
        deny(sanyuan.SYSTEM_ADMIN_ONLY)


@bp.get("/")
def index() -> str:
    today = clock.today()
    years = calendar_ops.list_years(services(), principal(), today=today)
    warning = calendar_ops.calendar_warning(services(), principal(), today)
    start = warning.years[-1] if warning else today.year + 1
    values = {"year": str(start), "official": "1"}
    return render_template("calendar/index.html", years=years, warning=warning, values=values, errors={})


@bp.get("/<int:year>")
def year(year: int) -> str:
    view = calendar_ops.show_year(services(), principal(), year)
    return render_template("calendar/year.html", view=view, values=_values_of(view), errors={})


@bp.post("/")
def enter() -> Response | tuple[str, int]:
    form = request.form
    values = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    values["official"] = "1" if form.get("official") else ""
    try:
        result = calendar_ops.enter_arrangement(
            services(),
            principal(),
            year=values["year"],
            official=bool(values["official"]),
            notice_no=values["notice_no"],
            notice_date=values["notice_date"],
            holidays=values["holidays"],
            workdays=values["workdays"],
            comment=values["comment"],
            source="form",
        )
    except ValidationError as exc:
        years = calendar_ops.list_years(services(), principal())
        warning = calendar_ops.calendar_warning(services(), principal(), clock.today())
        page = render_template(
            "calendar/index.html", years=years, warning=warning, values=values, errors=exc.fields, failed=exc.message
        )
        return page, 422
    flash(
        _(
            "%(year)s 年安排已保存：%(days)s 天变动，%(tasks)s 项在办任务的期限已重算。",
            year=result.year,
            days=len(result.changed_days),
            tasks=len(result.tasks),
        ),
        "success",
    )
    if result.skipped:
        flash(_("%(n)s 项任务的起算日未知，期限未重算。", n=len(result.skipped)), "warning")
    return redirect(url_for("calendar.year", year=result.year))


def _values_of(view: calendar_ops.YearView) -> dict[str, str]:
    """The form prefilled with the year as it stands, to correct it or enter the notice over a draft."""
    return {
        "year": str(view.year),
        "official": "1",
        "notice_no": view.notice_no or "",
        "notice_date": view.notice_date.isoformat() if view.notice_date else "",
        "holidays": "\n".join(view.holiday_ranges),
        "workdays": "\n".join(view.workday_ranges),
        "comment": "",
    }
