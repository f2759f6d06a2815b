"""Form schemas (JSON Schema 2020-12) for every formKey used in processes/bpmn.

Shared field definitions live here once and are written into each form that uses them, so every
processes/forms/<formKey>.json stays self-contained (deploy reads one file per formKey).

    python tools/bpmn_layout/forms.py           # write processes/forms/*.json
    python tools/bpmn_layout/forms.py --check   # exit 1 when a written file differs
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "processes" / "forms"


# ---------- field helpers ----------
def s(title, desc, **kw):
    return {"type": "string", "title": title, "description": desc, **kw}


def txt(title, desc, **kw):
    return {"type": "string", "title": title, "description": desc, "x-widget": "textarea", **kw}


def d(title, desc, **kw):
    return {"type": "string", "format": "date", "title": title, "description": desc, **kw}


def dt(title, desc, **kw):
    return {"type": "string", "format": "date-time", "title": title, "description": desc, **kw}


def b(title, desc, **kw):
    return {"type": "boolean", "title": title, "description": desc, **kw}


def num(title, desc, **kw):
    return {"type": "number", "title": title, "description": desc, "minimum": 0, **kw}


def integer(title, desc, **kw):
    return {"type": "integer", "title": title, "description": desc, "minimum": 0, **kw}


def enum(title, desc, options, **kw):
    return {
        "type": "string",
        "title": title,
        "description": desc,
        "oneOf": [{"const": c, "title": t} for c, t in options],
        **kw,
    }


def multi(title, desc, options, **kw):
    return {
        "type": "array",
        "title": title,
        "description": desc,
        "uniqueItems": True,
        "items": {"type": "string", "oneOf": [{"const": c, "title": t} for c, t in options]},
        **kw,
    }


def _opt(kind, role):
    # role 'any': picker over every unit/user (no convention value yet, see processes/README.md)
    return {} if role == "any" else {"x-options": f"{kind}:{role}"}


def unit(title, desc, role, **kw):
    return {"type": "string", "title": title, "description": desc, **_opt("units", role), **kw}


def units(title, desc, role, **kw):
    return {
        "type": "array",
        "title": title,
        "description": desc,
        "uniqueItems": True,
        "items": {"type": "string"},
        **_opt("units", role),
        **kw,
    }


# The officers a case team is drawn from (核查组, 谈话人, 室组地 and 四类监督+X teams): 监督检查室,
# 审查调查室, 派驻组 and 乡镇纪委 accounts. A people field names accounts, never typed names: a task
# addressed to a typed name reaches nobody and the case stalls (issue 15).
OFFICERS = "supervision_office,investigation_office,resident_group,township_commission"


def user(title, desc, role, **kw):
    return {"type": "string", "title": title, "description": desc, **_opt("users", role), **kw}


def users(title, desc, role, **kw):
    return {
        "type": "array",
        "title": title,
        "description": desc,
        "uniqueItems": True,
        "items": {"type": "string"},
        **_opt("users", role),
        **kw,
    }


def strs(title, desc, **kw):
    return {"type": "array", "title": title, "description": desc, "items": {"type": "string"}, **kw}


def N(title, sequence, desc="系统在提交时按本委年度序号签发，不能手填。", **kw):
    """A number the system issues (engine/numbering): sequence names settings.yaml ``numbering``."""
    return {"type": "string", "title": title, "description": desc, "x-issued": sequence, **kw}


def ONCE(field):
    """A fact the case already knows when this form opens: prefilled from the latest earlier record of the
    same field and not required again (engine/tasks/known.py; issue 15: facts not asked twice)."""
    return {**field, "x-ask-once": True}


def P(field):
    """Decision field: copied into process data."""
    return {**field, "x-process": True}


def C(field):
    """Confidential field: encrypted, masked, never copied into process data."""
    return {**field, "x-confidential": True}


# ---------- shared vocabularies ----------
SOURCE_CATEGORY = [
    ("xinfang_jubao", "信访举报"),
    ("xuncha_yijiao", "巡察移交"),
    ("shenji_yijiao", "审计移交"),
    ("zhifa_sifa", "执法司法移送"),
    ("paizhu_faxian", "派驻组发现"),
    ("jiancha_faxian", "监督检查发现"),
    ("xiangzhen_baosong", "乡镇报送"),
    ("shangji_jiaoban", "上级交办"),
    ("lingdao_piban", "领导批办"),
    ("wangluo_yuqing", "网络舆情"),
    ("zhudong_toaan", "主动投案"),
]
CADRE_AUTHORITY = [("prefecture", "州管"), ("county", "县管"), ("other", "其他")]
JURISDICTION = [
    ("this_level", "本级管辖"),
    ("lower_level", "下级管辖"),
    ("other_organ", "其他机关管辖"),
    ("upper_level", "上级管辖"),
    ("own_leader", "反映本机关主要负责人"),
]
DISPOSAL = [
    ("tanhua_hanxun", "谈话函询"),
    ("chubu_heshi", "初步核实"),
    ("zancun_daicha", "暂存待查"),
    ("yiyu_liaojie", "予以了结"),
    ("zhijie_lian", "直接立案（事实清楚，无需初核）"),
]
FOUR_FORMS = [
    ("none", "不适用（了结、移送等）"),
    ("first", "第一种形态"),
    ("second", "第二种形态"),
    ("third", "第三种形态"),
    ("fourth", "第四种形态"),
]
FIRST_FORM_MEASURES = [
    ("tanhua_tixing", "谈话提醒"),
    ("piping_jiaoyu", "批评教育"),
    ("zeling_jiancha", "责令检查"),
    ("jiemian", "诫勉"),
]
PROBLEM_CATEGORY = [
    ("zhengzhi_jilv", "违反政治纪律"),
    ("zuzhi_jilv", "违反组织纪律"),
    ("lianjie_jilv", "违反廉洁纪律"),
    ("qunzhong_jilv", "违反群众纪律"),
    ("gongzuo_jilv", "违反工作纪律"),
    ("shenghuo_jilv", "违反生活纪律"),
    ("baxiang_guiding", "违反中央八项规定精神"),
    ("zhiwu_weifa", "职务违法"),
    ("zhiwu_fanzui", "职务犯罪"),
]
DOMAIN = [
    ("caoyuan_jiangbu", "草原生态补奖"),
    ("xiangcun_zhenxing", "乡村振兴"),
    ("gongcheng", "工程建设"),
    ("caizheng", "财政资金"),
    ("yiliao", "医疗卫生"),
    ("jiaoyu", "教育"),
    ("nongtian", "高标准农田"),
    ("qita", "其他"),
]
GRADE_RECT = [("hao", "好"), ("jiaohao", "较好"), ("yiban", "一般"), ("cha", "差")]
GRADE_ECO = [("hao", "好"), ("jiaohao", "较好"), ("yiban", "一般"), ("cha", "差")]
# P8: why a value differs from the one the system gathered from P2/P5/P7 (engine/cockpit/ecology.py)
ECO_ADJUST = txt("调整理由", "与系统汇集的指标值或得分、等次不同时必填：说明调整的依据。", maxLength=2000)
SANCTION = [
    ("none", "不予处分"),
    ("jinggao", "警告"),
    ("yanzhong_jinggao", "严重警告"),
    ("chexiao_dangnei_zhiwu", "撤销党内职务"),
    ("liudang_chakan", "留党察看"),
    ("kaichu_dangji", "开除党籍"),
    ("zhengwu_jinggao", "政务警告"),
    ("zhengwu_jiguo", "政务记过"),
    ("zhengwu_jidaguo", "政务记大过"),
    ("zhengwu_jiangji", "政务降级"),
    ("zhengwu_chezhi", "政务撤职"),
    ("zhengwu_kaichu", "政务开除"),
    ("zuzhi_chuli", "组织处理（停职检查、调整职务、责令辞职、免职等）"),
]

SIGN = {
    "type": "object",
    "title": "签名",
    "description": "电子签名：签署人、意见和时间由系统记录并留痕（监督执纪工作规则第23条）。",
    "properties": {
        "signer": {"type": "string", "title": "签署人", "description": "当前登录人，系统自动填写。"},
        "signed_at": {"type": "string", "format": "date-time", "title": "签署时间", "description": "系统自动填写。"},
    },
    "required": ["signer", "signed_at"],
}

REPORTED_PERSON = {
    "type": "object",
    "title": "被反映人",
    "description": "被反映人基本情况（问题线索登记表）。",
    "properties": {
        "name": s("姓名", "被反映人姓名。"),
        "gender": enum("性别", "", [("male", "男"), ("female", "女")]),
        "ethnicity": s("民族", "例如：汉族、藏族。"),
        "birth_month": s("出生年月", "格式 YYYY-MM。", pattern=r"^\d{4}-\d{2}$"),
        "political_status": enum(
            "政治面貌",
            "",
            [("cpc", "中共党员"), ("cpc_probation", "中共预备党员"), ("other_party", "民主党派"), ("masses", "群众")],
        ),
        "unit": s("单位", "被反映人工作单位。"),
        "position": s("职务", "现任职务。"),
        "rank": enum(
            "职级",
            "",
            [
                ("ting", "厅级"),
                ("chu", "处级"),
                ("zhengke", "正科级"),
                ("fuke", "副科级"),
                ("gu", "股级及以下"),
                ("cun", "村（社区）干部"),
                ("none", "无职级"),
            ],
        ),
        "identity_flags": multi(
            "身份标记",
            "党代表、党委委员、纪委委员、人大代表、政协委员及监察对象类别。",
            [
                ("dangdaibiao", "党代表"),
                ("dangwei_weiyuan", "党委委员"),
                ("jiwei_weiyuan", "纪委委员"),
                ("renda_daibiao", "人大代表"),
                ("zhengxie_weiyuan", "政协委员"),
                ("gongwuyuan", "公务员"),
                ("guoqi", "国有企业管理人员"),
                ("jiceng", "基层群众性自治组织管理人员"),
                ("qita_jiancha", "其他监察对象"),
            ],
        ),
    },
    "required": ["name", "unit", "position", "rank"],
}

REPORTER = C(
    {
        "type": "object",
        "title": "检举人信息（保密）",
        "description": "检举人姓名、联系方式仅信访承办人和审批人可见，加密存储，不得出现在函询、整改等任何文书中（检举控告工作规则第47条）。",
        "properties": {
            "name": s("姓名", ""),
            "id_no": s("身份证号", ""),
            "phone": s("联系方式", ""),
            "address": s("住址或单位", ""),
        },
    }
)


def form(key, title, desc, props, required, defs=None):
    f = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:guantong:form:{key}",
        "title": title,
        "description": desc,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }
    return key, f


def opinion(extra=None, req=None):
    p = {"opinion": txt("意见", "审核、审批或会签意见。"), "signature": SIGN}
    if extra:
        p.update(extra)
    return p, ["opinion", "signature"] + (req or [])


RECUSAL_STATEMENT = b(
    "组成人员均已签署回避声明",
    "经核对本案回避登记，所列人员无应当回避情形；已登记回避、未经领导决定保留的人员不得列入（系统校验）。",
    const=True,
)


FORMS = []
add = FORMS.append

# ---------- generic ----------
p, r = opinion(
    {
        "decision": P(
            enum(
                "审批结论",
                "同意、原则同意或不同意；修改意见和不同意的理由（批示）写入意见栏。不同意的，退回拟稿环节按批示重办。",
                [("approve", "同意"), ("approve_with_changes", "原则同意，按批示修改"), ("reject", "不同意")],
            )
        )
    },
    ["decision"],
)
add(form("approval", "审批单", "逐级审批留痕：签署人、意见和时间全程记录（监督执纪工作规则第23条）。", p, r))

add(
    form(
        "meeting_minutes",
        "会议纪要",
        "月例会、联席会议、专题会、会商会的纪要；决定事项自动生成任务（§9.11）。",
        {
            "meeting_type": enum(
                "会议类型",
                "",
                [
                    ("clue_disposal", "线索处置专题会"),
                    ("joint", "四项监督联席会议"),
                    ("monthly", "派驻机构月例会"),
                    ("shizudi", "室组地联席会议"),
                    ("corroboration", "会商印证会"),
                    ("judgement", "研判会商会"),
                    ("special", "专题会议"),
                ],
            ),
            "meeting_date": d("会议日期", ""),
            "chair": s("主持人", ""),
            "attendee_units": units("参会单位", "参加会议的内设机构、派驻组、乡镇纪委、职能部门。", "any"),
            "agenda": txt("议题", ""),
            "decisions": {
                "type": "array",
                "title": "决定事项",
                "description": "每项决定生成一项任务（责任单位、期限）。",
                "items": {
                    "type": "object",
                    "properties": {
                        "item": s("事项", ""),
                        "owner_unit": unit("责任单位", "", "any"),
                        "due_date": d("完成期限", ""),
                    },
                    "required": ["item", "owner_unit"],
                },
            },
            "minutes_ref": s("纪要编号", ""),
        },
        ["meeting_type", "meeting_date", "chair", "agenda"],
    )
)

_key, _declaration = form(
    "recusal_declaration",
    "回避声明",
    "本人与被核查人、检举人是否存在应当回避情形的书面声明（监督执纪工作规则回避规定；巡察规程任职回避、公务回避）。"
    "申报存在回避情形的，记入本案回避登记，待领导决定前不得办理本案事项。",
    {
        "has_conflict": P(
            b(
                "存在应当回避情形",
                "本人是被审查调查人或检举人的近亲属、本案证人、与本案有利害关系，或存在其他可能影响公正办理的关系（含曾在被监督单位任职、驻在或联系该单位）。",
            )
        ),
        "conflict_type": enum(
            "回避情形",
            "存在回避情形时填写。",
            [
                ("kinship", "近亲属关系"),
                ("former_post", "曾在该单位任职"),
                ("host_unit", "驻在或联系该单位"),
                ("witness", "担任证人、鉴定人"),
                ("other", "利害关系或其他关系（同学、同乡、战友等）"),
            ],
        ),
        "conflict_detail": txt("情况说明", ""),
        "pledge": b("本人承诺如实申报，办理中出现回避情形立即报告", "", const=True),
        "signature": SIGN,
    },
    ["has_conflict", "pledge", "signature"],
)
# A declared conflict goes into the case's register (回避登记) as the declarer's own (engine/recusal).
_declaration["x-recusal"] = {
    "role": "declaration",
    "flag": "has_conflict",
    "kind": "conflict_type",
    "reason": "conflict_detail",
}
add((_key, _declaration))

add(
    form(
        "supervision_order",
        "督办单",
        "对逾期事项发出督办（§9.13）。",
        {
            "order_no": N("督办单编号", "supervision_order"),
            "target_unit": unit("督办对象", "", "any"),
            "matter": txt("督办事项", ""),
            "new_due_date": P(d("限期完成日期", "督办后仍逾期以此日期判定（超过后1个工作日约谈）。")),
            "signature": SIGN,
        },
        ["order_no", "matter", "new_due_date", "signature"],
    )
)

# ---------- P5 受理 ----------
add(
    form(
        "p5_jurisdiction_screen",
        "检举控告初步甄别",
        "只记录管辖判定所需的最少信息；上级管辖或反映本机关主要负责人的件不得录入反映内容（检举控告工作规则第15条）。",
        {
            "received_date": P(d("收到日期", "检举控告收到之日；受理告知和转送的工作日时限自此日起计算。")),
            "channel": enum(
                "来信来访渠道",
                "",
                [
                    ("letter", "来信"),
                    ("visit", "来访"),
                    ("phone", "电话"),
                    ("online", "网络举报平台"),
                    ("upper", "上级转交"),
                ],
            ),
            "stub_no": s("收件存根号", "系统生成的收件号，不含内容。"),
            "real_name": P(b("实名检举", "实名检举须在15个工作日内告知是否受理，办结后15个工作日内反馈结果。")),
            "jurisdiction": P(enum("管辖判定", "依据干部管理权限和监察管辖判定。", JURISDICTION)),
            "signature": SIGN,
        },
        ["received_date", "channel", "real_name", "jurisdiction", "signature"],
    )
)

add(
    form(
        "p5_handover_screen",
        "移交线索管辖甄别",
        "案管室收到移交线索后先判定管辖，只记录收件和管辖判定所需的信息；属上级管辖或反映本机关主要负责人的，不登记反映内容，只留存根（检举控告工作规则第15条、监察法实施条例第169—172条）。",
        {
            "received_date": P(d("收到日期", "收到移交之日；转送、受理告知和向移交单位反馈的时限自此日起算。")),
            "source_category": P(enum("来源类别", "", SOURCE_CATEGORY)),
            "transfer_doc_no": s("移交文号", "例如：XCB〔2024〕7号。"),
            "stub_no": s("收件存根号", "系统生成的收件号，不含内容。"),
            "real_name": P(b("实名检举", "移交的实名检举件同样须在15个工作日内告知是否受理。")),
            "jurisdiction": P(enum("管辖判定", "依据干部管理权限和监察管辖判定。", JURISDICTION)),
            "signature": SIGN,
        },
        ["received_date", "source_category", "real_name", "jurisdiction", "signature"],
    )
)

add(
    form(
        "p5_paper_handover",
        "纸质移交件收件登记",
        "移交单位以纸质公文移交的问题线索，由案管室手工收件登记后进入移交线索受理（统一受理、统一编号，监督执纪工作规则第23条）。",
        {
            "received_date": P(d("收到日期", "收到纸质移交件之日。")),
            "source_category": P(enum("来源类别", "", SOURCE_CATEGORY)),
            "source_unit": s("移交单位", "例如：县审计局、县公安局。"),
            "transfer_doc_no": P(s("移交文号", "例如：SJJ〔2024〕12号。")),
            "pages": integer("材料页数", "纸质材料原件归档保存。"),
            "signature": SIGN,
        },
        ["received_date", "source_category", "source_unit", "transfer_doc_no", "signature"],
    )
)

add(
    form(
        "p5_upper_report",
        "上级交办线索办理结果报告",
        "上级交办的问题线索办结后，以委名义向交办的上级纪委监委报告办理情况和结果（只报状态和结果）。",
        {
            "report_no": s("报告文号", ""),
            "status_result": txt("办理情况和结果", ""),
            "report_date": d("报告日期", ""),
            "signature": SIGN,
        },
        ["report_no", "status_result", "report_date", "signature"],
    )
)

add(
    form(
        "p5_sealed_forward",
        "密封报送记录",
        "上级管辖或反映本机关主要负责人的检举控告：平台仅保存日期和文号存根，不保存内容（检举控告工作规则第15条）。",
        {
            "forward_date": d("报送日期", ""),
            "letter_no": N("报送文号", "forward_letter"),
            "recipient": s("接收机关", "例如：州纪委监委信访室。"),
            "instruction_recorded": b("已按主要负责人批示办理", "仅记录是否已批示，不记录批示内容。"),
            "signature": SIGN,
        },
        ["forward_date", "letter_no", "recipient", "signature"],
    )
)

add(
    form(
        "p5_transfer",
        "转送（移送）登记",
        "转送其他机关、转交下级或移送有关党组织处理的登记。",
        {
            "transfer_date": d("转送日期", ""),
            "recipient": s("接收机关或党组织", ""),
            "letter_no": N("转送文号", "transfer_letter"),
            "reason": txt("转送理由", ""),
            "follow_up_date": d("跟踪反馈日期", "下级或有关党组织应反馈受理、处理情况的日期。"),
            "signature": SIGN,
        },
        ["transfer_date", "recipient", "letter_no", "signature"],
    )
)

add(
    form(
        "p5_clue_register",
        "问题线索登记表",
        "统一受理登记、统一编号（§9.1；监督执纪工作规则第23条）。检举人信息单独加密保存。",
        {
            "clue_no": P(N("线索编号", "clue", "系统在提交时签发：XS-年份-四位序号，本委每年从 0001 起连续编号。")),
            "source_category": P(enum("来源类别", "", SOURCE_CATEGORY)),
            "source_unit": s("来源单位", "移交或报送单位，例如：县委巡察办。"),
            "transfer_doc_no": s("移交文号", "例如：XCB〔2024〕7号。"),
            "received_date": ONCE(P(d("收到日期", "移交线索的反馈时限自此日起算。"))),
            "real_name": ONCE(P(b("实名检举", "实名检举须告知受理情况并反馈办理结果。"))),
            "reporter": REPORTER,
            "reported_person": REPORTED_PERSON,
            "cadre_authority": P(
                enum("干部管理权限", "州管干部线索报州纪委监委；县管干部的立案须报县委书记审批。", CADRE_AUTHORITY)
            ),
            "lower_party_leader": P(
                b("被反映人为下一级党委（党组）主要负责人", "谈话函询须书记批准，初核须报同级党委主要负责人批准。")
            ),
            "host_unit": P(unit("被反映单位", "被反映人所在单位（所在党委、党组）。", "supervised_party_org")),
            "problem_summary": txt("反映问题摘要", "客观摘录反映的主要问题，不含检举人信息。"),
            "problem_category": multi("问题类别", "六大纪律、八项规定、职务违法、职务犯罪。", PROBLEM_CATEGORY),
            "domain": enum("领域", "", DOMAIN),
            "amount": num("涉及金额（元）", ""),
            "secrecy": enum("密级", "", [("none", "非密"), ("internal", "内部"), ("secret", "秘密")]),
            "urgency": enum("紧急程度", "", [("normal", "一般"), ("urgent", "紧急")]),
            "is_repeat": b("重复件", "重复举报的登记并关联原线索（检举控告工作规则第14条）。"),
            "related_clues": strs("关联线索编号", ""),
            "jurisdiction": ONCE(P(enum("管辖判定", "本级、下级、其他机关或上级管辖。", JURISDICTION))),
            "signature": SIGN,
        },
        [
            "clue_no",
            "source_category",
            "received_date",
            "real_name",
            "reported_person",
            "cadre_authority",
            "lower_party_leader",
            "host_unit",
            "problem_summary",
            "problem_category",
            "jurisdiction",
            "signature",
        ],
    )
)

add(
    form(
        "p5_acceptance_notice",
        "实名检举受理告知",
        "收到之日起15个工作日内告知实名检举人是否受理（检举控告工作规则）。",
        {
            "notice_date": d("告知日期", ""),
            "accepted": b("予以受理", ""),
            "method": enum(
                "告知方式", "", [("written", "书面"), ("phone", "电话"), ("face", "当面"), ("platform", "举报平台")]
            ),
            "record": C(txt("告知记录", "告知对象和内容记录，保密保存。")),
            "signature": SIGN,
        },
        ["notice_date", "accepted", "method", "signature"],
    )
)

# ---------- P5 分办 ----------
add(
    form(
        "p5_routing",
        "线索分办意见",
        "案管室提出分办意见（监督执纪工作规则第23条）。",
        {
            "handling_unit": P(unit("承办部门", "联系被反映单位或地区的监督检查室。", "supervision_office")),
            "resident_unit": P(unit("协办派驻组", "联系该单位的派驻纪检监察组（室组地）。", "resident_group")),
            "township_unit": P(
                unit("协办乡镇纪委", "被反映人所在乡镇或联系乡镇纪委（室组地）。", "township_commission")
            ),
            "secretary_approval_required": P(
                b("需报书记（主任）审批", "副科级以上干部、上级交办件、巡视巡察移交件及其他重要线索。")
            ),
            "routing_reason": txt("分办理由", ""),
            "deadline_note": s("办理时限要求", ""),
            "signature": SIGN,
        },
        ["handling_unit", "secretary_approval_required", "routing_reason", "signature"],
    )
)

add(
    form(
        "p5_assess",
        "承办登记与研判",
        "承办部门指定专人、登记台账并研判办理方式（室组地联动、片区协作）。",
        {
            "clue_manager": user("线索管理专人", "", "supervision_office"),
            "ledger_no": s("承办台账号", ""),
            "joint_mode": P(
                enum(
                    "办理方式",
                    "“室组地”联合办理或乡镇片区协作（交叉办理）。",
                    [("self", "本室办理"), ("shizudi", "室组地联合办理"), ("zone", "乡镇片区协作")],
                )
            ),
            "acquaintance_risk": b("熟人社会干扰风险", "勾选后片区协作优先采用交叉办理。"),
            "analysis": txt("综合分析", "综合分析、适当了解情况（检举控告工作规则第17条）。"),
            "signature": SIGN,
        },
        ["joint_mode", "analysis", "signature"],
    )
)

# ---------- P5 处置 ----------
add(
    form(
        "p5_disposal_request",
        "线索处置呈批表",
        "§9.2：线索、分析、拟处置方式、理由、会议纪要、审批链。",
        {
            "analysis": txt("分析意见", ""),
            "disposal_method": P(enum("拟处置方式", "检举控告工作规则第17条四类方式。", DISPOSAL)),
            "reason": txt("理由", ""),
            "minutes_ref": s("专题会纪要编号", ""),
            "needs_secretary_approval": P(
                b("需报书记（主任）审批", "副科级以上干部、上级交办、巡视巡察件或初核下一级党委主要负责人。")
            ),
            "lower_party_leader": ONCE(P(b("对象为下一级党委（党组）主要负责人", "初核须报同级党委主要负责人批准。"))),
            "signature": SIGN,
        },
        ["analysis", "disposal_method", "reason", "needs_secretary_approval", "lower_party_leader", "signature"],
    )
)

add(
    form(
        "p5_close_note",
        "予以了结报告",
        "反映不实或无法查证，经批准予以了结。",
        {
            "close_reason": enum(
                "了结理由", "", [("untrue", "反映不实"), ("unverifiable", "无法查证"), ("resolved", "已另行处理")]
            ),
            "explanation": txt("情况说明", ""),
            "four_forms": P(enum("四种形态认定", "了结一般不适用。", FOUR_FORMS)),
            "signature": SIGN,
        },
        ["close_reason", "explanation", "signature"],
    )
)

add(
    form(
        "p5_hold_review",
        "暂存线索复查",
        "暂存待查线索定期复查（季度清理）。",
        {
            "review_date": d("复查日期", ""),
            "new_evidence": txt("新情况、新证据", ""),
            "hold_decision": P(
                enum("复查结论", "", [("keep", "继续暂存"), ("verify", "转初步核实"), ("close", "予以了结")])
            ),
            "signature": SIGN,
        },
        ["review_date", "hold_decision", "signature"],
    )
)

add(
    form(
        "p5_hold_decision",
        "暂存线索了结或转初核决定",
        "暂存线索复查后拟予以了结，或连续复查4次仍无进展的，由分管领导（副科级以上干部的线索再报书记）作出决定并说明理由（予以了结须经批准，检举控告工作规则第17条）。",
        {
            "hold_final_decision": P(
                enum(
                    "决定",
                    "予以了结的，由承办部门制作了结报告；转初步核实的，按初核程序办理。不能再作“继续暂存”的决定。",
                    [("close", "予以了结"), ("verify", "转初步核实")],
                )
            ),
            "decision_reason": txt("决定理由", "说明线索复查情况和作出本决定的理由，记入线索台账。", minLength=2),
            "signature": SIGN,
        },
        ["hold_final_decision", "decision_reason", "signature"],
    )
)

add(
    form(
        "p5_inquiry_plan",
        "谈话函询方案和工作预案",
        "§9.3；监督执纪工作规则第29条。",
        {
            "inquiry_mode": P(
                enum(
                    "方式", "", [("talk", "谈话"), ("letter", "函询"), ("delegated_talk", "委托所在党委主要负责人谈话")]
                )
            ),
            "interviewers": users(
                "谈话人", "不少于2人；由纪检监察机关相关负责人或承办部门负责人谈话。", "supervision_office", minItems=2
            ),
            "accompanying": s("陪同人", "所在党委（党组）或派驻纪检监察组负责人。"),
            "recusal_statement": RECUSAL_STATEMENT,
            "questions": txt("谈话、函询的问题", "不得包含检举人信息。"),
            "contingency": txt("工作预案", "安全、保密和应急处置措施。"),
            "lower_party_leader": ONCE(
                P(b("对象为下一级党委（党组）主要负责人", "须书记（主任）批准，必要时报告同级党委主要负责人。"))
            ),
            "signature": SIGN,
        },
        ["inquiry_mode", "questions", "contingency", "lower_party_leader", "recusal_statement", "signature"],
    )
)

add(
    form(
        "p5_talk_record",
        "谈话记录",
        "§9.3 谈话记录：时间、地点、谈话人（≥2）、陪同人、被谈话人、内容、签名。",
        {
            "talk_time": dt("谈话时间", ""),
            "place": s("地点", ""),
            "interviewers": ONCE(users("谈话人", "不少于2人；方案中已确定的谈话人自动带入。", OFFICERS, minItems=2)),
            "accompanying": ONCE(s("陪同人", "")),
            "interviewee": s("被谈话人", ""),
            "content": txt("谈话内容摘要", "笔录原件上传附件。"),
            "interviewee_signed": b("被谈话人已签名", "", const=True),
            "signature": SIGN,
        },
        ["talk_time", "place", "interviewers", "interviewee", "content", "interviewee_signed", "signature"],
    )
)

add(
    form(
        "p5_inquiry_letter",
        "函询通知书",
        "以纪委办公室名义发函，抄送所在党委和派驻组；不得包含检举人信息（§9.3）。",
        {
            "letter_no": N("函号", "inquiry_letter"),
            "recipient": P(
                user(
                    "被函询人",
                    "函询通知书只送达此人：书面说明任务指派给他本人，同单位其他被反映人看不到（知悉范围）。",
                    "reported_person",
                )
            ),
            "party_committee": unit("所在党委（党组）", "", "supervised_party_org"),
            "cc_units": units("抄送", "所在党委（党组）、派驻纪检监察组。", "any"),
            "questions": txt("函询问题", "系统校验：不得出现检举人姓名、联系方式。"),
            "reply_due": d("回复期限", "收到函询后15个工作日，由系统按工作日历计算。"),
            "sent_date": d("发函日期", ""),
            "delivered_date": P(
                d("送达日期", "被函询人签收函询通知书之日；书面说明的15个工作日自此日起按工作日历计算。")
            ),
            "signature": SIGN,
        },
        ["letter_no", "recipient", "party_committee", "questions", "sent_date", "delivered_date", "signature"],
    )
)

add(
    form(
        "p5_inquiry_reply",
        "函询书面说明",
        "被函询人收到函询后15个工作日内书面说明。",
        {
            "received_date": d("收到函询日期", ""),
            "reply_text": txt("书面说明", "对函询问题逐项如实说明。"),
            "reply_date": d("回复日期", ""),
            "signature": SIGN,
        },
        ["received_date", "reply_text", "reply_date", "signature"],
    )
)

add(
    form(
        "p5_reply_countersign",
        "所在党委主要负责人签署意见",
        "所在党委（党组）主要负责人对书面说明签署意见（会签）。",
        {
            "secretary_opinion": txt("所在党委书记意见", ""),
            "signature": SIGN,
        },
        ["secretary_opinion", "signature"],
    )
)

add(
    form(
        "p5_inquiry_report",
        "谈话函询情况报告",
        "1个月内写出情况报告和处置意见（§9.3；规则第30条）。",
        {
            "conclusion": txt("结论", ""),
            "inquiry_result": P(
                enum(
                    "处置建议",
                    "",
                    [
                        ("close", "采信了结"),
                        ("first_form", "谈话提醒、批评教育、责令检查、诫勉"),
                        ("re_inquiry", "再次谈话函询"),
                        ("verify", "初步核实"),
                    ],
                )
            ),
            "four_forms": P(enum("四种形态认定", "", FOUR_FORMS)),
            "signature": SIGN,
        },
        ["conclusion", "inquiry_result", "four_forms", "signature"],
    )
)

add(
    form(
        "p5_first_form",
        "第一种形态处理记录",
        "谈话提醒、批评教育、责令检查、诫勉（党章第40条）。",
        {
            "measures": multi("处理方式", "", FIRST_FORM_MEASURES, minItems=1),
            "done_date": d("完成日期", ""),
            "record": txt("处理记录", ""),
            "four_forms": P(enum("四种形态认定", "", [("first", "第一种形态")])),
            "signature": SIGN,
        },
        ["measures", "done_date", "four_forms", "signature"],
    )
)

add(
    form(
        "p5_verify_plan",
        "初步核实方案",
        "§9.4：方案、核查组（≥2人）、措施、期限（监督执纪工作规则第33条）。",
        {
            "verify_team": P(
                users(
                    "核查组成员",
                    "不少于2人，可吸收派驻组、乡镇纪委人员；已登记回避的人员不得列入。",
                    OFFICERS,
                    minItems=2,
                )
                | {"x-no-conflict": True}
            ),
            "team_leader": user("核查组组长", "", "supervision_office"),
            "scope": txt("核查内容", ""),
            "measures": multi(
                "拟采取措施",
                "",
                [
                    ("talk", "谈话"),
                    ("personal_report", "调取个人有关事项报告"),
                    ("documents", "查阅复制文件、账目、档案"),
                    ("assets", "查核资产"),
                    ("inquiry", "查询"),
                    ("other", "其他"),
                ],
            ),
            "planned_end": d("计划完成日期", ""),
            "lower_party_leader": ONCE(P(b("对象为下一级党委（党组）主要负责人", "须报同级党委主要负责人批准。"))),
            "signature": SIGN,
        },
        ["verify_team", "team_leader", "scope", "measures", "lower_party_leader", "signature"],
    )
)

_key, _adjust = form(
    "p5_team_adjust",
    "回避决定和核查组调整",
    "领导对申报的回避情形逐人作出决定并调整核查组：留在核查组的为决定不予回避（保留），调出的为决定回避（替换）；"
    "决定连同理由记入回避登记。",
    {
        "recusal_outcome": enum(
            "回避决定",
            "决定回避的，调出有回避情形的成员并指定替换人员；决定不予回避的，须在理由中说明。",
            [("replace", "决定回避，调出并替换有回避情形的成员"), ("keep", "不予回避，保留留在核查组的成员")],
        ),
        "recusal_decision": txt("决定理由", "逐人说明回避或不予回避的理由，记入回避登记。"),
        "verify_team": P(
            users("调整后核查组成员", "替换后的全体成员，不少于2人；新增成员须签署回避声明。", OFFICERS, minItems=2)
            | {"x-no-conflict": True}
        ),
        "signature": SIGN,
    },
    ["recusal_outcome", "recusal_decision", "verify_team", "signature"],
)
# The register (回避登记) records each decision: members kept in the team are kept, the others replaced.
_adjust["x-recusal"] = {
    "role": "decision",
    "team": "verify_team",
    "outcome": "recusal_outcome",
    "reason": "recusal_decision",
}
add((_key, _adjust))

add(
    form(
        "p5_verify_work",
        "初核工作记录",
        "核查措施使用和进展；措施使用报案管室备案。",
        {
            "measures_used": txt("已采取措施", ""),
            "findings": txt("核查情况", ""),
            "measures_filed": b("措施使用已报案管室备案", ""),
            "signature": SIGN,
        },
        ["findings", "signature"],
    )
)

add(
    form(
        "p5_extension",
        "延期呈批",
        "初核或审理期限延长呈批。",
        {
            "reason": txt("延期理由", ""),
            "extend_to": d("延长至", ""),
            "signature": SIGN,
        },
        ["reason", "extend_to", "signature"],
    )
)

add(
    form(
        "p5_verify_report",
        "初核情况报告",
        "基本情况、反映问题、核实结果、疑点、建议（§9.4；规则第35条）。",
        {
            "basic": txt("基本情况", ""),
            "issues": txt("反映的主要问题", ""),
            "results": txt("核实结果", ""),
            "doubts": txt("存在疑点", ""),
            "verify_result": P(
                enum(
                    "处置建议",
                    "监督执纪工作规则第35条五类建议。",
                    [
                        ("file_case", "拟立案"),
                        ("close", "予以了结"),
                        ("reminder_talk", "谈话提醒"),
                        ("hold", "暂存待查"),
                        ("transfer_party_org", "移送有关党组织处理"),
                    ],
                )
            ),
            "four_forms": P(enum("四种形态认定", "拟立案的在处分决定时认定。", FOUR_FORMS)),
            "signature": SIGN,
        },
        ["basic", "issues", "results", "verify_result", "signature"],
    )
)

add(
    form(
        "p5_member_signature",
        "核查组成员签名",
        "初核情况报告由核查组全体人员签名备查。",
        {
            "member_agrees": P(b("同意报告内容", "不同意的在下栏注明意见。")),
            "dissent": txt("不同意见", ""),
            "signature": SIGN,
        },
        ["member_agrees", "signature"],
    )
)

# ---------- P5 立案 / 审查调查 / 审理 ----------
add(
    form(
        "p5_filing_request",
        "立案审查调查呈批报告",
        "§9.5；监督执纪工作规则第38条、监察法实施条例第181条。",
        {
            "case_no": P(N("案件编号", "case", "系统在提交时签发：LA-年份-四位序号，本委每年从 0001 起连续编号。")),
            "case_type": P(
                enum(
                    "案件性质",
                    "仅监察调查（非中共党员的公职人员）按1年加6个月计限，其他按纪律审查90日加90日计限。",
                    [("party", "纪律审查"), ("supervision", "监察调查"), ("both", "纪律审查和监察调查")],
                )
            ),
            "facts": txt("涉嫌违纪违法事实", ""),
            "cadre_authority": ONCE(P(enum("干部管理权限", "县管干部报县委书记审批。", CADRE_AUTHORITY))),
            "detention_proposed": P(b("拟采取留置措施", "须主要负责人主持专题会研究并报上一级批准。")),
            "signature": SIGN,
        },
        ["case_no", "case_type", "facts", "cadre_authority", "detention_proposed", "signature"],
    )
)

add(
    form(
        "p5_detention",
        "留置措施呈批",
        "专题会研究并报上一级监察机关批准（监察法第43条）。",
        {
            "meeting_ref": s("专题会纪要编号", ""),
            "upper_approval_no": s("上一级批准文号", ""),
            "detention_start": P(d("留置开始日期", "留置期限自该日起算。")),
            "family_notified": b("24小时内已通知家属和所在单位", ""),
            "signature": SIGN,
        },
        ["meeting_ref", "upper_approval_no", "detention_start", "signature"],
    )
)

add(
    form(
        "p5_filing_announce",
        "立案宣布和通知",
        "立案决定宣布记录、立案通知书送达（§9.5）。",
        {
            "announce_date": d("宣布日期", ""),
            "announcers": users("宣布人", "不少于2人。", "investigation_office", minItems=2),
            "recusal_statement": RECUSAL_STATEMENT,
            "notice_no": N("立案通知书文号", "filing_notice"),
            "party_secretary_notified": b("已通报所在党委主要负责人", ""),
            "signature": SIGN,
        },
        ["announce_date", "announcers", "notice_no", "party_secretary_notified", "recusal_statement", "signature"],
    )
)

add(
    form(
        "p5_investigation",
        "审查调查工作记录",
        "审查调查方案、措施使用、事实材料见面。",
        {
            "plan_approved_ref": s("审查调查方案批准（专题会）纪要号", ""),
            "safety_officer": user("安全员", "", "investigation_office"),
            "measures": {
                "type": "array",
                "title": "措施使用台账",
                "description": "措施类型、审批、起止日期、范围（规则第40条）。",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": enum(
                            "措施",
                            "",
                            [
                                ("talk", "谈话"),
                                ("interrogate", "讯问"),
                                ("question", "询问"),
                                ("detention", "留置"),
                                ("inquiry", "查询"),
                                ("freeze", "冻结"),
                                ("search", "搜查"),
                                ("obtain", "调取"),
                                ("seal", "查封"),
                                ("seize", "扣押"),
                                ("inspect", "勘验检查"),
                                ("appraise", "鉴定"),
                                ("technical", "技术调查"),
                                ("wanted", "通缉"),
                                ("exit_ban", "限制出境"),
                            ],
                        ),
                        "approval_no": s("审批文号", ""),
                        "start": d("开始", ""),
                        "end": d("结束", ""),
                        "scope": s("范围", ""),
                    },
                    "required": ["type", "approval_no", "start"],
                },
            },
            "facts_confronted": b("事实材料已与被审查调查人见面", ""),
            "signature": SIGN,
        },
        ["plan_approved_ref", "facts_confronted", "signature"],
    )
)

add(
    form(
        "p5_measures_ledger",
        "措施使用台账审核",
        "案管室审核登记措施使用台账（规则第40条）。",
        {
            "checked": b("台账与审批文书一致", ""),
            "issues": txt("发现的问题", ""),
            "reported_upward": b("已向委领导和上级报告", ""),
            "signature": SIGN,
        },
        ["checked", "signature"],
    )
)

add(
    form(
        "p5_transfer_hearing",
        "移送审理函",
        "审查调查报告和移送审理（§9.5）。",
        {
            "report_ref": s("审查调查报告编号", ""),
            "investigator_users": P(
                users(
                    "审查调查人员",
                    "系统外参与审查调查的人员也须列入；审理、复审时与系统记录的实际办理人一并回避（审查调查与审理分离）。",
                    "investigation_office",
                    minItems=1,
                )
                # a list of people kept apart, not a team: someone recused from the case may be named here
                | {"x-no-conflict": False}
            ),
            "assets": txt("涉案财物", ""),
            "transfer_date": d("移送日期", ""),
            "signature": SIGN,
        },
        ["report_ref", "investigator_users", "transfer_date", "signature"],
    )
)

add(
    form(
        "p5_hearing_accept",
        "移送审理审核",
        "受理、暂缓受理或不予受理（规则第55条）。",
        {
            "hearing_accept": P(
                enum("审核意见", "", [("accept", "受理"), ("defer", "暂缓受理"), ("refuse", "不予受理")])
            ),
            "reason": txt("理由", ""),
            "signature": SIGN,
        },
        ["hearing_accept", "signature"],
    )
)

add(
    form(
        "p5_acceptance_decision",
        "暂缓受理三次后的受理决定",
        "移送审理材料经3次补充仍不齐全的，由分管领导作出受理或不予受理的决定并说明理由（监督执纪工作规则第55条）；审理室不因轮次用尽而被迫受理。",
        {
            "acceptance_decision": P(
                enum(
                    "决定",
                    "受理：现有材料已能满足审理需要；不予受理：退回审查调查部门。",
                    [("accept", "受理"), ("refuse", "不予受理，退回审查调查部门")],
                )
            ),
            "decision_reason": txt("决定理由", "说明材料仍缺什么、为何可以受理或为何退回。", minLength=2),
            "signature": SIGN,
        },
        ["acceptance_decision", "decision_reason", "signature"],
    )
)

add(
    form(
        "p5_case_return_decision",
        "审理三次退回后的决定",
        "案件经3轮退回补充或重新调查仍事实不清、证据不足或不予受理的，由纪检监察机关主要负责人决定：就已查清的事实审理并形成审理报告，或撤销案件（监督执纪工作规则第55条、监察法实施条例）。没有审理报告不得提请常委会审议。",
        {
            "return_decision": P(
                enum(
                    "决定",
                    "就已查清的事实审理：由案件审理室形成审理报告后提请常委会审议；撤销案件：由审查调查部门制作撤销案件决定并通知。",
                    [("hear_established", "就已查清的事实审理"), ("withdraw", "撤销案件")],
                )
            ),
            "decision_reason": txt("决定理由", "说明退回调查的情况和作出本决定的理由。", minLength=2),
            "signature": SIGN,
        },
        ["return_decision", "decision_reason", "signature"],
    )
)

add(
    form(
        "p5_case_withdraw",
        "撤销案件",
        "经主要负责人批准撤销案件：制作撤销案件决定，通知被审查调查人及其所在党组织，解除已采取的措施。",
        {
            "withdraw_ref": s("撤销案件决定文号", ""),
            "withdraw_date": d("撤销日期", ""),
            "notified": b("已通知被审查调查人及其所在党组织", "", const=True),
            "measures_lifted": txt("已采取措施的解除情况", ""),
            "four_forms": P(enum("四种形态认定", "撤销案件的一般为“不适用”。", FOUR_FORMS)),
            "signature": SIGN,
        },
        ["withdraw_ref", "withdraw_date", "notified", "signature"],
    )
)

add(
    form(
        "p5_supplement",
        "补充移送材料",
        "按审理室意见补齐材料、完备手续。",
        {
            "supplement": txt("补充材料说明", ""),
            "signature": SIGN,
        },
        ["supplement", "signature"],
    )
)

add(
    form(
        "p5_hearing_work",
        "审理工作记录",
        "审理组、集体审议、与被审查调查人谈话（规则第55条）。",
        {
            "hearing_users": P(
                users("审理组成员", "不少于2人，不得为审查调查人员；用于复审回避校验。", "hearing_office", minItems=2)
            ),
            "recusal_statement": RECUSAL_STATEMENT,
            "talk_done": b("已与被审查调查人谈话核对事实、听取辩解", ""),
            "collective_review_date": d("集体审议日期", ""),
            "hearing_finding": P(
                enum(
                    "审理意见",
                    "",
                    [
                        ("proceed", "事实清楚、证据确凿，形成审理报告"),
                        ("supplement", "证据需补充，退回补充调查"),
                        ("reinvestigate", "主要事实不清，退回重新调查"),
                    ],
                )
            ),
            "signature": SIGN,
        },
        ["hearing_users", "talk_done", "hearing_finding", "recusal_statement", "signature"],
    )
)

add(
    form(
        "p5_hearing_report",
        "审理报告",
        "§9.6：基本情况、审查调查简况、违纪违法事实、涉案财物、承办部门意见、审理意见、起诉意见书。",
        {
            "facts": txt("违纪违法事实", ""),
            "hearing_opinion": txt("审理意见", ""),
            "proposed_sanction": multi("建议处理", "", SANCTION),
            "indictment_attached": b("附起诉意见书", "需追究刑事责任时。"),
            "signature": SIGN,
        },
        ["facts", "hearing_opinion", "proposed_sanction", "signature"],
    )
)

add(
    form(
        "p5_committee_decision",
        "常委会审议决定",
        "常委会纪要和处理决定；四种形态认定（§1.7）。",
        {
            "minutes_ref": s("常委会纪要编号", ""),
            "sanctions": multi("处理决定", "", SANCTION, minItems=1),
            "four_forms": P(enum("四种形态认定", "每人每案认定一种形态。", FOUR_FORMS)),
            "county_approval_required": P(b("需报县委审批", "依照干部管理权限应由同级党委审批的。")),
            "sanction_post_change_required": P(b("需变更职务、工资待遇", "撤销党内职务以上处分或政务撤职等。")),
            "prosecution_transfer": P(b("移送检察机关", "第四种形态：涉嫌职务犯罪。")),
            "signature": SIGN,
        },
        [
            "minutes_ref",
            "sanctions",
            "four_forms",
            "county_approval_required",
            "sanction_post_change_required",
            "prosecution_transfer",
            "signature",
        ],
    )
)

add(
    form(
        "p5_consultation",
        "征求意见回复",
        "以委办公室名义征求组织部、所在党委意见的回复（会签）。",
        {
            "agree": b("无不同意见", ""),
            "opinion": txt("意见", ""),
            "signature": SIGN,
        },
        ["agree", "signature"],
    )
)

add(
    form(
        "p5_sanction_announce",
        "处分宣布记录",
        "1个月内宣布，通知所在党委并抄送组织部（§9.7）。",
        {
            "decision_no": N("处分决定书文号", "sanction_decision"),
            "announce_date": d("宣布日期", ""),
            "audience": multi(
                "宣布范围",
                "",
                [("person", "受处分人"), ("branch", "所在基层党组织全体党员"), ("leadership", "所在领导班子")],
            ),
            "cc_org_dept": b("已抄送组织部", ""),
            "signature": SIGN,
        },
        ["decision_no", "announce_date", "audience", "signature"],
    )
)

add(
    form(
        "p5_post_change",
        "职务工资待遇变更",
        "1个月内办理，最长不超过6个月。",
        {
            "changes": txt("变更事项", ""),
            "done_date": d("办理完成日期", ""),
            "signature": SIGN,
        },
        ["changes", "done_date", "signature"],
    )
)

add(
    form(
        "p5_prosecution_transfer",
        "移送审查起诉",
        "起诉意见书和移送材料（监察法第45条）。",
        {
            "indictment_no": N("起诉意见书文号", "indictment"),
            "procuratorate": s("接收检察院", ""),
            "transfer_date": d("移送日期", ""),
            "signature": SIGN,
        },
        ["indictment_no", "procuratorate", "transfer_date", "signature"],
    )
)

add(
    form(
        "p5_execution_report",
        "处分执行情况报告",
        "6个月内报告执行情况（纪律处分条例第42条）。",
        {
            "executed": txt("执行情况", ""),
            "report_date": d("报告日期", ""),
            "signature": SIGN,
        },
        ["executed", "report_date", "signature"],
    )
)

add(
    form(
        "p5_execution_check",
        "执行情况审核归档",
        "核对宣布、执行和四种形态统计后归档。",
        {
            "four_forms": P(enum("四种形态认定", "", FOUR_FORMS)),
            "archived": b("已立卷归档", ""),
            "signature": SIGN,
        },
        ["four_forms", "archived", "signature"],
    )
)

add(
    form(
        "p5_close",
        "线索办结销号",
        "§9.1 办理栏：处置方式、结果、四种形态、关联案件号、销号日期。",
        {
            "result_summary": txt("处置结果", ""),
            "four_forms": P(enum("四种形态认定", "", FOUR_FORMS)),
            "case_no": s("关联案件号", ""),
            "closed_date": d("销号日期", ""),
            "signature": SIGN,
        },
        ["result_summary", "four_forms", "closed_date", "signature"],
    )
)

add(
    form(
        "p5_reporter_feedback",
        "实名检举人结果反馈",
        "办结后15个工作日内反馈（检举控告工作规则）。",
        {
            "feedback_date": d("反馈日期", ""),
            "method": enum(
                "反馈方式", "", [("written", "书面"), ("phone", "电话"), ("face", "当面"), ("platform", "举报平台")]
            ),
            "reporter_objection": C(txt("检举人意见", "检举人不满意或提出新证据的，记录并研究处理。")),
            "new_evidence": b("检举人提供新证据", ""),
            "signature": SIGN,
        },
        ["feedback_date", "method", "signature"],
    )
)

add(
    form(
        "p5_source_feedback",
        "向移交单位反馈",
        "向巡察办、审计机关等反馈办理情况（仅状态和结果）。",
        {
            "recipient_unit": unit("移交单位", "", "any"),
            "status_result": txt("办理情况和结果", ""),
            "feedback_date": d("反馈日期", ""),
            "signature": SIGN,
        },
        ["recipient_unit", "status_result", "feedback_date", "signature"],
    )
)

# ---------- P5 申诉 ----------
add(
    form(
        "p5_appeal_register",
        "申诉、复审申请登记",
        "§9.7 申诉/复审/复核表。",
        {
            "case_no": P(s("原案件编号", "")),
            "applicant": s("申请人", ""),
            "appeal_type": P(
                enum("申请类型", "", [("party_review", "党纪处分申诉（复议复查）"), ("admin_reexam", "政务处分复审")])
            ),
            "decision_received": P(d("收到原处理决定日期", "复审申请期限自收到原处理决定之日起算。")),
            "applied_date": P(d("申请日期", "政务处分复审须在收到决定1个月内申请。")),
            "original_staff": P(users("原审查调查和审理人员", "办理申诉、复审的人员须与其分离。", "any")),
            "grounds": txt("申请理由", ""),
            "signature": SIGN,
        },
        [
            "case_no",
            "applicant",
            "appeal_type",
            "decision_received",
            "applied_date",
            "original_staff",
            "grounds",
            "signature",
        ],
    )
)

add(
    form(
        "p5_appeal_review",
        "复议复查（复审）报告",
        "另行组成工作组审查，原办案、审理人员回避。",
        {
            "reviewers": users("办理人员", "", "hearing_office", minItems=2),
            "review_opinion": txt("审查意见", ""),
            "proposal": enum("建议", "", [("uphold", "维持"), ("change", "变更"), ("revoke", "撤销")]),
            "signature": SIGN,
        },
        ["reviewers", "review_opinion", "proposal", "signature"],
    )
)

add(
    form(
        "p5_appeal_decision",
        "复议复查、复审、复核决定",
        "决定结果和送达。",
        {
            "decision": enum("决定", "", [("uphold", "维持原处理"), ("change", "变更"), ("revoke", "撤销")]),
            "decision_no": N("决定文号", "appeal_decision"),
            "decision_date": d("决定日期", ""),
            "signature": SIGN,
        },
        ["decision", "decision_date", "signature"],
    )
)

add(
    form(
        "p5_review_application",
        "复核申请登记",
        "申请人收到复审决定1个月内可向上一级申请复核。",
        {
            "review_applied": P(b("申请人已申请复核", "")),
            "applied_date": d("申请日期", ""),
            "signature": SIGN,
        },
        ["review_applied", "signature"],
    )
)


# ---------- 联合工作组 / L1 / L4 ----------
add(
    form(
        "joint_team_setup",
        "联合监督（联合办案）组建单",
        "§9.10：任务编号、牵头单位、成员单位、人员及分工、授权范围、起止日期、数据权限。",
        {
            "task_no": s("任务编号", ""),
            "lead_unit": unit("牵头单位", "", "supervision_office"),
            "resident_unit": P(unit("派驻纪检监察组", "联系的派驻组。", "resident_group")),
            "township_unit": P(unit("乡镇纪委", "联系乡镇（联点县）纪委。", "township_commission")),
            "l1_x_units": P(
                units(
                    "协查的X部门",
                    "需要提供审计报告、资金拨付和发放数据的审计、财政等部门（四类监督+X），各自收到一项协查任务；不需要的不选。",
                    "x_department",
                )
            ),
            "members": {
                "type": "array",
                "title": "人员及分工",
                "description": "新老搭配、强弱结合。",
                "items": {
                    "type": "object",
                    "properties": {
                        "user": user("人员", "", OFFICERS),
                        "unit": s("所在单位", ""),
                        "role": enum("角色", "", [("lead", "组长"), ("member", "组员"), ("liaison", "联络员")]),
                    },
                    "required": ["user", "unit", "role"],
                },
            },
            "authority_scope": txt("授权范围", ""),
            "start_date": d("开始日期", ""),
            "end_date": d("结束日期", "到期自动收回数据权限。"),
            "data_access": multi(
                "数据权限", "", [("clue_file", "本线索材料"), ("ledger", "相关台账"), ("cadre_db", "干部信息库查询")]
            ),
            "signature": SIGN,
        },
        ["lead_unit", "resident_unit", "township_unit", "members", "start_date", "end_date", "signature"],
    )
)

add(
    form(
        "l1_recusal_review",
        "回避审查意见",
        "汇总回避声明，比对干部信息库，提出回避意见。",
        {
            "township_conflict": P(b("乡镇纪委人员存在回避情形", "需从其他乡镇交叉选派替换。")),
            "other_conflicts": txt("其他人员回避情况", ""),
            "signature": SIGN,
        },
        ["township_conflict", "signature"],
    )
)

add(
    form(
        "l1_replacement",
        "回避决定和交叉选派",
        "分管领导决定回避，指定交叉办理乡镇。",
        {
            "recusal_decision": txt("回避决定", ""),
            "township_unit": P(unit("交叉办理乡镇纪委", "替换后参加联合工作组的乡镇纪委。", "township_commission")),
            "signature": SIGN,
        },
        ["recusal_decision", "township_unit", "signature"],
    )
)

add(
    form(
        "p4_assist",
        "协查反馈",
        "协查请求的办理结果（P4 发现问题共证 [MI]）。",
        {
            "assist_item": s("协查事项", ""),
            "result": txt("协查结果", ""),
            "evidence_refs": strs("佐证材料编号", ""),
            "signature": SIGN,
        },
        ["result", "signature"],
    )
)

add(
    form(
        "l4_zone_request",
        "片区协作提请",
        "提请协作区牵头领导包案。",
        {
            "zone_unit": P(unit("协作区", "线索所在乡镇所属的乡镇片区协作区；该协作区的牵头领导包案。", "zone_lead")),
            "reason": txt("提请理由", "熟人社会干扰、力量不足、案情复杂等。"),
            "home_township": unit("线索所在乡镇", "", "township_commission"),
            "signature": SIGN,
        },
        ["zone_unit", "reason", "home_township", "signature"],
    )
)

add(
    form(
        "l4_zone_decision",
        "包案和协作方式",
        "牵头领导包案，确定交叉办理或片区协办。",
        {
            "zone_mode": P(enum("协作方式", "", [("cross", "交叉办理"), ("joint", "片区协办")])),
            "handling_township_unit": P(
                unit("交叉办理乡镇纪委", "交叉办理时填写，不得为线索所在乡镇。", "township_commission")
            ),
            "zone_township_units": P(units("片区协办乡镇纪委", "片区协办时填写。", "township_commission")),
            "instructions": txt("包案要求", ""),
            "signature": SIGN,
        },
        ["zone_mode", "signature"],
    )
)

add(
    form(
        "l4_zone_handling",
        "片区协作办理情况",
        "交叉办理或片区协办结果；办理人员已签署回避声明。",
        {
            "recusal_signed": b("办理人员已签署回避声明", "", const=True),
            "result": txt("办理情况", ""),
            "signature": SIGN,
        },
        ["recusal_signed", "result", "signature"],
    )
)

add(
    form(
        "l4_zone_review",
        "牵头领导把关意见",
        "听取汇报、把关方向。",
        {
            "opinion": txt("把关意见", ""),
            "signature": SIGN,
        },
        ["opinion", "signature"],
    )
)


# ---------- P1 目标任务共制 ----------
TASK_METHOD = [
    ("daily", "日常监督"),
    ("special", "专项监督"),
    ("inspection", "巡察"),
    ("shizudi", "室组地联动"),
    ("four_plus_x", "四类监督+X"),
]
add(
    form(
        "p1_launch",
        "监督重点征集通知",
        "P1 第1步：输入上级工作要点、上年度研判结果、风险提示。",
        {
            "plan_no": P(s("任务清单编号", "例如 RW-2025 或 RW-2025-Q3。")),
            "goal_scope": P(
                enum(
                    "征集类型",
                    "",
                    [
                        ("annual", "年度"),
                        ("quarterly", "季度调整"),
                        ("adjust", "月例会提请调整"),
                        ("upper", "上级临时部署"),
                    ],
                )
            ),
            "office_units": P(units("监督检查室", "报送建议的监督检查室。", "supervision_office", minItems=1)),
            "resident_units": P(units("派驻纪检监察组", "报送建议的派驻组。", "resident_group")),
            "x_units": P(units("X职能部门", "报送审计计划和重点资金清单的部门。", "x_department")),
            "inputs": txt("依据", "上级工作要点、上年度政治生态研判结果、月例会风险提示。"),
            "signature": SIGN,
        },
        ["plan_no", "goal_scope", "office_units", "resident_units", "x_units", "signature"],
    )
)

add(
    form(
        "p1_priority_proposal",
        "监督重点建议",
        "各监督主体报送的监督重点建议。",
        {
            "priorities": {
                "type": "array",
                "title": "建议事项",
                "description": "每项：领域或单位、问题表现、建议方式。",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "subject": s("领域或单位", ""),
                        "issue": s("问题表现", ""),
                        "method": enum("建议方式", "", TASK_METHOD),
                    },
                    "required": ["subject", "issue"],
                },
            },
            "inspection_targets": units("建议巡察对象", "巡察办填写。", "supervised_party_org"),
            "signature": SIGN,
        },
        ["priorities", "signature"],
    )
)

add(
    form(
        "p1_task_list",
        "监督任务清单（草案）",
        "每项任务：牵头单位、协同单位、方式、期限。",
        {
            "tasks": {
                "type": "array",
                "title": "任务",
                "description": "",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "task_no": s("任务编号", ""),
                        "title": s("任务名称", ""),
                        "lead_unit": s("牵头单位", ""),
                        "co_units": strs("协同单位", ""),
                        "method": enum("方式", "", TASK_METHOD),
                        "due_date": d("完成时限", ""),
                    },
                    "required": ["task_no", "title", "lead_unit", "method"],
                },
            },
            "inspection_targets": units("巡察对象建议", "", "supervised_party_org"),
            "signature": SIGN,
        },
        ["tasks", "signature"],
    )
)

add(
    form(
        "p1_committee",
        "常委会审议任务清单",
        "常委会纪要和审议结论。",
        {
            "minutes_ref": s("常委会纪要编号", ""),
            "committee_decision": P(enum("审议结论", "", [("approve", "通过"), ("revise", "修改后再审")])),
            "needs_county_approval": P(b("需报县委审批", "年度巡察计划、重大专项监督。")),
            "signature": SIGN,
        },
        ["minutes_ref", "committee_decision", "needs_county_approval", "signature"],
    )
)

add(
    form(
        "p1_issue",
        "印发任务清单",
        "每项任务生成跟踪对象并启动 M2。",
        {
            "doc_no": N("印发文号", "general"),
            "task_nos": P(strs("下达的任务编号", "每个编号启动一个监督任务实例。")),
            "signature": SIGN,
        },
        ["doc_no", "task_nos", "signature"],
    )
)

# ---------- P2 基础信息共享 ----------
add(
    form(
        "p2_launch",
        "月例会通知",
        "P2：本月报送清单。",
        {
            "period": P(s("期次", "格式 YYYY-MM。", pattern=r"^\d{4}-\d{2}$")),
            "resident_units": P(units("报送的派驻组", "", "resident_group", minItems=1)),
            "x_units": P(units("报送的X部门", "", "x_department")),
            "inspector_units": P(
                units("报送的县直机关纪检员所在单位", "纪检员的信息先报联系该单位的派驻组。", "unit_inspector")
            ),
            "agenda": txt("会议议题", ""),
            "signature": SIGN,
        },
        ["period", "resident_units", "x_units", "signature"],
    )
)

add(
    form(
        "p2_data_push",
        "基础信息报送",
        "按报送清单填报数据，附件上传（检举人信息、上级管辖线索不得报送）。",
        {
            "items": {
                "type": "array",
                "title": "数据项",
                "description": "指标或事项及数值。",
                "items": {
                    "type": "object",
                    "properties": {"name": s("名称", ""), "value": s("数值或情况", "")},
                    "required": ["name", "value"],
                },
            },
            "risks": txt("发现的风险点", ""),
            "signature": SIGN,
        },
        ["items", "signature"],
    )
)

add(
    form(
        "p2_data_check",
        "数据校验入库",
        "校验口径并载入监督对象信息库、廉政档案。",
        {
            "complete": b("数据完整、口径一致", ""),
            "issues": txt("退回补正事项", ""),
            "signature": SIGN,
        },
        ["complete", "signature"],
    )
)

add(
    form(
        "p2_meeting",
        "月例会会商预判",
        "会商结论：风险提示、任务调整、线索移交。",
        {
            "minutes_ref": s("纪要编号", ""),
            "risk_alert": P(b("发出风险提示", "启动 M2 问题查核印证。")),
            "risk_units": P(units("风险提示涉及单位", "", "supervised_party_org")),
            "adjust_tasks": P(b("提请调整监督任务", "启动 M1 目标任务共制（调整）。")),
            "clue_found": P(b("发现问题线索", "移交案管室（P5）。")),
            "judgement": txt("会商意见", ""),
            "signature": SIGN,
        },
        ["minutes_ref", "risk_alert", "adjust_tasks", "clue_found", "judgement", "signature"],
    )
)

add(
    form(
        "p2_archive",
        "纪要归档",
        "无需提示或移交的会商结果归档。",
        {
            "archive_ref": s("归档号", ""),
            "signature": SIGN,
        },
        ["archive_ref", "signature"],
    )
)

# ---------- P3 监督力量共融 / M2 ----------
FORCE_MODE = [
    ("shizudi", "室组地联动"),
    ("inspection", "巡察组（巡察与派驻联动）"),
    ("four_plus_x", "四类监督+X"),
    ("zone", "乡镇片区协作"),
]
add(
    form(
        "m2_assign",
        "确定牵头单位和组队方式",
        "党风政风监督室统筹确定。",
        {
            "task_no": P(s("任务编号", "")),
            "handling_unit": P(unit("牵头监督检查室", "", "supervision_office")),
            "force_mode": P(enum("组队方式", "", FORCE_MODE)),
            "resident_units": P(units("协同派驻组", "", "resident_group")),
            "township_units": P(units("协同乡镇纪委", "", "township_commission")),
            "x_units": P(units("参加的X部门", "", "x_department")),
            "signature": SIGN,
        },
        ["task_no", "handling_unit", "force_mode", "resident_units", "township_units", "x_units", "signature"],
    )
)

add(
    form(
        "p3_request",
        "力量需求",
        "专业、人数、起止日期；系统从人才库推荐人选。",
        {
            "force_mode": P(enum("组队方式", "", FORCE_MODE)),
            "skills": multi(
                "专业需求",
                "",
                [
                    ("finance", "财务"),
                    ("audit", "审计"),
                    ("law", "法律"),
                    ("engineering", "工程"),
                    ("agriculture", "农牧"),
                    ("investigation", "审查调查"),
                ],
            ),
            "headcount": integer("人数", "", minimum=1),
            "start_date": d("开始日期", ""),
            "end_date": d("结束日期", ""),
            "candidates": users("推荐人选", "系统从人才库推荐，可调整。", OFFICERS),
            "signature": SIGN,
        },
        ["force_mode", "headcount", "start_date", "end_date", "signature"],
    )
)

add(
    form(
        "p3_authorization",
        "抽调（授权）通知",
        "一次一授权。",
        {
            "notice_no": N("通知文号", "general"),
            "authority_scope": txt("授权范围", ""),
            "valid_until": d("有效期至", ""),
            "signature": SIGN,
        },
        ["notice_no", "authority_scope", "valid_until", "signature"],
    )
)

add(
    form(
        "p3_access",
        "任务数据权限",
        "仅限本任务、到期自动收回。",
        {
            "granted_users": users("开通人员", "", OFFICERS + ",x_department", minItems=1),
            "scope": multi(
                "权限范围", "", [("task_file", "本任务材料"), ("ledger", "相关台账"), ("cadre_db", "干部信息库查询")]
            ),
            "expires": d("收回日期", ""),
            "signature": SIGN,
        },
        ["granted_users", "scope", "expires", "signature"],
    )
)

add(
    form(
        "m2_release",
        "任务结束反馈",
        "抽调人员表现反馈、收回权限。",
        {
            "performance": txt("抽调人员表现反馈", "送所在单位和组织部。"),
            "access_revoked": b("已收回任务数据权限", "", const=True),
            "signature": SIGN,
        },
        ["performance", "access_revoked", "signature"],
    )
)

# ---------- L2 / L3 ----------
add(
    form(
        "l2_team_proposal",
        "巡察组组建方案",
        "§9.8：巡察工作方案、组长人选和回避审查信息。",
        {
            "task_no": P(s("巡察轮次任务编号", "例如 XC-2024-02。")),
            "target_unit": P(unit("被巡察单位", "", "supervised_party_org")),
            "nominee_user": user("提名组长", "派驻纪检监察组组长。", "resident_group"),
            "nominee_resident_unit": P(unit("提名人所在派驻组", "", "resident_group")),
            "nominee_covered_units": P(
                units(
                    "提名人驻在及监督覆盖单位",
                    "派驻组的驻在单位和综合派驻监督覆盖的全部单位。",
                    "supervised_party_org",
                    minItems=1,
                )
            ),
            "team_role": enum("拟任", "", [("leader", "巡察组组长"), ("deputy", "巡察组副组长")]),
            "entry_days": integer("进驻天数", "一般30—40天。", minimum=1),
            "signature": SIGN,
        },
        [
            "task_no",
            "target_unit",
            "nominee_user",
            "nominee_resident_unit",
            "nominee_covered_units",
            "team_role",
            "signature",
        ],
    )
)

add(
    form(
        "l2_replace",
        "更换组长人选",
        "",
        {
            "reason": txt("更换理由", ""),
            "nominee_user": user("新提名组长", "", "resident_group"),
            "nominee_resident_unit": P(unit("新提名人所在派驻组", "", "resident_group")),
            "nominee_covered_units": P(units("新提名人驻在及监督覆盖单位", "", "supervised_party_org", minItems=1)),
            "signature": SIGN,
        },
        ["reason", "nominee_user", "nominee_resident_unit", "nominee_covered_units", "signature"],
    )
)

add(
    form(
        "l2_lg_assign",
        "领导小组确定组长",
        "",
        {
            "leader_user": user(
                "确定的组长",
                "县级领导干部、巡察专职干部或派驻组长。",
                "inspection_team,inspection_office,resident_group",
            ),
            "reason": txt("理由", ""),
            "signature": SIGN,
        },
        ["leader_user", "signature"],
    )
)

add(
    form(
        "l2_secondment",
        "抽调人员名单",
        "组织部抽调组织、审计、财政、信访等人员。",
        {
            "staff": {
                "type": "array",
                "title": "抽调人员",
                "description": "",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"name": s("姓名", ""), "unit": s("单位", ""), "speciality": s("专业", "")},
                    "required": ["name", "unit"],
                },
            },
            "recusal_signed": b("全体人员已签署回避声明", "", const=True),
            "signature": SIGN,
        },
        ["staff", "recusal_signed", "signature"],
    )
)

add(
    form(
        "l2_authorization",
        "巡察授权决定",
        "一次一授权，报州委巡察办备案。",
        {
            "auth_no": s("授权决定文号", ""),
            "entry_date": d("进驻日期", ""),
            "filed_upward": b("工作方案已报州委巡察办备案", ""),
            "signature": SIGN,
        },
        ["auth_no", "entry_date", "signature"],
    )
)

add(
    form(
        "l3_setup",
        "四类监督+X联合监督组",
        "§9.10 组建单（X部门成员）。",
        {
            "x_units": P(units("参加的X部门", "", "x_department", minItems=1)),
            "members": {
                "type": "array",
                "title": "人员及分工",
                "description": "",
                "items": {
                    "type": "object",
                    "properties": {
                        "user": user("人员", "", OFFICERS + ",x_department"),
                        "unit": s("部门", ""),
                        "duty": s("分工", ""),
                    },
                    "required": ["user", "unit"],
                },
            },
            "authority_scope": txt("授权范围", ""),
            "data_access": multi(
                "数据权限",
                "仅限本任务。",
                [("task_file", "本任务材料"), ("fund_data", "资金数据"), ("audit_report", "审计报告")],
            ),
            "end_date": d("任务结束日期", "权限到期自动收回。"),
            "signature": SIGN,
        },
        ["x_units", "authority_scope", "end_date", "signature"],
    )
)

add(
    form(
        "l3_confidentiality",
        "保密承诺书和回避声明",
        "X部门人员签署。",
        {
            "confidentiality_pledge": b("承诺遵守保密纪律，不私存、不泄露监督信息", "", const=True),
            "has_conflict": b("存在应当回避情形", "包括经办、审批被监督资金或项目等利害关系。"),
            "conflict_detail": txt("情况说明", ""),
            "signature": SIGN,
        },
        ["confidentiality_pledge", "has_conflict", "signature"],
    )
)

add(
    form(
        "l3_review",
        "X部门人员回避审查",
        "",
        {
            "x_conflict": P(b("需更换X部门人员", "")),
            "x_replace_unit": P(unit("需更换人员的部门", "", "x_department")),
            "opinion": txt("审查意见", ""),
            "signature": SIGN,
        },
        ["x_conflict", "signature"],
    )
)

# ---------- P4 ----------
add(
    form(
        "p4_problem_register",
        "问题登记表",
        "P4 第1步：监督发现问题的统一登记。",
        {
            "problem_no": P(s("问题编号", "例如 WT-2024-0311。")),
            "source_category": P(enum("发现来源", "", SOURCE_CATEGORY)),
            "host_unit": P(unit("涉及单位", "", "supervised_party_org")),
            "description": txt("问题描述", ""),
            "person_involved": b("涉及具体人员涉嫌违纪违法", ""),
            "needs_corroboration": P(b("需要协查印证", "")),
            "resident_units": P(units("协查派驻组", "", "resident_group")),
            "township_units": P(units("协查乡镇纪委", "", "township_commission")),
            "x_units": P(units("协查X部门", "", "x_department")),
            "assist_items": txt("协查清单", "各协查单位的具体事项和要求。"),
            "signature": SIGN,
        },
        [
            "problem_no",
            "source_category",
            "host_unit",
            "description",
            "needs_corroboration",
            "resident_units",
            "township_units",
            "x_units",
            "signature",
        ],
    )
)

add(
    form(
        "p4_corroboration",
        "会商印证意见",
        "认定问题性质和去向。",
        {
            "minutes_ref": s("会商纪要编号", ""),
            "problem_disposition": P(
                enum(
                    "认定结果",
                    "",
                    [
                        ("clue", "问题线索（移交案管室）"),
                        ("rectification", "一般性、制度性问题（列入整改清单）"),
                        ("both", "既移交线索又列入整改"),
                        ("archive", "不能印证，存档"),
                    ],
                )
            ),
            "findings": txt("印证情况", ""),
            "clue_refs": P(
                strs(
                    "移交线索编号",
                    "认定为问题线索的，每个涉嫌违纪违法的具体问题一个编号（例如 ZX-2024-02-1）；逐条移交案管室，各自一个线索实例并行办理，均可从本实例查看（场景C）。",
                    uniqueItems=True,
                )
            ),
            "zone_unit": P(
                unit(
                    "协作区",
                    "问题所在乡镇所属的乡镇片区协作区：移交的线索均在该协作区办理（交叉办理、牵头领导包案）。",
                    "zone_lead",
                )
            ),
            "signature": SIGN,
        },
        ["minutes_ref", "problem_disposition", "findings", "signature"],
    )
)

add(
    form(
        "p4_archive",
        "存档备注",
        "",
        {
            "reason": txt("不能印证的理由", ""),
            "signature": SIGN,
        },
        ["reason", "signature"],
    )
)

# ---------- P6 ----------
SOURCE_TYPE = [
    ("inspection", "巡察反馈"),
    ("supervision", "监督检查"),
    ("audit", "审计报告"),
    ("recommendation", "纪检监察建议书"),
    ("eco", "政治生态研判反馈"),
]
add(
    form(
        "p6_feedback",
        "反馈问题清单",
        "§9.8 反馈意见书、问题清单。",
        {
            "rectification_no": P(s("整改编号", "例如 ZG-2024-XC02-05。")),
            "source_type": P(enum("问题来源", "", SOURCE_TYPE)),
            "host_unit": P(unit("被监督党组织", "", "supervised_party_org")),
            "supervision_unit": P(unit("联系监督检查室", "", "supervision_office")),
            "resident_unit": P(unit("驻在派驻组", "", "resident_group")),
            "problems": {
                "type": "array",
                "title": "问题清单",
                "description": "不含检举人信息和在办线索细节。",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"no": s("问题编号", ""), "text": s("问题描述", ""), "fix_now": b("立行立改", "")},
                    "required": ["no", "text"],
                },
            },
            "copied_to": multi(
                "四抄告",
                "",
                [
                    ("county_leader", "分管县领导"),
                    ("competent_dept", "主管部门"),
                    ("commission", "纪委监委"),
                    ("org_dept", "组织部"),
                ],
            ),
            "feedback_date": P(d("反馈日期", "整改情况报告的2个月时限自此日起算（巡视工作条例第27条）。")),
            "signature": SIGN,
        },
        [
            "rectification_no",
            "source_type",
            "host_unit",
            "supervision_unit",
            "resident_unit",
            "problems",
            "feedback_date",
            "signature",
        ],
    )
)

add(
    form(
        "p6_receipt",
        "问题清单签收",
        "被监督党组织书记签收（会签）。",
        {
            "received_date": d("签收日期", ""),
            "secretary": s("党组织书记", ""),
            "signature": SIGN,
        },
        ["received_date", "secretary", "signature"],
    )
)

add(
    form(
        "p6_plan_draft",
        "整改方案",
        "§9.9：问题、任务、责任三张清单和整改台账。",
        {
            "meeting_ref": s("专题会议纪要编号", ""),
            "items": {
                "type": "array",
                "title": "整改事项",
                "description": "",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "no": s("问题编号", ""),
                        "measure": s("整改措施", ""),
                        "leader": s("责任领导", ""),
                        "dept": s("责任部门", ""),
                        "due_date": d("完成时限", ""),
                        "kind": enum(
                            "类型",
                            "",
                            [("fix_now", "立行立改"), ("concentrated", "集中整改"), ("long_term", "长期整改")],
                        ),
                    },
                    "required": ["no", "measure", "leader", "due_date", "kind"],
                },
            },
            "secretary_endorsed": b("主要负责人已签字背书", "", const=True),
            "signature": SIGN,
        },
        ["meeting_ref", "items", "secretary_endorsed", "signature"],
    )
)

add(
    form(
        "p6_review_opinion",
        "整改方案会审意见",
        "各会审单位逐项意见（五方会审联督）。",
        {
            "adequate": b("方案可行", ""),
            "comments": txt("会审意见", "需修改的列明问题编号和修改要求。"),
            "signature": SIGN,
        },
        ["adequate", "comments", "signature"],
    )
)

add(
    form(
        "p6_review_consolidation",
        "会审意见汇总",
        "",
        {
            "plan_adequate": P(b("方案可行", "不可行的一次性退回并列明修改要求。")),
            "requirements": txt("修改要求", ""),
            "signature": SIGN,
        },
        ["plan_adequate", "signature"],
    )
)

add(
    form(
        "p6_ledger",
        "整改台账",
        "每个事项生成一个整改督办实例（P7）。",
        {
            "ledger_items": P(strs("台账事项编号", "", minItems=1)),
            "item_due_dates": P(
                {
                    "type": "object",
                    "title": "各事项完成时限",
                    "description": "事项编号 → 完成日期。",
                    "additionalProperties": {"type": "string", "format": "date"},
                }
            ),
            "signature": SIGN,
        },
        ["ledger_items", "item_due_dates", "signature"],
    )
)

# ---------- P7 ----------
add(
    form(
        "p7_progress",
        "整改进展",
        "按月更新进展并上传佐证。",
        {
            "progress": txt("整改进展", ""),
            "evidence_refs": strs("佐证材料编号", ""),
            "apply_close": b("申请销号", ""),
            "signature": SIGN,
        },
        ["progress", "signature"],
    )
)

add(
    form(
        "p7_check",
        "派驻组核查意见",
        "日常监督核查（会签）。",
        {
            "method": multi(
                "核查方式",
                "",
                [
                    ("life_meeting", "列席专题民主生活会"),
                    ("ledger", "查阅台账"),
                    ("site", "实地查看"),
                    ("talk", "谈话了解"),
                ],
            ),
            "opinion": txt("核查意见", ""),
            "signature": SIGN,
        },
        ["opinion", "signature"],
    )
)

add(
    form(
        "p7_close_check",
        "销号审核",
        "派驻组+监督检查室销号审核。",
        {
            "verify_passed": P(b("达到整改要求，同意销号", "")),
            "opinion": txt("审核意见", ""),
            "signature": SIGN,
        },
        ["verify_passed", "signature"],
    )
)

add(
    form(
        "p7_summons",
        "约谈记录",
        "督办、约谈、问责记录（§9.9）。",
        {
            "summons_date": d("约谈日期", ""),
            "interviewee": s("约谈对象", ""),
            "record": txt("约谈情况", ""),
            "accountability_needed": P(b("启动问责并移交线索", "敷衍整改、虚假整改的。")),
            "signature": SIGN,
        },
        ["summons_date", "interviewee", "record", "accountability_needed", "signature"],
    )
)

add(
    form(
        "p7_progress_report",
        "整改进展情况报告",
        "2个月内报送。",
        {
            "report_ref": s("报告文号", ""),
            "completed": integer("已完成事项数", ""),
            "total": integer("事项总数", ""),
            "long_term": txt("长期整改事项及阶段目标", ""),
            "concentrated_end": P(
                d("集中整改期满日期", "巡察整改成效评估在此后1个月内完成（settings.yaml rectification_evaluation）。")
            ),
            "signature": SIGN,
        },
        ["report_ref", "completed", "total", "concentrated_end", "signature"],
    )
)

add(
    form(
        "p7_report_review",
        "整改报告审核",
        "",
        {
            "opinion": txt("审核意见", ""),
            "publish_suggestion": txt("公开内容建议", ""),
            "signature": SIGN,
        },
        ["opinion", "signature"],
    )
)

add(
    form(
        "p7_publication",
        "整改情况双公开",
        "党内通报和社会公开；过滤不宜公开内容。",
        {
            "internal_ref": s("党内通报文号", ""),
            "public_url": s("社会公开网址或媒体", ""),
            "withheld": multi(
                "不予公开的情形",
                "",
                [
                    ("secret", "涉密"),
                    ("open_case", "正在初核或未公开的案件"),
                    ("hype", "易炒作"),
                    ("mass_petition", "易引发群体访"),
                    ("sensitive", "重大敏感事项（经领导小组同意）"),
                ],
            ),
            "signature": SIGN,
        },
        ["internal_ref", "signature"],
    )
)

add(
    form(
        "p7_evaluation",
        "整改成效评估",
        "百分制减分，等次见 settings.yaml grades.rectification_evaluation。",
        {
            "participants": multi(
                "评估参加单位",
                "",
                [
                    ("inspection_office", "巡察办"),
                    ("supervision_office", "监督检查室"),
                    ("resident_group", "派驻组"),
                    ("org_dept", "组织部"),
                ],
            ),
            "deductions": {
                "type": "array",
                "title": "减分项",
                "description": "",
                "items": {
                    "type": "object",
                    "properties": {"item": s("事项", ""), "points": num("扣分", "")},
                    "required": ["item", "points"],
                },
            },
            "score": P(num("得分", "满分100分。", maximum=100)),
            "eval_grade": P(enum("等次", "", GRADE_RECT)),
            "signature": SIGN,
        },
        ["participants", "score", "eval_grade", "signature"],
    )
)

add(
    form(
        "p7_follow_up",
        "巡察“回头看”安排",
        "回头看的结果进入目标任务共制（P1），成为下一期的监督任务。",
        {
            "follow_up_outcome": P(
                enum(
                    "回头看结果",
                    "",
                    [
                        ("next_round", "纳入下一轮巡察回头看"),
                        ("special_check", "开展专项检查"),
                        ("targets", "列入下一期监督重点"),
                    ],
                )
            ),
            "round": s("纳入巡察轮次", ""),
            "focus": txt("回头看重点", ""),
            "signature": SIGN,
        },
        ["follow_up_outcome", "round", "focus", "signature"],
    )
)

# ---------- P8 ----------
add(
    form(
        "p8_plan",
        "政治生态研判方案",
        "§9.12；指标体系和研判范围。",
        {
            "eco_period": P(s("研判期次", "例如 2024H1、2024。")),
            "period_type": P(
                enum(
                    "研判类型",
                    "",
                    [("semiannual", "半年研判"), ("annual", "年度研判"), ("ad_hoc", "专项研判（巡察前、干部选任前）")],
                )
            ),
            "scope_units": P(units("研判单位", "", "supervised_party_org", minItems=1)),
            "resident_units": P(units("评价的派驻组", "", "resident_group")),
            "office_units": P(units("撰写报告的监督检查室", "", "supervision_office", minItems=1)),
            "x_units": P(units("报送数据的X部门", "", "x_department")),
            "indicators": txt("指标体系", "默认指标见 settings.yaml grades.political_ecology.indicators。"),
            "signature": SIGN,
        },
        ["eco_period", "period_type", "scope_units", "resident_units", "office_units", "x_units", "signature"],
    )
)

add(
    form(
        "p8_self_assessment",
        "自查自评",
        "",
        {
            "self_score": num("自评得分", "", maximum=100),
            "summary": txt("主体责任落实、整改和以案促改情况", ""),
            "signature": SIGN,
        },
        ["self_score", "summary", "signature"],
    )
)

SEVEN = [
    ("loyalty", "政治忠诚度"),
    ("responsibility", "责任落实度"),
    ("culture", "文化健康度"),
    ("appointment", "用人公正度"),
    ("style", "作风务实度"),
    ("integrity", "干部清廉度"),
    ("satisfaction", "群众满意度"),
]
add(
    form(
        "p8_resident_rating",
        "派驻组“七度”评价",
        "每项0—10分。",
        {
            **{k: integer(t, "0—10分。", maximum=10) for k, t in SEVEN},
            "comment": txt("评价意见", ""),
            "signature": SIGN,
        },
        [k for k, _ in SEVEN] + ["signature"],
    )
)

add(
    form(
        "p8_indicator_data",
        "研判指标数据",
        "按单位报送指标值。",
        {
            "rows": {
                "type": "array",
                "title": "指标值",
                "description": "单位 × 指标。",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "unit": s("单位", ""),
                        "indicator": s("指标", ""),
                        "value": num("数值", ""),
                        "yoy": num("同比（%）", "", minimum=-1000),
                    },
                    "required": ["unit", "indicator", "value"],
                },
            },
            "adjust_reason": ECO_ADJUST,
            "signature": SIGN,
        },
        ["rows", "signature"],
    )
)

add(
    form(
        "p8_unit_report",
        "政治生态报告（画像）",
        "一单位一报告。",
        {
            "unit_code": s("研判单位", ""),
            "main_problems": txt("主要问题", ""),
            "suggested_grade": enum("建议等次", "", GRADE_ECO),
            "suggestions": txt("意见建议", ""),
            "signature": SIGN,
        },
        ["unit_code", "main_problems", "suggested_grade", "signature"],
    )
)

add(
    form(
        "p8_judgement",
        "研判会商结论",
        "逐单位评定等次。",
        {
            "minutes_ref": s("会商纪要编号", ""),
            "unit_grades": {
                "type": "array",
                "title": "各单位等次",
                "description": "",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "unit": s("单位", ""),
                        "score": num("得分", "", maximum=100),
                        "grade": enum("等次", "", GRADE_ECO),
                    },
                    "required": ["unit", "score", "grade"],
                },
            },
            "adjust_reason": ECO_ADJUST,
            "warning_units": P(units("发预警通知书的单位", "等次为“差”。", "supervised_party_org")),
            "problem_units": P(
                units("反馈问题清单、需整改的单位", "每个单位启动一个整改实例（M3）。", "supervised_party_org")
            ),
            "signature": SIGN,
        },
        ["minutes_ref", "unit_grades", "warning_units", "problem_units", "signature"],
    )
)

add(
    form(
        "p8_feedback",
        "研判反馈和预警通知",
        "",
        {
            "feedback_date": d("反馈日期", ""),
            "warning_notice_nos": strs("预警通知书文号", ""),
            "sent_to_org_dept": b("研判结果已送组织部", ""),
            "signature": SIGN,
        },
        ["feedback_date", "signature"],
    )
)


# ---------- 巡察轮次 (gt_l2_round) ----------
ROUND_TYPE = [("routine", "常规巡察"), ("special", "专项巡察"), ("mobile", "机动巡察"), ("follow_up", "巡察“回头看”")]
TEAM_PEOPLE = "巡察组成员中的派驻组长（组员）不得参加对本组驻在单位和监督覆盖单位的巡察（巡察与派驻联动，任职回避、公务回避），系统按组织机构核对。"
add(
    form(
        "xc_plan",
        "年度巡察计划",
        "§2 准备：巡察办编制年度巡察计划，征求纪委监委、组织部意见后报领导小组和县委书记审批。",
        {
            "round_no": P(s("巡察轮次编号", "例如 XC-2024-02（2024年第二轮）。", pattern=r"^XC-\d{4}-\d{2}$")),
            "plan_year": integer("年度", "", minimum=2000, maximum=2100),
            "round_type": enum("巡察方式", "", ROUND_TYPE),
            "target_unit": P(unit("被巡察党组织", "本轮巡察对象。", "supervised_party_org")),
            "political_legal_unit": P(unit("政法委", "巡前了解征询的政法委。", "political_legal_committee")),
            "audit_unit": P(unit("审计机关", "巡前了解征询的审计局。", "x_department")),
            "focus": txt("巡察重点", "结合政治生态研判、信访举报和审计发现确定的监督重点。"),
            "signature": SIGN,
        },
        ["round_no", "plan_year", "round_type", "target_unit", "political_legal_unit", "audit_unit", "signature"],
    )
)
add(
    form(
        "xc_consult",
        "巡察对象建议",
        "纪委监委、组织部应巡察办征询提出巡察对象和重点建议（兴海县巡察工作流程）。",
        {
            "suggested_units": units("建议巡察对象", "", "supervised_party_org"),
            "reasons": txt("理由", "信访举报、问题线索、干部考察、政治生态研判等方面的依据。"),
            "signature": SIGN,
        },
        ["reasons", "signature"],
    )
)
add(
    form(
        "xc_team",
        "巡察任务分工方案（巡察组组建）",
        "一次一授权；“三个不固定”：组长不固定、巡察组不固定、巡察对象与巡察组的对应关系不固定。" + TEAM_PEOPLE,
        {
            "target_unit": P(unit("被巡察党组织", "按审批的年度巡察计划。", "supervised_party_org")),
            "inspection_team_unit": P(unit("巡察组", "本轮派出的巡察组。", "inspection_team")),
            "round_leader": P(
                user(
                    "组长",
                    "可由派驻纪检监察组组长担任。" + TEAM_PEOPLE,
                    "inspection_team",
                    **{"x-not-resident-of": "target_unit"},
                )
            ),
            "deputy_leader": user("副组长", "", "inspection_team", **{"x-not-resident-of": "target_unit"}),
            "round_members": P(
                users(
                    "组员",
                    "纪检监察人员由纪委监委抽调，组织、审计、财政、信访等人员由组织部抽调。",
                    "inspection_team",
                    minItems=1,
                    **{"x-not-resident-of": "target_unit"},
                )
            ),
            "three_not_fixed": b("已落实“三个不固定”", "组长、巡察组和巡察对象均未与上一轮固定对应。", const=True),
            "recusal_signed": b("全体人员已签署回避声明", "任职回避、亲属回避、公务回避（巡察规程）。", const=True),
            "signature": SIGN,
        },
        [
            "target_unit",
            "inspection_team_unit",
            "round_leader",
            "round_members",
            "three_not_fixed",
            "recusal_signed",
            "signature",
        ],
    )
)
add(
    form(
        "xc_authorization",
        "巡察授权决定（一次一授权）",
        "每轮巡察单独授权，授权决定载明巡察组、对象、组长和期限，工作方案报州委巡察办备案。",
        {
            "auth_no": s("授权决定文号", "例如 青湖巡领〔2024〕3号。"),
            "scope": txt("授权范围", "本轮对被巡察党组织开展巡察，授权期限届满即自动终止。"),
            "planned_entry": d("计划进驻日期", ""),
            "filed_upward": b("工作方案已报州委巡察办备案", "", const=True),
            "signature": SIGN,
        },
        ["auth_no", "scope", "planned_entry", "filed_upward", "signature"],
    )
)
add(
    form(
        "xc_pre_briefing",
        "巡前了解情况",
        "§2 准备：巡察组进驻前向纪委监委、组织部、政法委、审计机关、信访部门了解被巡察党组织情况（巡视工作条例第21条，巡察参照）。",
        {
            "situation": txt("情况说明", "本单位掌握的被巡察党组织及其领导班子成员的情况。"),
            "issues": txt("需关注的问题", "信访举报、问题线索、案件、审计发现、干部选任或涉法涉诉等方面的问题。"),
            "materials": strs("提供材料", "材料名称（原件留存本单位）。"),
            "signature": SIGN,
        },
        ["situation", "signature"],
    )
)
add(
    form(
        "xc_entry",
        "进驻动员和巡察公告",
        "召开动员会，公告巡察期间的联系电话、邮箱和意见箱，受理反映领导班子及其成员和重要岗位的问题（巡视工作条例第22条）。",
        {
            "entry_date": P(d("进驻日期", "进驻期限自此日起算（settings.yaml inspection_entry）。")),
            "mobilization_date": d("动员会日期", ""),
            "phone": s("值班电话", ""),
            "mailbox": s("邮政信箱或电子邮箱", ""),
            "announced_in": multi(
                "公告方式",
                "",
                [("meeting", "动员会"), ("notice", "公告栏"), ("web", "网站"), ("qr", "二维码")],
                minItems=1,
            ),
            "signature": SIGN,
        },
        ["entry_date", "phone", "announced_in", "signature"],
    )
)
add(
    form(
        "xc_fieldwork",
        "巡察了解情况记录",
        "个别谈话、调阅资料、下沉了解、受理信访的工作记录；材料进入巡察底稿。",
        {
            "count": integer("人次或件数", "谈话人次、调阅资料件数、下沉走访点数或受理信访件数。"),
            "summary": txt("情况摘要", "不记录信访举报人身份信息。"),
            "problems": txt("发现的问题", ""),
            "signature": SIGN,
        },
        ["count", "summary", "signature"],
    )
)
add(
    form(
        "xc_team_meeting",
        "组务会研判",
        "组长主持组务会，研判发现的问题：能立即纠正的发立行立改通知书，简单明了、查证容易的线索直查快办移交纪委监委（唐河县纪巡联动）。",
        {
            "meeting_date": d("组务会日期", ""),
            "findings": txt("研判意见", ""),
            "fix_now_needed": P(b("需要立行立改", "问题可即知即改的，发出立行立改通知书。")),
            "fast_track_clues": P(
                strs("直查快办线索", "巡察期间即移交纪委监委的简易线索移交编号，例如 XCB〔2024〕ZK1号；没有则不填。")
            ),
            "signature": SIGN,
        },
        ["meeting_date", "findings", "fix_now_needed", "signature"],
    )
)
add(
    form(
        "xc_fix_notice",
        "立行立改通知书",
        "§9.8：对巡察中发现的能够立即纠正的问题，向被巡察党组织发出立行立改通知书。",
        {
            "notice_no": s("通知书文号", ""),
            "items": txt("立行立改事项", ""),
            "deadline_note": s("整改要求", "限期整改并书面报告（settings.yaml immediate_rectification）。"),
            "signature": SIGN,
        },
        ["notice_no", "items", "signature"],
    )
)
add(
    form(
        "xc_fix_report",
        "立行立改情况报告",
        "被巡察党组织即知即改，书面报告整改结果并附佐证。",
        {
            "done": txt("整改情况", ""),
            "evidence": strs("佐证材料", ""),
            "signature": SIGN,
        },
        ["done", "signature"],
    )
)
add(
    form(
        "xc_fast_track",
        "直查快办移交",
        "巡察期间发现的简易线索，经组长同意即移交纪委监委（案管室受理），不等巡察结束。",
        {
            "fast_track_clues": P(strs("移交编号", "每条线索一个移交编号，各启动一次移交线索受理。", minItems=1)),
            "summary": txt("线索摘要", "被反映人、问题和证据目录；不含检举人信息。"),
            "signature": SIGN,
        },
        ["fast_track_clues", "summary", "signature"],
    )
)
add(
    form(
        "xc_report",
        "巡察报告",
        "底稿经组务会审定后形成巡察报告，另就突出问题形成专题报告（巡视工作条例第23条）。",
        {
            "drafts": integer("底稿份数", "", minimum=1),
            "report_ref": s("巡察报告文号", ""),
            "summary": txt("报告摘要", "发现的主要问题、意见建议。"),
            "topic_reports": strs("专题报告", "例如：选人用人专题报告、问题线索专题报告。"),
            "problems": integer("发现问题数", ""),
            "clues": integer("问题线索数", ""),
            "signature": SIGN,
        },
        ["drafts", "report_ref", "summary", "problems", "signature"],
    )
)
add(
    form(
        "xc_secretary_meeting",
        "书记专题会（巡察成果运用）",
        "巡察工作领导小组听取汇报后，县委书记专题会研究巡察成果运用：问题线索移交、选人用人问题移交组织部、其他问题移交有关部门、整改要求（巡视工作条例第25条）。",
        {
            "meeting_date": d("会议日期", ""),
            "decisions": txt("决定事项", ""),
            "signature": SIGN,
        },
        ["meeting_date", "decisions", "signature"],
    )
)
add(
    form(
        "xc_feedback",
        "巡察反馈意见",
        "巡察组向被巡察党组织领导班子反馈，另向其主要负责人单独反馈；“四抄告”分管县领导、主管部门、纪委监委、组织部。",
        {
            "feedback_date": P(d("反馈日期", "整改方案和整改报告时限自此日起算。")),
            "opinion_ref": s("反馈意见书文号", ""),
            "problems": integer("反馈问题数", "", minimum=1),
            "copied_to": multi(
                "四抄告",
                "",
                [
                    ("county_leader", "分管县领导"),
                    ("competent_dept", "主管部门"),
                    ("cdi", "纪委监委"),
                    ("org_dept", "组织部"),
                ],
                minItems=4,
            ),
            "signature": SIGN,
        },
        ["feedback_date", "opinion_ref", "problems", "copied_to", "signature"],
    )
)
add(
    form(
        "xc_feedback_receipt",
        "签收巡察反馈意见",
        "被巡察党组织签收反馈意见和问题清单，主要负责人表态履行整改第一责任人职责。",
        {
            "received_date": d("签收日期", ""),
            "statement": txt("表态", ""),
            "signature": SIGN,
        },
        ["received_date", "signature"],
    )
)
add(
    form(
        "xc_handover",
        "巡察移交",
        "§9.8 线索移交函和移交清单：问题线索移交纪委监委（案管室受理），选人用人问题移交组织部，其他问题移交有关职能部门；同时启动整改。",
        {
            "handover_clues": P(
                strs("问题线索移交编号", "每条线索一个移交编号（移交函 + 清单 + 证据目录），各启动一次移交线索受理。")
            ),
            "cadre_issues": P(b("有选人用人问题移交组织部", "")),
            "problem_departments": P(units("其他问题移交部门", "有关职能部门各办理一份。", "x_department")),
            "rectification_no": P(s("整改编号", "例如 ZG-2024-XC02。")),
            "supervision_unit": P(unit("联系监督检查室", "整改日常监督。", "supervision_office")),
            "resident_unit": P(unit("驻在派驻组", "整改日常监督和销号核查。", "resident_group")),
            "feedback_due": d("反馈期限", "移交后约3个月内反馈办理情况（settings.yaml handover_feedback）。"),
            "signature": SIGN,
        },
        ["handover_clues", "cadre_issues", "rectification_no", "supervision_unit", "resident_unit", "signature"],
    )
)
add(
    form(
        "xc_transfer_result",
        "移交问题办理情况",
        "组织部、职能部门办理巡察移交的问题，按期向巡察办反馈办理情况。",
        {
            "handled": txt("办理情况", ""),
            "measures": txt("处理措施", ""),
            "signature": SIGN,
        },
        ["handled", "signature"],
    )
)


# ---------- issue 13: time limits attached (复审申请期限, 留置和审查调查延长, 委托谈话材料, 职务变更延长) ----------
add(
    form(
        "p5_appeal_late",
        "逾期复审申请处理",
        "政务处分复审申请超过收到决定之日起1个月的，告知不予受理；有正当理由耽误期限的写明理由后受理（监察法第49条）。",
        {
            "late_excused": P(b("有正当理由耽误期限", "如不可抗力等；勾选即按期内申请受理。")),
            "reason": txt("理由", "不予受理或受理的理由，书面告知申请人。"),
            "signature": SIGN,
        },
        ["late_excused", "reason", "signature"],
    )
)

add(
    form(
        "p5_detention_extension",
        "延长留置呈批",
        "留置期满前，主要负责人主持专题会研究是否延长，延长一次不超过3个月，市级以下报上一级监察机关批准（监察法第43条）。",
        {
            "detention_extended": P(b("延长留置", "不延长的，期满解除留置。")),
            "upper_approval_no": s("上一级批准文号", "延长的须填写。"),
            "reason": txt("理由", "延长或解除的理由。"),
            "signature": SIGN,
        },
        ["detention_extended", "reason", "signature"],
    )
)

add(
    form(
        "p5_detention_release",
        "解除留置",
        "留置期满或不需要继续留置的，及时解除并通知家属和所在单位（监察法第44条）。",
        {
            "release_date": d("解除日期", ""),
            "family_notified": b("已通知家属和所在单位", ""),
            "signature": SIGN,
        },
        ["release_date", "signature"],
    )
)

add(
    form(
        "p5_investigation_extension",
        "审查调查延长呈批",
        "审查调查期限届满仍未查清的，经批准延长；监察调查延长不超过6个月，报上一级监察机关批准。",
        {
            "investigation_extended": P(b("延长审查调查", "不延长的，就已查清的事实终结审查调查、移送审理。")),
            "upper_approval_no": s("上一级批准文号", ""),
            "reason": txt("理由", ""),
            "signature": SIGN,
        },
        ["investigation_extended", "reason", "signature"],
    )
)

add(
    form(
        "p5_review_extension",
        "纪律审查延长审批",
        "纪律审查90日届满的，经批准可延长一次，不超过90日（2017试行规则，可配置）。",
        {
            "review_extended": P(b("批准延长", "限一次；延长期再届满的不得再延长。")),
            "reason": txt("理由", ""),
            "signature": SIGN,
        },
        ["review_extended", "reason", "signature"],
    )
)

add(
    form(
        "p5_talk_materials",
        "委托谈话材料报送",
        "受委托谈话完成后5个工作日内报送谈话笔录、被谈话人说明等材料。",
        {
            "materials": txt("报送材料清单", ""),
            "sent_date": d("报送日期", ""),
            "signature": SIGN,
        },
        ["materials", "signature"],
    )
)

add(
    form(
        "p5_safety_incident",
        "审查调查安全事故登记",
        "安全员登记事故经过和处置情况，当即报告主要负责人（监督执纪工作规则第70条）。",
        {
            "case_no": P(s("案件编号", "")),
            "incident_date": P(d("事故发生日期", "24小时报告时限自事故发生时起算。")),
            "incident_time": dt("事故发生时间", ""),
            "incident_kind": enum(
                "事故类型",
                "",
                [("self_harm", "自伤自残"), ("illness", "突发疾病"), ("escape", "脱逃"), ("other", "其他")],
            ),
            "course": txt("事故经过", ""),
            "measures": txt("已采取的处置措施", ""),
            "signature": SIGN,
        },
        ["case_no", "incident_date", "incident_kind", "course", "measures", "signature"],
    )
)

add(
    form(
        "p5_safety_report",
        "安全事故逐级报告",
        "主要负责人24小时内逐级报告至中央纪委（监督执纪工作规则第70条）。",
        {
            "reported_at": dt("报告时间", ""),
            "reported_to": s("报告对象", "上一级纪委（逐级报告至中央纪委）。"),
            "accountability": txt("责任追究意见", ""),
            "signature": SIGN,
        },
        ["reported_at", "reported_to", "signature"],
    )
)

add(
    form(
        "p5_result_call",
        "季度办结情况报送通知",
        "信访室列出本季度应反馈办结情况的承办部门（检举控告工作规则第18条）。",
        {
            "result_offices": P(units("承办部门", "本季度有转办件的监督检查室。", "supervision_office", minItems=1)),
            "signature": SIGN,
        },
        ["result_offices", "signature"],
    )
)

add(
    form(
        "p5_result_report",
        "季度办结情况",
        "承办部门报送转办检举控告件的办理情况和结果，不附案卷。",
        {
            "closed_count": integer("本季度办结件数", ""),
            "open_count": integer("在办件数", ""),
            "overdue": txt("逾期未办结情况及原因", ""),
            "signature": SIGN,
        },
        ["closed_count", "open_count", "signature"],
    )
)

add(
    form(
        "p5_result_summary",
        "季度办结情况汇总",
        "信访室汇总办结情况，安排实名反馈和督办。",
        {
            "summary": txt("汇总情况", ""),
            "urged": txt("提请督办事项", ""),
            "signature": SIGN,
        },
        ["summary", "signature"],
    )
)

add(
    form(
        "m1_resident_notice",
        "派驻机构工作汇报通知",
        "通知派驻组报送半年工作汇报（献县派驻机构日常管理办法）。",
        {
            "resident_units": P(units("派驻纪检监察组", "本次汇报的派驻组。", "resident_group", minItems=1)),
            "outline": txt("汇报提纲", ""),
            "meeting_date": d("常委会会议日期", ""),
            "signature": SIGN,
        },
        ["resident_units", "signature"],
    )
)

add(
    form(
        "m1_resident_work_report",
        "派驻机构半年工作汇报",
        "派驻组对驻在单位的监督情况、发现问题、线索处置和下一步打算。",
        {
            "supervision": txt("监督工作情况", ""),
            "problems": txt("发现的问题和线索处置", ""),
            "next_steps": txt("下一步打算", ""),
            "signature": SIGN,
        },
        ["supervision", "problems", "signature"],
    )
)

add(
    form(
        "m1_resident_hearing",
        "常委会听取派驻机构汇报",
        "常委会点评并提出下一阶段监督要求。",
        {
            "comments": txt("点评意见", ""),
            "requirements": txt("下一阶段要求", ""),
            "signature": SIGN,
        },
        ["comments", "signature"],
    )
)

add(
    form(
        "m1_yearly_check",
        "年度目标共谋启动核对",
        "核对本年度目标任务共制是否已由上年度年度研判启动。",
        {
            "cycle_started": P(b("本年度目标共谋已启动", "已由年度研判启动的，不重复启动。")),
            "plan_no": P(s("任务清单编号", "已启动的填写其编号；未启动的由目标任务共制填写。")),
            "signature": SIGN,
        },
        ["cycle_started", "signature"],
    )
)


def write(check=False):
    OUT.mkdir(parents=True, exist_ok=True)
    bad = 0
    keys = set()
    for key, f in FORMS:
        if key in keys:
            raise SystemExit(f"duplicate form {key}")
        keys.add(key)
        text = json.dumps(f, ensure_ascii=False, indent=2) + "\n"
        target = OUT / f"{key}.json"
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                print(f"out of sync: {target.relative_to(ROOT)}")
                bad += 1
        else:
            target.write_text(text, encoding="utf-8")
    if check:
        for f in OUT.glob("*.json"):
            if f.stem not in keys:
                print(f"no definition for {f.relative_to(ROOT)}")
                bad += 1
        print("in sync" if not bad else f"{bad} problem(s)")
    else:
        print(f"wrote {len(FORMS)} forms")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(write("--check" in sys.argv[1:]))
