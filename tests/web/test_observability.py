"""Probes, metrics and request ids: what an operator's monitoring reads (issue 14)."""

from __future__ import annotations

import json
import logging

from web.observability import JsonFormatter, RequestIdFilter


def test_readyz_reports_each_condition_and_503_when_one_fails(app, services, tmp_path):
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "schema": "ok", "attachments": "ok", "keys": "ok"}
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the attachment directory should be")
    services.config.attachments_dir = blocked
    broken = client.get("/readyz")
    assert broken.status_code == 503
    body = broken.get_json()
    assert body["status"] == "not ready" and body["attachments"].startswith("not writable")
    assert body["database"] == "ok"


def test_metrics_count_requests_and_work_without_naming_cases(app, start_clue):
    start_clue()
    client = app.test_client()
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'guantong_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    assert "guantong_tasks_open 1.0" in text and "guantong_instances_running 1.0" in text
    assert "guantong_worker_lag_seconds" in text and "guantong_task_completions_total" in text
    assert "XS-" not in text and "jc1" not in text  # no case, unit or person in any label


def test_metrics_only_for_loopback_or_the_token(app):
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    assert app.test_client().get("/metrics", environ_base=outside).status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token-for-prometheus"
    assert app.test_client().get("/metrics").status_code == 404  # with a token set, loopback is not enough
    ok = app.test_client().get(
        "/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token-for-prometheus"}
    )
    assert ok.status_code == 200


def test_request_id_is_kept_or_made_and_on_every_log_line(app):
    client = app.test_client()
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-abc-12345"})
    assert kept.headers["X-Request-ID"] == "proxy-abc-12345"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id; with spaces"})
    assert made.headers["X-Request-ID"] not in ("", "bad id; with spaces") and len(made.headers["X-Request-ID"]) == 16
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "req-0123456789"
        record = logging.LogRecord("guantong", logging.WARNING, __file__, 1, "task %s refused", (7,), None)
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-0123456789" and line["message"] == "task 7 refused"
    assert line["level"] == "WARNING" and line["logger"] == "guantong"
