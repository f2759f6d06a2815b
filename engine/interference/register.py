"""The rules of the interference register: who records, who keeps the register, what an entry holds.

The "三个规定" (领导干部干预司法活动、插手具体案件处理的记录、通报和责任追究规定, and the 纪检监察 rules on
打听案情、过问案件、说情干预 登记备案) oblige the officer who receives such an approach to record it and
report it to their organisation. Here that reads:

- **Who records**: an officer of a commission (a role, other than an outside or administrative one, in a
  unit under a ``commission`` unit) who may see the case under need-to-know (engine/access/visibility.py),
  judged on their memberships alone: holding the administrator flag opens no case here (三员: the
  administrators never read case content). People who reach a case through a task offered to a unit
  outside the commission (the reported person's organisation, an X department) are not its officers.
- **Whose register**: the entry belongs to the recording officer's commission (their organisation),
  whose 案件监督管理室 and 干部监督室 (``office_roles``; ``GUANTONG_INTERFERENCE_ROLES``) list it, sign for
  it and give their handling opinion. They see their own commission's entries, no other's.
- **Append-only**: an entry is never edited or deleted (engine/interference/guard.py); a correction is
  a new entry naming the one it corrects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.access.principal import Principal
from engine.config import Config
from engine.errors import ValidationError
from engine.models import Unit

# 打听案情 / 过问案件 / 说情干预 / 其他
KINDS = ("enquire", "ask_after", "plead", "other")
KIND_LABELS = {"enquire": "打听案情", "ask_after": "过问案件", "plead": "说情干预", "other": "其他"}
# 当面 / 电话 / 短信（微信等） / 其他
CHANNELS = ("in_person", "phone", "message", "other")
CHANNEL_LABELS = {"in_person": "当面", "phone": "电话", "message": "短信", "other": "其他"}
# What the offices do with an entry: sign for it (签收), give their handling opinion (处理意见).
FOLLOW_UPS = ("received", "opinion")
FOLLOW_UP_LABELS = {"received": "签收", "opinion": "处理意见"}
# An entry's state, from its follow-ups: 待签收 → 已签收 → 已提出处理意见.
STATE_LABELS = {"recorded": "待签收", "received": "已签收", "opinion": "已提出处理意见"}

DEFAULT_OFFICE_ROLES = frozenset({"case_management_office", "cadre_supervision_office"})
# Roles that are no case officer's even in a commission's unit: the lanes outside the handling commission
# (the reported person, his Party organisation and its principal, X departments, the reporter) and the
# administrators of 三员分立, who never read case content.
NOT_CASE_OFFICERS = frozenset(
    {
        "reported_person",
        "supervised_party_org",
        "inspected_principal",
        "x_department",
        "reporter",
        "security_admin",  # 系统保密管理员, a process lane (the 三员 are accounts: Principal.admin_kind)
    }
)

# Column limits (engine/models.py InterferenceEntry) and the longest free text accepted.
MAX_NAME = 120
MAX_POST = 200
MAX_TEXT = 4000
MAX_NOTE = 2000
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=clock.LOCAL_TZ)
CLOCK_SKEW = dt.timedelta(minutes=5)  # a device's clock slightly ahead is not "in the future"

FIELDS = (
    "intervener_name",
    "intervener_post",
    "kind",
    "channel",
    "occurred_at",
    "content",
    "response",
    "recorder_unit",
    "corrects",
)


def office_roles(config: Config) -> frozenset[str]:
    configured = config.interference_roles
    return DEFAULT_OFFICE_ROLES if configured is None else frozenset(configured)


def may_keep_register(principal: Principal, roles: Iterable[str] = DEFAULT_OFFICE_ROLES) -> bool:
    """Holds a register office's role (the navigation's question; the commission is checked per entry)."""
    return bool(principal.roles & set(roles))


# --------------------------------------------------------------------------- units and commissions
def own_commission(session: Session, unit_code: str | None) -> str | None:
    """The ``commission`` unit a unit sits under (itself included), by parents only.

    Unlike ``directory.commission_of`` this does not follow ``commission_committee``: the same-level Party
    committee's bodies (县委, 组织部 …) own matters with the commission but are not its officers."""
    seen: set[str] = set()
    code = unit_code
    while code and code not in seen:
        seen.add(code)
        row = session.get(Unit, code)
        if row is None:
            return None
        if row.kind == "commission":
            return row.code
        code = row.parent_code
    return None


def officer_units(session: Session, principal: Principal) -> dict[str, str]:
    """Unit → commission for every unit where the person is a case officer of a commission."""
    found: dict[str, str] = {}
    for unit, role in sorted(principal.memberships):
        if role in NOT_CASE_OFFICERS or unit in found:
            continue
        commission = own_commission(session, unit)
        if commission is not None:
            found[unit] = commission
    return found


def office_units(session: Session, principal: Principal, roles: Iterable[str]) -> dict[str, str]:
    """Unit → commission for every unit where the person holds a register office's role."""
    wanted = set(roles)
    found: dict[str, str] = {}
    for unit, role in sorted(principal.memberships):
        if role in wanted and unit not in found:
            commission = own_commission(session, unit)
            if commission is not None:
                found[unit] = commission
    return found


def commission_units(session: Session, commissions: Iterable[str]) -> list[str]:
    """Every unit under the given commissions (themselves included), sorted as the organisation sorts them."""
    wanted = set(commissions)
    rows = session.execute(select(Unit.code, Unit.parent_code, Unit.kind).order_by(Unit.sort, Unit.code)).all()
    parent = {r.code: r.parent_code for r in rows}
    kind = {r.code: r.kind for r in rows}

    def commission(code: str | None) -> str | None:
        seen: set[str] = set()
        while code and code not in seen:
            seen.add(code)
            if kind.get(code) == "commission":
                return code
            code = parent.get(code)
        return None

    return [r.code for r in rows if commission(r.code) in wanted]


# --------------------------------------------------------------------------- what an entry holds
@dataclass(frozen=True)
class EntryInput:
    """An entry as validated: what the officer recorded, ready to be written."""

    intervener_name: str
    intervener_post: str | None
    kind: str
    channel: str
    occurred_at: dt.datetime
    content: str
    response: str
    recorder_unit: str
    corrects: int | None


def _text(data: Mapping[str, Any], name: str, limit: int, problems: dict[str, str], *, required: bool) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems[name] = "此项为必填项"
        return None
    if not isinstance(value, str):
        problems[name] = "必须是文本"
        return None
    if "\x00" in value:
        problems[name] = "不能包含控制字符（NUL）"
        return None
    value = value.strip()
    if len(value) > limit:
        problems[name] = f"不能超过 {limit} 个字符"
        return None
    return value


def _choice(data: Mapping[str, Any], name: str, allowed: tuple[str, ...], problems: dict[str, str]) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        problems[name] = "此项为必填项"
        return None
    if not isinstance(value, str) or value not in allowed:
        problems[name] = f"必须是以下之一：{'、'.join(allowed)}"
        return None
    return value


def parse_moment(value: Any) -> dt.datetime | None:
    """A moment as a page's ``datetime-local`` input or an API client sends it (ISO 8601); a moment
    without a time zone is Beijing time. None when it cannot be read."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip() and "\x00" not in value and len(value) <= 40:
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=clock.LOCAL_TZ)


def _moment(data: Mapping[str, Any], problems: dict[str, str], now: dt.datetime) -> dt.datetime | None:
    raw = data.get("occurred_at")
    if raw is None or raw == "":
        problems["occurred_at"] = "此项为必填项"
        return None
    moment = parse_moment(raw)
    if moment is None:
        problems["occurred_at"] = "请填写有效的日期和时间，例如 2024-03-04T09:30"
    elif moment > now + CLOCK_SKEW:
        problems["occurred_at"] = "不能晚于当前时间"
    elif moment < EARLIEST:
        problems["occurred_at"] = "不能早于 2000 年"
    else:
        return moment
    return None


def _corrects(data: Mapping[str, Any], problems: dict[str, str]) -> int | None:
    raw = data.get("corrects")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        problems["corrects"] = "必须是被更正登记的编号"
        return None
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 9:
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 0 < raw < 2**31:
        problems["corrects"] = "必须是被更正登记的编号"
        return None
    return raw


def validate_entry(data: Mapping[str, Any], *, units: Mapping[str, str], now: dt.datetime) -> EntryInput:
    """Read an entry from a page post or an API body; every field at fault is named at once.

    ``units`` are the units the officer may record for (``officer_units``): ``recorder_unit`` must be one
    of them, and may be left out when there is only one."""
    problems: dict[str, str] = {}
    for unknown in sorted(str(key) for key in set(data) - set(FIELDS)):
        problems[unknown[:60]] = "不是干预登记的字段"
    name = _text(data, "intervener_name", MAX_NAME, problems, required=True)
    post = _text(data, "intervener_post", MAX_POST, problems, required=False)
    kind = _choice(data, "kind", KINDS, problems)
    channel = _choice(data, "channel", CHANNELS, problems)
    occurred_at = _moment(data, problems, now)
    content = _text(data, "content", MAX_TEXT, problems, required=True)
    response = _text(data, "response", MAX_TEXT, problems, required=True)
    corrects = _corrects(data, problems)
    unit = data.get("recorder_unit") or None
    if unit is None and len(units) == 1:
        unit = next(iter(units))
    if unit is None:
        problems["recorder_unit"] = "请选择以哪个单位的名义登记"
    elif not isinstance(unit, str) or unit not in units:
        problems["recorder_unit"] = "必须是您任职的纪检监察单位之一"
    if problems:
        raise ValidationError("interference entry refused", fields=problems)
    assert name and kind and channel and occurred_at and content and response and isinstance(unit, str)
    return EntryInput(
        intervener_name=name,
        intervener_post=post,
        kind=kind,
        channel=channel,
        occurred_at=occurred_at,
        content=content,
        response=response,
        recorder_unit=unit,
        corrects=corrects,
    )


def validate_follow_up(action: Any, note: Any) -> tuple[str, str | None]:
    """A follow-up: ``received`` (a note optional) or ``opinion`` (the opinion itself required)."""
    problems: dict[str, str] = {}
    if action not in FOLLOW_UPS:
        problems["action"] = f"必须是以下之一：{'、'.join(FOLLOW_UPS)}"
    text = _text({"note": note}, "note", MAX_NOTE, problems, required=action == "opinion")
    if problems:
        raise ValidationError("follow-up refused", fields=problems)
    return str(action), text


# --------------------------------------------------------------------------- the register's filter
@dataclass(frozen=True)
class RegisterFilter:
    """The register page's and the API's filter: when it happened (Beijing dates, inclusive), kind, the
    recording unit, and the page."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str | None = None
    unit: str | None = None
    page: int = 1
    per_page: int = 20

    @classmethod
    def parse(cls, args: Mapping[str, Any], *, max_per_page: int = 100) -> RegisterFilter:
        """Read the filter from query parameters (strings) the same way for the page and the API."""
        problems: dict[str, str] = {}

        def day(name: str) -> dt.date | None:
            raw = args.get(name)
            if raw in (None, ""):
                return None
            text = str(raw)
            try:
                if len(text) == 10:
                    return dt.date.fromisoformat(text)
            except ValueError:
                pass
            problems[name] = "请填写有效的日期，例如 2024-03-04"
            return None

        def number(name: str, default: int, high: int) -> int:
            raw = args.get(name)
            if raw in (None, ""):
                return default
            text = str(raw)
            if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= high:
                problems[name] = f"必须是 1 到 {high} 之间的整数"
                return default
            return int(text)

        date_from, date_to = day("date_from"), day("date_to")
        if date_from and date_to and date_from > date_to:
            problems["date_to"] = "不能早于开始日期"
        kind = args.get("kind") or None
        if kind is not None and kind not in KINDS:
            problems["kind"] = f"必须是以下之一：{'、'.join(KINDS)}"
        unit = args.get("unit") or None
        if unit is not None and (not isinstance(unit, str) or len(unit) > 64 or "\x00" in unit):
            problems["unit"] = "不是有效的单位编码"
        page = number("page", 1, 100_000)
        per_page = number("per_page", 20, max_per_page)
        if problems:
            raise ValidationError("register filter refused", fields=problems)
        return cls(date_from=date_from, date_to=date_to, kind=kind, unit=unit, page=page, per_page=per_page)

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """[start, end) of ``occurred_at`` as moments: Beijing midnights."""
        start = dt.datetime.combine(self.date_from, dt.time(), clock.LOCAL_TZ) if self.date_from else None
        end = (
            dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), clock.LOCAL_TZ)
            if self.date_to
            else None
        )
        return start, end

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links and the export), without the page."""
        values = {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "kind": self.kind,
            "unit": self.unit,
        }
        return {k: v for k, v in values.items() if v}
