"""The properties panel's labels and help texts, in the reader's language (zh-CN source, English
translation); each help text quotes the rule the property serves (processes/CONVENTIONS.md), so a
designer changing a time limit sees what it is for. studio-properties.js reads them as JSON."""

from __future__ import annotations

from flask_babel import gettext as _


def texts() -> dict[str, str]:
    said = {
        "none": _("（不设置）"),
        "noneRead": _("无"),
        "notInVersion": _("%(v)s（当前版本中没有）", v="{value}"),
        "formFields": _("流程读取此表单的字段（x-process）：%(f)s。", f="{fields}"),
        "deadlineSaid": _("时限：%(l)s。依据：%(b)s", l="{length}", b="{basis}"),
        "unit.workdays": _("%(n)s 个工作日", n="{n}"),
        "unit.months": _("%(n)s 个月", n="{n}"),
        "unit.days": _("%(n)s 个自然日", n="{n}"),
        "laneRole": _("所在泳道「%(l)s」= 角色 %(c)s（知悉范围：%(r)s）。", l="{lane}", c="{code}", r="{reads}"),
        "laneUnknown": _("泳道「%(l)s」不是 roles.yaml 中的角色。", l="{lane}"),
        "laneNone": _("此任务不在任何泳道中：部署将拒绝（泳道决定由哪个角色办理）。"),
        "group.form": _("贯通 · 表单"),
        "openForm": _("在表单设计中打开 %(k)s", k="{key}"),
        "newForm": _("在表单设计中新建表单"),
        "group.due": _("贯通 · 办理时限"),
        "group.who": _("贯通 · 由谁办理"),
        "group.tags": _("贯通 · 阶段、机制与平台"),
        "group.separation": _("贯通 · 分离与回避"),
        "group.reads": _("贯通 · 知悉范围"),
        "group.instructions": _("贯通 · 办理说明"),
        "group.process": _("贯通 · 流程标签"),
        "group.laneRole": _("贯通 · 泳道角色"),
        "group.timer": _("贯通 · 定时器"),
        "group.message": _("贯通 · 消息"),
        "label.formKey": _("表单"),
        "help.formKey": _("每个用户任务必须指定表单（formKey），对应 processes/forms/<formKey>.json。"),
        "label.dueIn": _("办理时限（settings.yaml）"),
        "help.dueIn": _(
            "时限取自 settings.yaml 的 deadlines，按工作日历计算到期日；没有时限的环节须填写不设时限的理由。"
        ),
        "label.dueDuration": _("或直接填写时长"),
        "help.dueDuration": _(
            "不引用 settings.yaml 时，写“数字 单位”：5 workdays（工作日）、3 months（月）、30 days（自然日）。提前 2 个工作日提醒，逾期不自动升级；需要升级的时限请在 settings.yaml 中定义。"
        ),
        "inlineSaid": _("自定时长：%(l)s（提前 2 个工作日提醒，逾期不升级）。", l="{length}"),
        "label.dueFrom": _("时限起算日变量（dueFrom）"),
        "help.dueFrom": _(
            "保存起算日期（ISO 日期）的流程变量，如收到报告、函件之日；不填则自任务开启时起算。该变量须在到达此处的每条路径上都已赋值。"
        ),
        "label.noDueReason": _("不设时限的理由（noDueReason）"),
        "help.noDueReason": _(
            "没有办理时限时说明理由，如“签收即办”“会议由书记召集”；既无时限又无理由的任务会被每次校验提示。"
        ),
        "label.lane": _("泳道（角色）"),
        "help.lane": _("泳道名称即 roles.yaml 中的角色；要更换角色，请选中泳道。"),
        "label.unitVar": _("办理单位变量（unitVar）"),
        "help.unitVar": _(
            "规则：每个用户任务都要指定办理单位变量（知悉范围）。本委常设角色用其 owner_var（如 commission_unit），其他泳道用事项本身携带的单位（handling_unit、host_unit 等）。"
        ),
        "label.assigneeVar": _("指定办理人变量（assigneeVar）"),
        "help.assigneeVar": _(
            "可选：保存唯一办理人用户名的变量。规则：该变量必须来自账号选择字段（x-options: users:…，x-process: true），否则部署拒绝。"
        ),
        "label.stage": _("阶段（覆盖流程设置）"),
        "help.stage": _("不填则沿用流程的阶段：确定目标、发现问题、处置问题、整改问题。"),
        "label.mechanism": _("机制（覆盖流程设置）"),
        "help.mechanism": _("不填则沿用流程的机制 M1–M3。"),
        "label.platform": _("平台（覆盖流程设置）"),
        "help.platform": _("不填则沿用流程的平台 P1–P8、L1–L4 或 M。"),
        "label.separateFromSteps": _("须分离的环节（separateFromSteps）"),
        "help.separateFromSteps": _(
            "逗号分隔的环节，“流程:环节”或本流程的“环节”：办理过或持有这些环节的人，在本案任何关联实例中都不得认领、办理或被转交此任务（审理与初核、审查调查分离）。"
        ),
        "label.separateFrom": _("须回避的人员变量（separateFrom）"),
        "help.separateFrom": _("逗号分隔的、保存用户名的流程变量：系统外人员（如外部调查人员）也须与此任务分离。"),
        "label.reads": _("可阅内容（reads）"),
        "help.reads": _(
            "规则：泳道角色为 addressed 时必须声明：本流程其他环节的编号（整条记录）、“环节.字段”（单个字段）或 none。file 泳道不得声明（知悉范围，CONVENTIONS.md）。"
        ),
        "label.readsFiles": _("可阅附件（readsFiles）"),
        "help.readsFiles": _("逗号分隔的本流程其他环节：此任务可打开其上传的附件（默认不可）。"),
        "label.instructions": _("办理说明"),
        "help.instructions": _("告诉承办人要做什么，并写明所依据的规定条款。"),
        "label.processId": _("流程标识（key）"),
        "help.processId": _("以 gt_ 开头的英文标识；已有实例和其他流程的调用都依赖它，请谨慎修改。"),
        "label.processStage": _("阶段"),
        "help.processStage": _("必填：goal 确定目标、discover 发现问题、dispose 处置问题、rectify 整改问题。"),
        "label.processMechanism": _("机制"),
        "help.processMechanism": _("M1 会商预判、M2 共融印证、M3 整改督办；平台流程可不填。"),
        "label.processPlatform": _("平台"),
        "help.processPlatform": _("必填：P1–P8，联动子流程 L1–L4，机制流程 M。"),
        "label.businessKey": _("业务编号变量（businessKey）"),
        "help.businessKey": _("其值作为实例业务编号的流程变量，如 clue_no。"),
        "label.entry": _("可独立发起（entry）"),
        "help.entry": _(
            "true：可由人员、消息或定时发起；false：只被其他流程调用。不填时，没有被调用的流程视为可发起。"
        ),
        "entry.true": _("是（true）"),
        "entry.false": _("否，仅被调用（false）"),
        "label.laneRole": _("角色"),
        "help.laneRole": _("泳道名称必须是 roles.yaml 中的角色；部署时映射为角色代码。"),
        "label.timerKind": _("定时类型"),
        "help.timerKind": _("到期日（timeDate）用于时限和督办；周期（timeCycle）用于定期发起。"),
        "timer.timeDate": _("到期日（timeDate）"),
        "timer.timeDuration": _("时长（timeDuration）"),
        "timer.timeCycle": _("周期（timeCycle）"),
        "label.timerExpr": _("定时表达式"),
        "help.timerExpr": _(
            "只能使用 deadline('时限')、deadline_from('时限', 起算日变量) 或 schedule('计划')，名称取自 settings.yaml（如 %(d)s；计划如 %(s)s）。",
            d="{deadlines}",
            s="{schedules}",
        ),
        "label.messageName": _("消息名称"),
        "help.messageName": _("发送与接收两端须使用同一消息名称。已部署的消息：%(k)s", k="{known}"),
        "label.correlationVar": _("关联变量（correlationVar）"),
        "help.correlationVar": _("用来把消息对应到正确实例的变量，如 clue_no。"),
        "label.messagePayload": _("消息内容（messagePayload）"),
        "help.messagePayload": _("Python 字典表达式；只携带编号、代码和标识，不携带案情内容。"),
        "label.messageVariable": _("接收变量（messageVariable）"),
        "help.messageVariable": _("收到的消息内容存入此流程变量。"),
    }
    for code, label in {
        "goal": _("确定目标"),
        "discover": _("发现问题"),
        "dispose": _("处置问题"),
        "rectify": _("整改问题"),
    }.items():
        said["stage." + code] = label
    for code, label in {
        "M1": _("监督重点共谋和基础信息会商预判"),
        "M2": _("监督力量共融和问题查核印证"),
        "M3": _("问题整改定向和督办研判"),
    }.items():
        said["mechanism." + code] = label
    platforms = {f"P{i}": _("平台 %(n)s", n=i) for i in range(1, 9)}
    platforms.update(
        {
            "L1": _("室组地联动"),
            "L2": _("巡察与派驻联动"),
            "L3": _("四类监督+X"),
            "L4": _("乡镇片区协作"),
            "M": _("机制流程"),
        }
    )
    for code, label in platforms.items():
        said["platform." + code] = label
    return said


def bpmn_texts() -> dict[str, str]:
    """bpmn-js's and the generic panel's own English words (palette, context pad, General group) in
    the reader's language: studio-properties.js hands them to bpmn-js's ``translate`` service."""
    return {
        "General": _("常规"),
        "Name": _("名称"),
        "ID": _("标识（ID）"),
        "Documentation": _("说明"),
        "Element documentation": _("元素说明"),
        "Process documentation": _("流程说明"),
        "Process ID": _("流程标识"),
        "Process name": _("流程名称"),
        "Executable": _("可执行"),
        "Multi-instance": _("多实例"),
        "Loop cardinality": _("循环次数"),
        "Completion condition": _("完成条件"),
        "Message": _("消息"),
        "Global message reference": _("全局消息引用"),
        "Timer": _("定时器"),
        "Condition": _("条件"),
        "Condition expression": _("条件表达式"),
        "Create new ...": _("新建……"),
        "<none>": _("（无）"),
        "Activate hand tool": _("抓手工具（拖动画布）"),
        "Activate lasso tool": _("套索工具（框选）"),
        "Activate create/remove space tool": _("增加或删除空间"),
        "Activate global connect tool": _("连线工具"),
        "Create start event": _("创建开始事件"),
        "Create intermediate/boundary event": _("创建中间或边界事件"),
        "Create end event": _("创建结束事件"),
        "Create gateway": _("创建网关"),
        "Create task": _("创建任务"),
        "Create data object reference": _("创建数据对象"),
        "Create data store reference": _("创建数据存储"),
        "Create expanded sub-process": _("创建展开的子流程"),
        "Create pool/participant": _("创建池（参与者）"),
        "Create group": _("创建分组"),
        "Append task": _("追加任务"),
        "Append end event": _("追加结束事件"),
        "Append gateway": _("追加网关"),
        "Append intermediate/boundary event": _("追加中间事件"),
        "Add text annotation": _("添加注释"),
        "Change element": _("更改元素类型"),
        "Connect to other element": _("连接到其他元素"),
        "Delete": _("删除（Delete 键）"),
        "Add lane above": _("在上方添加泳道"),
        "Add lane below": _("在下方添加泳道"),
        "Divide into two lanes": _("拆分为两个泳道"),
        "Divide into three lanes": _("拆分为三个泳道"),
    }
