"""``make dist``: the offline archive installs with no package index and serves (issue 14, intranet install).

One test, the way an intranet's IT staff use it: build the archive (tools/build_dist.py, pip's cache makes a
second build fast), unpack it, run its install.sh with a fresh virtualenv, with every pip setting of this
machine out of the way and a dead proxy in front of any network (so a wheel missing from the archive fails
the install instead of being fetched), then init-db, deploy, demo and serve, and ask for /healthz, /readyz,
/login and a vendored asset. Each phase's time is printed (``-s``) so CI's budget can be watched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without Guantong's or pip's settings and without PYTHONPATH, so the
    installed code and only the archive's wheels are used; any network goes to a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANTONG_", "PIP_", "PYTHON", "VIRTUAL_ENV"))}
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead, NO_PROXY="", no_proxy="")
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never the dead proxy
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_offline_archive_installs_without_an_index_and_serves(tmp_path):
    timings: dict[str, float] = {}

    def phase(name: str, args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
        timings[name] = time.monotonic() - started
        assert done.returncode == 0, f"{name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    phase("build", [sys.executable, str(ROOT / "tools" / "build_dist.py"), "--out", str(tmp_path / "dist")])
    [archive] = (tmp_path / "dist").glob("guantong-*-offline.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    [bundle] = (tmp_path / "unpacked").iterdir()
    assert {p.name for p in bundle.iterdir()} >= {"wheels", "processes", "install.sh", "INSTALL.md", "VERSION"}
    wheels = {p.name.split("-")[0].lower() for p in (bundle / "wheels").glob("*.whl")}
    assert {"guantong", "spiffworkflow", "flask", "sqlalchemy", "psycopg_binary", "redis", "boto3"} <= wheels
    assert not wheels & {"pytest", "ruff", "mypy", "playwright", "moto"}, "dev tools are not shipped"

    prefix = tmp_path / "opt" / "guantong"
    base_python = getattr(sys, "_base_executable", sys.executable)
    phase("install", [str(bundle / "install.sh"), str(prefix)], env=_clean_env(PYTHON=base_python), cwd=tmp_path)
    site = next((prefix / "venv" / "lib").glob("python*/site-packages"))
    assert (site / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.mo").is_file()
    assert (site / "web" / "static" / "vendor" / "bootstrap" / "bootstrap.min.css").is_file()
    assert not (site / "tests").exists()

    guantong = str(prefix / "bin" / "guantong")
    env = _clean_env()
    assert "database ready" in phase("init-db", [guantong, "init-db"], env=env, cwd=tmp_path).stdout
    assert "deployed: version 1" in phase("deploy", [guantong, "deploy"], env=env, cwd=tmp_path).stdout
    assert '"users"' in phase("demo", [guantong, "demo"], env=env, cwd=tmp_path).stdout
    assert (prefix / "instance" / "guantong.db").is_file(), "the data lives under the prefix, not site-packages"
    assert not (site / "instance").exists()

    port = _free_port()
    started = time.monotonic()
    server = subprocess.Popen(
        [guantong, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        status = None
        while time.monotonic() - started < 60 and server.poll() is None:
            try:
                status, _ = _get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, server.stderr.read().decode()[-3000:] if server.poll() is not None else status
        assert _get(f"{base}/readyz")[0] == 200
        login_status, login_page = _get(f"{base}/login")
        assert login_status == 200 and "登录".encode() in login_page
        css_status, css = _get(f"{base}/static/vendor/bootstrap/bootstrap.min.css")
        assert css_status == 200 and len(css) > 10_000
        timings["serve"] = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
    print("make dist smoke test, seconds per phase:", {k: round(v, 1) for k, v in timings.items()})
