"""The use-case tests' county services (tests/engine/usecases.py), for the addressing tests."""

from tests.engine.usecases import services  # noqa: F401 - a fixture shared with the other use-case tests
