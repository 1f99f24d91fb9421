"""A TCP proxy on 127.0.0.1 that cuts IMAP connections at chosen protocol moments.

It sits between the agent (configured with `security = "insecure"`, so the
proxy can read the commands) and Dovecot's plaintext port. `arm()` a rule:
the next chunk travelling in `direction` that contains `pattern` is forwarded
(or swallowed) and then both sides of that connection are closed, like a
network drop. One thread, bounded: it stops by itself after `lifetime` seconds.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Rule:
    direction: str  # "c2s" (agent → server) or "s2c"
    pattern: bytes
    forward: bool  # deliver the matching chunk before cutting?


class CutProxy:
    def __init__(self, target_port: int, lifetime: float = 300.0) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port: int = self.listener.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        self.cuts: list[str] = []
        self.accepted = 0
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._sel = selectors.DefaultSelector()
        self._peer: dict[socket.socket, tuple[socket.socket, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cutproxy", daemon=True)

    def __enter__(self) -> CutProxy:
        self._sel.register(self.listener, selectors.EVENT_READ)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def arm(self, direction: str, pattern: bytes, forward: bool) -> None:
        with self._lock:
            self._rules.append(Rule(direction, pattern, forward))

    def armed(self) -> int:
        with self._lock:
            return len(self._rules)

    def cut_all(self) -> None:
        with self._lock:
            self._rules.append(Rule("any", b"", False))

    def _loop(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self.deadline:
                with self._lock:
                    if any(r.direction == "any" for r in self._rules):
                        self._rules = [r for r in self._rules if r.direction != "any"]
                        for s in list(self._peer):
                            self._close(s, "cut all")
                for key, _ in self._sel.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self.listener:
                        self._accept()
                    elif sock in self._peer:
                        self._pump(sock)
        finally:
            for s in list(self._peer):
                self._close(s, "")
            self._sel.close()
            self.listener.close()

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self.accepted += 1
        for s in (client, server):
            s.setblocking(False)
            self._sel.register(s, selectors.EVENT_READ)
        self._peer[client] = (server, "c2s")
        self._peer[server] = (client, "s2c")

    def _pump(self, src: socket.socket) -> None:
        dst, direction = self._peer[src]
        try:
            data = src.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(src, "")
            return
        rule = self._match(direction, data)
        if rule is None or rule.forward:
            try:
                dst.setblocking(True)
                dst.sendall(data)
                dst.setblocking(False)
            except OSError:
                self._close(src, "")
                return
        if rule is not None:
            self.cuts.append(f"{direction} {rule.pattern.decode()}")
            self._close(src, "rule")

    def _match(self, direction: str, data: bytes) -> Rule | None:
        with self._lock:
            for i, r in enumerate(self._rules):
                if r.direction == direction and r.pattern in data:
                    return self._rules.pop(i)
        return None

    def _close(self, sock: socket.socket, why: str) -> None:
        pair = self._peer.pop(sock, None)
        if pair is None:
            return
        other = pair[0]
        self._peer.pop(other, None)
        for s in (sock, other):
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        if why == "cut all":
            self.cuts.append("cut all")
