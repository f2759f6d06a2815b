"""``guantong demo`` leaves work in every main role's inbox, driven by the same autopilot as the walks."""

import datetime as dt

from sqlalchemy import select

from demo.seed import seed_demo
from engine import clock
from engine.models import HumanTask, ProcessInstance

from .driver import ORGANISATION, compiled_library
from .walks import _Services


def test_demo_instances_fill_the_main_inboxes(db):
    with clock.frozen(dt.datetime(2024, 5, 6, 9, tzinfo=clock.LOCAL_TZ)):
        services = _Services.__new__(_Services)
        from engine.definitions.repository import DefinitionRepository
        from engine.runtime.core import Runtime

        services.db = db
        services.definitions = DefinitionRepository(db)
        services.runtime = Runtime(db, services.definitions)
        services.definitions.deploy(compiled_library(), actor="tester")
        result = seed_demo(services, ORGANISATION)
    assert result["instances_started"] >= 5
    with db.session() as s:
        ready = s.scalars(select(HumanTask).where(HumanTask.status == "ready")).all()
        inbox = {(t.role, c.unit_code) for t in ready for c in (t.candidates or [None]) if c} | {
            (t.role, None) for t in ready if not t.candidates
        }
        statuses = set(s.scalars(select(ProcessInstance.status)))
    assert not [r for r, u in inbox if u is None], "every task names its unit"
    assert ("petition_office", "qh_xfs") in inbox  # 信访室: initial screening
    assert ("supervision_office", "qh_jc2") in inbox  # 王芳's office: the handed-over clue
    assert ("inspection_office", "qh_xcb") in inbox  # 巡察办: the inspection round
    assert ("supervised_party_org", "qh_nmj_dz") in inbox  # 农牧局党组: its rectification plan
    assert ("conduct_supervision_office", "qh_dfzf") in inbox  # 党风政风监督室: the monthly meeting
    assert statuses <= {"running", "completed"}
