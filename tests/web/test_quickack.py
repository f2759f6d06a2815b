"""The server acknowledges a request's headers at once when a body follows (web/quickack.py, issue 19)."""

from __future__ import annotations

import socket

import pytest

from web.quickack import QuickAck


class _Sock:
    def __init__(self, fail: bool = False):
        self.options: list[tuple[int, int, int]] = []
        self.fail = fail

    def setsockopt(self, level, option, value):
        if self.fail:
            raise OSError("not a TCP socket")
        self.options.append((level, option, value))


def _call(environ):
    seen = []

    def app(env, start_response):
        seen.append(env)
        start_response("200 OK", [])
        return [b"ok"]

    body = QuickAck(app)(environ, lambda *a: None)
    return seen, list(body)


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
def test_a_request_with_a_body_is_acknowledged_at_once_and_others_are_left_alone():
    sock = _Sock()
    seen, body = _call({"gunicorn.socket": sock, "CONTENT_LENGTH": "64", "REQUEST_METHOD": "POST"})
    assert sock.options == [(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)]
    assert body == [b"ok"] and seen[0]["CONTENT_LENGTH"] == "64"  # the application still runs, unchanged
    for environ in ({"CONTENT_LENGTH": ""}, {"CONTENT_LENGTH": "0"}, {}):  # no body: nothing to wait for
        quiet = _Sock()
        _call({"gunicorn.socket": quiet, "REQUEST_METHOD": "GET", **environ})
        assert quiet.options == []


def test_without_gunicorn_or_on_a_unix_socket_the_request_goes_through():
    assert _call({"CONTENT_LENGTH": "10"})[1] == [b"ok"]  # Werkzeug's server, the test client
    assert _call({"gunicorn.socket": _Sock(fail=True), "CONTENT_LENGTH": "10"})[1] == [b"ok"]


def test_the_application_is_wrapped(app):
    assert isinstance(app.wsgi_app, QuickAck)
