"""The cockpit's instance list, instance page, instance actions and starting a process.

Moved verbatim from web/cockpit/__init__.py when the blueprint got its own module (web/cockpit/views.py):
these routes are on the same ``cockpit`` blueprint, and their move into the engine's application layer
(engine/instances/operations.py) is a separate change. Who may open them is the engine's cockpit rule
(engine/cockpit/access.py); retry, suspend, resume and cancel are decided by the engine (``Runtime.retry``
etc. refuse anyone but an administrator, which becomes a 403 with an audit event); ``/cockpit/start``
lists what ``engine.entry.may_start`` allows the person.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from engine.access import visibility
from engine.access.authz import can_see, require_can_complete
from engine.cockpit.access import cockpit_roles, require_cockpit
from engine.errors import Conflict, Forbidden
from engine.instances import entry
from engine.models import HumanTask

from .. import labels
from ..security import principal, services, unit_names
from . import stats
from .views import _int, _soon, bp

ACTIONS = ("retry", "suspend", "resume", "cancel")


def _require_cockpit():
    p = principal()
    require_cockpit(p, cockpit_roles(services().config))  # Forbidden: a 403 page and an audit event
    return p


# --------------------------------------------------------------------------- instances
def _filter_from_args() -> stats.InstanceFilter:
    args = request.args
    status = args.get("status", "running")
    if status == "all":
        status = None
    elif status not in stats.STATUSES:
        status = "running"
    clean = lambda name: (args.get(name) or "").strip()[:120] or None  # noqa: E731
    return stats.InstanceFilter(
        status=status,
        stage=clean("stage"),
        mechanism=clean("mechanism"),
        platform=clean("platform"),
        process_key=clean("process"),
        unit=clean("unit"),
        q=clean("q"),
        overdue=args.get("overdue") == "1",
        page=_int(args.get("page")),
        per_page=current_app.config.get("COCKPIT_PER_PAGE", 20),
    )


@bp.get("/instances")
@login_required
def instances():
    _require_cockpit()
    f = _filter_from_args()
    with services().db.session() as s:
        page = stats.list_instances(s, f)
        processes = stats.process_choices(s)
        units = sorted(unit_names())
    return render_template(
        "cockpit/instances.html",
        page=page,
        f=f,
        params=f.params(),
        processes=processes,
        units=units,
        statuses=stats.STATUSES,
    )


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    p = _require_cockpit()
    svc = services()
    with svc.db.session() as s:
        inst = stats.instance_row(s, instance_id)
        if inst is None:
            abort(404)
        rows = stats.tasks_of(s, instance_id)
        calendar = svc.definitions.loaded(inst.version_id).policy.calendar
        current = stats.current_tasks(s, rows, calendar, soon_workdays=_soon())
        events = stats.timeline(s, instance_id)
        names = stats.people(s, {r.assignee for r in rows} | {r.completed_by for r in rows} | {inst.started_by})
        may_open = visibility.can_see_instance(s, p, instance_id)
        visible_tasks = {
            t.id
            for t in s.scalars(
                select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "ready")
            )
            if can_see(p, t)
        }
    return render_template(
        "cockpit/instance.html",
        inst=inst,
        tasks=rows,
        current=current,
        events=events,
        names=names,
        may_open=may_open,
        visible_tasks=visible_tasks,
        is_admin=p.is_admin,
        action_labels=ACTION_LABELS,
    )


@bp.post("/instances/<int:instance_id>/<action>")
@login_required
def act(instance_id: int, action: str):
    p = _require_cockpit()
    if action not in ACTIONS:
        abort(404)
    runtime = services().runtime
    reason = (request.form.get("reason") or "").replace("\x00", "").strip()[:500] or None
    try:
        if action == "retry":
            runtime.retry(instance_id, actor=p)
        elif action == "suspend":
            runtime.suspend(instance_id, actor=p, reason=reason)
        elif action == "resume":
            runtime.resume(instance_id, actor=p)
        else:
            runtime.cancel(instance_id, actor=p, reason=reason)
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
def _startable(p):
    svc = services()
    with svc.db.session() as s:
        rows = svc.definitions.latest_definitions(s)
    result = []
    for row in rows:
        if not entry.started_by_hand(row):
            continue
        loaded = svc.definitions.loaded(row.version_id)
        if entry.may_start(p, row, loaded):
            result.append(
                (
                    row,
                    sorted(entry.first_task_roles(loaded, row.process_key)),
                    loaded.catalogue.get(row.process_key, {}).get("business_key_var"),
                )
            )
    return result


@bp.get("/start")
@login_required
def start_list():
    p = principal()
    return render_template("cockpit/start.html", startable=_startable(p))


@bp.post("/start/<key>")
@login_required
def start(key: str):
    p = principal()
    svc = services()
    key = key[:120]
    with svc.db.session() as s:
        definition = svc.definitions.latest_definition(s, key)
    loaded = svc.definitions.loaded(definition.version_id)
    entry.require_can_start(p, definition, loaded)
    business_key = (request.form.get("business_key") or "").strip()
    if "\x00" in business_key or len(business_key) > 120:
        flash(_("业务编号不能超过 120 个字符，且不能包含控制字符。"), "danger")
        return redirect(url_for("cockpit.start_list"))
    with svc.db.session() as s:  # the starter's commission owns the matter: its units get the tasks
        owner = entry.owner_data(s, loaded, key, p)
    outcome = svc.runtime.start(key, actor=p, business_key=business_key or None, data=owner)
    with svc.db.session() as s:
        created = s.scalars(
            select(HumanTask).where(HumanTask.id.in_(outcome.created_tasks or [-1])).order_by(HumanTask.id)
        ).all()
        mine = None
        for task in created:
            try:
                require_can_complete(p, task)
            except (Forbidden, Conflict):
                continue
            mine = task.id
            break
    flash(_("已发起“%(name)s”。", name=definition.name), "success")
    if mine is not None:
        return redirect(url_for("tasks.task", task_id=mine))
    return redirect(url_for("tasks.instance", instance_id=outcome.instance_id))
