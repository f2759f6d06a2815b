"""Linked instances of one case: recorded as instances start or acquire a number, readable in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access.principal import load_principal
from engine.instances import cases
from engine.models import CaseFile, CaseReference
from tests.engine.linked_case import investigated_case, linked_services


@pytest.fixture
def services(db, repo, library, tmp_path):
    return linked_services(db, repo, library, tmp_path)


@pytest.fixture
def who(services):
    def load(username):
        with services.db.session() as s:
            return load_principal(s, username)

    return load


def refs(services, instance_id):
    with services.db.session() as s:
        return {
            (r.kind, r.value) for r in s.scalars(select(CaseReference).where(CaseReference.instance_id == instance_id))
        }


def test_numbers_link_the_clue_and_the_later_case(services, who):
    clue, review = investigated_case(services, who)
    # the clue instance acquired the case number at its proposal; the review came with it
    assert refs(services, clue) == {("clue_no", "XS-9"), ("case_no", "LA-1")}
    assert refs(services, review) == {("case_no", "LA-1")}
    with services.db.session() as s:
        assert cases.linked_instances(s, clue) == cases.linked_instances(s, review) == {clue, review}
        assert cases.case_id_of(s, clue) == cases.case_id_of(s, review)
        # one indexed read in plain SQL: the rows of the same case
        case_id = cases.case_id_of(s, review)
        assert set(s.scalars(select(CaseReference.instance_id).where(CaseReference.case_id == case_id))) == {
            clue,
            review,
        }
        assert [i.id for i in cases.linked_view(s, review)] == [clue, review]


def test_a_number_that_joins_two_cases_merges_them(services, who):
    """An appeal registered under the case number before the clue instance reached it: one case after all."""
    runtime = services.runtime
    review = runtime.start(
        "gt_test_review", actor=who("so1lead"), data={"case_no": "LA-7", "handling_unit": "jc1"}
    ).instance_id
    clue = runtime.start("gt_test_clue", actor=who("cm1"), data={"clue_no": "XS-7"}).instance_id
    with services.db.session() as s:
        assert cases.case_id_of(s, clue) != cases.case_id_of(s, review)
        assert s.scalar(select(CaseFile.label).where(CaseFile.id == cases.case_id_of(s, clue))) == "XS-7"
    with services.db.session() as s:
        cases.note(s, clue, {"clue_no": "XS-7", "case_no": "LA-7"}, "")
    with services.db.session() as s:
        assert cases.linked_instances(s, clue) == {clue, review}


def test_numbers_are_scoped_by_the_owning_commission(services, who):
    """Two counties may both have a clue XS-1: the same number in another commission is another case."""
    ids = [
        services.runtime.start("gt_test_review", actor=who("so1lead"), data={"handling_unit": "jc1"}).instance_id
        for _ in range(3)
    ]
    with services.db.session() as s:
        a = cases.note(s, ids[0], {"clue_no": "XS-1"}, "county_a")
        b = cases.note(s, ids[1], {"clue_no": "XS-1"}, "county_b")
        c = cases.note(s, ids[2], {"clue_no": "XS-1"}, "county_a")
        assert a == c != b
        assert cases.note(s, ids[0], {"clue_no": "XS-1"}, "county_a") == a  # nothing new: the same case


def test_the_scope_is_the_owning_commission_in_the_data():
    refs, scope = cases.carried([{"clue_no": " XS-3 ", "commission_unit": "qh_cdi"}, {"case_no": "LA-3"}])
    assert refs == {"clue_no": "XS-3", "case_no": "LA-3"} and scope == "qh_cdi"
    assert cases.carried([{"clue_no": ""}, {}]) == ({}, "")


def test_an_instance_started_by_a_case_instance_joins_its_case(services, who):
    clue, _review = investigated_case(services, who)
    child = services.runtime.start(
        "gt_test_review", actor=who("so1lead"), data={"handling_unit": "jc1"}, parent_instance_id=clue
    ).instance_id
    assert refs(services, child) == {("parent", str(clue))}
    with services.db.session() as s:
        assert child in cases.linked_instances(s, clue)


def test_an_instance_without_numbers_is_its_own_case(services, who):
    lone = services.runtime.start("gt_test_review", actor=who("so1lead"), data={"handling_unit": "jc1"}).instance_id
    assert refs(services, lone) == set()
    with services.db.session() as s:
        assert cases.linked_instances(s, lone) == {lone}
        assert cases.case_id_of(s, lone) is None
