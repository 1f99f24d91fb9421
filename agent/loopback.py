"""The loopback redirect receiver for the authorization code flow (RFC 8252 section 7.3).

Listens on 127.0.0.1 only, on the registered port or a free one, and takes
the first request that carries `code` or `error`. The query holds the
authorization code: the request is never logged.
"""

from __future__ import annotations

import http.server
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

log = logging.getLogger(__name__)

_DONE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>Signed in</title></head>"
    b"<body><p>Done. You can close this tab and go back to the terminal.</p></body></html>"
)


@dataclass(frozen=True)
class LoopbackAnswer:
    params: dict[str, str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query))
        if "code" not in params and "error" not in params:
            # A browser asking for /favicon.ico and the like.
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_DONE_PAGE)))
        self.end_headers()
        self.wfile.write(_DONE_PAGE)
        self.server.deliver(LoopbackAnswer(params))

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line, code included, to stderr.
        log.debug("loopback redirect received (%s)", self.command)


class _Server(http.server.HTTPServer):
    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.answer: LoopbackAnswer | None = None
        self.arrived = threading.Event()

    def deliver(self, answer: LoopbackAnswer) -> None:
        if self.answer is None:
            self.answer = answer
            self.arrived.set()


class LoopbackReceiver:
    """Serve the redirect URI until one answer arrives; use as a context manager."""

    def __init__(self, registered: str) -> None:
        parts = urlsplit(registered)
        self._parts = parts
        self._server = _Server(parts.port or 0)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-loopback", daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        """The registered URI with the port we listen on (loopback ports may vary)."""
        host = self._parts.hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        port = self._server.server_address[1]
        return urlunsplit(
            (self._parts.scheme, f"{host}:{port}", self._parts.path, self._parts.query, "")
        )

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait(self, timeout: float) -> LoopbackAnswer | None:
        if self._server.arrived.wait(timeout):
            return self._server.answer
        return None
