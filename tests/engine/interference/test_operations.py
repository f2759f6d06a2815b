"""engine/interference: recording an approach on a case, who reads the register, the offices' follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from engine.errors import Conflict, Forbidden, NotVisible, ValidationError
from engine.instances import operations as instances
from engine.interference import operations as register
from engine.interference import register as rules
from engine.interference.register import RegisterFilter
from engine.models import AuditEvent, InterferenceEntry
from engine.tasks import operations as tasks
from tests.engine.usecases import REVEAL, events

ENTRY = {
    "intervener_name": "某副县长",
    "intervener_post": "县政府副县长",
    "kind": "plead",
    "channel": "phone",
    "occurred_at": "2024-03-01T09:30",
    "content": "请求对其亲属从轻处理",
    "response": "当即拒绝，告知将登记备案",
}


def case(services, who, handling_unit="jc1", key="XS-9"):
    """A clue registered by 案管室 (cm1) and handed to ``handling_unit`` for its proposal."""
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key=key)
    data = {"clue_no": key, "handling_unit": handling_unit, "summary": "反映问题", "reporter_name": "李检举"}
    tasks.submit_task(services, who("cm1"), started.own_task, data, reveal=REVEAL)
    return started.instance_id


def entries_written(services):
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(InterferenceEntry))


def test_an_officer_who_sees_the_case_records_and_its_readers_list_it(services, who):
    instance_id = case(services, who)
    done = register.record_interference(services, who("so1"), instance_id, dict(ENTRY))
    entry = done.entry
    assert (entry.instance_id, entry.business_key, entry.commission, entry.recorder_unit) == (
        instance_id,
        "XS-9",
        "cdi",
        "jc1",
    )
    assert (entry.kind, entry.channel, entry.state, entry.recorded_by, entry.recorder_name) == (
        "plead",
        "phone",
        "recorded",
        "so1",
        "刘洋",
    )
    assert entry.occurred_at == dt.datetime(2024, 3, 1, 1, 30, tzinfo=dt.UTC)  # Beijing time when none is given
    assert entry.process_name == "测试线索处置"
    # The write is audited with the case, and without the intervener's name (that stays in the register).
    with services.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "interference_recorded"))
    assert (event.actor, event.instance_id, event.detail["entry"], event.detail["kind"]) == (
        "so1",
        instance_id,
        entry.id,
        "plead",
    )
    assert "某副县长" not in str(event.detail)
    # Everyone who may read the case lists its entries: the colleague of the handling office, 案管室.
    for reader in ("so1b", "so1lead", "cm1"):
        listed = register.case_entries(services, who(reader), instance_id)
        assert [e.id for e in listed.entries] == [entry.id] and listed.case.business_key == "XS-9"
    assert register.may_record(services, who("so1b"), instance_id)
    form = register.recording_form(services, who("so1"), instance_id)
    assert form.units == ["jc1"] and form.kinds == rules.KINDS


def test_bad_input_names_every_field_and_writes_nothing(services, who):
    instance_id = case(services, who)
    with pytest.raises(ValidationError) as refused:
        register.record_interference(services, who("so1"), instance_id, {})
    assert set(refused.value.fields) == {"intervener_name", "kind", "channel", "occurred_at", "content", "response"}
    assert all(reason == "此项为必填项" for reason in refused.value.fields.values())
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    bad = {
        **ENTRY,
        "kind": "bribe",
        "channel": 3,
        "occurred_at": future,
        "intervener_name": "名" * 121,
        "content": "x\x00y",
        "recorder_unit": "jc2",
        "colour": "red",
    }
    with pytest.raises(ValidationError) as refused:
        register.record_interference(services, who("so1"), instance_id, bad)
    fields = refused.value.fields
    assert fields["kind"].startswith("必须是以下之一") and fields["channel"].startswith("必须是以下之一")
    assert fields["occurred_at"] == "不能晚于当前时间"
    assert fields["intervener_name"] == "不能超过 120 个字符"
    assert fields["content"] == "不能包含控制字符（NUL）"
    assert fields["recorder_unit"] == "必须是您任职的纪检监察单位之一"
    assert fields["colour"] == "不是干预登记的字段"
    with pytest.raises(ValidationError) as refused:
        register.record_interference(services, who("so1"), instance_id, {**ENTRY, "occurred_at": "昨天上午"})
    assert set(refused.value.fields) == {"occurred_at"}
    # A correction must name an entry of the same case.
    other = case(services, who, key="XS-10")
    elsewhere = register.record_interference(services, who("so1"), other, dict(ENTRY)).entry
    with pytest.raises(ValidationError) as refused:
        register.record_interference(services, who("so1"), instance_id, {**ENTRY, "corrects": elsewhere.id})
    assert set(refused.value.fields) == {"corrects"}
    assert entries_written(services) == 1 and len(events(services, "interference_recorded")) == 1


@pytest.mark.parametrize(
    "username",
    [
        "so2",  # an officer of the commission outside the case
        "bfr",  # a lane outside the commission: sees the case through a task offered to his organisation
        "admin",  # the administrator flag opens every instance, never the register (三员)
        "so9",  # an officer of another commission
    ],
)
def test_people_who_are_not_officers_of_the_case_neither_record_nor_read(services, who, username):
    instance_id = case(services, who)
    routed_out = case(services, who, handling_unit="dz", key="XS-11")  # the outside lane sees this one
    entry = register.record_interference(services, who("so1"), instance_id, dict(ENTRY)).entry
    for target in (instance_id, routed_out):
        for call in (
            lambda t=target: register.record_interference(services, who(username), t, dict(ENTRY)),
            lambda t=target: register.case_entries(services, who(username), t),
            lambda t=target: register.recording_form(services, who(username), t),
        ):
            with pytest.raises(NotVisible) as refused:
                call()
            assert refused.value.reason == "interference_case_refused"
        assert not register.may_record(services, who(username), target)
    with pytest.raises(NotVisible) as refused:
        register.show_entry(services, who(username), entry.id)
    assert refused.value.reason == "interference_entry_refused"
    with pytest.raises(Forbidden):
        register.register(services, who(username), RegisterFilter())
    assert entries_written(services) == 1


def test_the_outside_lane_does_see_the_case_it_may_not_record_on(services, who):
    """The refusal above is the register's own rule, not a case the person could not open anyway."""
    routed_out = case(services, who, handling_unit="dz", key="XS-11")
    shown = instances.show_instance(services, who("bfr"), routed_out, reveal=REVEAL)
    assert shown.may_open and shown.may_read


def test_the_offices_keep_their_own_commissions_register(services, who):
    ours = case(services, who)
    theirs = case(services, who, handling_unit="jc9", key="LX-1")
    mine = register.record_interference(services, who("so1"), ours, dict(ENTRY)).entry
    enquiry = {**ENTRY, "kind": "enquire", "channel": "in_person", "occurred_at": "2024-02-10T15:00"}
    second = register.record_interference(services, who("cm1"), ours, enquiry).entry
    other = register.record_interference(services, who("so9"), theirs, dict(ENTRY)).entry
    assert (second.recorder_unit, other.commission) == ("ags", "cdi2")
    ids = lambda page: [e.id for e in page.rows]  # noqa: E731
    for office in ("ag1", "gb1"):
        page = register.register(services, who(office), RegisterFilter())
        assert ids(page) == [mine.id, second.id] and page.total == 2  # newest approach first
        assert "jc1" in page.units and "jc9" not in page.units
    assert ids(register.register(services, who("ag2"), RegisterFilter())) == [other.id]
    # Filters: kind, recording unit, the day it happened (Beijing dates, inclusive).
    assert ids(register.register(services, who("ag1"), RegisterFilter(kind="enquire"))) == [second.id]
    assert ids(register.register(services, who("ag1"), RegisterFilter(unit="jc1"))) == [mine.id]
    day = dt.date(2024, 3, 1)
    assert ids(register.register(services, who("ag1"), RegisterFilter(date_from=day, date_to=day))) == [mine.id]
    assert ids(register.register(services, who("ag1"), RegisterFilter(date_to=dt.date(2024, 2, 29)))) == [second.id]
    assert ids(register.register(services, who("ag1"), RegisterFilter(per_page=1, page=2))) == [second.id]
    # The offices open their commission's entries, not another's.
    assert register.show_entry(services, who("gb1"), mine.id).may_follow_up
    with pytest.raises(NotVisible):
        register.show_entry(services, who("ag2"), mine.id)
    with pytest.raises(Forbidden) as refused:
        register.register(services, who("so1"), RegisterFilter())
    assert refused.value.message == "interference_register_only"


def test_the_filter_is_read_the_same_way_for_every_channel():
    f = RegisterFilter.parse({"date_from": "2024-03-01", "date_to": "2024-03-31", "kind": "plead", "page": "2"})
    assert (f.date_from, f.date_to, f.kind, f.page, f.per_page) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 31),
        "plead",
        2,
        20,
    )
    assert f.params() == {"date_from": "2024-03-01", "date_to": "2024-03-31", "kind": "plead"}
    with pytest.raises(ValidationError) as refused:
        RegisterFilter.parse({"date_from": "2024-04-01", "date_to": "2024-03-01", "kind": "x", "page": "0"})
    assert set(refused.value.fields) == {"date_to", "kind", "page"}
    with pytest.raises(ValidationError) as refused:
        RegisterFilter.parse({"date_from": "03/01/2024"})
    assert set(refused.value.fields) == {"date_from"}


def test_the_offices_sign_for_an_entry_and_give_their_opinion(services, who):
    instance_id = case(services, who)
    entry = register.record_interference(services, who("so1"), instance_id, dict(ENTRY)).entry
    signed = register.follow_up(services, who("ag1"), entry.id, "received", "")
    assert signed.entry.state == "received" and signed.received_by_me
    assert [(f.action, f.office_unit, f.acted_by, f.actor_name) for f in signed.entry.follow_ups] == [
        ("received", "ags", "ag1", "高远")
    ]
    with pytest.raises(Conflict):  # once per office
        register.follow_up(services, who("ag1"), entry.id, "received", None)
    assert not register.show_entry(services, who("gb1"), entry.id).received_by_me
    register.follow_up(services, who("gb1"), entry.id, "received", "已转干部监督室跟踪")
    with pytest.raises(ValidationError) as refused:
        register.follow_up(services, who("gb1"), entry.id, "opinion", "  ")
    assert refused.value.fields == {"note": "此项为必填项"}
    with pytest.raises(ValidationError) as refused:
        register.follow_up(services, who("gb1"), entry.id, "approve", "好")
    assert set(refused.value.fields) == {"action"}
    done = register.follow_up(services, who("gb1"), entry.id, "opinion", "向县委通报，约谈提醒")
    assert done.entry.state == "opinion" and done.entry.follow_ups[-1].note == "向县委通报，约谈提醒"
    # Neither another commission's office nor an officer of the case follows it up.
    with pytest.raises(NotVisible):
        register.follow_up(services, who("ag2"), entry.id, "opinion", "越权")
    with pytest.raises(Forbidden):
        register.follow_up(services, who("so1"), entry.id, "received", None)
    assert [(a, i) for a, i, _ in events(services, "interference_followed_up")] == [
        ("ag1", instance_id),
        ("gb1", instance_id),
        ("gb1", instance_id),
    ]
    # The officers of the case read the follow-up too.
    assert register.case_entries(services, who("so1"), instance_id).entries[0].state == "opinion"


def test_a_correction_is_a_new_entry_and_both_stay(services, who):
    instance_id = case(services, who)
    first = register.record_interference(services, who("so1"), instance_id, dict(ENTRY)).entry
    fixed = {**ENTRY, "occurred_at": "2024-03-01T10:30", "corrects": str(first.id)}
    second = register.record_interference(services, who("so1b"), instance_id, fixed).entry
    assert second.corrects_id == first.id
    listed = {e.id: e for e in register.case_entries(services, who("so1"), instance_id).entries}
    assert listed[first.id].superseded and listed[first.id].corrected_by == (second.id,)
    assert not listed[second.id].superseded


def test_the_database_refuses_to_change_or_remove_entries(services, who):
    instance_id = case(services, who)
    entry = register.record_interference(services, who("so1"), instance_id, dict(ENTRY)).entry
    register.follow_up(services, who("ag1"), entry.id, "received", None)
    for statement in (
        "UPDATE interference_entry SET intervener_name = '无' WHERE id = :id",
        "DELETE FROM interference_entry WHERE id = :id",
        "UPDATE interference_followup SET note = '改' WHERE entry_id = :id",
        "DELETE FROM interference_followup WHERE entry_id = :id",
    ):
        with pytest.raises(Exception, match="append-only"), services.db.session() as s:
            s.execute(text(statement), {"id": entry.id})
    assert register.show_entry(services, who("ag1"), entry.id).entry.intervener_name == "某副县长"


def test_the_export_is_the_filtered_register_oldest_first_and_audited(services, who):
    instance_id = case(services, who)
    late = register.record_interference(services, who("so1"), instance_id, dict(ENTRY)).entry
    early = register.record_interference(
        services, who("so1"), instance_id, {**ENTRY, "occurred_at": "2024-01-05T08:00", "kind": "ask_after"}
    ).entry
    rows = register.export_register(services, who("gb1"), RegisterFilter())
    assert [r.id for r in rows] == [early.id, late.id]
    assert [r.id for r in register.export_register(services, who("gb1"), RegisterFilter(kind="plead"))] == [late.id]
    with services.db.session() as s:
        exported = s.scalars(select(AuditEvent).where(AuditEvent.action == "interference_exported")).all()
    assert [(e.actor, e.detail["rows"], e.detail["filter"]) for e in exported] == [
        ("gb1", 2, {}),
        ("gb1", 1, {"kind": "plead"}),
    ]
    with pytest.raises(Forbidden):
        register.export_register(services, who("so1"), RegisterFilter())


def test_the_cockpit_timeline_does_not_show_the_register(services, who):
    instance_id = case(services, who)
    register.record_interference(services, who("so1"), instance_id, dict(ENTRY))
    shown = instances.show_instance(services, who("boss"), instance_id, reveal=REVEAL, oversight=True)
    assert shown.timeline and not [t for t in shown.timeline if t.action.startswith("interference")]


def test_officers_are_members_of_a_commission_in_an_officer_role(services, who):
    from dataclasses import replace

    with services.db.session() as s:
        assert rules.officer_units(s, who("so1")) == {"jc1": "cdi"}
        assert rules.officer_units(s, who("bfr")) == {}  # his Party organisation is under no commission
        reported = replace(who("so1"), memberships=frozenset({("jc1", "reported_person")}))
        assert rules.officer_units(s, reported) == {}
        assert rules.office_units(s, who("gb1"), rules.DEFAULT_OFFICE_ROLES) == {"gbjd": "cdi"}
        assert rules.own_commission(s, "ags2") == "cdi2" and rules.own_commission(s, "dz") is None
