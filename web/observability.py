"""What an operator watches: a request id on every request and log line, JSON logs, Prometheus metrics.

- **Request id.** Each request gets an id (a sane ``X-Request-ID`` from the reverse proxy is kept, else a
  new one), returned in the response's ``X-Request-ID`` and put on every log line written while the
  request runs, so one request can be followed through the proxy, the app and the worker's logs.
- **JSON logs** (``GUANTONG_LOG_FORMAT=json``): one JSON object per line — time, level, logger, message,
  request id, exception — for a log collector. Secrets never reach a log line from here: messages are
  the code's own, and request bodies are not logged.
- **Metrics** at ``/metrics`` (Prometheus text format): request counts and latencies by endpoint and
  status (per process; with several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to a shared empty
  directory and they are summed), and from the database, so every process answers alike: open, overdue
  and completed tasks, running and failed instances, waiting messages, the worker's lag. No label ever
  names a case, a person or a unit. ``/metrics`` answers to loopback addresses, or to anyone presenting
  ``GUANTONG_METRICS_TOKEN`` as a bearer token.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import orjson
from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from engine import health

from .context import services

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_LOOPBACK = {"127.0.0.1", "::1"}

_REQUESTS_REGISTRY = CollectorRegistry()
_REQUESTS = Counter(
    "guantong_http_requests", "HTTP requests answered", ["method", "endpoint", "status"], registry=_REQUESTS_REGISTRY
)
_LATENCY = Histogram(
    "guantong_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_REQUESTS_REGISTRY,
)


# --------------------------------------------------------------------------- request id and logs
def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request: the worker, the CLI)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(fmt: str | None = None) -> None:
    """Plain lines by default; JSON lines when ``GUANTONG_LOG_FORMAT=json``. Both carry the request id."""
    fmt = fmt or os.environ.get("GUANTONG_LOG_FORMAT", "text")
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


# --------------------------------------------------------------------------- metrics from the database
class EngineCollector(Collector):
    """Read at each scrape from the database, so every web process and worker answers the same."""

    def __init__(self, app: Flask):
        self._app = app

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with self._app.app_context():
            f = health.figures(services())
        yield GaugeMetricFamily("guantong_tasks_open", "Human tasks ready to be done", value=f.tasks_open)
        yield GaugeMetricFamily("guantong_tasks_overdue", "Open tasks past their due date", value=f.tasks_overdue)
        yield CounterMetricFamily("guantong_task_completions", "Human tasks completed", value=f.tasks_completed)
        yield GaugeMetricFamily("guantong_instances_running", "Process instances running", value=f.instances_running)
        yield GaugeMetricFamily(
            "guantong_instances_failed", "Instances stopped on a failed automatic step", value=f.instances_failed
        )
        yield GaugeMetricFamily(
            "guantong_messages_waiting", "Messages waiting for a receiver", value=f.messages_waiting
        )
        yield GaugeMetricFamily(
            "guantong_worker_lag_seconds", "How long the oldest due timer has waited", value=f.worker_lag_seconds
        )


def _may_scrape() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or os.environ.get("GUANTONG_METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.remote_addr in _LOOPBACK


def metrics() -> Response:
    if not _may_scrape():
        return Response("not found\n", status=404, mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)
    else:
        requests_registry = _REQUESTS_REGISTRY
    engine_registry = CollectorRegistry()
    engine_registry.register(EngineCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    body = generate_latest(requests_registry) + generate_latest(engine_registry)
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")


# The labelled series of a request, looked up once per (method, endpoint, status): ``labels()`` takes a
# lock and checks its arguments on every call, on every request. The series themselves are never removed.
@functools.lru_cache(maxsize=4096)
def _request_counter(method: str, endpoint: str, status: int) -> Any:
    return _REQUESTS.labels(method, endpoint, str(status))


@functools.lru_cache(maxsize=4096)
def _latency(method: str, endpoint: str) -> Any:
    return _LATENCY.labels(method, endpoint)


# --------------------------------------------------------------------------- wiring
def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        endpoint = request.endpoint or "unmatched"
        if endpoint != "health.metrics":
            _request_counter(request.method, endpoint, response.status_code).inc()
            started = g.get("request_started")
            if started is not None:
                _latency(request.method, endpoint).observe(time.perf_counter() - started)
        return response
