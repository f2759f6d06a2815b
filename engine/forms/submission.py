"""One reading of a submitted form, whichever channel it came by.

A web page posts every input as a list of strings under its (dotted) name; the JSON API posts typed
values. Both used to run their own pipeline and disagreed (only the API refused fields the form does
not have). ``read`` turns either into typed data plus the problems found on the way: fields the form
does not have, NUL characters (PostgreSQL text and JSONB cannot hold them), values that are not of
their type. Validation against the schema follows in the caller (``schema.validate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.forms.data import unstorable, unstorable_paths
from engine.forms.schema import _properties, coerce, fields, leaves, text_limit, unknown_fields

NUL_MESSAGE = "不能包含控制字符（NUL）或无效的 Unicode 字符"
TOO_LONG_MESSAGE = "最多 {limit} 个字"
_TOO_LONG = re.compile(r"最多 \d+ 个字")


@dataclass(frozen=True)
class Posted:
    """What an HTML form posted: each input name (``person.rank``, ``items.0.due``) with its strings."""

    values: Mapping[str, Sequence[str]]


Submitted = Posted | Mapping[str, Any]


def read(schema: dict[str, Any], submitted: Submitted) -> tuple[dict[str, Any], dict[str, str]]:
    """``(data, problems)``: typed data and ``{field: 中文说明}`` for what cannot be accepted as sent."""
    if isinstance(submitted, Posted):
        return _read_posted(schema, submitted.values)
    data = dict(submitted)
    problems = unknown_fields(schema, data)
    for path in unstorable_paths(data):
        problems.setdefault(path.split(".", 1)[0].split("[", 1)[0], NUL_MESSAGE)
    problems.update({k: v for k, v in _too_long(schema, data).items() if k not in problems})
    return {k: v for k, v in data.items() if k not in problems}, problems


def _too_long(schema: dict[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Top-level fields whose text exceeds ``text_limit`` (nested ones are checked by validation). Checked
    while reading, so even a draft — which keeps values not yet valid — never stores a huge text."""
    problems: dict[str, str] = {}
    for name, prop in _properties(schema).items():
        limit = text_limit(prop)
        values = data.get(name)
        texts = values if isinstance(values, (list, tuple)) else [values]
        if limit is not None and any(isinstance(t, str) and len(t) > limit for t in texts):
            problems[name] = TOO_LONG_MESSAGE.format(limit=limit)
    return problems


def refused_in_draft(problems: Mapping[str, str]) -> dict[str, str]:
    """The problems that keep even a draft from being saved: what no database should store."""
    return {k: v for k, v in problems.items() if v == NUL_MESSAGE or _TOO_LONG.fullmatch(v)}


def _read_posted(schema: dict[str, Any], posted: Mapping[str, Sequence[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    props = _properties(schema)
    problems: dict[str, str] = {}
    for name, values in posted.items():
        clean = name.replace("\x00", "").encode("utf-8", "backslashreplace").decode("utf-8")
        if unstorable(name) or unstorable_paths(list(values)):
            problems[clean] = NUL_MESSAGE
        elif clean.split(".", 1)[0] not in props:
            problems[clean] = "表单中没有此项"
    data, errors = coerce(schema, {k: v for k, v in posted.items() if k not in problems})
    for name, message in errors.items():
        problems.setdefault(name, message)
    for name, message in _too_long(schema, {k: list(v) for k, v in posted.items()}).items():
        problems.setdefault(name, message)
        data.pop(name, None)
    return data, problems


def as_typed(schema: dict[str, Any], submitted: Submitted) -> dict[str, Any]:
    """What the person typed, as the strings a form shows again (the page after a refusal)."""
    if not isinstance(submitted, Posted):
        return {}
    posted = submitted.values
    values: dict[str, Any] = {}
    for f in leaves(fields(schema, values={k: [""] for k in posted})):
        typed = [v.replace("\x00", "") for v in posted.get(f.name, [])]
        values[f.name] = typed if f.widget == "checkboxes" else (typed[-1] if typed else "")
    return values


def draft_record(submitted: Submitted, data: dict[str, Any], problems: Mapping[str, str]) -> dict[str, Any]:
    """A draft keeps what could be read; values not yet valid stay as typed (never unknown fields)."""
    record = dict(data)
    if isinstance(submitted, Posted):
        for name, message in problems.items():
            if message != "表单中没有此项" and name not in refused_in_draft(problems) and name in submitted.values:
                typed = list(submitted.values[name])
                record[name] = typed[0] if typed else None
    return record
