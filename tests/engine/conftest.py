"""Engine fixtures: the shared test county (tests/county.py) on the engine's own, without a web app."""

from __future__ import annotations

import pytest

from tests.county import county_services


@pytest.fixture
def county(db, deployed, tmp_path):
    """Services with the test library deployed and the test county imported."""
    return county_services(db, tmp_path, "test-secret-key-for-engine")
