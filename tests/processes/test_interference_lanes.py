"""The interference register on the real library and the demo county: the reported official (被反映人,
the 函询 reply ``t_reply``) and his Party organisation's secretary (``t_sign``) open their tasks of the
case, yet neither may record on it nor read its entries; the handling 监督检查室 records, and the county
commission's 案管室 and 干部监督室 find the entry in their register."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from engine import clock
from engine.access import visibility
from engine.access.principal import load_principal
from engine.errors import NotVisible
from engine.interference import operations as register
from engine.interference.register import RegisterFilter

from .driver import Walk
from .paths import BASE

ENTRY = {
    "intervener_name": "某局长",
    "intervener_post": "县乡村振兴局局长",
    "kind": "ask_after",
    "channel": "in_person",
    "occurred_at": "2024-03-04T08:00",
    "content": "问函询是谁举报的、结果何时出来",
    "response": "告知不能透露，已登记备案",
}


@pytest.fixture
def walk(db):
    with clock.frozen(dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        values = {
            **BASE,
            "real_name": True,
            "jurisdiction": "this_level",
            "host_unit": "qh_xczxj_dz",
            "handling_unit": "qh_jc1",
            "resident_unit": "qh_pz1",
            "township_unit": "qh_qj",
            "disposal_method": "tanhua_hanxun",
            "inquiry_mode": "letter",
            "recipient": "zhaomou",  # the 函询 letter goes to 赵某 of that unit, who alone gets the reply task
        }
        with Walk(db, frozen, values=values) as w:
            yield w


def test_the_reported_official_and_his_organisation_neither_record_nor_read(walk):
    services = SimpleNamespace(db=walk.db, config=SimpleNamespace(interference_roles=None))

    def who(username):
        with walk.db.session() as s:
            return load_principal(s, username)

    walk.start("gt_p5_intake_report", actor="zhoujing")
    reply = walk.until("t_reply")
    case = reply.instance_id
    with walk.db.session() as s:  # he opens the case through his letter: the refusals below are the register's
        assert visibility.can_see_instance(s, who("zhaomou"), case)
    entry = register.record_interference(services, who("liuyang"), case, dict(ENTRY)).entry
    assert (entry.commission, entry.recorder_unit) == ("qh_cdi", "qh_jc1")
    outsiders = ["zhaomou", "admin"]  # the reported official at his letter; the administrator
    for username in outsiders:
        with pytest.raises(NotVisible):
            register.record_interference(services, who(username), case, dict(ENTRY))
        with pytest.raises(NotVisible):
            register.case_entries(services, who(username), case)
        with pytest.raises(NotVisible):
            register.show_entry(services, who(username), entry.id)
    walk.complete("t_reply", actor="zhaomou")
    sign = walk.task("t_sign")
    assert sign.instance_id == case
    for username in ("xczxsj", "zhaomou"):  # the Party organisation's secretary at the countersignature
        assert not register.may_record(services, who(username), case)
        with pytest.raises(NotVisible):
            register.case_entries(services, who(username), case)
    for office in ("gaoyuan", "songyu"):
        assert [e.id for e in register.register(services, who(office), RegisterFilter()).rows] == [entry.id]
