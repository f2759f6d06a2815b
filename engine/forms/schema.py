"""Task forms: a JSON Schema per user task, read as fields, filled from HTML, checked and split.

One module answers every question the web pages and the JSON API ask about a form, so both refuse the
same input with the same Chinese messages:

- ``load_schema``: the schema of a task's ``formKey`` in its deployed version;
- ``fields``: the schema as a list of field descriptions a page renders (label, help, widget, options);
- ``resolve_options``: the choices of ``x-options`` fields (``units:<role>`` / ``users:<role>``) from
  the organisation; ``shown_labels``: only the names of the values records hold, for ``display``;
- ``coerce``: HTML form strings turned into the schema's types (integer, number, boolean, array);
- ``validate``: Draft 2020-12 validation with format checks, returning ``{field path: 中文说明}``;
- ``split``: a valid submission cut into process data (``x-process``), the record kept whole (minus
  confidential fields) and the confidential part (``x-confidential``, sealed by ``engine.sealing``);
- ``mask`` and ``display``: what a reader sees of a stored submission.

No web framework is imported here (processes/CONVENTIONS.md, "Forms").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import LOCAL_TZ, within_bounds
from engine.errors import NotFound
from engine.forms import conflicts, recusal
from engine.models import Membership, Unit, User

MASK = "●●●●●●"

TYPE_NAMES = {
    "string": "文本",
    "integer": "整数",
    "number": "数字",
    "boolean": "是或否",
    "array": "列表",
    "object": "对象",
    "null": "空值",
}


# --------------------------------------------------------------------------- schema access
def load_schema(forms: Mapping[str, dict[str, Any]], form_key: str | None) -> dict[str, Any]:
    """The JSON Schema of ``form_key`` among a version's forms; an empty form when the task has none."""
    if not form_key:
        return {"type": "object", "properties": {}}
    schema = forms.get(form_key)
    if schema is None:
        raise NotFound(f"form '{form_key}' is not part of this version", form=form_key)
    return schema


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return schema.get("properties") or {}


def confidential_fields(schema: dict[str, Any]) -> set[str]:
    return {name for name, prop in _properties(schema).items() if prop.get("x-confidential")}


def process_fields(schema: dict[str, Any]) -> set[str]:
    return {name for name, prop in _properties(schema).items() if prop.get("x-process")}


def _choices(prop: dict[str, Any]) -> list[tuple[object, str]] | None:
    """``oneOf``/``anyOf`` of ``const``+``title``, or a plain ``enum``, as (value, label) pairs."""
    for key in ("oneOf", "anyOf"):
        alternatives = prop.get(key)
        if alternatives and all(isinstance(a, dict) and "const" in a for a in alternatives):
            return [(a["const"], a.get("title") or str(a["const"])) for a in alternatives]
    if "enum" in prop:
        return [(v, str(v)) for v in prop["enum"]]
    return None


def _type_of(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind:
        return kind
    choices = _choices(prop)
    if choices:
        values = [v for v, _ in choices]
        if all(isinstance(v, bool) for v in values):
            return "boolean"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "integer"
    return "string"


# --------------------------------------------------------------------------- fields for rendering
@dataclass
class Field:
    """One top-level property of a form, described for a page that renders it."""

    name: str
    title: str
    description: str
    type: str
    widget: str  # text | textarea | select | radio | checkboxes | boolean | date | datetime | integer | number | lines
    # | issued (a number the system fills in)
    required: bool
    options: list[tuple[object, str]] = field(default_factory=list)
    options_source: str | None = None  # "units:<role>" or "users:<role>"
    confidential: bool = False
    process: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    children: list[Field] = field(default_factory=list)  # widget "group": the object's own fields
    rows: list[list[Field]] = field(default_factory=list)  # widget "repeat": one list of fields per row

    @property
    def multiple(self) -> bool:
        return self.type == "array"

    @property
    def label_name(self) -> str:
        """The last part of a dotted name (``items.0.unit`` → ``unit``), for ids and tests."""
        return self.name.rsplit(".", 1)[-1]


def is_signature(prop: dict[str, Any]) -> bool:
    """An e-signature block: the system, not the person, fills in who signed and when."""
    props = prop.get("properties") or {}
    return _type_of(prop) == "object" and "signer" in props and "signed_at" in props


def _object_with_fields(prop: dict[str, Any]) -> bool:
    return _type_of(prop) == "object" and bool(prop.get("properties"))


def _repeating(prop: dict[str, Any]) -> bool:
    return _type_of(prop) == "array" and _object_with_fields(prop.get("items") or {})


def _mapping(prop: dict[str, Any]) -> bool:
    """An object of free keys (``additionalProperties``), such as 事项编号 → 完成日期."""
    return (
        _type_of(prop) == "object" and not prop.get("properties") and isinstance(prop.get("additionalProperties"), dict)
    )


def fields(
    schema: dict[str, Any],
    options: Mapping[str, list[tuple[object, str]]] | None = None,
    values: Mapping[str, object] | None = None,
    prefix: str = "",
) -> list[Field]:
    """The form's properties in schema order, with widgets chosen from type, format and hints.

    Objects become groups of their own fields (names ``parent.child``), lists of objects repeating groups
    (``items.0.child``; as many rows as ``values`` hold, plus one empty row to add another), signature
    blocks a note that the system signs.
    """
    options = options or {}
    values = values or {}
    required = set(schema.get("required") or [])
    result = []
    for name, prop in _properties(schema).items():
        full = prefix + name
        kind = _type_of(prop)
        common: dict[str, Any] = dict(
            name=full,
            title=prop.get("title") or name,
            description=prop.get("description") or "",
            type=kind,
            required=name in required,
            confidential=bool(prop.get("x-confidential")),
            process=bool(prop.get("x-process")),
        )
        if is_signature(prop):
            result.append(Field(widget="signature", **common))
            continue
        if prop.get("x-issued"):  # a number the system issues on submission (engine/numbering)
            result.append(Field(widget="issued", **common))
            continue
        if _object_with_fields(prop):
            result.append(Field(widget="group", children=fields(prop, options, values, full + "."), **common))
            continue
        if _repeating(prop):
            item = prop["items"]
            present = {
                int(k[len(full) + 1 :].split(".", 1)[0])
                for k in values
                if k.startswith(full + ".") and k[len(full) + 1 :].split(".", 1)[0].isdigit()
            }
            count = max(int(prop.get("minItems") or 1), (max(present) + 2) if present else 1)
            rows = [fields(item, options, values, f"{full}.{i}.") for i in range(count)]
            result.append(Field(widget="repeat", rows=rows, **common))
            continue
        if _mapping(prop):
            result.append(Field(widget="mapping", **common))
            continue
        choices = _choices(prop)
        item_choices = _choices(prop.get("items") or {}) if kind == "array" else None
        source = prop.get("x-options") or ((prop.get("items") or {}).get("x-options") if kind == "array" else None)
        if source:
            choices = list(options.get(full) or options.get(name) or options.get(source) or [])
        fmt = prop.get("format")
        if kind == "array":
            widget = "checkboxes" if (item_choices or source) else "lines"
            if item_choices and not source:
                choices = item_choices
        elif kind == "boolean":
            widget = "boolean"
            choices = choices or [(True, "是"), (False, "否")]
        elif choices is not None:
            widget = "radio" if len(choices) <= 4 and not source else "select"
        elif fmt == "date":
            widget = "date"
        elif fmt == "date-time":
            widget = "datetime"
        elif kind in ("integer", "number"):
            widget = kind
        elif prop.get("x-widget") == "textarea":
            widget = "textarea"
        else:
            widget = "text"
        result.append(
            Field(
                widget=widget,
                options=choices or [],
                options_source=source,
                min=prop.get("minimum"),
                max=prop.get("maximum"),
                max_length=prop.get("maxLength"),
                pattern=prop.get("pattern"),
                **common,
            )
        )
    return result


def leaves(items: list[Field]) -> Iterator[Field]:
    """Every input-bearing field, groups and repeating rows opened up."""
    for f in items:
        if f.widget == "group":
            yield from leaves(f.children)
        elif f.widget == "repeat":
            for row in f.rows:
                yield from leaves(row)
        elif f.widget != "signature":
            yield f


def sign(schema: dict[str, Any], data: dict[str, Any], *, signer: str, at: dt.datetime) -> dict[str, Any]:
    """``data`` with every signature block signed by ``signer`` at ``at`` (what was typed is ignored).

    监督执纪工作规则 第23条: every handler signs every step. The signature is the authenticated person
    and the server's time, never a name someone typed.
    """
    signed = dict(data)
    for name, prop in _properties(schema).items():
        if is_signature(prop):
            typed = signed.get(name)
            kept = {
                k: v
                for k, v in (typed if isinstance(typed, dict) else {}).items()
                if k not in ("signer", "signed_at") and k in prop["properties"]
            }
            signed[name] = {
                **kept,
                "signer": signer,
                "signed_at": at.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat(),
            }
    return signed


def resolve_options(
    session: Session,
    schema: dict[str, Any],
    *,
    locale: str = "zh_CN",
    instance_id: int | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """Choices for ``x-options`` fields: the active units holding a role, or the active people holding it.

    For a form being filled in; a record being read needs only its values' names (``shown_labels``).
    ``instance_id``: the form is filled in that instance's case, so the people its conflict register
    keeps out are left out of the pickers and refused by ``validate`` (engine/forms/conflicts.py).
    """
    result: dict[str, list[tuple[str, str]]] = {}
    for name, prop in _option_sources(schema):
        source = prop.get("x-options") or (prop.get("items") or {}).get("x-options")
        if not source or ":" not in source:
            continue
        if source in result:
            result.setdefault(name, result[source])
            continue
        kind, role = source.split(":", 1)
        if kind == "units":
            rows = session.execute(
                select(Unit.code, Unit.name, Unit.name_en)
                .join(Membership, Membership.unit_code == Unit.code)
                .where(Membership.role_code == role, Unit.active.is_(True))
                .distinct()
                .order_by(Unit.code)
            ).all()
            sort = dict(session.execute(select(Unit.code, Unit.sort)).all())
            rows = sorted(rows, key=lambda r: (sort.get(r.code, 0), r.code))
            result[name] = [(r.code, (r.name_en if locale.startswith("en") and r.name_en else r.name)) for r in rows]
        elif kind == "users":
            result[name] = people_choices(session, role, locale=locale)
        result[source] = result[name]
    rules = list(recusal.declared(_properties(schema).items()))
    if rules:
        stationed = recusal.facts(session)
        for name, _unit_field in rules:
            result[recusal.key(name)] = stationed
    if instance_id is not None and conflicts.people_fields(_properties(schema).items()):
        kept_out = conflicts.facts(session, instance_id)
        if kept_out:
            result[conflicts.KEY] = kept_out  # type: ignore[assignment]  # (username, why, replaced)
            # The leader's decision form may keep a member whose conflict is undecided (it decides it):
            # its pickers leave out only those already replaced; ``validate`` judges the rest.
            deciding = (schema.get("x-recusal") or {}).get("role") == "decision"
            who = {str(fact[0]) for fact in kept_out if fact[2] or not deciding}
            for name, prop in _option_sources(schema):
                source = prop.get("x-options") or (prop.get("items") or {}).get("x-options") or ""
                if str(source).startswith("users:") and name in result:
                    result[name] = conflicts.exclude(result[name], who)
    return result


def people_roles(source: str) -> list[str]:
    """The roles of a people source: ``users:<role>`` or ``users:<role>,<role>,…`` (a team drawn from
    several offices, such as a 核查组 of 监督检查室, 审查调查室, 派驻组 and 乡镇纪委 officers)."""
    _, _, roles = source.partition(":")
    return [r.strip() for r in roles.split(",") if r.strip()]


def people_choices(session: Session, roles: str, *, locale: str = "zh_CN") -> list[tuple[str, str]]:
    """(username, "姓名（单位）") of every active account holding one of ``roles`` (comma-separated).

    The unit is part of the label because two officers may share a name, and a team picker draws from
    several offices: the person picking must see whom, of which unit, he names (issue 15, people not
    text). Only the username is stored.
    """
    wanted = people_roles("users:" + roles)
    english = locale.startswith("en")
    rows = session.execute(
        select(User.username, User.display_name, Unit.name, Unit.name_en)
        .join(Membership, Membership.user_id == User.id)
        .join(Unit, Unit.code == Membership.unit_code)
        .where(Membership.role_code.in_(wanted), User.active.is_(True))
        .order_by(User.username, Unit.sort, Unit.code)
    ).all()
    names: dict[str, str] = {}
    units: dict[str, list[str]] = {}
    for username, display, unit, unit_en in rows:
        names[username] = display or username
        label = unit_en if english and unit_en else unit
        if label not in units.setdefault(username, []):
            units[username].append(label)
    return [(u, f"{names[u]}（{'、'.join(units[u])}）") for u in names]


class NamedUnit(Protocol):
    """A unit's names as ``shown_labels`` reads them (a ``Unit`` row, or the process's cached names)."""

    @property
    def name(self) -> str: ...

    @property
    def name_en(self) -> str | None: ...


def shown_labels(
    session: Session,
    records: Iterable[tuple[dict[str, Any], Mapping[str, Any]]],
    *,
    locale: str = "zh_CN",
    units: Mapping[str, NamedUnit] | None = None,
) -> list[dict[str, list[tuple[object, str]]]]:
    """The labels ``display`` needs for records' ``x-options`` values: one ``options`` mapping per
    (schema, record) pair, in order.

    A reader of a record needs the name of the unit or person the record chose, not the whole list the
    form offered: a page showing every step of a case reads the names its records hold, at most one query
    for units and one for people, where resolving each form's option lists asked once per source (the
    units holding a role, the people holding it), plus every unit's order and the recusal facts: five to
    seven statements for one case at province scale, on the API too, which shows no labels. The name shown
    is the unit's or person's, whether or not they still hold the role: the record says whom it chose.
    ``units``: the units' names already at hand (``engine.organisation.names.unit_names``, which every page
    uses for unit names): then units cost no query.
    """
    wanted: list[dict[str, tuple[str, list[str]]]] = []
    codes: dict[str, set[str]] = {"units": set(), "users": set()}
    for schema, record in records:
        fields: dict[str, tuple[str, list[str]]] = {}
        for name, prop in _properties(schema).items():
            source = prop.get("x-options") or (prop.get("items") or {}).get("x-options")
            kind = source.split(":", 1)[0] if isinstance(source, str) and ":" in source else None
            if kind not in codes or record.get(name) is None:
                continue
            value = record[name]
            values = [str(v) for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
            codes[kind].update(values)
            fields[name] = (kind, values)
        wanted.append(fields)
    names: dict[str, dict[str, str]] = {"units": {}, "users": {}}
    english = locale.startswith("en")
    if codes["units"]:
        if units is None:
            rows = session.execute(
                select(Unit.code, Unit.name, Unit.name_en).where(Unit.code.in_(sorted(codes["units"])))
            )
            units = {r.code: r for r in rows}
        names["units"] = {
            code: (u.name_en if english and u.name_en else u.name)
            for code in codes["units"]
            if (u := units.get(code)) is not None
        }
    if codes["users"]:
        names["users"] = {
            r.username: r.display_name
            for r in session.execute(
                select(User.username, User.display_name).where(User.username.in_(sorted(codes["users"])))
            )
        }
    return [
        {name: [(v, names[kind][v]) for v in values if v in names[kind]] for name, (kind, values) in fields.items()}
        for fields in wanted
    ]


def _option_sources(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, property) of every field at any depth; nested names are dotted without row numbers."""
    for name, prop in _properties(schema).items():
        yield prefix + name, prop
        if _object_with_fields(prop):
            yield from _option_sources(prop, prefix + name + ".")
        elif _repeating(prop):
            yield from _option_sources(prop["items"], prefix + name + ".")


# --------------------------------------------------------------------------- HTML strings to typed data
_TRUE = {"true", "on", "1", "yes", "是"}
_FALSE = {"false", "off", "0", "no", "否"}


def _coerce_scalar(value: str, kind: str, prop: dict[str, Any]) -> object:
    value = value.strip() if kind != "string" or prop.get("format") else value
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise ValueError("请输入整数")
        return int(value)
    if kind == "number":
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("请输入数字") from None
        return int(number) if number.is_integer() and "." not in value else number
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("请选择“是”或“否”")
    if prop.get("format") == "date-time" and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value):
        # <input type="datetime-local"> sends local time without a zone; the commission works in China time.
        return dt.datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ).isoformat()
    choices = _choices(prop)
    if choices:
        # Enumerations may hold integers or booleans; map the posted string back to the stored value.
        for const, _ in choices:
            if str(const) == value or (isinstance(const, bool) and value.lower() == str(const).lower()):
                return const
    return value


def coerce(schema: dict[str, Any], form: Mapping[str, Iterable[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed data from posted strings (``form`` maps a name to its list of values, like a MultiDict).

    Empty inputs are left out, so ``required`` reports them. Returns ``(data, errors)``; a field that
    cannot be read as its type is absent from ``data`` and named in ``errors`` (dotted for nested
    fields: ``reported_person.rank``, ``items.2.due_date``). Signature blocks are not read: ``sign``
    fills them.
    """
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    _coerce_into(schema, form, "", data, errors)
    return data, errors


def _coerce_into(
    schema: dict[str, Any], form: Mapping[str, Iterable[str]], prefix: str, out: dict[str, Any], errors: dict[str, str]
) -> None:
    for name, prop in _properties(schema).items():
        key = prefix + name
        kind = _type_of(prop)
        if is_signature(prop):
            continue
        if _object_with_fields(prop):
            inner: dict[str, Any] = {}
            _coerce_into(prop, form, key + ".", inner, errors)
            if inner:
                out[name] = inner
            continue
        if _repeating(prop):
            indices = sorted(
                {
                    int(k[len(key) + 1 :].split(".", 1)[0])
                    for k in form
                    if k.startswith(key + ".") and k[len(key) + 1 :].split(".", 1)[0].isdigit()
                }
            )
            rows = []
            for index in indices:
                row: dict[str, Any] = {}
                _coerce_into(prop["items"], form, f"{key}.{index}.", row, errors)
                if row:
                    rows.append(row)
            if rows:
                out[name] = rows
            continue
        raw = [v for v in (form.get(key) or []) if isinstance(v, str)]
        try:
            if _mapping(prop):
                mapping = {}
                inner_prop = prop["additionalProperties"]
                for line in "\n".join(raw).splitlines():
                    if not line.strip():
                        continue
                    left, sep, right = line.partition(":") if ":" in line else line.partition("：")
                    if not sep or not left.strip():
                        raise ValueError("每行填写“编号: 值”")
                    mapping[left.strip()] = _coerce_scalar(right.strip(), _type_of(inner_prop), inner_prop)
                if mapping:
                    out[name] = mapping
                continue
            if kind == "array":
                item = prop.get("items") or {}
                item_kind = _type_of(item)
                values: list[str] = []
                for value in raw:
                    # A textarea of one entry per line ("lines" widget) or repeated inputs (checkboxes).
                    parts = value.splitlines() if not (_choices(item) or item.get("x-options")) else [value]
                    values.extend(p.strip() for p in parts if p.strip())
                if values:
                    out[name] = [_coerce_scalar(v, item_kind, item) for v in values]
                continue
            values = [v for v in raw if v.strip() != ""]
            if not values:
                continue
            out[name] = _coerce_scalar(values[-1], kind, prop)
        except ValueError as exc:
            errors[key] = str(exc)


# --------------------------------------------------------------------------- validation
def _format_checker() -> FormatChecker:
    base = FormatChecker()
    checker = FormatChecker(formats=[f for f in ("email", "ipv4", "ipv6", "uuid", "regex") if f in base.checkers])

    def _is_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None and within_bounds(parsed.date())

    def _is_date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and within_bounds(dt.date.fromisoformat(value))

    # jsonschema is untyped: register by calling its decorator, so the checks themselves stay typed
    checker.checks("date-time", raises=(ValueError, TypeError))(_is_datetime)
    checker.checks("date", raises=(ValueError, TypeError))(_is_date)
    return checker


_CHECKER = _format_checker()
_FORMAT_MESSAGES = {
    "date": "请输入1900年至2100年之间的有效日期（年-月-日，如 2024-03-04）",
    "date-time": "请输入1900年至2100年之间的有效日期和时间",
    "email": "请输入有效的电子邮箱",
    "time": "请输入有效时间",
}


def _path(parts: Iterable[object]) -> str:
    return ".".join(str(p) for p in parts)


def _message(error: Any) -> str:
    v, value = error.validator, error.validator_value
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        return "应为" + "或".join(TYPE_NAMES.get(str(k), str(k)) for k in kinds)
    if v in ("enum", "const", "oneOf", "anyOf"):
        return "请从给出的选项中选择"
    if v == "format":
        return _FORMAT_MESSAGES.get(value, "格式不正确")
    if v == "minLength":
        return "此项不能为空" if value == 1 else f"至少填写 {value} 个字"
    if v == "maxLength":
        return f"最多 {value} 个字"
    if v == "minimum":
        return f"不能小于 {value}"
    if v == "maximum":
        return f"不能大于 {value}"
    if v == "exclusiveMinimum":
        return f"应大于 {value}"
    if v == "exclusiveMaximum":
        return f"应小于 {value}"
    if v == "pattern":
        return "格式不正确"
    if v == "minItems":
        return "请至少选择一项" if value == 1 else f"请至少选择 {value} 项"
    if v == "maxItems":
        return f"最多选择 {value} 项"
    if v == "uniqueItems":
        return "选项不能重复"
    if v == "additionalProperties":
        return "表单中没有此项"
    return "填写不符合要求"


_VALIDATORS: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


# The longest text a field takes when its schema sets no ``maxLength``: a 19 MB draft was once stored and
# its page became 19 MB. Long texts (reports, minutes) are textareas; anything longer is an attachment.
TEXTAREA_MAX_LENGTH = 50_000
LINE_MAX_LENGTH = 2_000


def text_limit(prop: Mapping[str, Any]) -> int | None:
    """The most characters a string field takes: its own ``maxLength``, else the default for its widget;
    None for a field that is not free text (choices and fixed formats are bounded already)."""
    kinds = prop.get("type")
    if "string" not in (kinds if isinstance(kinds, list) else [kinds]):
        return None
    if "maxLength" in prop:
        return int(prop["maxLength"])
    if "enum" in prop or "const" in prop or "oneOf" in prop or "anyOf" in prop:
        return None
    return TEXTAREA_MAX_LENGTH if prop.get("x-widget") == "textarea" else LINE_MAX_LENGTH


def _bounded(node: Any) -> Any:
    """A copy of a schema with every free-text field given its ``text_limit`` as ``maxLength``."""
    if isinstance(node, list):
        return [_bounded(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _bounded(value) for key, value in node.items()}
    limit = text_limit(node)
    if limit is not None and "maxLength" not in copy:
        copy["maxLength"] = limit
    return copy


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """One compiled validator per form schema object (a deployed version's forms live as long as the
    process); building one costs more than validating a submission. It validates the schema with the
    default text limits filled in (``_bounded``)."""
    hit = _VALIDATORS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = Draft202012Validator(_bounded(schema), format_checker=_CHECKER)
    if len(_VALIDATORS) > 2048:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def validate(
    schema: dict[str, Any], data: dict[str, Any], *, options: Mapping[str, Iterable[object]] | None = None
) -> dict[str, str]:
    """Check ``data`` against ``schema``; returns ``{field path: 中文说明}``, empty when valid.

    ``options`` (from ``resolve_options``) restricts ``x-options`` fields to the organisation's units or
    people, so a hand-crafted request cannot name a unit that does not hold the role, and carries the
    facts of the 巡察 recusal rule (``engine.forms.recusal``) a field may declare.
    """
    errors: dict[str, str] = {}
    validator = _validator(schema)
    # The case's conflict register first: its message names the person, where the options check below
    # would only say the value is not offered.
    kept_out = conflicts.problems(schema, _properties(schema).items(), data, options or {})
    for error in sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path))):
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, dict) else {}
            for name in error.validator_value:
                if name not in present:
                    errors.setdefault(_path([*error.absolute_path, name]), "此项为必填项")
            continue
        errors.setdefault(_path(error.absolute_path) or "", _message(error))
    for name, message in kept_out.items():
        errors[name] = message
    people = _people_sources(schema)
    for name, allowed in (options or {}).items():
        allowed_values = {str(v[0]) if isinstance(v, tuple) else str(v) for v in allowed}
        for path, value in _values_at(data, name):
            if path in errors:
                continue
            values = value if isinstance(value, list) else [value]
            unknown = [str(v) for v in values if str(v) not in allowed_values]
            if not unknown:
                continue
            if name in people:
                errors[path] = (
                    f"{people[name]}：“{'”“'.join(unknown)}”不是可选的人员账号，请从组织中选择有账号的人员"
                    "（任务只能交给有账号的人办理）"
                )
            else:
                errors[path] = "请从给出的选项中选择"
    for name, message in recusal.problems(_properties(schema).items(), data, options or {}).items():
        errors.setdefault(name, message)
    return errors


def _people_sources(schema: dict[str, Any]) -> dict[str, str]:
    """{option key: field title} of every people field (``users:`` picker) at any depth."""
    found = {}
    for name, prop in _option_sources(schema):
        source = prop.get("x-options") or (prop.get("items") or {}).get("x-options") or ""
        if str(source).startswith("users:"):
            found[name] = str(prop.get("title") or name)
    return found


def _values_at(data: Mapping[str, Any], name: str) -> Iterator[tuple[str, Any]]:
    """(error path, value) of the option field ``name`` in a submission: a top-level field, or a field
    of a group (``group.field``) or of each row of a repeating group (``rows.0.field``)."""
    head, _, rest = name.partition(".")
    if head not in data:
        return
    if not rest:
        yield head, data[head]
        return
    value = data[head]
    if isinstance(value, dict):
        for path, inner in _values_at(value, rest):
            yield f"{head}.{path}", inner
    elif isinstance(value, list):
        for index, row in enumerate(value):
            if isinstance(row, dict):
                for path, inner in _values_at(row, rest):
                    yield f"{head}.{index}.{path}", inner


# --------------------------------------------------------------------------- split and show
def split(schema: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(process_data, record, confidential)`` of a submission.

    Process data holds only ``x-process`` fields (never a confidential one); the record is the whole
    submission minus confidential fields; the confidential part is sealed by the caller.
    """
    secret = confidential_fields(schema)
    marked = process_fields(schema) - secret
    process_data = {k: v for k, v in data.items() if k in marked}
    record = {k: v for k, v in data.items() if k not in secret}
    confidential = {k: v for k, v in data.items() if k in secret}
    return process_data, record, confidential


def mask(
    schema: dict[str, Any], record: dict[str, Any], confidential: dict[str, Any] | None = None, *, reveal: bool = False
) -> dict[str, Any]:
    """The record as a reader sees it: confidential fields masked, or filled in when ``reveal``."""
    shown = dict(record)
    for name in confidential_fields(schema):
        if reveal and confidential and name in confidential:
            shown[name] = confidential[name]
        elif name in shown or (confidential and name in confidential):
            shown[name] = MASK
    return shown


@dataclass
class ShownValue:
    name: str
    title: str
    value: str
    confidential: bool = False
    masked: bool = False
    multiline: bool = False


def display(
    schema: dict[str, Any],
    data: dict[str, Any],
    *,
    options: Mapping[str, list[tuple[object, str]]] | None = None,
    sealed_present: bool = False,
    revealed: bool = False,
) -> list[ShownValue]:
    """Labelled, human-readable values of a submission, in form order; unknown keys come last."""
    options = options or {}
    rows = []
    props = _properties(schema)
    secret = confidential_fields(schema)
    for name, prop in props.items():
        is_secret = name in secret
        if name not in data and not (is_secret and sealed_present):
            continue
        value = data.get(name)
        masked = is_secret and (not revealed or value in (None, MASK))
        if masked:
            text = MASK
        else:
            labels = {str(k): lbl for k, lbl in (_choices(prop) or [])}
            labels.update({str(k): lbl for k, lbl in options.get(name, [])})
            item = prop.get("items") or {}
            labels.update({str(k): lbl for k, lbl in (_choices(item) or [])})
            text = _text(value, labels, prop)
        rows.append(
            ShownValue(
                name=name,
                title=prop.get("title") or name,
                value=text,
                confidential=is_secret,
                masked=masked,
                multiline=prop.get("x-widget") == "textarea",
            )
        )
    for name in data:
        if name not in props and not name.startswith("_"):
            rows.append(ShownValue(name=name, title=name, value=_text(data[name], {})))
    return rows


def _text(value: Any, labels: Mapping[str, str], prop: dict[str, Any] | None = None) -> str:
    """A stored value as a reader should see it: choice titles, nested fields by their titles, local times."""
    prop = prop or {}
    if value is None:
        return ""
    if isinstance(value, bool):
        return labels.get(str(value), "是" if value else "否")
    if isinstance(value, list):
        item = prop.get("items") or {}
        if isinstance(item, dict) and item.get("properties"):
            return "\n".join(_text(v, {}, item) for v in value)
        item_labels = {**labels, **{str(k): lbl for k, lbl in (_choices(item) or [])}}
        return "、".join(_text(v, item_labels, item) for v in value)
    if isinstance(value, dict):
        props = prop.get("properties") or {}
        parts = []
        for key, inner in value.items():
            sub = props.get(key) or {}
            sub_labels = {str(k): lbl for k, lbl in (_choices(sub) or [])}
            text = _text(inner, sub_labels, sub)
            if text != "":
                parts.append(f"{sub.get('title') or key}：{text}")
        return "；".join(parts)
    if prop.get("format") == "date-time" and isinstance(value, str):
        try:
            return (
                dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
            )
        except ValueError:
            pass
    return labels.get(str(value), str(value))


def form_values(schema: dict[str, Any], data: dict[str, Any], prefix: str = "") -> dict[str, str | list[str]]:
    """Stored values as the strings an HTML form shows again (the inverse of ``coerce``).

    Booleans become ``"true"``/``"false"``, date-times local ``YYYY-MM-DDTHH:MM``, free lists one entry
    per line, lists of choices a list of strings; nested fields get dotted names.
    """
    values: dict[str, str | list[str]] = {}
    for name, prop in _properties(schema).items():
        key = prefix + name
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if is_signature(prop):
            continue
        if _object_with_fields(prop) and isinstance(value, dict):
            values.update(form_values(prop, value, key + "."))
            continue
        if _repeating(prop) and isinstance(value, list):
            for index, row in enumerate(value):
                if isinstance(row, dict):
                    values.update(form_values(prop["items"], row, f"{key}.{index}."))
            continue
        if _mapping(prop) and isinstance(value, dict):
            values[key] = "\n".join(f"{k}: {as_form_string(v)}" for k, v in value.items())
            continue
        if isinstance(value, list):
            item = prop.get("items") or {}
            strings = [as_form_string(v) for v in value]
            values[key] = strings if (_choices(item) or item.get("x-options")) else "\n".join(strings)
            continue
        if prop.get("format") == "date-time" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = (
                    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                    .astimezone(LOCAL_TZ)
                    .strftime("%Y-%m-%dT%H:%M")
                )
        values[key] = as_form_string(value)
    return values


def as_form_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def unknown_fields(schema: dict[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Keys of JSON ``data`` that are not properties of the form, as ``{name: 中文说明}``.

    HTML posts only ever carry the form's own inputs (``coerce`` reads nothing else); a JSON client can
    send anything, and an unknown key would otherwise be kept in the record unchecked.
    """
    props = _properties(schema)
    return {name: "表单中没有此项" for name in data if name not in props}
