"""What people do with the interference register, one function per use case, for pages and API alike.

Recording an approach on a case, the entries of a case, one entry, the register of a commission (its
filtered list and its CSV ledger) and the offices' follow-up. Each function authorizes (the rules are in
engine/interference/register.py), validates, works in one transaction and returns plain data; every
write, and every export, leaves an audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.access import visibility
from engine.access.principal import Principal
from engine.errors import Conflict, Forbidden, NotFound, NotVisible, ValidationError
from engine.interference import register as rules
from engine.interference.register import RegisterFilter
from engine.models import InterferenceEntry, InterferenceFollowUp, ProcessDefinition, ProcessInstance
from engine.services import Services
from engine.tasks.operations import display_names

# The reasons kept on ``access_denied`` events.
CASE_REFUSED = "interference_case_refused"  # not an officer who may see (or read) the case
ENTRY_REFUSED = "interference_entry_refused"  # neither a reader of its case nor an office of its commission
REGISTER_ONLY = "interference_register_only"  # the register is for the offices that keep it


# --------------------------------------------------------------------------- plain results
@dataclass(frozen=True)
class FollowUp:
    action: str
    note: str | None
    office_unit: str
    acted_by: str
    actor_name: str
    acted_at: dt.datetime


@dataclass(frozen=True)
class Entry:
    id: int
    instance_id: int
    business_key: str | None
    process_name: str
    commission: str
    recorder_unit: str
    intervener_name: str
    intervener_post: str | None
    kind: str
    channel: str
    occurred_at: dt.datetime
    content: str
    response: str
    corrects_id: int | None
    recorded_by: str
    recorder_name: str
    recorded_at: dt.datetime
    corrected_by: tuple[int, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()

    @property
    def state(self) -> str:
        """待签收 (recorded) → 已签收 (received) → 已提出处理意见 (opinion), from the follow-ups."""
        actions = {f.action for f in self.follow_ups}
        return "opinion" if "opinion" in actions else "received" if "received" in actions else "recorded"

    @property
    def superseded(self) -> bool:
        """A later entry corrects this one; both stay in the register."""
        return bool(self.corrected_by)


@dataclass(frozen=True)
class Case:
    """The case an entry concerns, as the recording form and the case's list name it."""

    instance_id: int
    business_key: str | None
    title: str | None
    process_name: str


@dataclass(frozen=True)
class RecordingForm:
    """What the recording form needs: the case, the units the officer may record for, the choices."""

    case: Case
    units: list[str]
    kinds: tuple[str, ...] = rules.KINDS
    channels: tuple[str, ...] = rules.CHANNELS


@dataclass(frozen=True)
class CaseEntries:
    case: Case
    entries: list[Entry]
    may_record: bool


@dataclass(frozen=True)
class EntryDetail:
    entry: Entry
    may_follow_up: bool  # an office of the entry's commission
    received_by_me: bool  # the person's office has signed for it already


@dataclass(frozen=True)
class RegisterPage:
    filter: RegisterFilter
    rows: list[Entry]
    total: int
    units: list[str] = field(default_factory=list)  # the unit filter's choices: the commissions' units

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.filter.per_page))


# --------------------------------------------------------------------------- who may
def _case(s: Session, instance_id: int) -> Case:
    row = s.execute(
        select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.title, ProcessDefinition.name)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.id == instance_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"instance {instance_id} not found", instance=instance_id)
    return Case(instance_id=row.id, business_key=row.business_key, title=row.title, process_name=row.name)


def _officer_units_on_case(s: Session, principal: Principal, instance_id: int, *, read: bool) -> dict[str, str]:
    """The units the person may record for on this case (unit → commission), or a refusal: an officer
    of a commission who may see the case (``read``: read what its steps recorded)."""
    units = rules.officer_units(s, principal)
    allowed = (
        visibility.can_read_instance_data(s, principal, instance_id)
        if read
        else visibility.can_see_instance(s, principal, instance_id)
    )
    if not units or not allowed:
        raise NotVisible(
            f"instance {instance_id}: only officers who may {'read' if read else 'see'} the case use its "
            "interference entries",
            reason=CASE_REFUSED,
            instance=instance_id,
        )
    return units


def _office_commissions(s: Session, services: Services, principal: Principal) -> dict[str, str]:
    return rules.office_units(s, principal, rules.office_roles(services.config))


def _require_office(s: Session, services: Services, principal: Principal) -> dict[str, str]:
    offices = _office_commissions(s, services, principal)
    if not offices:
        raise Forbidden(REGISTER_ONLY, rule=REGISTER_ONLY)
    return offices


def may_keep_register(services: Services, principal: Principal) -> bool:
    """For the navigation: the person holds a register office's role (the commission is checked on use)."""
    return rules.may_keep_register(principal, rules.office_roles(services.config))


# --------------------------------------------------------------------------- reading entries
def _entries(
    s: Session, where: list[Any], *, order: Any = None, offset: int = 0, limit: int | None = None
) -> list[Entry]:
    e = InterferenceEntry
    query = (
        select(e, ProcessDefinition.name.label("process_name"))
        .join(ProcessInstance, ProcessInstance.id == e.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(*where)
        .order_by(*(order if order is not None else (e.occurred_at.desc(), e.id.desc())))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = s.execute(query).all()
    ids = [r[0].id for r in rows]
    follow_ups: dict[int, list[InterferenceFollowUp]] = {}
    corrected: dict[int, list[int]] = {}
    if ids:
        for f in s.scalars(
            select(InterferenceFollowUp)
            .where(InterferenceFollowUp.entry_id.in_(ids))
            .order_by(InterferenceFollowUp.acted_at, InterferenceFollowUp.id)
        ):
            follow_ups.setdefault(f.entry_id, []).append(f)
        for new_id, old_id in s.execute(select(e.id, e.corrects_id).where(e.corrects_id.in_(ids)).order_by(e.id)):
            if old_id is not None:
                corrected.setdefault(old_id, []).append(new_id)
    names = display_names(s, [r[0].recorded_by for r in rows] + [f.acted_by for fs in follow_ups.values() for f in fs])
    return [
        Entry(
            id=r[0].id,
            instance_id=r[0].instance_id,
            business_key=r[0].business_key,
            process_name=r.process_name,
            commission=r[0].commission,
            recorder_unit=r[0].recorder_unit,
            intervener_name=r[0].intervener_name,
            intervener_post=r[0].intervener_post,
            kind=r[0].kind,
            channel=r[0].channel,
            occurred_at=r[0].occurred_at,
            content=r[0].content,
            response=r[0].response,
            corrects_id=r[0].corrects_id,
            recorded_by=r[0].recorded_by,
            recorder_name=names.get(r[0].recorded_by, r[0].recorded_by),
            recorded_at=r[0].recorded_at,
            corrected_by=tuple(corrected.get(r[0].id, ())),
            follow_ups=tuple(
                FollowUp(
                    action=f.action,
                    note=f.note,
                    office_unit=f.office_unit,
                    acted_by=f.acted_by,
                    actor_name=names.get(f.acted_by, f.acted_by),
                    acted_at=f.acted_at,
                )
                for f in follow_ups.get(r[0].id, ())
            ),
        )
        for r in rows
    ]


def _entry(s: Session, entry_id: int) -> Entry:
    found = _entries(s, [InterferenceEntry.id == entry_id])
    if not found:
        raise NotFound(f"interference entry {entry_id} not found", entry=entry_id)
    return found[0]


# --------------------------------------------------------------------------- use cases
def recording_form(services: Services, principal: Principal, instance_id: int) -> RecordingForm:
    """The form to record an approach on a case, for an officer who may see the case."""
    with services.db.session() as s:
        case = _case(s, instance_id)
        units = _officer_units_on_case(s, principal, instance_id, read=False)
    return RecordingForm(case=case, units=sorted(units))


def record_interference(
    services: Services, principal: Principal, instance_id: int, data: Mapping[str, Any]
) -> EntryDetail:
    """Record one approach on a case (the officer who received it, or a colleague it was reported to).

    Refused unless the person is an officer of a commission who may see the case; every field at fault
    is named at once and nothing is written. A correction names an entry of the same case."""
    now = clock.now()
    with services.db.session() as s:
        case = _case(s, instance_id)
        units = _officer_units_on_case(s, principal, instance_id, read=False)
        draft = rules.validate_entry(data, units=units, now=now)
        if draft.corrects is not None:
            old = s.get(InterferenceEntry, draft.corrects)
            if old is None or old.instance_id != instance_id:
                raise ValidationError(
                    "interference entry refused", fields={"corrects": "被更正的登记不存在或不属于本案件"}
                )
        row = InterferenceEntry(
            instance_id=instance_id,
            business_key=case.business_key,
            commission=units[draft.recorder_unit],
            recorder_unit=draft.recorder_unit,
            intervener_name=draft.intervener_name,
            intervener_post=draft.intervener_post,
            kind=draft.kind,
            channel=draft.channel,
            occurred_at=draft.occurred_at,
            content=draft.content,
            response=draft.response,
            corrects_id=draft.corrects,
            recorded_by=principal.username,
            recorded_at=now,
        )
        s.add(row)
        s.flush()
        # Who intervened is in the register, not in the trail every audit reader sees.
        audit.record(
            s,
            "interference_recorded",
            actor=principal.username,
            instance_id=instance_id,
            entry=row.id,
            kind=draft.kind,
            channel=draft.channel,
            commission=row.commission,
            corrects=draft.corrects,
        )
        s.flush()
        return EntryDetail(entry=_entry(s, row.id), may_follow_up=False, received_by_me=False)


def case_entries(services: Services, principal: Principal, instance_id: int) -> CaseEntries:
    """The entries of one case, newest first, for the officers who may read the case."""
    with services.db.session() as s:
        case = _case(s, instance_id)
        _officer_units_on_case(s, principal, instance_id, read=True)
        entries = _entries(s, [InterferenceEntry.instance_id == instance_id])
    return CaseEntries(case=case, entries=entries, may_record=True)


def may_record(services: Services, principal: Principal, instance_id: int) -> bool:
    """Whether a page offers "登记干预情况" on this case (the use cases decide again when it is used)."""
    with services.db.session() as s:
        try:
            _officer_units_on_case(s, principal, instance_id, read=False)
        except NotVisible:
            return False
    return True


def show_entry(services: Services, principal: Principal, entry_id: int) -> EntryDetail:
    """One entry with its follow-ups: for the officers who may read its case and the offices of its
    commission."""
    with services.db.session() as s:
        entry = _entry(s, entry_id)
        offices = _office_commissions(s, services, principal)
        mine = [u for u, c in offices.items() if c == entry.commission]
        if not mine:
            try:
                _officer_units_on_case(s, principal, entry.instance_id, read=True)
            except NotVisible:
                raise NotVisible(
                    f"interference entry {entry_id} is not within your need to know",
                    reason=ENTRY_REFUSED,
                    entry=entry_id,
                    instance=entry.instance_id,
                ) from None
    received = any(f.action == "received" and f.office_unit in mine for f in entry.follow_ups)
    return EntryDetail(entry=entry, may_follow_up=bool(mine), received_by_me=received)


def _register_where(offices: Mapping[str, str], f: RegisterFilter) -> list[Any]:
    e = InterferenceEntry
    where: list[Any] = [e.commission.in_(sorted(set(offices.values())))]
    start, end = f.bounds()
    if start is not None:
        where.append(e.occurred_at >= start)
    if end is not None:
        where.append(e.occurred_at < end)
    if f.kind:
        where.append(e.kind == f.kind)
    if f.unit:
        where.append(e.recorder_unit == f.unit)
    return where


def register(services: Services, principal: Principal, f: RegisterFilter) -> RegisterPage:
    """The register of the person's commission (案管室, 干部监督室), newest approach first."""
    with services.db.session() as s:
        offices = _require_office(s, services, principal)
        where = _register_where(offices, f)
        total = s.scalar(select(func.count()).select_from(InterferenceEntry).where(*where)) or 0
        rows = _entries(s, where, offset=(f.page - 1) * f.per_page, limit=f.per_page)
        units = rules.commission_units(s, set(offices.values()))
    return RegisterPage(filter=f, rows=rows, total=total, units=units)


# Columns of the CSV ledger, in order. The free texts (what was asked, how the officer responded, the
# offices' opinions) stay in the system: they may quote the case, which a ledger leaving it must not.
EXPORT_COLUMNS = (
    "id",
    "business_key",
    "process_name",
    "occurred_at",
    "kind",
    "channel",
    "intervener_name",
    "intervener_post",
    "recorder_unit",
    "recorded_by",
    "recorded_at",
    "corrects_id",
    "state",
    "received_at",
    "opinion_at",
)
EXPORT_LIMIT = 50_000


def export_register(services: Services, principal: Principal, f: RegisterFilter) -> list[Entry]:
    """Every entry the filter selects (up to ``EXPORT_LIMIT``), oldest first, for the CSV ledger; the
    export itself is audited (who took which part of the register out)."""
    with services.db.session() as s:
        offices = _require_office(s, services, principal)
        rows = _entries(
            s,
            _register_where(offices, f),
            order=(InterferenceEntry.occurred_at, InterferenceEntry.id),
            limit=EXPORT_LIMIT,
        )
        audit.record(s, "interference_exported", actor=principal.username, rows=len(rows), filter=f.params())
    return rows


def follow_up(services: Services, principal: Principal, entry_id: int, action: Any, note: Any) -> EntryDetail:
    """An office of the entry's commission signs for it (once per office unit) or gives its opinion."""
    action, text = rules.validate_follow_up(action, note)
    with services.db.session() as s:
        entry = _entry(s, entry_id)
        offices = _require_office(s, services, principal)
        mine = sorted(u for u, c in offices.items() if c == entry.commission)
        if not mine:
            raise NotVisible(
                f"interference entry {entry_id} belongs to another commission's register",
                reason=ENTRY_REFUSED,
                entry=entry_id,
                instance=entry.instance_id,
            )
        unit = mine[0]
        if action == "received" and any(f.action == "received" and f.office_unit == unit for f in entry.follow_ups):
            raise Conflict(f"interference entry {entry_id} was signed for by this office already", entry=entry_id)
        s.add(
            InterferenceFollowUp(
                entry_id=entry_id,
                action=action,
                note=text,
                office_unit=unit,
                acted_by=principal.username,
                acted_at=clock.now(),
            )
        )
        audit.record(
            s,
            "interference_followed_up",
            actor=principal.username,
            instance_id=entry.instance_id,
            entry=entry_id,
            follow_up=action,
            office_unit=unit,
        )
        s.flush()
        updated = _entry(s, entry_id)
    received = any(f.action == "received" and f.office_unit == unit for f in updated.follow_ups)
    return EntryDetail(entry=updated, may_follow_up=True, received_by_me=received)
