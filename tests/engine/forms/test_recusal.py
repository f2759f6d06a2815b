"""engine.forms.recusal: a people field declaring ``x-not-resident-of`` refuses a 派驻组 member for the
unit his group is stationed in or covers, with a Chinese message naming him; everyone else passes."""

from __future__ import annotations

from engine import forms
from engine.organisation.directory import import_organisation

TEAM = {
    "type": "object",
    "properties": {
        "target_unit": {"type": "string", "title": "被巡察单位", "x-options": "units:supervised_party_org"},
        "team_leader": {
            "type": "string",
            "title": "组长",
            "x-options": "users:inspection_team",
            "x-not-resident-of": "target_unit",
        },
        "team_members": {
            "type": "array",
            "title": "组员",
            "items": {"type": "string"},
            "x-options": "users:inspection_team",
            "x-not-resident-of": "target_unit",
        },
    },
}

SECONDED = [{"unit": "xcz", "role": "inspection_team"}]
COUNTY = {
    "units": [
        {"code": "pz3", "name": "派驻第三纪检监察组", "kind": "resident_group"},
        {"code": "pz5", "name": "派驻第五纪检监察组", "kind": "resident_group"},
        {"code": "xcz", "name": "第二巡察组", "kind": "inspection_team"},
        {"code": "nmj_dz", "name": "农牧局党组", "kind": "supervised_org"},
        {"code": "yy_dw", "name": "县医院党委", "kind": "supervised_org"},
        {"code": "jyj_dz", "name": "教育局党组", "kind": "supervised_org"},
    ],
    "links": [
        {"kind": "group_host", "from": "pz3", "to": "nmj_dz"},
        {"kind": "group_covers", "from": "pz5", "to": "yy_dw"},
    ],
    "users": [
        # both group heads are seconded to the 巡察组 (巡察与派驻联动)
        {"username": "liming", "name": "李明", "roles": [{"unit": "pz3", "role": "resident_group"}, *SECONDED]},
        {"username": "zhaxi", "name": "扎西", "roles": [{"unit": "pz5", "role": "resident_group"}, *SECONDED]},
        {"username": "niuli", "name": "牛丽", "roles": [{"unit": "xcz", "role": "inspection_team"}]},
        {
            "username": "host",
            "name": "书记",
            "roles": [{"unit": u, "role": "supervised_party_org"} for u in ("nmj_dz", "yy_dw", "jyj_dz")],
        },
    ],
}


def _check(db, **data):
    with db.session() as s:
        import_organisation(s, COUNTY)
        return forms.validate(TEAM, data, options=forms.resolve_options(s, TEAM))


def test_a_seconded_group_head_may_not_lead_the_round_on_his_own_host_unit(db):
    errors = _check(db, target_unit="nmj_dz", team_leader="liming", team_members=["niuli"])
    assert set(errors) == {"team_leader"}
    assert "李明：所在派驻第三纪检监察组驻在或监督农牧局党组" in errors["team_leader"]
    assert "不得参加对该单位的巡察" in errors["team_leader"]


def test_covered_units_count_as_well_and_members_are_checked_too(db):
    errors = _check(db, target_unit="yy_dw", team_leader="niuli", team_members=["niuli", "zhaxi"])
    assert set(errors) == {"team_members"} and "扎西：所在派驻第五纪检监察组" in errors["team_members"]


def test_another_unit_passes(db):
    assert _check(db, target_unit="jyj_dz", team_leader="liming", team_members=["zhaxi", "niuli"]) == {}
    assert _check(db, target_unit="nmj_dz", team_leader="zhaxi", team_members=["niuli"]) == {}
