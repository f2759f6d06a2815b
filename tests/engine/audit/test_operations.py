"""Reading the audit trail (三员分立): the audit administrator's alone, filtered and paged, with the last
verification's result."""

from __future__ import annotations

import pytest

from engine.access import sanyuan
from engine.audit.operations import audit_trail
from engine.errors import Forbidden

from .conftest import write_events


def test_only_the_audit_administrator_reads_the_trail(county, who):
    for person in ("admin", "secadmin", "boss", "cm1"):
        with pytest.raises(Forbidden) as refused:
            audit_trail(county, who(person))
        assert refused.value.details["reason"] == sanyuan.AUDIT_ADMIN_ONLY


def test_the_trail_newest_first_filtered_and_paged(county, who):
    write_events(county.db, 5)
    auditor = who("auditadmin")
    page = audit_trail(county, auditor, action="completed", per_page=2)
    assert (page.total, page.pages, page.page) == (5, 3, 1)
    assert [e.actor for e in page.events] == ["officer4", "officer3"]
    assert page.events[0].detail == {"decision": "同意"} and page.events[0].instance_id == 1
    assert "completed" in page.actions
    last = audit_trail(county, auditor, action="completed", per_page=2, page=99)
    assert last.page == 3 and [e.actor for e in last.events] == ["officer0"]
    assert audit_trail(county, auditor, actor="officer2").total == 1
    assert audit_trail(county, auditor, actor="nobody").total == 0
    assert not page.integrity.verified and page.integrity.ok  # ``guantong audit verify`` never ran here
