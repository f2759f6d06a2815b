"""Every process renders in a real browser with bpmn-js: no import error, no warning, one screenshot each.

The page loads the vendored viewer (web/static/vendor/bpmn-js, from npm) over file://, imports each
processes/bpmn/*.bpmn (the files designers edit: the studio's modeler imports them the same way) and
reports what bpmn-js said; the canvas is saved to docs/processes/<id>.png. Each file re-drawn by
tools/bpmn_layout/relayout.py is imported too, in the same browser, so the layout tool never hands a
designer a file the modeler complains about.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from .driver import BPMN_FILES, NS, ROOT

_spec = importlib.util.spec_from_file_location("relayout", ROOT / "tools" / "bpmn_layout" / "relayout.py")
assert _spec and _spec.loader
_relayout_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_relayout_module)
relayout = _relayout_module.relayout

VIEWER = ROOT / "web" / "static" / "vendor" / "bpmn-js" / "bpmn-viewer.production.min.js"
CHROMIUM = Path("/usr/bin/chromium")
DOCS = ROOT / "docs" / "processes"  # refreshed when UPDATE_SCREENSHOTS=1, so a test run leaves the tree clean

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;background:#fff;font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif}
#canvas{width:%(w)dpx;height:%(h)dpx}</style>
<script src="%(viewer)s"></script></head><body><div id="canvas"></div>
<script>
window.render = async function (xml) {
  const viewer = new BpmnJS({container: '#canvas'});
  try {
    const result = await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
    return {ok: true, warnings: result.warnings.map(w => w.message)};
  } catch (err) {
    return {ok: false, error: String(err && err.message || err), warnings: (err.warnings || []).map(w => w.message)};
  }
};
</script></body></html>"""


def _size(path: Path) -> tuple[int, int]:
    root = etree.parse(str(path)).getroot()
    xs, ys = [0.0], [0.0]
    for b in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"):
        xs.append(float(b.get("x")) + float(b.get("width")))
        ys.append(float(b.get("y")) + float(b.get("height")))
    return int(min(max(xs) + 60, 4000)), int(min(max(ys) + 60, 3000))


def _loop_refs(path: Path) -> set[str]:
    """Variable names SpiffWorkflow reads from task data in multi-instance loops (loopDataInput/OutputRef).

    SpiffWorkflow (like its own modeler) names a task-data variable there, not a declared BPMN data
    element, so bpmn-js reports "unresolved reference <name>". Declaring them (ioSpecification or data
    objects) would change what SpiffWorkflow copies in and out of the task, so this one warning, for
    exactly these names, is expected; any other warning fails the test.
    """
    root = etree.parse(str(path)).getroot()
    return {
        e.text.strip()
        for tag in ("loopDataInputRef", "loopDataOutputRef")
        for e in root.iter(f"{{{NS['bpmn']}}}{tag}")
        if e.text
    }


def _process_id(path: Path) -> str:
    return etree.parse(str(path)).getroot().find("bpmn:process", NS).get("id")


@pytest.mark.browser
@pytest.mark.slow
def test_every_process_renders_in_bpmn_js(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: install Debian's chromium to render the processes")
    if not VIEWER.exists():
        pytest.skip(f"{VIEWER.relative_to(ROOT)} is missing: run .venv/bin/python tools/vendor_assets.py")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    OUT = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "shots"
    OUT.mkdir(parents=True, exist_ok=True)
    viewer = tmp_path / "bpmn-viewer.js"
    shutil.copy(VIEWER, viewer)
    problems = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            for path in BPMN_FILES:
                w, h = _size(path)
                page_file = tmp_path / f"{path.stem}.html"
                page_file.write_text(PAGE % {"w": w, "h": h, "viewer": viewer.name}, encoding="utf-8")
                page = browser.new_page(viewport={"width": w, "height": h})
                errors = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                page.on(
                    "console",
                    lambda msg, errors=errors: errors.append(msg.text) if msg.type in ("error", "warning") else None,
                )
                page.goto(page_file.as_uri())
                result = page.evaluate("xml => window.render(xml)", path.read_text(encoding="utf-8"))
                expected = {f"unresolved reference <{name}>" for name in _loop_refs(path)}
                result["warnings"] = [w for w in result["warnings"] if w not in expected]
                if not result["ok"] or result["warnings"] or errors:
                    problems[path.name] = {**result, "console": errors}
                page.locator("#canvas").screenshot(path=str(OUT / f"{_process_id(path)}.png"))
                redrawn = page.evaluate("xml => window.render(xml)", relayout(path.read_bytes()).decode("utf-8"))
                redrawn["warnings"] = [w for w in redrawn["warnings"] if w not in expected]
                if not redrawn["ok"] or redrawn["warnings"]:
                    problems[f"{path.name} (relayout.py)"] = redrawn
                page.close()
        finally:
            browser.close()
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert {f.stem for f in OUT.glob("*.png")} >= {_process_id(p) for p in BPMN_FILES}


MODELER = ROOT / "web" / "static" / "vendor" / "bpmn-js" / "bpmn-modeler.production.min.js"
KEEP_LOOP_REFS = ROOT / "web" / "static" / "js" / "loop-refs.js"  # what the studio's modeler runs after import
MODELER_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="%(modeler)s"></script><script src="%(keep)s"></script></head><body><div id="canvas" style="width:1600px;height:900px"></div>
<script>
window.roundtrip = async function (xml) {
  const modeler = new BpmnJS({container: '#canvas'});
  try {
    const result = await modeler.importXML(xml);
    const kept = window.gtRestoreLoopRefs(modeler.get("moddle"), result.warnings);
    const saved = await modeler.saveXML({format: true});
    return {ok: true, warnings: result.warnings.map(w => w.message), kept: kept, xml: saved.xml};
  } catch (err) {
    return {ok: false, error: String(err && err.message || err), warnings: (err.warnings || []).map(w => w.message)};
  } finally {
    modeler.destroy();
  }
};
</script></body></html>"""
# What the engine reads from a file, element by element: a save from the studio's modeler must keep all of it.
EXECUTED = (
    "conditionExpression",
    "script",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopDataInputRef",
    "loopDataOutputRef",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}messagePayload",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}messageVariable",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}instructionsForEndUser",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}preScript",
    "{http://spiffworkflow.org/bpmn/schema/1.0/core}postScript",
)
SKIP_ATTRIBUTES = {"id"}
# BPMN's defaults: the modeler writes an attribute only when it differs from its default, as the standard allows.
DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "isSequential": "false", "parallelMultiple": "false"}


def _facts(root) -> dict[str, tuple]:
    """Every element with an id: its kind, attributes (references included), properties and executed texts."""
    facts = {}
    for el in root.iter():
        if (
            not isinstance(el.tag, str)
            or not el.get("id")
            or el.tag.startswith("{http://www.omg.org/spec/BPMN/20100524/DI}")
        ):
            continue
        props = tuple(
            sorted(
                (p.get("name"), p.get("value"))
                for p in el.iterfind("bpmn:extensionElements/{*}properties/{*}property", NS)
            )
        )
        texts = []
        for tag in EXECUTED:
            path = tag if tag.startswith("{") else f"bpmn:{tag}"
            for found in [*el.iterfind(path, NS), *el.iterfind(f"bpmn:extensionElements/{path}", NS)]:
                texts.append((tag, (found.text or "").strip()))
            for definition in el.iterfind("{*}timerEventDefinition", NS):
                for found in definition.iterfind(path, NS):
                    texts.append((tag, (found.text or "").strip()))
            for definition in el.iterfind("{*}messageEventDefinition", NS):
                for found in definition.iterfind(f"bpmn:extensionElements/{path}", NS):
                    texts.append((tag, (found.text or "").strip()))
        attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if k not in SKIP_ATTRIBUTES and DEFAULTS.get(k) != v))
        facts[el.get("id")] = (etree.QName(el).localname, attrs, props, tuple(sorted(texts)))
    return facts


@pytest.mark.browser
def test_the_studio_modeler_opens_and_saves_every_process_unchanged(tmp_path):
    """The studio's modeler (bpmn-modeler, the same build) imports each file and saves it with everything
    the engine executes intact: properties, conditions, scripts, timers, payloads, loop references.
    So a designer who opens a file in the studio and saves it changes only what he edited."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: install Debian's chromium to open the processes")
    if not MODELER.exists():
        pytest.skip(f"{MODELER.relative_to(ROOT)} is missing: run .venv/bin/python tools/vendor_assets.py")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    shutil.copy(MODELER, tmp_path / "bpmn-modeler.js")
    page_file = tmp_path / "modeler.html"
    shutil.copy(KEEP_LOOP_REFS, tmp_path / "keep.js")
    page_file.write_text(MODELER_PAGE % {"modeler": "bpmn-modeler.js", "keep": "keep.js"}, encoding="utf-8")
    problems = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_file.as_uri())
            for path in BPMN_FILES:
                result = page.evaluate("xml => window.roundtrip(xml)", path.read_text(encoding="utf-8"))
                expected = {f"unresolved reference <{name}>" for name in _loop_refs(path)}
                warnings = [w for w in result["warnings"] if w not in expected]
                if result["ok"] and result["kept"] != len(result["warnings"]) - len(warnings):
                    problems[path.name] = {"loop references kept": result["kept"], "warnings": result["warnings"]}
                    continue
                if not result["ok"] or warnings:
                    problems[path.name] = {**result, "warnings": warnings}
                    continue
                saved = etree.fromstring(result["xml"].encode("utf-8"))
                VALIDATOR.validate(saved, path.name)
                parser = SpiffBpmnParser()
                parser.add_bpmn_xml(saved, filename=path.name)
                parser.get_spec(_process_id(path))
                before, after = _facts(etree.parse(str(path)).getroot()), _facts(saved)
                lost = {k: (before[k], after.get(k)) for k in before if before[k] != after.get(k)}
                if lost:
                    problems[path.name] = {"changed by a save": dict(list(lost.items())[:5]), "count": len(lost)}
        finally:
            browser.close()
    assert not errors, errors
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1, default=str)
