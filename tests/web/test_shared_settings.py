"""The settings of several servers (issue 14): Redis for the throttling, the attachment store, a reverse
proxy's forwarded address; /readyz names an unreachable Redis."""

from __future__ import annotations

import socket

from engine.config import Config
from web import create_app


def test_the_environment_names_redis_the_store_and_the_proxies(monkeypatch, tmp_path):
    monkeypatch.setenv("GUANTONG_INSTANCE_DIR", str(tmp_path))
    plain = Config.from_env()
    assert (plain.redis_url, plain.ratelimit_storage_uri, plain.attachment_store, plain.proxy_hops) == (
        None,
        "memory://",
        None,
        0,
    )
    monkeypatch.setenv("GUANTONG_REDIS_URL", "redis://cache.intra:6379/2")
    monkeypatch.setenv("GUANTONG_REDIS_PREFIX", "qinghu")
    monkeypatch.setenv("GUANTONG_ATTACHMENT_STORE", "s3://guantong/qinghu")
    monkeypatch.setenv("GUANTONG_S3_ENDPOINT_URL", "http://minio.intra:9000")
    monkeypatch.setenv("GUANTONG_PROXY_HOPS", "1")
    shared = Config.from_env()
    assert shared.ratelimit_storage_uri == "redis://cache.intra:6379/2"  # Redis shares the throttling
    assert (shared.redis_prefix, shared.attachment_store, shared.s3_endpoint_url, shared.proxy_hops) == (
        "qinghu",
        "s3://guantong/qinghu",
        "http://minio.intra:9000",
        1,
    )
    monkeypatch.setenv("GUANTONG_RATELIMIT_STORAGE_URI", "memory://")
    assert Config.from_env().ratelimit_storage_uri == "memory://"  # an explicit storage still wins


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readyz_names_a_redis_that_does_not_answer(services):
    services.config.redis_url = f"redis://127.0.0.1:{_closed_port()}/0"
    app = create_app(services=services, TESTING=True)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["redis"].startswith("unreachable: ")
    assert ready.get_json()["database"] == "ok"


def test_behind_a_proxy_the_forwarded_address_is_the_client(services):
    forwarded = {"X-Forwarded-For": "10.20.30.40", "X-Forwarded-Proto": "https"}
    direct = create_app(services=services, TESTING=True).test_client()
    # without GUANTONG_PROXY_HOPS nobody's X-Forwarded-For is believed: the loopback caller scrapes
    assert direct.get("/metrics", headers=forwarded).status_code == 200
    services.config.proxy_hops = 1
    proxied = create_app(services=services, TESTING=True).test_client()
    # behind one proxy the client is 10.20.30.40, not the proxy's loopback: no metrics for him
    assert proxied.get("/metrics", headers=forwarded).status_code == 404
    assert proxied.get("/metrics").status_code == 200
