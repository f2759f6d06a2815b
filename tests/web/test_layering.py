"""The web package only translates HTTP: no database access in the modules that already go through the engine.

Issue 11's goal is that nothing under ``web/`` imports ``sqlalchemy`` or ``engine.models``. The modules
listed here have been moved onto engine use cases; the rest follow (tasks, cockpit, studio, the API's
case views), and the list grows until it is the whole package.
"""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"

THROUGH_THE_ENGINE = [
    "__init__.py",
    "admin.py",
    "auth.py",
    "cli.py",
    "context.py",
    "health.py",
    "labels.py",
    "security.py",
    "api/__init__.py",
    "api/auth.py",
    "api/bearer.py",
    "api/common.py",
    "api/errors.py",
    "api/me.py",
]

DATABASE = re.compile(r"^\s*(from|import)\s+(sqlalchemy|engine\.models)\b", re.MULTILINE)


def test_these_web_modules_do_not_touch_the_database():
    offenders = [name for name in THROUGH_THE_ENGINE if DATABASE.search((WEB / name).read_text(encoding="utf-8"))]
    assert offenders == []


def test_one_services_accessor_for_the_whole_web_package():
    """Every view reaches the engine through web.context.services(); nobody reads app.extensions for it."""
    sources = {p.relative_to(WEB).as_posix(): p.read_text(encoding="utf-8") for p in WEB.rglob("*.py")}
    definitions = sorted(name for name, text in sources.items() if re.search(r"^def services\(", text, re.MULTILINE))
    assert definitions == ["context.py"]
    readers = sorted(name for name, text in sources.items() if 'extensions["guantong"]' in text)
    assert readers == []
