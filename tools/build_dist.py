"""``make dist``: one archive that installs Guantong on a machine without network (内网).

dist/guantong-<version>-offline.tar.gz holds:

- ``wheels/``: the Guantong wheel (templates, the built static assets under web/static/vendor and the
  compiled translations inside it) and a wheel of every runtime dependency for the target Python,
  at the versions of the virtualenv it was built in (the ones the tests ran on), dev tools left out;
- ``processes/``: the process library to deploy (``guantong deploy``);
- ``install.sh`` and ``INSTALL.md``: a virtualenv under a prefix, ``pip install --no-index``, an
  environment file and a ``bin/guantong`` that reads it.

Wheels come from pip's cache when they are there (the network is only needed on the building machine).
For another target Python or platform than the building one, ``--python-version 3.12 --platform
manylinux2014_x86_64`` fetches binary wheels only (``pip download --only-binary=:all:``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the Guantong wheel is built from: a clean copy of these, so no stale build/ directory leaks in.
SOURCES = ("pyproject.toml", "README.md", "engine", "web", "demo")
# The extras every offline archive carries: an intranet has no index to fetch them from later.
EXTRAS = "s3"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".stamp*")


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def check_assets() -> None:
    """The wheel must carry what ``make setup`` builds: refuse to pack an archive that would serve
    pages without their scripts or English without its catalogue."""
    missing = []
    vendor = ROOT / "web" / "static" / "vendor"
    if not vendor.is_dir() or not any(p.is_file() for p in vendor.rglob("*.js")):
        missing.append("web/static/vendor (run: make setup, or python tools/vendor_assets.py)")
    for po in (ROOT / "web" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            missing.append(f"{mo.relative_to(ROOT)} (run: python tools/compile_translations.py)")
    if missing:
        raise SystemExit("make dist: missing built assets:\n  " + "\n  ".join(missing))


def run(args: list[str], **kwargs) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run(args, check=True, **kwargs)


def pinned_versions(python: str) -> str:
    """``name==version`` of every distribution in the building virtualenv (not Guantong itself): pip
    resolves the runtime dependencies within them, so the archive carries the versions tested here."""
    out = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "".join(line + "\n" for line in out.splitlines() if "==" in line and not line.startswith("guantong=="))


def build(out_dir: Path, *, python: str, python_version: str | None, platform: str | None) -> Path:
    started = time.monotonic()
    check_assets()
    name = f"guantong-{version()}-offline"
    with tempfile.TemporaryDirectory(prefix="guantong-dist-") as tmp:
        tmp_path = Path(tmp)
        source, stage = tmp_path / "source", tmp_path / name
        wheels = stage / "wheels"
        wheels.mkdir(parents=True)
        source.mkdir()
        for item in SOURCES:
            src = ROOT / item
            if src.is_dir():
                shutil.copytree(src, source / item, ignore=SKIP)
            else:
                shutil.copy2(src, source / item)
        run([python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)])
        [own] = wheels.glob("guantong-*.whl")
        constraints = tmp_path / "constraints.txt"
        constraints.write_text(pinned_versions(python))
        requirement = f"{own}[{EXTRAS}]"
        if python_version or platform:
            target = ["--only-binary=:all:"]
            target += ["--python-version", python_version] if python_version else []
            target += ["--platform", platform] if platform else []
            run(
                [
                    python,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "-d",
                    str(wheels),
                    *target,
                    "-c",
                    str(constraints),
                    requirement,
                ]
            )
        else:
            run([python, "-m", "pip", "wheel", "--quiet", "-w", str(wheels), "-c", str(constraints), requirement])
        target_python = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
        shutil.copytree(ROOT / "processes", stage / "processes", ignore=SKIP)
        install = stage / "install.sh"
        install.write_text(
            (ROOT / "tools" / "dist" / "install.sh").read_text().replace("@PYTHON_VERSION@", target_python)
        )
        install.chmod(0o755)
        shutil.copy2(ROOT / "tools" / "dist" / "INSTALL.md", stage / "INSTALL.md")
        (stage / "VERSION").write_text(f"guantong {version()} for Python {target_python}\n")
        count = len(list(wheels.glob("*.whl")))
        out_dir.mkdir(parents=True, exist_ok=True)
        archive = out_dir / f"{name}.tar.gz"
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            tar.add(stage, arcname=name)
        os.replace(partial, archive)
    print(
        f"make dist: {archive} ({archive.stat().st_size / 1e6:.1f} MB, {count} wheels for Python {target_python}) "
        f"in {time.monotonic() - started:.0f} s"
    )
    return archive


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the archive goes (default dist/)")
    parser.add_argument("--python", default=sys.executable, help="the Python whose pip builds the wheels")
    parser.add_argument("--python-version", default=None, help="another target Python, e.g. 3.12 (binary wheels only)")
    parser.add_argument("--platform", default=None, help="another target platform, e.g. manylinux2014_x86_64")
    args = parser.parse_args(argv)
    build(args.out, python=args.python, python_version=args.python_version, platform=args.platform)


if __name__ == "__main__":
    main()
