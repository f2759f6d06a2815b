"""bench/outside.py's harness: a client process that dies is reported at once, and a connection the
server closes without answering is an error of the cell, not a crash of the client."""

from __future__ import annotations

import time

import pytest
import requests

from bench import outside


def _dies(ready, go, results) -> None:
    ready.wait()
    go.wait()
    raise RuntimeError("the client's own failure")


def _reports(ready, go, results) -> None:
    ready.wait()
    go.wait()
    results.put({"done": 1})


def test_a_client_that_dies_is_named_at_once_not_after_the_timeout():
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with 1"):
        outside._together([(_reports, ()), (_dies, ())], timeout=60)
    assert time.monotonic() - began < 20  # not the 60 s timeout


def test_clients_that_report_are_collected():
    assert outside._together([(_reports, ()), (_reports, ())], timeout=60) == [{"done": 1}, {"done": 1}]


def test_a_connection_closed_without_an_answer_is_status_zero():
    def closed(*_args, **_kwargs):
        raise requests.ConnectionError("Remote end closed connection without response")

    status, body, elapsed = outside._timed(closed, "http://127.0.0.1:1/healthz")
    assert status == 0 and body == b"connection failed: ConnectionError" and elapsed >= 0
