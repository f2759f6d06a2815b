"""Fixtures of the use-case tests (tests/engine/usecases.py)."""

from tests.engine.usecases import services, who  # noqa: F401 - fixtures shared with the other use-case tests
