"""The properties panel's server side (issue 17): what it offers comes from the deployed version
(forms with the fields the process reads, deadlines with their length and rule, roles, unit
variables), designers only; and the spiffworkflow moddle package the panel edits with keeps every
extension element of every library file through bpmn-js's read and write."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.definitions import panel
from engine.errors import Forbidden, NotFound

ROOT = Path(__file__).resolve().parents[2]
FILE = "clue_simple.bpmn"


def test_choices_come_from_the_version(services, who):
    said = panel.choices(services, who("admin"), 1)
    forms = {f["key"]: f for f in said.forms}
    assert set(forms) == {"approve", "propose", "register"}
    assert forms["propose"]["title"] == "处置意见"
    read = [f["name"] for f in forms["propose"]["fields"] if f["process"]]
    assert read == ["disposal"]  # only x-process fields are copied into the process data
    deadlines = {d["key"]: d for d in said.deadlines}
    assert deadlines["reply"]["length"] == {"unit": "workdays", "n": 15}
    assert deadlines["propose"]["basis"] == "test"
    assert [s["key"] for s in said.schedules] == ["monthly"]
    roles = {r["name"]: r for r in said.roles}
    assert roles["监督检查室"]["code"] == "supervision_office"
    assert "handling_unit" in said.unit_vars  # named by a deployed task
    assert said.stages == ["goal", "discover", "dispose", "rectify"]
    assert said.platforms[0] == "P1" and said.platforms[-1] == "M"
    assert "handover_result" in said.messages
    json.dumps(said.as_dict(), ensure_ascii=False)  # embedded as JSON by the edit page


def test_choices_for_designers_only_and_a_missing_version(services, who):
    with pytest.raises(Forbidden):
        panel.choices(services, who("cm1"), 1)
    with pytest.raises(NotFound):
        panel.choices(services, who("admin"), 99)


def test_edit_page_embeds_choices_and_translated_texts(client_for):
    admin = client_for("admin")
    html = admin.get(f"/studio/edit/{FILE}").get_data(as_text=True)
    assert "studio-properties.js" in html and "properties-panel.js" in html
    choices, texts = _embedded(html, "panel-choices"), _embedded(html, "panel-texts")
    assert [d["key"] for d in choices["deadlines"]] == ["propose", "reply"]
    assert texts["group.due"] == "贯通 · 办理时限"
    assert "监督执纪" not in texts["help.dueIn"]  # the help quotes the library's rule, not a case
    admin.post("/locale", data={"locale": "en"})
    english = _embedded(admin.get(f"/studio/edit/{FILE}").get_data(as_text=True), "panel-texts")
    assert english["group.due"] == "Guantong · Time limit"
    assert english["unit.workdays"] == "{n} working days"  # the panel fills {n} in


def _embedded(html: str, element_id: str):
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_every_library_file_keeps_its_spiffworkflow_elements_and_loop_collections_through_the_modeler():
    if not (ROOT / "node_modules" / "bpmn-moddle").exists():
        pytest.skip("node_modules missing: run `make setup`")
    files = sorted(str(p) for p in (ROOT / "processes" / "bpmn").glob("*.bpmn"))
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "web" / "spiff_roundtrip.mjs"), *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(files) > 20
    bad = [r for r in results if not (r["same_elements"] and r["same_properties"] and r["same_loops"]) or r["warnings"]]
    assert bad == []
    assert sum(r["elements"] for r in results) > 1500
    # the multi-instance collections named by a variable (gt_p5_verify's team, …) survive too
    assert sum(r["loops"] for r in results) == sum(r["restored"] for r in results) > 10
