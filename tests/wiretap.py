"""A TCP proxy on 127.0.0.1 that records the IMAP commands each connection sends.

Between the agent (`security = "insecure"`, so commands are readable) and
Dovecot's plaintext port. `commands()` lists (connection number, verb) in
order; `cut(n)` closes one connection like a network drop.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class _Link:
    number: int
    client: socket.socket
    server: socket.socket
    pending: bytes = b""
    verbs: list[str] = field(default_factory=list)


class Wiretap:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._log: list[tuple[int, str, str]] = []
        self._links: list[_Link] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Wiretap:
        t = threading.Thread(target=self._accept, name="wiretap", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self.listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            self._close(link)
        for t in self._threads:
            t.join(timeout=3)

    def commands(self, since: int = 0) -> list[tuple[int, str, str]]:
        """(connection, verb, arguments) from the `since`-th on; `UID FETCH` reads `UID`."""
        with self._lock:
            return self._log[since:]

    def mark(self) -> int:
        with self._lock:
            return len(self._log)

    def connection_sending(self, verb: str) -> int:
        """The last connection that sent `verb`."""
        with self._lock:
            return next(n for n, v, _ in reversed(self._log) if v == verb)

    def cut(self, number: int) -> None:
        with self._lock:
            link = next(x for x in self._links if x.number == number)
        self._close(link)

    def _accept(self) -> None:
        number = 0
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                client.close()
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                # The server is down (a restart): refuse this one, as it would.
                client.close()
                continue
            server.settimeout(None)
            number += 1
            link = _Link(number, client, server)
            with self._lock:
                self._links.append(link)
            t = threading.Thread(target=self._pump, args=(link,), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, link: _Link) -> None:
        sel = selectors.DefaultSelector()
        sel.register(link.client, selectors.EVENT_READ, link.server)
        sel.register(link.server, selectors.EVENT_READ, link.client)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.5):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                    if src is link.client:
                        self._record(link, data)
        except (OSError, ValueError):
            return
        finally:
            sel.close()
            self._close(link)

    def _record(self, link: _Link, data: bytes) -> None:
        lines = (link.pending + data).split(b"\r\n")
        link.pending = lines.pop()
        with self._lock:
            for line in lines:
                words = [w.decode("utf-8", "replace") for w in line.split(None, 2)]
                if len(words) >= 2 and words[0].isalnum():
                    rest = words[2] if len(words) == 3 else ""
                    self._log.append((link.number, words[1].upper(), rest))

    @staticmethod
    def _close(link: _Link) -> None:
        for s in (link.client, link.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
