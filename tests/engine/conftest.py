"""Engine fixtures: the shared test county (tests/county.py) on the engine's own, without a web app."""

from __future__ import annotations

import pytest

from engine.access.principal import load_principal
from tests.county import county_services


@pytest.fixture
def county(db, deployed, tmp_path):
    """Services with the test library deployed and the test county imported."""
    return county_services(db, tmp_path, "test-secret-key-for-engine")


@pytest.fixture
def person(county):
    """The principal of a county user, as the web would load it for a request."""

    def load(username: str):
        with county.db.session() as s:
            return load_principal(s, username)

    return load
