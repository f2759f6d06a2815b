"""The cockpit warns its overseers while the audit trail's last verification has failed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.access.principal import load_principal
from engine.audit import guard
from engine.audit.operations import audit_integrity
from engine.audit.verify import verify
from engine.errors import Forbidden
from engine.models import AuditEvent


def _page(client, path="/cockpit/"):
    resp = client.http.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_the_cockpit_warns_after_a_failed_verification_and_stops_when_it_passes(services, client_for, tmp_path):
    boss = client_for("boss")
    assert 'data-testid="audit-warning"' not in _page(boss)  # never verified: nothing to warn of
    assert verify(services.db).ok
    assert 'data-testid="audit-warning"' not in _page(boss)

    with services.db.session() as s:
        target = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
    with services.db.engine.begin() as conn:
        guard.remove(conn)
        conn.execute(AuditEvent.__table__.update().where(AuditEvent.id == target.id).values(actor="someone_else"))
    try:
        assert verify(services.db).problem.event_id == target.id
        page = _page(boss, "/cockpit/deadlines")
        assert 'data-testid="audit-warning"' in page
        assert f"事件 #{target.id}" in page and "被修改" in page
        english = client_for("boss")
        english.post("/locale", data={"locale": "en"})
        assert "Audit trail verification failed" in _page(english)
        # an officer outside the cockpit's audience is told nothing
        with services.db.session() as s:
            officer = load_principal(s, "so1")
        with pytest.raises(Forbidden):
            audit_integrity(services, officer)
    finally:
        with services.db.engine.begin() as conn:
            conn.execute(AuditEvent.__table__.update().where(AuditEvent.id == target.id).values(actor=target.actor))
            guard.install(conn)
    assert verify(services.db).ok
    assert 'data-testid="audit-warning"' not in _page(boss)
