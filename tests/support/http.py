# SPDX-License-Identifier: GPL-3.0-or-later
"""Small HTTP servers on 127.0.0.1 standing in for what the service calls (a wiki's API, OAuth,
a remote embedder, Meta-Wiki's site matrix), and one way to answer from them."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean."""

    def log_message(self, *args: Any) -> None:
        pass


class LocalServer:
    """``handler`` served on a free 127.0.0.1 port from a daemon thread, started at once;
    ``close()`` (or the end of a ``with`` block) stops it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], poll_interval: float = 0.5) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": poll_interval}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send(handler: BaseHTTPRequestHandler, status: int, body: Any,
         headers: Mapping[str, str] | None = None, content_type: str | None = "application/json") -> None:
    """Answer with ``body``: bytes and text as they are, anything else as JSON; with its
    Content-Length, ``content_type`` unless ``headers`` name one (None: no Content-Type header),
    and the other ``headers``."""
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    headers = dict(headers or {})
    handler.send_response(status)
    if content_type is not None and not any(name.lower() == "content-type" for name in headers):
        handler.send_header("Content-Type", content_type)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
