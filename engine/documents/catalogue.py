"""Which documents a process library prints, from ``settings.yaml`` ``documents``.

A document is the record of one step laid out as the paper the commission sends or files:

    documents:
      inquiry_letter: {title: 函询通知书, layout: official, forms: [p5_inquiry_letter],
                       number: letter_no, addressee: recipient, cc: cc_units}

- ``forms``: the form keys whose latest record is the document's content;
- ``layout``: ``official`` (a 公文 after GB/T 9704: 版头, 发文字号, 标题, 主送, 正文, 落款, 版记),
  ``sheet`` (a 登记表 or 笔录: a titled table of the record) or ``approval`` (a 呈批表: the request and,
  under it, the 批示 of every later step whose form is in ``approvals``);
- ``number``, ``addressee``, ``cc``: the record's fields that hold the 文号 (issued by engine/numbering),
  the 主送 and the 抄送.

The library says which of its forms are documents, as it says which are deadlines: a county that adds a
form adds its document beside it, without a change to the engine. The deploy checks the section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LAYOUTS = ("official", "sheet", "approval")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class DocumentSpec:
    kind: str
    title: str
    layout: str
    forms: tuple[str, ...]
    number: str | None = None
    addressee: str | None = None
    cc: str | None = None
    approvals: tuple[str, ...] = ()


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: expected a list of form keys")
    return tuple(value)


def specs(settings: Mapping[str, Any]) -> dict[str, DocumentSpec]:
    """The documents a version's settings define; ``ValueError`` naming the first malformed one."""
    section = settings.get("documents") or {}
    if not isinstance(section, Mapping):
        raise ValueError("documents: expected a mapping of document → {title, layout, forms}")
    found: dict[str, DocumentSpec] = {}
    for kind, spec in section.items():
        where = f"documents.{kind}"
        if not isinstance(kind, str) or not _KEY.match(kind):
            raise ValueError(f"documents: '{kind}' is not a document name (lower-case letters, digits, _)")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("title"), str) or not spec["title"]:
            raise ValueError(f"{where}: needs a title")
        layout = spec.get("layout", "official")
        if layout not in LAYOUTS:
            raise ValueError(f"{where}: layout must be one of {', '.join(LAYOUTS)}")
        for name in ("number", "addressee", "cc"):
            if spec.get(name) is not None and not isinstance(spec[name], str):
                raise ValueError(f"{where}.{name}: expected a field name")
        found[kind] = DocumentSpec(
            kind=kind,
            title=spec["title"],
            layout=layout,
            forms=_names(spec.get("forms"), f"{where}.forms"),
            number=spec.get("number"),
            addressee=spec.get("addressee"),
            cc=spec.get("cc"),
            approvals=_names(spec.get("approvals") or [], f"{where}.approvals"),
        )
    return found


def check(forms: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(element, reason)`` for what the deploy must refuse: a malformed section, an unknown form, a
    named field the document's forms do not have."""
    try:
        found = specs(settings)
    except ValueError as exc:
        return [("documents", str(exc))]
    problems = []
    for kind, spec in found.items():
        for key in (*spec.forms, *spec.approvals):
            if key not in forms:
                problems.append((f"documents.{kind}", f"form '{key}' is not in forms/"))
        for name in (spec.number, spec.addressee, spec.cc):
            if name and not any(name in (forms.get(key) or {}).get("properties", {}) for key in spec.forms):
                problems.append((f"documents.{kind}", f"field '{name}' is in none of its forms"))
    return problems
