"""The prefecture → county relation of the demo organisation: a county commission's ``parent`` is its
prefecture's. Commissions under one another, never siblings; a commission's own units stop at the
commissions below it, so a prefecture never takes its counties' offices as its own."""

from __future__ import annotations

import yaml

from engine.organisation.directory import (
    commission_of,
    commissions_under,
    import_organisation,
    load_file,
    owner_units,
    roles_held,
)
from tests.processes.driver import ORGANISATION, PROCESSES


def _roles() -> dict:
    return {r["code"]: r for r in yaml.safe_load((PROCESSES / "roles.yaml").read_text(encoding="utf-8"))["roles"]}


def test_the_prefecture_holds_its_counties_and_a_county_only_itself(db):
    with db.session() as s:
        import_organisation(s, load_file(ORGANISATION))
        assert commissions_under(s, ["hnz_cdi"]) == {"hnz_cdi", "qh_cdi", "gh_cdi"}
        assert commissions_under(s, ["qh_cdi"]) == {"qh_cdi"}
        assert commissions_under(s, ["gh_cdi"]) == {"gh_cdi"}
        assert commissions_under(s, ["qh_ags", "nowhere"]) == set()  # not commissions
        assert (commission_of(s, "qh_ags"), commission_of(s, "gh_ags"), commission_of(s, "qh_xcb")) == (
            "qh_cdi",
            "gh_cdi",
            "qh_cdi",  # a unit of 县委, through the commission_committee link
        )


def test_a_commissions_own_units_stop_at_the_commissions_below_it(db):
    with db.session() as s:
        import_organisation(s, load_file(ORGANISATION))
        assert roles_held(s, "hnz_cdi") == {"leader_in_charge": {"hnz_cdi"}}
        assert owner_units(s, "hnz_cdi", _roles()) == {"commission_unit": "hnz_cdi"}
        assert owner_units(s, "gh_cdi", _roles()) == {"case_management_unit": "gh_ags"}
        assert owner_units(s, "qh_cdi", _roles())["case_management_unit"] == "qh_ags"
        assert "gh_jc1" not in set().union(*roles_held(s, "qh_cdi").values())
