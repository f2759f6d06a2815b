"""线索编号 and 文号 issued by the system from per-commission, per-year sequences.

Officers used to type these numbers; two typed the same one, or skipped one, and a 文号 that two
documents share cannot be cited. A form field marked ``"x-issued": "<sequence>"`` is now filled by the
system when its step is completed, from the sequence ``processes/settings.yaml`` ``numbering`` names:

    numbering:
      clue: {title: 线索编号, format: "XS-{year}-{seq:04d}"}
      inquiry_letter: {title: 函询通知书, format: "{agency}函〔{year}〕{seq}号"}

``{agency}`` is the owning commission's 机关代字 (organisation ``doc_prefix``, its name when it has
none), ``{year}`` the year of issue in China's time zone, ``{seq}`` the number within that commission,
sequence and year (1, 2, 3, … with no gaps).

Gap-free and concurrency-safe: the counter row is raised by one ``UPDATE … RETURNING`` inside the
completion's transaction. On PostgreSQL that UPDATE holds the row's lock (as ``SELECT … FOR UPDATE``
would) until the completion commits, so a second completion of the same sequence waits and then
reads the raised value; on SQLite the statement takes the database's write lock. A completion that is
refused or fails afterwards rolls the counter back with everything else, so no number is burnt.

A step done again (退回, a loop back to redraft) keeps the number its document received the first time:
a 文号 names a document, not an attempt (:func:`issue` reuses the ledger row of the same instance, step
and field).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.models import IssuedNumber, NumberSequence, ProcessInstance, Unit

ISSUED_KEY = "x-issued"
TYPED_MESSAGE = "此编号由系统在提交时签发，不能填写"
PLACEHOLDERS = frozenset({"agency", "year", "seq"})
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class SequenceRule:
    """One sequence of ``settings.yaml`` ``numbering``: what it numbers and how a number reads."""

    key: str
    title: str
    format: str

    def render(self, *, agency: str, year: int, seq: int) -> str:
        return self.format.format(agency=agency, year=year, seq=seq)


def rules(settings: Mapping[str, Any]) -> dict[str, SequenceRule]:
    """The sequences a version's settings define; ``ValueError`` naming the first one that is malformed."""
    found: dict[str, SequenceRule] = {}
    section = settings.get("numbering") or {}
    if not isinstance(section, Mapping):
        raise ValueError("numbering: expected a mapping of sequence → {title, format}")
    for key, spec in section.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"numbering: '{key}' is not a sequence name (lower-case letters, digits, _)")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("format"), str):
            raise ValueError(f"numbering.{key}: needs a format")
        fmt = spec["format"]
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None}
        except ValueError as exc:
            raise ValueError(f"numbering.{key}: format '{fmt}' is malformed: {exc}") from exc
        if not {"year", "seq"} <= names or not names <= PLACEHOLDERS:
            raise ValueError(f"numbering.{key}: format must use {{year}} and {{seq}}, and only {{agency}} besides")
        rule = SequenceRule(key=key, title=str(spec.get("title") or key), format=fmt)
        try:
            rule.render(agency="纪", year=2027, seq=1)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"numbering.{key}: format '{fmt}' does not render: {exc}") from exc
        found[key] = rule
    return found


def issued_fields(schema: Mapping[str, Any]) -> dict[str, str]:
    """``{field: sequence}`` of a form's top-level fields the system fills."""
    props = schema.get("properties") or {}
    return {
        name: str(prop[ISSUED_KEY]) for name, prop in props.items() if isinstance(prop, dict) and prop.get(ISSUED_KEY)
    }


def check_forms(forms: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(file, field, reason)`` for every ``x-issued`` field the deploy must refuse: an unknown sequence,
    a field that is not a text, or one nested where the system does not fill it."""
    try:
        known = rules(settings)
    except ValueError:
        return []  # reported by the settings check
    problems = []
    for key, schema in sorted(forms.items()):
        for name, prop in (schema.get("properties") or {}).items():
            if not isinstance(prop, dict) or ISSUED_KEY not in prop:
                continue
            sequence = prop[ISSUED_KEY]
            if not isinstance(sequence, str) or sequence not in known:
                problems.append(
                    (f"forms/{key}.json", name, f"x-issued '{sequence}' is not a sequence in settings.yaml numbering")
                )
            elif prop.get("type") != "string":
                problems.append((f"forms/{key}.json", name, "an issued number is a string field"))
    return problems


def typed(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Issued fields a submission tried to fill itself, as ``{field: 中文说明}``."""
    return {name: TYPED_MESSAGE for name in issued_fields(schema) if data.get(name) not in (None, "")}


def agency_of(session: Session, scope: str) -> str:
    """The commission's 机关代字, else its name (a number must still say who issued it)."""
    if not scope:
        return ""
    row = session.execute(select(Unit.doc_prefix, Unit.name).where(Unit.code == scope)).first()
    if row is None:
        return ""
    return str(row.doc_prefix or row.name)


def next_value(session: Session, scope: str, sequence: str, year: int) -> int:
    """The next number of (commission, sequence, year), counted in the caller's transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NumberSequence)
        .values(scope=scope, sequence=sequence, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["scope", "sequence", "year"])
    )
    value = session.execute(
        update(NumberSequence)
        .where(NumberSequence.scope == scope, NumberSequence.sequence == sequence, NumberSequence.year == year)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(value)


def owner_of(session: Session, instance_id: int) -> str:
    return session.scalar(select(ProcessInstance.owner_unit).where(ProcessInstance.id == instance_id)) or ""


def already_issued(session: Session, instance_id: int, spec_id: str) -> dict[str, str]:
    """``{field: number}`` a step of an instance has received (shown on its page, reused when redone)."""
    rows = session.execute(
        select(IssuedNumber.field, IssuedNumber.number)
        .where(IssuedNumber.instance_id == instance_id, IssuedNumber.spec_id == spec_id)
        .order_by(IssuedNumber.id)
    ).all()
    return {r.field: r.number for r in rows}


def issue(
    session: Session,
    settings: Mapping[str, Any],
    schema: Mapping[str, Any],
    data: dict[str, Any],
    *,
    instance_id: int,
    task_id: int | None,
    spec_id: str,
    actor: str,
) -> dict[str, Any]:
    """``data`` with every issued field filled: the number this step already holds, else the next one.

    Runs inside the completion's transaction, after the submission was validated (what can still fail
    afterwards rolls the number back with it). Each new number is written to the ledger and audited.
    """
    wanted = issued_fields(schema)
    if not wanted:
        return data
    known = rules(settings)
    held = already_issued(session, instance_id, spec_id)
    scope = owner_of(session, instance_id)
    filled = dict(data)
    year = clock.local_now().year
    agency: str | None = None
    for name, sequence in wanted.items():
        if name in held:
            filled[name] = held[name]
            continue
        rule = known.get(sequence)
        if rule is None:  # a deployed version was checked; this guards a hand-edited database
            raise ValueError(f"sequence '{sequence}' of field '{name}' is not in settings.yaml numbering")
        if agency is None:
            agency = agency_of(session, scope)
        value = next_value(session, scope, sequence, year)
        number = rule.render(agency=agency, year=year, seq=value)
        session.add(
            IssuedNumber(
                scope=scope,
                sequence=sequence,
                year=year,
                value=value,
                number=number,
                instance_id=instance_id,
                task_id=task_id,
                spec_id=spec_id,
                field=name,
                issued_by=actor,
                issued_at=clock.now(),
            )
        )
        audit.record(
            session,
            "number_issued",
            actor=actor,
            instance_id=instance_id,
            task_id=task_id,
            sequence=sequence,
            number=number,
        )
        filled[name] = number
    session.flush()
    return filled
