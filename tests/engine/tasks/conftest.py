"""Fixtures of the use-case tests (tests/engine/usecases.py)."""

from tests.engine.usecases import services, who  # noqa: F401 - fixtures shared with the other use-case tests
from tests.s3 import s3_server  # noqa: F401 - the S3 server of the attachment store tests
