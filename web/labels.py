"""Display names of codes (stages, mechanisms, platforms, roles, due states) in the page's language."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.access import passwords
from engine.errors import Conflict, EngineError, Forbidden
from engine.organisation import names

from .context import services

STAGES = {
    "goal": _l("确定目标"),
    "discover": _l("发现问题"),
    "dispose": _l("处置问题"),
    "rectify": _l("整改问题"),
}
MECHANISMS = {
    "M1": _l("监督重点共谋和基础信息会商预判"),
    "M2": _l("监督力量共融和问题查核印证"),
    "M3": _l("问题整改定向和督办研判"),
}
PLATFORMS = {
    "P1": _l("目标任务共制"),
    "P2": _l("基础信息共享"),
    "P3": _l("监督力量共融"),
    "P4": _l("发现问题共证"),
    "P5": _l("问题线索共查"),
    "P6": _l("整改方案共提"),
    "P7": _l("问题整改共督"),
    "P8": _l("政治生态共判"),
    "L1": _l("室组地联动"),
    "L2": _l("巡察与派驻联动"),
    "L3": _l("四类监督+X"),
    "L4": _l("乡镇片区协作"),
    "M": _l("机制流程"),
}
DUE_STATES = {
    "overdue": (_l("已逾期"), "danger"),
    "due_soon": (_l("即将到期"), "warning"),
    "ok": (_l("正常"), "success"),
    "none": (_l("无时限"), "secondary"),
}
TABS = {
    "mine": _l("我的待办"),
    "group": _l("可认领"),
    "team": _l("本单位在办"),
    "completed": _l("已办"),
}
TASK_STATUS = {"ready": _l("待办理"), "completed": _l("已办结"), "cancelled": _l("已取消")}
INSTANCE_STATUS = {
    "running": _l("进行中"),
    "suspended": _l("已挂起"),
    "completed": _l("已完成"),
    "cancelled": _l("已撤销"),
    "error": _l("出错"),
}
LINK_KINDS = {
    "office_group": _l("监督检查室联系派驻组"),
    "office_township": _l("监督检查室联系乡镇"),
    "group_covers": _l("派驻组监督单位"),
    "group_host": _l("派驻组驻在单位"),
    "zone_member": _l("片区成员乡镇"),
    "zone_lead_unit": _l("片区牵头单位"),
    "commission_committee": _l("纪委监委的同级党委"),
}
# 三员分立 (engine/access/sanyuan.py)
ADMIN_KINDS = {
    "system": _l("系统管理员"),
    "security": _l("安全管理员"),
    "audit": _l("审计管理员"),
}
APPROVAL_KINDS = {
    "reveal_grant": _l("授予可查看检举人身份的角色"),
    "deploy": _l("部署流程"),
}
APPROVAL_DECISIONS = {"approved": _l("已批准"), "rejected": _l("已驳回")}
UNIT_KINDS = {
    "commission": _l("纪委监委"),
    "office": _l("内设室"),
    "resident_group": _l("派驻纪检监察组"),
    "township": _l("乡镇纪委"),
    "zone": _l("片区协作区"),
    "party_committee": _l("党委"),
    "leading_group": _l("领导小组"),
    "inspection_office": _l("巡察办"),
    "inspection_team": _l("巡察组"),
    "department": _l("部门"),
    "x_department": _l("职能部门（+X）"),
    "supervised_unit": _l("被监督单位"),
    "supervised_org": _l("被监督党组织"),
}


def label(table: dict, code: str | None) -> str:
    if not code:
        return ""
    value = table.get(code)
    if value is None:
        return code
    return str(value[0] if isinstance(value, tuple) else value)


def stage(code):
    return label(STAGES, code)


def mechanism(code):
    return label(MECHANISMS, code)


def platform(code):
    return label(PLATFORMS, code)


def due(state: str) -> tuple[str, str]:
    text, colour = DUE_STATES.get(state, DUE_STATES["none"])
    return str(text), colour


def due_labels() -> dict[str, tuple[str, str]]:
    """Every due state's :func:`due`, translated once: a list of tasks looks its rows' states up here
    rather than translating per row (the inbox)."""
    return {state: due(state) for state in DUE_STATES}


def translated(table: dict) -> dict[str, str]:
    """Every code's :func:`label` in ``table``, translated once, for a list that shows one per row (the
    inbox's stages): ``names.get(code, code or "")`` then answers as ``label(table, code)`` does."""
    return {code: label(table, code) for code in table}


def role(code: str | None) -> str:
    """A role's name in the page's language, from the engine's cached role catalogue (no query per page)."""
    if not code:
        return ""
    english = str(get_locale() or "").startswith("en")
    return names.role_name(names.role_catalogue(services()).get(code), code, english)


def password_rule(code: str, min_length: int) -> str:
    """The password rule a refused password broke (engine/access/passwords.py), as a sentence."""
    rules = {
        passwords.TOO_SHORT: _("密码至少 %(n)s 位。", n=min_length),
        passwords.TOO_LONG: _("密码过长。"),
        passwords.TOO_FEW_CLASSES: _("密码须包含小写字母、大写字母、数字、其他字符中的至少三类。"),
        passwords.CONTAINS_USERNAME: _("密码不能包含用户名。"),
        passwords.RECENTLY_USED: _("不能使用最近用过的密码。"),
    }
    return rules.get(code, code)


def engine_message(exc: EngineError) -> str:
    """A sentence for a person, from an engine error (the technical message goes to the log)."""
    details = exc.details or {}
    if isinstance(exc, Conflict):
        if details.get("rule") == "opinion_pending":  # 加签 (engine/tasks/consultation.py)
            return _("已加签征求意见，待其提出意见后方可办结。")
        if details.get("rule") == "opinion_asked_already":
            return _("已向此人征求意见，请等待其答复。")
        if details.get("assignee"):
            return _("此任务已由 %(name)s 认领。", name=details["assignee"])
        if details.get("status") == "completed":
            return _("此任务已由他人办理完毕，您的填写未保存。")
        if details.get("status") == "cancelled":
            return _("此任务已被取消（流程已改变），您的填写未保存。")
        return _("此任务已由他人处理或流程已变化，您的操作未生效。请返回待办列表刷新后再试。")
    if isinstance(exc, Forbidden):
        if details.get("reason") == "admin_only":
            return _("仅系统管理员可以管理组织机构。此次访问已记录。")
        if details.get("rule") == "separation_of_functions":
            return _("您参与过本案前序环节，按职能分离要求不能办理此任务。此次访问已记录。")
        if details.get("rule") == "recusal":
            return _("您在本案回避登记中有待决定或已决定回避的情形，不能办理本案事项。此次访问已记录。")
        if details.get("task") is None and details.get("instance") is None:  # a page, not a task (the cockpit)
            return _("您无权查看或办理此内容。此次访问已记录。")
        return _("您无权办理此任务。此次访问已记录。")
    return _("无法完成操作：%(message)s", message=exc.message)
