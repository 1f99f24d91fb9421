"""A byte-counting TCP proxy on 127.0.0.1, between the agent and Dovecot.

Counting at the socket measures what really crosses the wire (TLS records
included) whatever the IMAP code does, so the figure cannot flatter it. It
runs in a process of its own: as a thread of the bench it waited for the
GIL at every hop (up to the 5 ms switch interval), which added ~40 ms to a
cycle of a few round trips that takes ~12 ms straight to Dovecot.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

log = logging.getLogger(__name__)

BUFFER = 65536


@dataclass(frozen=True)
class Traffic:
    sent: int  # client → server
    received: int  # server → client

    @property
    def total(self) -> int:
        return self.sent + self.received

    def __sub__(self, other: Traffic) -> Traffic:
        return Traffic(self.sent - other.sent, self.received - other.received)


class _Forwarder:
    """The proxy itself, in the child process: threads pumping bytes, counted by `count`."""

    def __init__(self, host: str, target_port: int, count: Callable[[int, int], None]) -> None:
        self.host = host
        self.target_port = target_port
        self._listener = socket.create_server((host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._count = count
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True)

    def start(self) -> None:
        self._accept.start()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            # Wakes accept(); closing alone does not on Linux.
            socket.create_connection((self.host, self.port), timeout=1).close()
        self._listener.close()
        self._accept.join(timeout=2)
        for t in self._threads:
            t.join(timeout=2)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stop.is_set():
                client.close()
                return
            try:
                server = socket.create_connection((self.host, self.target_port), timeout=5)
            except OSError as exc:
                log.warning("proxy: cannot reach %s:%s: %s", self.host, self.target_port, exc)
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(None)
            t = threading.Thread(target=self._pump, args=(client, server), daemon=True)
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, server)
        sel.register(server, selectors.EVENT_READ, client)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.5):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    dst: socket.socket = key.data
                    data = src.recv(BUFFER)
                    if not data:
                        return
                    dst.sendall(data)
                    if src is client:
                        self._count(len(data), 0)
                    else:
                        self._count(0, len(data))
        except OSError:
            return
        finally:
            sel.close()
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.close()


def _serve(
    host: str,
    target_port: int,
    sent: Synchronized[int],
    received: Synchronized[int],
    ready: Connection,
) -> None:
    def count(up: int, down: int) -> None:
        with sent.get_lock():
            sent.value += up
        with received.get_lock():
            received.value += down

    fwd = _Forwarder(host, target_port, count)
    fwd.start()
    ready.send(fwd.port)
    ready.recv()  # anything, or EOF: the parent is done
    fwd.close()


class CountingProxy:
    """Forwards every connection on `port` to (host, target_port), counting bytes."""

    def __init__(self, host: str, target_port: int) -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        ctx = multiprocessing.get_context("spawn")
        self._sent: Synchronized[int] = ctx.Value("q", 0)
        self._received: Synchronized[int] = ctx.Value("q", 0)
        self._conn, child = ctx.Pipe()
        self._proc: Any = ctx.Process(
            target=_serve,
            args=(host, target_port, self._sent, self._received, child),
            name="bench-proxy",
            daemon=True,
        )

    def start(self) -> CountingProxy:
        self._proc.start()
        self.port = int(self._conn.recv())
        return self

    def traffic(self) -> Traffic:
        with self._sent.get_lock(), self._received.get_lock():
            return Traffic(self._sent.value, self._received.value)

    def close(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._conn.send("stop")
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2)

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
