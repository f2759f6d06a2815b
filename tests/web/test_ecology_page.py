"""The P8 task page shows the figures gathered from P2/P5/P7 in its form and their sources beside it
(engine/cockpit/ecology.py; the seeded 研判 of tests/engine/cockpit/test_ecology.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from engine import clock
from engine.config import Config
from engine.models import AuditEvent, User
from engine.services import Services
from tests.county import PASSWORD, password_hash
from tests.engine.cockpit.test_ecology import seed_ecology, step
from tests.metrics_data import START
from tests.processes.driver import PROCESSES, Walk
from web import create_app

from .conftest import Client


@pytest.fixture
def frozen():
    with clock.frozen(START) as f:
        yield f


@pytest.fixture
def walk(db, frozen):
    return Walk(db, frozen)


@pytest.fixture
def seeded(walk, frozen):
    return seed_ecology(walk, frozen)


def inputs(html: str) -> dict[str, str]:
    """name → value of every input of the page."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value:
            found[name.group(1)] = value.group(1)
    return found


@pytest.fixture
def app(db, seeded, tmp_path):
    config = Config(
        database_url=db.url,
        processes_dir=PROCESSES,
        instance_dir=tmp_path,
        secret_key="test-secret-key-for-ecology",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    with db.session() as s:
        s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
    return create_app(services=Services(config, db=db), TESTING=True)


def test_the_case_office_page_is_filled_and_names_its_sources(app, seeded, db):
    task = step(seeded, "t_cm")
    holder = seeded.actor_for(task).username
    c = Client(app)
    assert c.login(holder, PASSWORD).status_code == 302
    page = c.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="ecology-sources"' in html
    assert "P5 · gt_p5_intake · 2024-01-01 – 2024-06-30" in html
    # the form holds the gathered rows: unit, indicator and value of each
    fields = {k: v for k, v in inputs(html).items() if k.startswith("rows.")}
    row = next(k.split(".")[1] for k, v in fields.items() if k.endswith("indicator") and v == "问题线索数")
    assert (fields[f"rows.{row}.unit"], fields[f"rows.{row}.value"]) == ("qh_nmj_dz", "3")
    # a change without a reason is refused with the field named; with one it is kept and audited
    fields[f"rows.{row}.value"] = "5"
    refused = c.post(f"/tasks/{task.id}", fields)
    assert refused.status_code == 422 and "须说明调整理由" in refused.get_data(as_text=True)
    kept = c.post(f"/tasks/{task.id}", {**fields, "adjust_reason": "纸质线索补录"})
    assert kept.status_code in (302, 303)
    with db.session() as s:
        assert (
            s.scalars(select(AuditEvent.action).where(AuditEvent.task_id == task.id)).all().count("ecology_adjusted")
            == 1
        )
