"""A start reads the unit tree once (engine/organisation/chart.py) and answers its owning commission and
the units holding each role from it: the answers must be the unit-by-unit reads' for every unit and
commission of the demo organisation, also once a unit is deactivated or a committee link removed."""

from __future__ import annotations

from sqlalchemy import delete, select

from engine.models import Unit, UnitLink
from engine.organisation import chart
from engine.organisation.directory import commission_of, import_organisation, load_file, roles_held
from tests.processes.driver import ORGANISATION


def _same_answers(s) -> None:
    units = chart.read(s)
    codes = sorted(s.scalars(select(Unit.code)))
    assert codes and sorted(units.units) == codes
    for code in [*codes, "nowhere", None]:
        assert commission_of(s, code, units) == commission_of(s, code), code
    commissions = sorted(s.scalars(select(Unit.code).where(Unit.kind == "commission")))
    assert len(commissions) >= 3
    for commission in commissions:
        assert roles_held(s, commission, units) == roles_held(s, commission), commission


def test_the_chart_answers_as_the_unit_by_unit_reads(db):
    with db.session() as s:
        import_organisation(s, load_file(ORGANISATION))
        s.flush()
        assert s.scalar(select(UnitLink.to_code).where(UnitLink.kind == "commission_committee")) is not None
        _same_answers(s)
        s.get(Unit, "qh_ags").active = False  # an office closed: gone from its commission's units
        s.flush()
        _same_answers(s)
        assert "qh_ags" not in set().union(*roles_held(s, "qh_cdi", chart.read(s)).values())
        s.execute(delete(UnitLink).where(UnitLink.kind == "commission_committee"))  # the 县委 unlinked
        s.flush()
        _same_answers(s)
        assert commission_of(s, "qh_xcb", chart.read(s)) is None
