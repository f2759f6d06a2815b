"""What a document says: a case's record read through the need-to-know gate, laid out as plain values.

A document is one more way of reading the records, so it reads them the way the task and instance
pages do: ``need_to_know.read_scope`` decides which steps and fields the person may read, and
``reveal.read_records`` opens sealed fields for reveal roles only (with its ``confidential_viewed``
event). A field the person may not see is printed masked (●●●●●●) or not at all, never in clear: the
PDF or DOCX leaves the system, and what it carries cannot be taken back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import forms
from engine.access.need_to_know import ReadScope, trim, trim_schema
from engine.access.principal import Principal
from engine.access.reveal import Reveal, Sealed, read_records
from engine.clock import LOCAL_TZ
from engine.documents.catalogue import DocumentSpec
from engine.models import ProcessInstance, Unit
from engine.tasks.inbox import Step, instance_steps

# The fields of an approval form a 呈批表 prints as the 批示: its conclusion and its opinion.
DECISION_FIELDS = ("decision", "approved", "result")
OPINION_FIELDS = ("opinion", "instruction", "comment")


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    masked: bool = False
    multiline: bool = False


@dataclass(frozen=True)
class Endorsement:
    """One 批示 on a 呈批表 (or the signature of the document's own step)."""

    step: str
    signer: str
    signed_at: str
    decision: str = ""
    opinion: str = ""


@dataclass(frozen=True)
class DocumentContent:
    kind: str
    title: str
    layout: str
    issuer: str  # the owning commission (发文机关)
    case_key: str  # the instance's business key (线索编号 …)
    number: str  # 发文字号 / 编号, empty when none was issued
    addressee: str  # 主送
    cc: str  # 抄送
    rows: list[Row]
    signed: Endorsement | None  # the step's own signature (落款)
    approvals: list[Endorsement] = field(default_factory=list)
    date: str = ""  # 成文日期, from the signature


def _date(value: str) -> str:
    """``2027-03-04T10:00:00+08:00`` → ``2027年3月4日`` (GB/T 9704: 成文日期 in Arabic numerals)."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(LOCAL_TZ)
    except ValueError:
        return value
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _signature(schema: Mapping[str, Any], data: Mapping[str, Any], step: Step) -> Endorsement | None:
    for name, prop in (schema.get("properties") or {}).items():
        value = data.get(name)
        if forms.is_signature(prop) and isinstance(value, dict) and value.get("signer"):
            return Endorsement(
                step=step.name, signer=str(value["signer"]), signed_at=_date(str(value.get("signed_at") or ""))
            )
    return None


def _readable(
    s: Session, principal: Principal, reveal: Reveal, scope: ReadScope, instance_id: int, wanted: set[str]
) -> list[tuple[Step, dict[str, Any], bool, bool, frozenset[str] | None]]:
    """The instance's final records of ``wanted`` forms the person may read, opened through the gate."""
    steps = []
    for step in instance_steps(s, instance_id):
        if step.form_key not in wanted:
            continue
        names = scope.fields(step.task_id, step.submitted_by)
        if names is not False:
            steps.append((step, names if isinstance(names, frozenset) else None))
    read = read_records(
        s,
        principal,
        reveal,
        [Sealed(trim(step.data, names), step.sealed if names is None else None) for step, names in steps],
        instance_id=instance_id,
        channel="document",
    )
    return [
        (step, seen.data, seen.sealed, seen.revealed, names) for (step, names), seen in zip(steps, read, strict=True)
    ]


def build(
    s: Session,
    principal: Principal,
    reveal: Reveal,
    scope: ReadScope,
    *,
    spec: DocumentSpec,
    instance_id: int,
    forms_of_version: Mapping[str, dict[str, Any]],
    units: Mapping[str, Any],
    locale: str,
) -> DocumentContent | None:
    """The document's content from the latest readable record of its forms; None when there is none."""
    records = _readable(s, principal, reveal, scope, instance_id, {*spec.forms, *spec.approvals})
    main_at = max((i for i, r in enumerate(records) if r[0].form_key in spec.forms), default=None)
    if main_at is None:
        return None
    step, data, sealed, revealed, names = records[main_at]
    schema = trim_schema(forms.load_schema(forms_of_version, step.form_key), names)
    later = [r for r in records[main_at + 1 :] if r[0].form_key in spec.approvals] if spec.layout == "approval" else []
    schemas = [schema, *(forms.load_schema(forms_of_version, r[0].form_key) for r in later)]
    labels = forms.shown_labels(
        s, zip(schemas, [data, *(r[1] for r in later)], strict=True), locale=locale, units=units
    )
    shown = {
        v.name: v for v in forms.display(schema, data, options=labels[0], sealed_present=sealed, revealed=revealed)
    }
    props = schema.get("properties") or {}
    special = {spec.number, spec.addressee, spec.cc}
    rows = [
        Row(label=v.title, value=v.value, masked=v.masked, multiline=v.multiline)
        for name, v in shown.items()
        if name not in special and not forms.is_signature(props.get(name) or {}) and v.value != ""
    ]
    approvals = []
    for (a_step, a_data, _s, _r, _n), a_schema, a_labels in zip(later, schemas[1:], labels[1:], strict=True):
        a_shown = {v.name: v for v in forms.display(a_schema, a_data, options=a_labels)}
        signed = _signature(a_schema, a_data, a_step)
        decision = next((a_shown[n] for n in DECISION_FIELDS if n in a_shown), None)
        opinion = next((a_shown[n] for n in OPINION_FIELDS if n in a_shown), None)
        approvals.append(
            Endorsement(
                step=a_step.name,
                signer=signed.signer if signed else a_step.submitted_by_name,
                signed_at=signed.signed_at if signed else _date(a_step.submitted_at.isoformat()),
                decision=f"{decision.title}：{decision.value}" if decision else "",
                opinion=opinion.value if opinion else "",
            )
        )
    head = s.execute(
        select(ProcessInstance.business_key, Unit.name)
        .outerjoin(Unit, Unit.code == ProcessInstance.owner_unit)
        .where(ProcessInstance.id == instance_id)
    ).one()
    signed = _signature(schema, data, step)

    def value(name: str | None) -> str:
        return shown[name].value if name and name in shown else ""

    return DocumentContent(
        kind=spec.kind,
        title=spec.title,
        layout=spec.layout,
        issuer=str(head.name or ""),
        case_key=str(head.business_key or ""),
        number=value(spec.number),
        addressee=value(spec.addressee),
        cc=value(spec.cc),
        rows=rows,
        signed=signed,
        approvals=approvals,
        date=signed.signed_at if signed else _date(step.submitted_at.isoformat()),
    )


@dataclass(frozen=True)
class Available:
    kind: str
    title: str
    number: str


def available(s: Session, scope: ReadScope, instance_id: int, found: Mapping[str, DocumentSpec]) -> list[Available]:
    """The documents of an instance the person may print: those with a record they may read.

    Reads no sealed part (a list of links must not open anything); the number shown is the issued one,
    which is never a confidential field.
    """
    latest: dict[str, Step] = {}
    names_of: dict[int, frozenset[str] | None] = {}
    for step in instance_steps(s, instance_id):
        names = scope.fields(step.task_id, step.submitted_by)
        if names is False or step.form_key is None:
            continue
        latest[step.form_key] = step
        names_of[step.task_id] = names if isinstance(names, frozenset) else None
    result = []
    for kind, spec in found.items():
        steps = [latest[key] for key in spec.forms if key in latest]
        if not steps:
            continue
        step = max(steps, key=lambda st: (st.submitted_at, st.task_id))
        data = trim(step.data, names_of[step.task_id])
        number = data.get(spec.number) if spec.number else None
        result.append(Available(kind=kind, title=spec.title, number=str(number) if number else ""))
    return result
