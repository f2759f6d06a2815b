"""Second person's approval as the engine's own API (三员分立): a studio deploy and a reveal-role grant are
stored pending and take effect only when a different, authorised person approves; the requester never
decides his own; a rejection needs a reason; a request that can no longer be applied stays pending."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.access import sanyuan
from engine.approvals import operations as approvals
from engine.definitions import operations as studio
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import ApprovalRequest, AuditEvent, DefinitionFile, DefinitionVersion, User
from engine.organisation import operations as org

FILE = "clue_simple.bpmn"


def _stored(services, version_id=1) -> str:
    with services.db.session() as s:
        return s.scalar(
            select(DefinitionFile.content).where(
                DefinitionFile.version_id == version_id, DefinitionFile.filename == FILE
            )
        )


def _versions(services) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count(DefinitionVersion.id)))


def _events(services, action):
    with services.db.session() as s:
        return [(e.actor, e.detail) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def _ask_deploy(county, who, name="登记问题线索", **kwargs):
    return studio.request_deploy(
        county, who("admin"), FILE, _stored(county).replace('name="登记线索"', f'name="{name}"'), **kwargs
    )


def test_a_deploy_takes_effect_only_when_a_security_administrator_approves(county, who):
    asked = _ask_deploy(county, who, comment="改名")
    assert (asked.based_on, _versions(county)) == (1, 1)
    assert _events(county, "approval_requested")[0][1]["filename"] == FILE
    assert "content" not in _events(county, "approval_requested")[0][1]  # the file is in the request, not the trail
    # Neither the designer himself, nor the audit administrator, nor the commission's secretary approves a deploy.
    with pytest.raises(Forbidden) as refused:
        approvals.approve(county, who("admin"), asked.request_id)
    assert refused.value.details["reason"] == sanyuan.OWN_REQUEST
    with pytest.raises(NotFound):  # the secretary decides reveal grants; he does not even see a deploy request
        approvals.approve(county, who("boss"), asked.request_id)
    with pytest.raises(Forbidden) as refused:
        approvals.approve(county, who("auditadmin"), asked.request_id)
    assert refused.value.details["reason"] == sanyuan.APPROVALS_ONLY
    assert _versions(county) == 1
    detail = approvals.show_request(county, who("secadmin"), asked.request_id)
    assert detail.request.may_decide and any("登记问题线索" in line for line in detail.diff)
    assert approvals.show_request(county, who("admin"), asked.request_id).refusal == sanyuan.OWN_REQUEST
    done = approvals.approve(county, who("secadmin"), asked.request_id)
    assert dict(done.result) == {"version": 2, "created": True, "based_on": 1}
    with county.db.session() as s:
        version = s.get(DefinitionVersion, 2)
        assert (version.created_by, version.comment) == ("admin", "改名")
    [(actor, detail_)] = [e for e in _events(county, "deployed") if e[1].get("request")]
    assert (actor, detail_["requested_by"], detail_["approved_by"]) == ("admin", "admin", "secadmin")
    with pytest.raises(Conflict):  # decided once
        approvals.approve(county, who("secadmin2"), asked.request_id)


def test_a_request_that_can_no_longer_apply_stays_pending_for_a_rejection(county, who):
    original = _stored(county)
    import hashlib

    base = hashlib.sha256(original.encode()).hexdigest()
    first = _ask_deploy(county, who, name="登记一", base_sha=base)
    second = _ask_deploy(county, who, name="登记二", base_sha=base)
    approvals.approve(county, who("secadmin"), first.request_id)
    # The second was opened from version 1's file, which version 2 changed since: a conflict, nothing changes.
    with pytest.raises(Conflict):
        approvals.approve(county, who("secadmin"), second.request_id)
    assert _versions(county) == 2
    [pending] = approvals.list_requests(county, who("secadmin")).pending
    assert pending.id == second.request_id
    with pytest.raises(ValidationError) as refused:
        approvals.reject(county, who("secadmin"), second.request_id, reason="  ")
    assert refused.value.fields == {"reason": org.REQUIRED}
    done = approvals.reject(county, who("secadmin"), second.request_id, reason="基于旧版本，请重新修改")
    assert (done.decision, done.reason, done.decided_by) == ("rejected", "基于旧版本，请重新修改", "secadmin")
    assert _events(county, "approval_rejected")[0][1]["reason"] == "基于旧版本，请重新修改"
    assert _versions(county) == 2


def test_who_sees_which_requests(county, who):
    deploy = _ask_deploy(county, who)
    so2 = county_user_id(county, "so2")
    org.add_membership(county, who("secadmin"), so2, unit="cdi", role="commission_secretary")
    ids = lambda person: [r.id for r in approvals.list_requests(county, who(person)).pending]  # noqa: E731
    grant = next(i for i in ids("secadmin") if i != deploy.request_id)
    assert ids("secadmin") == [deploy.request_id, grant] and ids("secadmin2") == [deploy.request_id, grant]
    assert ids("admin") == [deploy.request_id]  # the designer: his own deploy
    assert ids("boss") == [grant]  # the commission's secretary: the reveal grants he may decide
    with pytest.raises(NotFound):
        approvals.show_request(county, who("boss"), deploy.request_id)
    for person in ("cm1", "so2", "auditadmin"):
        with pytest.raises(Forbidden) as refused:
            approvals.list_requests(county, who(person))
        assert refused.value.details["reason"] == sanyuan.APPROVALS_ONLY
    # The commission's secretary approves the grant; it is not his own request nor a grant to himself.
    approvals.approve(county, who("boss"), grant)
    assert "commission_secretary" in who("so2").roles
    assert [r.id for r in approvals.list_requests(county, who("boss")).decided] == [grant]


def test_nobody_approves_a_grant_to_himself(county, who):
    secadmin2 = county_user_id(county, "secadmin2")
    with county.db.session() as s:  # a security administrator who is, exceptionally, being given a role
        s.get(User, secadmin2).admin_kind = None
    assert org.add_membership(county, who("secadmin"), secadmin2, unit="xfs", role="petition_office") == org.PENDING
    with county.db.session() as s:
        s.get(User, secadmin2).admin_kind = "security"
    [grant] = approvals.list_requests(county, who("secadmin")).pending
    with pytest.raises(Forbidden) as refused:
        approvals.approve(county, who("secadmin2"), grant.id)
    assert refused.value.details["reason"] == sanyuan.OWN_GRANT
    # Made an administrator since: approving it would put a working role on an administrator account.
    with pytest.raises(ValidationError):
        approvals.approve(county, who("boss"), grant.id)
    with county.db.session() as s:
        assert s.get(ApprovalRequest, grant.id).decision is None


def county_user_id(county, username: str) -> int:
    with county.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))
