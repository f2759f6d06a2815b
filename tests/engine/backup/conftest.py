"""Fixtures of the backup tests: the use-case county (tests/engine/usecases.py)."""

from tests.engine.usecases import services, who  # noqa: F401 - shared fixtures
