"""The cockpit's instance list, instance page, instance actions and starting a process.

Each route translates the request into one use case of engine/instances/operations.py, the same the
JSON API and the officers' pages call (the instance page: engine/instances/oversight.py, one read of what
the API's detail and diagram show, through the same functions): the list and the page in the *oversight*
mode (the metadata of the instances the manager's commission and those under it own, through the same
gate as ``/instances/<id>``, never their records; who may is the engine's cockpit rule,
engine/cockpit/access.py and scope.py), retry, suspend, resume and cancel decided by the engine
(administrators only: anyone else gets a 403 with an audit event), ``/cockpit/start`` listing what
``engine.instances.entry.may_start`` allows the person.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine.errors import Conflict, ValidationError
from engine.instances import operations as instance_ops
from engine.instances import oversight
from engine.instances.queries import STATUSES, InstanceFilter

from .. import diagram, labels
from ..security import principal, services, unit_names
from ..usecases import on_page, reveal
from .views import _int, _soon, bp


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
    page = on_page(instance_ops.list_instances, services(), principal(), f, oversight=True)
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
    return _instance_page(instance_id)


def _instance_page(instance_id: int, *, errors: dict | None = None, status: int = 200):
    """The page, also re-shown (422) with the field errors of a refused action or reassign."""
    seen = on_page(
        oversight.oversee_instance, services(), principal(), instance_id, reveal=reveal(), soon_workdays=_soon()
    )
    d = seen.detail
    return render_template(
        "cockpit/instance.html",
        diagram=diagram.as_json(seen.diagram, drawable=True),
        linked=d.linked,
        inst=d.instance,
        tasks=d.tasks,
        current=d.current,
        events=d.timeline,
        names=d.names,
        may_open=d.works_on,  # the link to the records page, for those who work on it
        visible_tasks={t.id for t in d.current if t.visible},
        may_act=True,  # the cockpit is for overseers, who may retry, suspend, resume, cancel
        allowed_actions=[(action, style) for action, states, style in ACTION_BUTTONS if d.instance.status in states],
        action_labels=ACTION_LABELS,
        assignees=seen.assignees,
        errors=errors or {},
        posted=request.form if errors else {},
    ), status


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
        )
    except ValidationError as exc:
        return _instance_page(instance_id, errors={f"action:{k}": v for k, v in exc.fields.items()}, status=422)
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


@bp.post("/instances/<int:instance_id>/tasks/<int:task_id>/reassign")
@login_required
def reassign(instance_id: int, task_id: int):
    """Hand an open task to someone else, with a reason (the same use case as the API's)."""
    try:
        on_page(
            instance_ops.reassign_on_instance,
            services(),
            principal(),
            instance_id,
            task_id,
            request.form.get("assignee"),
            reason=request.form.get("reason"),
        )
    except ValidationError as exc:
        return _instance_page(instance_id, errors={f"task{task_id}:{k}": v for k, v in exc.fields.items()}, status=422)
    except Conflict:
        flash(_("操作未生效：该任务已办结或已变化。"), "warning")
    else:
        flash(_("任务已转交。"), "success")
    return redirect(url_for("cockpit.instance", instance_id=instance_id))


# Each action, the statuses it applies to and its button's style.
ACTION_BUTTONS = (
    ("retry", ("error",), "danger"),
    ("suspend", ("running",), "outline-warning"),
    ("resume", ("suspended",), "outline-success"),
    ("cancel", ("running", "suspended", "error"), "outline-danger"),
)
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
