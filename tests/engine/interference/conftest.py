"""Fixtures of the interference register's tests: the use-case county plus the register's people."""

import pytest

from tests.engine.interference.people import add_register_people
from tests.engine.usecases import services, who  # noqa: F401 - fixtures shared with the other use-case tests


@pytest.fixture(autouse=True)
def register_people(services):  # noqa: F811 - the shared fixture, extended
    add_register_people(services)
