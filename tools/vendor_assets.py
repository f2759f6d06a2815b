"""Copy the built front-end files Guantong serves from node_modules into web/static/vendor.

Only the distribution files are copied (no source maps of other packages, no node_modules tree), so
what the browser loads is exactly what is listed here. One file is built rather than copied: the
properties panel (``BUNDLES``). bpmn-js-properties-panel's UMD file holds the panel modules but not the
entry components and the preact instance a provider of our own needs, so esbuild (an npm
devDependency, its binary from the registry package) bundles tools/frontend/properties-panel.js into one
script with one global, offline, at ``make setup``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "web" / "static" / "vendor"

FILES = {
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons/bootstrap-icons.min.css",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff2": "bootstrap-icons/fonts/bootstrap-icons.woff2",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff": "bootstrap-icons/fonts/bootstrap-icons.woff",
    "bpmn-js/dist/bpmn-viewer.production.min.js": "bpmn-js/bpmn-viewer.production.min.js",
    "bpmn-js/dist/bpmn-modeler.production.min.js": "bpmn-js/bpmn-modeler.production.min.js",
    "bpmn-js/dist/assets/diagram-js.css": "bpmn-js/assets/diagram-js.css",
    "bpmn-js/dist/assets/bpmn-js.css": "bpmn-js/assets/bpmn-js.css",
    "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn-js/assets/bpmn-font/css/bpmn.css",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2": "bpmn-js/assets/bpmn-font/font/bpmn.woff2",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff": "bpmn-js/assets/bpmn-font/font/bpmn.woff",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "@bpmn-io/properties-panel/dist/assets/properties-panel.css": "bpmn-js-properties-panel/properties-panel.css",
}
# entry under tools/frontend -> bundle under web/static/vendor
BUNDLES = {
    "tools/frontend/properties-panel.js": "bpmn-js-properties-panel/properties-panel.js",
}
ESBUILD = NODE / ".bin" / "esbuild"


def build(entry: str, target: Path) -> None:
    """One minified IIFE script, licence comments kept at its end (MIT requires the notices)."""
    subprocess.run(
        [
            str(ESBUILD),
            str(ROOT / entry),
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2019",
            "--legal-comments=eof",
            "--log-level=warning",
            f"--outfile={target}",
        ],
        check=True,
        cwd=ROOT,
    )


def main() -> int:
    missing = [src for src in FILES if not (NODE / src).exists()]
    if not ESBUILD.exists():
        missing.append(".bin/esbuild")
    if missing:
        print("missing front-end files (run npm install):\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    for src, dst in FILES.items():
        target = VENDOR / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
    for entry, dst in BUNDLES.items():
        target = VENDOR / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        build(entry, target)
    print(f"copied {len(FILES)} front-end files and built {len(BUNDLES)} to {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
