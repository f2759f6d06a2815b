"""The cockpit (驾驶舱): what leaders and managers watch, plus starting a process and notifications.

Who may use what:

- the overview, instance list and page, deadlines, durations and failed instances: administrators
  and holders of a role in the ``COCKPIT_ROLES`` setting (default: commission_secretary,
  leader_in_charge, case_management_office, conduct_supervision_office). They see every instance's
  metadata (stage, steps, who did what, when) but never what a step recorded; that stays on
  ``/instances/<id>`` under need-to-know (engine/visibility.py);
- retry, suspend, resume and cancel: the buttons show for administrators; the engine decides
  (``Runtime.retry`` etc. refuse anyone else, which becomes a 403 with an audit event);
- ``/cockpit/start``: every signed-in person, listing what ``engine.entry.may_start`` allows them;
- ``/cockpit/notifications``: every signed-in person, their own notifications only.

Lists read columns only; no page here loads an instance's workflow state.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select, update

from engine import clock
from engine.errors import Conflict, ValidationError
from engine.instances import operations as instance_ops
from engine.instances.queries import STATUSES, InstanceFilter
from engine.models import Notification

from .. import labels
from ..security import deny, principal, services, unit_names
from ..usecases import on_page, reveal
from . import stats

bp = Blueprint("cockpit", __name__)

DEFAULT_ROLES = instance_ops.DEFAULT_OVERSIGHT_ROLES


# --------------------------------------------------------------------------- access
def cockpit_roles() -> frozenset[str]:
    configured = current_app.config.get("COCKPIT_ROLES")
    return frozenset(DEFAULT_ROLES if configured is None else configured)


def may_use_cockpit(p) -> bool:
    return instance_ops.may_oversee(p, cockpit_roles())


def _require_cockpit():
    p = principal()
    if not may_use_cockpit(p):
        deny("cockpit_only")
    return p


@bp.app_context_processor
def _nav():
    def cockpit_allowed() -> bool:
        return current_user.is_authenticated and may_use_cockpit(current_user.principal)

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        with services().db.session() as s:
            return stats.unread_count(s, current_user.principal)

    return {"cockpit_allowed": cockpit_allowed, "unread_notifications": unread_notifications}


def _int(value, default: int = 1, *, low: int = 1, high: int = 10**6) -> int:
    try:
        return min(high, max(low, int(value)))
    except (TypeError, ValueError):
        return default


def _soon() -> int:
    return current_app.config["DUE_SOON_WORKDAYS"]


# --------------------------------------------------------------------------- overview
@bp.get("/")
@login_required
def index():
    _require_cockpit()
    with services().db.session() as s:
        data = stats.overview(s)
        dl = stats.deadlines(s, soon_workdays=_soon())
    return render_template("cockpit/index.html", data=data, deadline_totals=dl["totals"])


# --------------------------------------------------------------------------- instances
def _filter_from_args() -> InstanceFilter:
    args = request.args
    status = args.get("status", "running")
    if status == "all":
        status = None
    elif status not in STATUSES:
        status = "running"
    clean = lambda name: (args.get(name) or "").strip()[:120] or None  # noqa: E731
    return InstanceFilter(
        status=status,
        stage=clean("stage"),
        mechanism=clean("mechanism"),
        platform=clean("platform"),
        process_key=clean("process"),
        unit=clean("unit"),
        business_key=clean("q"),
        overdue=True if args.get("overdue") == "1" else None,
        page=_int(args.get("page")),
        per_page=current_app.config.get("COCKPIT_PER_PAGE", 20),
    )


def _params(f: InstanceFilter) -> dict:
    """The filter as the list's query string (the pager's links keep it)."""
    values = {
        "status": f.status or "all",
        "stage": f.stage,
        "mechanism": f.mechanism,
        "platform": f.platform,
        "process": f.process_key,
        "unit": f.unit,
        "q": f.business_key,
        "overdue": "1" if f.overdue else None,
    }
    return {k: v for k, v in values.items() if v}


@bp.get("/instances")
@login_required
def instances():
    f = _filter_from_args()
    page = on_page(
        instance_ops.list_instances, services(), principal(), f, oversight=True, oversight_roles=cockpit_roles()
    )
    return render_template(
        "cockpit/instances.html",
        page=page,
        f=f,
        params=_params(f),
        processes=instance_ops.process_choices(services()),
        units=sorted(unit_names()),
        statuses=STATUSES,
    )


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    p = principal()
    d = on_page(
        instance_ops.show_instance,
        services(),
        p,
        instance_id,
        reveal=reveal(),
        oversight=True,
        oversight_roles=cockpit_roles(),
        soon_workdays=_soon(),
    )
    return render_template(
        "cockpit/instance.html",
        inst=d.instance,
        tasks=d.tasks,
        current=d.current,
        events=d.timeline,
        names=d.names,
        may_open=d.may_open,
        visible_tasks={t.id for t in d.current if t.visible},
        is_admin=p.is_admin,
        action_labels=ACTION_LABELS,
    )


@bp.post("/instances/<int:instance_id>/<action>")
@login_required
def act(instance_id: int, action: str):
    if action not in instance_ops.ACTIONS:
        abort(404)
    try:
        on_page(
            instance_ops.act_on_instance,
            services(),
            principal(),
            instance_id,
            action,
            reason=request.form.get("reason"),
            oversight_roles=cockpit_roles(),
        )
    except Conflict as exc:
        flash(
            _(
                "操作未生效：流程状态已变化（当前为“%(status)s”）。",
                status=labels.label(labels.INSTANCE_STATUS, exc.details.get("status")) or "?",
            ),
            "warning",
        )
    else:
        flash(
            {
                "retry": _("已重新执行，流程将在后台继续。"),
                "suspend": _("流程已挂起。"),
                "resume": _("流程已恢复。"),
                "cancel": _("流程已撤销。"),
            }[action],
            "success",
        )
    if request.form.get("next") == "failed":
        return redirect(url_for("cockpit.failed"))
    return redirect(url_for("cockpit.instance", instance_id=instance_id))


# --------------------------------------------------------------------------- deadlines, durations, failures
@bp.get("/deadlines")
@login_required
def deadlines():
    _require_cockpit()
    with services().db.session() as s:
        data = stats.deadlines(s, soon_workdays=_soon())
        notes = stats.escalations(s)
    return render_template("cockpit/deadlines.html", data=data, escalations=notes, soon=_soon())


@bp.get("/durations")
@login_required
def durations():
    _require_cockpit()
    process_key = (request.args.get("process") or "").strip()[:120] or None
    with services().db.session() as s:
        data = stats.durations(
            s, process_key=process_key, sample_limit=current_app.config.get("DURATION_SAMPLE_LIMIT", 20000)
        )
    processes = instance_ops.process_choices(services())
    return render_template("cockpit/durations.html", data=data, processes=processes, process_key=process_key)


@bp.get("/failed")
@login_required
def failed():
    p = _require_cockpit()
    f = InstanceFilter(status="error", page=_int(request.args.get("page")), per_page=50)
    page = instance_ops.list_instances(services(), p, f, oversight=True, oversight_roles=cockpit_roles())
    return render_template("cockpit/failed.html", page=page, is_admin=p.is_admin)


ACTION_LABELS = {
    "started": _l("发起流程"),
    "task_created": _l("生成任务"),
    "claimed": _l("认领"),
    "unclaimed": _l("退回认领"),
    "reassigned": _l("转交"),
    "completed": _l("办结"),
    "instance_completed": _l("流程完成"),
    "timer_fired": _l("定时触发"),
    "reminded": _l("到期提醒"),
    "escalated": _l("逾期督办"),
    "message_sent": _l("发出消息"),
    "message_delivered": _l("收到消息"),
    "step_failed": _l("自动步骤失败（将重试）"),
    "instance_failed": _l("流程出错"),
    "retried": _l("重新执行"),
    "suspended": _l("挂起"),
    "resumed": _l("恢复"),
    "cancelled": _l("撤销"),
    "attachment_added": _l("上传附件"),
}


# --------------------------------------------------------------------------- starting a process
@bp.get("/start")
@login_required
def start_list():
    startable = [d for d in instance_ops.list_definitions(services(), principal()) if d.startable]
    return render_template("cockpit/start.html", startable=startable)


@bp.post("/start/<key>")
@login_required
def start(key: str):
    try:
        started = instance_ops.start_instance(
            services(), principal(), key, business_key=request.form.get("business_key")
        )
    except ValidationError:
        flash(_("业务编号不能超过 120 个字符，且不能包含控制字符。"), "danger")
        return redirect(url_for("cockpit.start_list"))
    flash(_("已发起“%(name)s”。", name=started.process_name), "success")
    if started.own_task is not None:
        return redirect(url_for("tasks.task", task_id=started.own_task))
    return redirect(url_for("tasks.instance", instance_id=started.instance_id))


# --------------------------------------------------------------------------- notifications
@bp.get("/notifications")
@login_required
def notifications():
    p = principal()
    unread_only = request.args.get("unread") == "1"
    page = _int(request.args.get("page"))
    per_page = 20
    with services().db.session() as s:
        rows, total = stats.notifications(s, p, unread_only=unread_only, page=page, per_page=per_page)
    pages = max(1, -(-total // per_page))
    return render_template(
        "cockpit/notifications.html", rows=rows, total=total, page=page, pages=pages, unread_only=unread_only
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    p = principal()
    with services().db.session() as s:
        row = s.get(Notification, notification_id)
        if row is None:
            abort(404)
        mine = s.scalar(select(Notification.id).where(Notification.id == notification_id, stats.notification_clause(p)))
        if mine is None:
            deny("notification_not_yours", notification=notification_id)
        if row.read_at is None:
            row.read_at = clock.now()
    return redirect(url_for("cockpit.notifications"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    p = principal()
    with services().db.session() as s:
        s.execute(
            update(Notification)
            .where(stats.notification_clause(p), Notification.read_at.is_(None))
            .values(read_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for("cockpit.notifications"))
