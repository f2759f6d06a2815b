"""Every cockpit table as plain rows in the reader's language: the metrics page draws these, and the
exports (engine/cockpit/export.py) write them, so a file holds exactly what the page showed.

Each builder takes what a use case of engine/cockpit/operations.py (or the instance list of
engine/instances/operations.py, in its oversight mode) returned — already authorized and limited to the
manager's commissions — and returns an ``Export``: its title, the period and filters it was computed with,
and its tables. Only what the page shows goes in: business keys, step names, units, dates and figures;
never what a step recorded, nor a notice's or an error's free text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.cockpit import metrics as m
from engine.cockpit.export import Export, Table
from engine.cockpit.figures import Deadlines, Durations, DurationStat, FailedPage, Overview
from engine.instances.operations import InstancePage

from .. import labels
from ..security import unit_names

METRIC_NAMES = {
    "register_dispose": _l("线索登记→作出处置"),
    "dispose_close": _l("作出处置→办结销号"),
    "register_close": _l("线索登记→办结销号"),
    "found_rectified": _l("发现问题→整改销号"),
}
SLICE_NAMES = {
    "all": _l("不分组"),
    "stage": _l("阶段"),
    "mechanism": _l("机制"),
    "platform": _l("平台"),
    "unit": _l("单位"),
    "linkage": _l("联动方式"),
}
LINKAGE_NAMES = {
    "shizudi": _l("室组地联动"),
    "inspection_resident": _l("巡察与派驻联动"),
    "four_plus_x": _l("四类监督+X"),
    "zone": _l("乡镇片区协作"),
    "none": _l("未联动"),
}
SOURCE_NAMES = {
    "petition": _l("信访举报"),
    "inspection": _l("巡察移交"),
    "resident": _l("派驻组发现"),
    "audit": _l("审计移交"),
    "x_department": _l("执法司法等部门移送"),
    "other": _l("其他来源"),
}
FOUR_FORM_NAMES = {
    "first": _l("第一种形态"),
    "second": _l("第二种形态"),
    "third": _l("第三种形态"),
    "fourth": _l("第四种形态"),
    "none": _l("不适用"),
}
FUNNEL_NAMES = {
    "registered": _l("线索登记"),
    "disposed": _l("作出处置"),
    "case_filed": _l("进入立案审查调查"),
    "closed": _l("办结销号"),
}


def name(table: Mapping[str, Any], code: str) -> str:
    return str(table.get(code, code))


def slice_label(dimension: str, value: str) -> str:
    """The display name of one value of a slice (a stage, a platform, a commission, a linkage mode)."""
    if dimension == "all":
        return _("全部")
    if not value:
        return _("未标注")
    if dimension == "stage":
        return labels.stage(value)
    if dimension == "mechanism":
        return f"{value} {labels.mechanism(value)}" if value != labels.mechanism(value) else value
    if dimension == "platform":
        return f"{value} {labels.platform(value)}" if value != labels.platform(value) else value
    if dimension == "unit":
        return unit_names().get(value, value)
    return name(LINKAGE_NAMES, value)


def _num(value: float | None, digits: int = 1) -> float | str:
    return "" if value is None else round(value, digits)


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


def _when(value: Any, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, fmt) if value is not None else ""


# --------------------------------------------------------------------------- metrics
def metrics_export(data: m.Metrics) -> Export:
    cur, base = data.current, data.baseline
    dim = data.slice
    lines = [
        (_("统计期间"), cur.period.label()),
        (_("对比期间") if data.baseline_chosen else _("对比期间（上一期）"), base.period.label()),
        (_("分组维度"), name(SLICE_NAMES, dim)),
        (_("口径"), _("时长为工作日（起始日之后至结束日，当日为 0）；按结束事件所在期间统计")),
    ]
    base_cycles = {s.metric: s for s in base.cycles}
    cycles = Table(
        _("办理周期（工作日）"),
        [
            _("指标"),
            _("件数"),
            _("中位数"),
            _("P90"),
            _("平均"),
            _("对比期件数"),
            _("对比期中位数"),
            _("对比期P90"),
            _("中位数变化"),
        ],
        [
            [
                name(METRIC_NAMES, s.metric),
                s.count,
                _num(s.median),
                _num(s.p90),
                _num(s.mean),
                base_cycles[s.metric].count,
                _num(base_cycles[s.metric].median),
                _num(base_cycles[s.metric].p90),
                ""
                if s.median is None or base_cycles[s.metric].median is None
                else _num(s.median - (base_cycles[s.metric].median or 0)),
            ]
            for s in cur.cycles
        ],
    )
    sliced = Table(
        _("办理周期按%(dim)s", dim=name(SLICE_NAMES, dim)) if dim != "all" else _("办理周期（全部）"),
        [name(SLICE_NAMES, dim), _("指标"), _("件数"), _("中位数"), _("P90")],
        [
            [slice_label(dim, s.slice), name(METRIC_NAMES, s.metric), s.count, _num(s.median), _num(s.p90)]
            for s in cur.sliced
        ],
    )
    platforms = Table(
        _("各平台周期（工作日）"),
        [_("平台"), _("件数"), _("中位数"), _("P90")],
        [[slice_label("platform", s.slice), s.count, _num(s.median), _num(s.p90)] for s in cur.platform_cycles],
    )
    overdue = Table(
        _("逾期"),
        [name(SLICE_NAMES, dim), _("期内到期任务"), _("逾期"), _("逾期率")],
        [[slice_label(dim, r.slice), r.total, r.hits, _pct(r.rate)] for r in cur.overdue_sliced]
        + [
            [_("合计"), cur.overdue.total, cur.overdue.hits, _pct(cur.overdue.rate)],
            [_("对比期合计"), base.overdue.total, base.overdue.hits, _pct(base.overdue.rate)],
        ],
    )
    on_time = Table(
        _("整改按期完成"),
        [name(SLICE_NAMES, dim), _("整改销号"), _("按期"), _("按期完成率")],
        [[slice_label(dim, r.slice), r.total, r.hits, _pct(r.rate)] for r in cur.on_time_sliced]
        + [
            [_("合计"), cur.on_time.total, cur.on_time.hits, _pct(cur.on_time.rate)],
            [_("对比期合计"), base.on_time.total, base.on_time.hits, _pct(base.on_time.rate)],
        ],
    )
    forms = Table(
        _("四种形态"),
        [_("形态"), _("本期"), _("对比期")],
        [[name(FOUR_FORM_NAMES, k), v, base.four_forms.get(k, 0)] for k, v in cur.four_forms.items()],
    )
    sources = Table(
        _("线索来源"),
        [_("来源"), _("本期"), _("对比期")],
        [[name(SOURCE_NAMES, k), v, base.sources.get(k, 0)] for k, v in cur.sources.items()],
    )
    effort = Table(
        _("人力投入（每件办结线索）"),
        [name(SLICE_NAMES, dim), _("办结件数"), _("人·工作日合计"), _("人·小时合计"), _("每件中位数（人·工作日）")],
        [
            [slice_label(dim, e.slice), e.cases, e.workdays, round(e.hours, 1), _num(e.median_workdays)]
            for e in cur.effort_sliced
        ],
    )
    base_funnel = dict(base.funnel)
    funnel = Table(
        _("线索办理漏斗（期内登记的线索）"),
        [_("环节"), _("本期"), _("对比期")],
        [[name(FUNNEL_NAMES, k), v, base_funnel.get(k, 0)] for k, v in cur.funnel],
    )
    base_stages = dict(base.stages)
    stages = Table(
        _("四个阶段（期内有环节到达的流程数）"),
        [_("阶段"), _("本期"), _("对比期")],
        [[labels.stage(k), v, base_stages.get(k, 0)] for k, v in cur.stages],
    )
    monthly = Table(
        _("按月趋势"),
        [_("月份"), _("登记"), _("作出处置"), _("办结销号"), _("登记→办结中位数")],
        [[r.month, r.registered, r.disposed, r.closed, _num(r.median_register_close)] for r in cur.monthly],
    )
    units = Table(
        _("按单位"),
        [
            _("单位"),
            _("登记"),
            _("办结销号"),
            _("登记→处置中位数"),
            _("处置→办结中位数"),
            _("期内到期任务"),
            _("逾期"),
            _("逾期率"),
        ],
        [
            [
                slice_label("unit", u.unit),
                u.registered,
                u.closed,
                _num(u.median_register_dispose),
                _num(u.median_dispose_close),
                u.due,
                u.overdue,
                _pct(u.overdue / u.due if u.due else None),
            ]
            for u in cur.by_unit
        ],
    )
    return Export(
        name="metrics",
        title=_("成效指标"),
        lines=lines,
        tables=[cycles, sliced, platforms, overdue, on_time, forms, sources, effort, funnel, stages, monthly, units],
    )


def metrics_charts(data: m.Metrics) -> dict[str, Any]:
    """The charts' data, embedded in the page as JSON (the page's script draws it; CSP: no inline script)."""
    cur, base = data.current, data.baseline
    dim = data.slice
    sliced_values = sorted({s.slice for s in cur.sliced})
    return {
        "labels": {
            "registered": _("登记"),
            "disposed": _("作出处置"),
            "closed": _("办结销号"),
            "median": _("登记→办结中位数（工作日）"),
            "current": _("本期"),
            "baseline": _("对比期"),
            "workdays": _("工作日"),
            "count": _("件数"),
            "empty": _("本期无数据"),
        },
        "trend": {
            "months": [r.month for r in cur.monthly],
            "registered": [r.registered for r in cur.monthly],
            "disposed": [r.disposed for r in cur.monthly],
            "closed": [r.closed for r in cur.monthly],
            "median": [r.median_register_close for r in cur.monthly],
        },
        "units": {
            "units": [slice_label("unit", u.unit) for u in cur.by_unit],
            "series": [
                {
                    "name": name(METRIC_NAMES, "register_dispose"),
                    "data": [u.median_register_dispose for u in cur.by_unit],
                },
                {"name": name(METRIC_NAMES, "dispose_close"), "data": [u.median_dispose_close for u in cur.by_unit]},
            ],
        },
        "funnel": {
            "steps": [name(FUNNEL_NAMES, k) for k, _n in cur.funnel],
            "current": [v for _k, v in cur.funnel],
            "baseline": [v for _k, v in base.funnel],
        },
        "stages": {
            "steps": [labels.stage(k) for k, _n in cur.stages],
            "current": [v for _k, v in cur.stages],
            "baseline": [v for _k, v in base.stages],
        },
        "slices": {
            "title": name(SLICE_NAMES, dim),
            "values": [slice_label(dim, v) for v in sliced_values],
            "series": [
                {
                    "name": name(METRIC_NAMES, metric),
                    "data": [
                        next((s.median for s in cur.sliced if s.metric == metric and s.slice == v), None)
                        for v in sliced_values
                    ],
                }
                for metric in m.CYCLES
            ],
        },
    }


# --------------------------------------------------------------------------- the other cockpit pages
def overview_export(data: Overview) -> Export:
    stages = Table(
        _("在办流程按阶段和平台"),
        [_("阶段"), _("平台"), _("在办流程")],
        [
            [labels.stage(stage) or _("未标注"), slice_label("platform", plat), n]
            for (stage, plat), n in sorted(data.matrix.items())
        ],
    )
    statuses = Table(
        _("流程状态"),
        [_("状态"), _("数量")],
        [[labels.label(labels.INSTANCE_STATUS, k), v] for k, v in sorted(data.statuses.items())],
    )
    totals = Table(
        _("逾期与即将到期"),
        [_("项目"), _("数量")],
        [
            [_("在办流程"), data.running],
            [_("逾期任务"), data.overdue_tasks],
            [_("有逾期任务的流程"), data.overdue_instances],
            [_("即将到期任务"), data.due_soon],
        ],
    )
    return Export("overview", _("驾驶舱总览"), [(_("统计时点"), _when(_now()))], [stages, statuses, totals])


def deadlines_export(data: Deadlines) -> Export:
    rows = []
    for g in data.groups:
        for item in g.items:
            rows.append(
                [
                    unit_names().get(g.unit or "", g.unit or "") or _("未指定单位"),
                    labels.role(g.role) or _("未指定角色"),
                    item.name,
                    item.business_key or f"#{item.instance_id}",
                    item.assignee or _("待认领"),
                    _when(item.due.due_at, "yyyy-MM-dd"),
                    labels.due(item.due.state)[0],
                    "" if item.due.workdays_left is None else item.due.workdays_left,
                ]
            )
    table = Table(
        _("时限预警"),
        [_("承办单位"), _("角色"), _("任务"), _("业务编号"), _("办理人"), _("办理时限"), _("状态"), _("剩余工作日")],
        rows,
    )
    lines = [(_("统计时点"), _when(_now())), (_("即将到期窗口（工作日）"), str(data.soon_workdays))]
    return Export("deadlines", _("时限预警"), lines, [table])


def _duration_rows(stats: Iterable[DurationStat], label: Any) -> list[list[Any]]:
    return [
        [
            label(s),
            s.count,
            _num(s.median_workdays),
            _num(s.p90_workdays),
            _num(s.median_hours),
            _num(s.p90_hours),
            _num(s.mean_hours),
        ]
        for s in stats
    ]


def durations_export(data: Durations) -> Export:
    head = [
        _("完成数"),
        _("中位数（工作日）"),
        _("P90（工作日）"),
        _("中位数（小时）"),
        _("P90（小时）"),
        _("平均（小时）"),
    ]
    names = data.process_names
    tables = [
        Table(
            _("按阶段"), [_("阶段"), *head], _duration_rows(data.stages, lambda s: labels.stage(s.stage) or _("未标注"))
        ),
        Table(_("按流程"), [_("流程"), *head], _duration_rows(data.processes, lambda s: s.label)),
        Table(
            _("按环节"),
            [_("流程 / 环节"), *head],
            _duration_rows(data.steps, lambda s: f"{names.get(s.process_key or '', s.process_key)} / {s.label}"),
        ),
    ]
    process = names.get(data.process_key or "", data.process_key) if data.process_key else _("全部")
    return Export("durations", _("环节用时"), [(_("流程"), str(process)), (_("统计时点"), _when(_now()))], tables)


def failed_export(data: FailedPage) -> Export:
    table = Table(
        _("出错流程"),
        [_("业务编号"), _("流程"), _("出错环节"), _("尝试次数"), _("更新时间")],
        [
            [
                r.business_key or f"#{r.id}",
                r.process_name,
                str(r.error.get("element") or ""),
                r.attempts,
                _when(r.updated_at),
            ]
            for r in data.rows
        ],
    )
    return Export("failed", _("出错流程"), [(_("统计时点"), _when(_now())), (_("页"), str(data.page))], [table])


def instances_export(page: InstancePage, filters: Mapping[str, str]) -> Export:
    table = Table(
        _("在办流程"),
        [
            _("业务编号"),
            _("流程"),
            _("状态"),
            _("阶段"),
            _("平台"),
            _("所属纪委监委"),
            _("发起时间"),
            _("完成时间"),
            _("待办任务"),
            _("逾期"),
        ],
        [
            [
                r.business_key or f"#{r.id}",
                r.process_name,
                labels.label(labels.INSTANCE_STATUS, r.status),
                labels.stage(r.stage),
                slice_label("platform", r.platform or ""),
                slice_label("unit", r.owner_unit or ""),
                _when(r.started_at),
                _when(r.completed_at),
                r.open_tasks,
                _("是") if r.overdue else "",
            ]
            for r in page.rows
        ],
    )
    lines = [(_("统计时点"), _when(_now()))] + [(str(FILTER_NAMES.get(k, k)), v) for k, v in filters.items()]
    if page.total > len(page.rows):
        lines.append((_("说明"), _("共 %(total)s 条，仅导出前 %(n)s 条", total=page.total, n=len(page.rows))))
    return Export("instances", _("在办流程"), lines, [table])


FILTER_NAMES = {
    "status": _l("状态"),
    "stage": _l("阶段"),
    "mechanism": _l("机制"),
    "platform": _l("平台"),
    "process": _l("流程"),
    "unit": _l("单位"),
    "q": _l("业务编号"),
    "overdue": _l("仅逾期"),
}


def _now() -> Any:
    from engine import clock

    return clock.now()
