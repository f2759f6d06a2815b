"""Every path of the library, walked on the real engine (both databases when PostgreSQL is set)."""

import pytest

from .paths import PATHS
from .walks import check_walk, walk


@pytest.mark.parametrize("name", sorted(PATHS))
def test_path(db, name):
    w = walk(db, name)
    check_walk(w, name)
