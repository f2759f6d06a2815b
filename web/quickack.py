"""Acknowledge a request's headers at once, so a client that sends its body in a second write is not
held up by TCP's delayed acknowledgement (issue 19).

A client that writes the request line and headers, then the body, with Nagle's algorithm on (no
``TCP_NODELAY``: raw sockets, several Java and C clients, proxies) holds the body back until the server
acknowledges the headers; the server's kernel delays that acknowledgement by up to 40 ms while it waits for
something to send. On this machine such a client's completion took 62 ms (p50) where one sending in a
single write took 19 ms. Setting ``TCP_QUICKACK`` when the request is handed to the application sends the
pending acknowledgement immediately: the body follows at once. gunicorn passes its socket in the WSGI
environ; under another server (Werkzeug's) or on a system without the option nothing is done.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable
from typing import Any

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class QuickAck:
    """WSGI middleware: ``TCP_QUICKACK`` on the connection of every request that carries a body."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if sock is not None and _QUICKACK is not None and environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            # OSError: not a TCP socket (a unix socket behind a proxy), nothing to acknowledge early.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return self.app(environ, start_response)
