"""A web process does not load the document and spreadsheet libraries until someone prints or exports.

fpdf2 (with fontTools and Pillow), python-docx and docxtpl (with lxml) and openpyxl cost about 50 MB
resident together, a quarter of the 200 MB a web process may use on a province (issue 19). They are
imported where a PDF, a Word file or a workbook is made (engine/documents/operations.py ``_render``,
engine/cockpit/export.py ``to_xlsx``). The check runs in a fresh interpreter: this test process has long
imported them through other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONLY_WHEN_USED = ("fpdf", "fontTools", "PIL", "docx", "docxtpl", "openpyxl")

PROBE = """
import json, sys
from web import create_app
app = create_app()
client = app.test_client()
assert client.get("/login").status_code == 200
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded_after_start(tmp_path: Path) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GUANTONG_DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
        "GUANTONG_INSTANCE_DIR": str(tmp_path),
        "GUANTONG_SECRET_KEY": "start-imports-test-secret-key",
        "GUANTONG_EMBEDDED_WORKER": "off",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_application_starts_and_serves_a_page_without_the_document_libraries(tmp_path):
    loaded = _loaded_after_start(tmp_path)
    assert {"flask", "sqlalchemy", "SpiffWorkflow", "engine", "web"} <= loaded  # the probe saw a real start
    assert sorted(loaded & set(ONLY_WHEN_USED)) == []
