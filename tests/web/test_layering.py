r"""The web package only translates HTTP: nothing under ``web/`` reaches the database layer.

Pages and the API call one engine use case per action (engine/<domain>/operations.py); that is what
makes them answer alike and lets need-to-know rules live in one place. The check is the issue's own
``grep -rlE "sqlalchemy|engine\.models" web/`` over every file of the package (code and templates),
except the vendored front-end assets copied from npm.
"""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
DATABASE = re.compile(r"sqlalchemy|engine\.models")


def test_nothing_under_web_mentions_the_database_layer():
    files = [p for p in WEB.rglob("*") if p.is_file() and "vendor" not in p.relative_to(WEB).parts]
    assert len(files) > 50  # the whole package is read, not an empty folder
    offenders = sorted(
        p.relative_to(WEB).as_posix()
        for p in files
        if p.suffix not in {".mo", ".png", ".ico"} and DATABASE.search(p.read_text(encoding="utf-8", errors="replace"))
    )
    assert offenders == []


def test_one_services_accessor_for_the_whole_web_package():
    """Every view reaches the engine through web.context.services(); nobody reads app.extensions for it."""
    sources = {p.relative_to(WEB).as_posix(): p.read_text(encoding="utf-8") for p in WEB.rglob("*.py")}
    definitions = sorted(name for name, text in sources.items() if re.search(r"^def services\(", text, re.MULTILINE))
    assert definitions == ["context.py"]
    readers = sorted(name for name, text in sources.items() if 'extensions["guantong"]' in text)
    assert readers == []
