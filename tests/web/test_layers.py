"""Views only translate HTTP to use cases (engine/*/operations.py): no database access under web/.

The modules listed here are converted; the rest of web/ joins the list as its use cases move into
the engine (issue 11), until the whole package passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
CONVERTED = (
    "tasks.py",
    "usecases.py",
    "api/tasks.py",
    "api/instances.py",
    "api/definitions.py",
    "api/messages.py",
    "cockpit/instances.py",
)
FORBIDDEN = re.compile(r"^\s*(from|import)\s+(sqlalchemy|engine\.models)\b", re.MULTILINE)


@pytest.mark.parametrize("name", CONVERTED)
def test_view_modules_import_no_database_layer(name):
    source = (WEB / name).read_text(encoding="utf-8")
    assert not FORBIDDEN.findall(source), f"web/{name} reaches into the database layer"
