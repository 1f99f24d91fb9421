"""One IDLE on an imapclient connection, ended by a change, a timeout or a wake-up fd.

Waits with `select` on `IMAPClient.socket()` (documented for polling) and the
caller's wake fd, and reads what came with `idle_check(timeout=0)`. Library
errors are left to the caller (agent/imap.py), which translates them; a dead
socket is raised as `ConnectionResetError`, since imapclient hides EOF.
"""

from __future__ import annotations

import enum
import imaplib
import select
import socket
import ssl
import time
from typing import Any, Protocol

from agent.imap_wire import is_change

# A socket that selects readable this many times running with no line to
# read is at EOF: idle_check swallows EOF and returns [].
EMPTY_READS_AT_EOF = 3


class Idled(enum.Enum):
    """How one IDLE ended."""

    CHANGED = "changed"  # the server reported a change to the selected folder
    WOKEN = "woken"  # the wake fd became readable
    QUIET = "quiet"  # the time ran out


class BrokenAfterChangeError(Exception):
    """The change was seen; what broke came after (pymap's answer to DONE can trip
    imaplib's parser). The change stands; the connection does not."""


class IdleClient(Protocol):
    """The part of `imapclient.IMAPClient` an IDLE uses."""

    def idle(self) -> Any: ...

    def idle_check(self, timeout: float | None = None) -> list[Any]: ...

    def idle_done(self) -> tuple[Any, list[Any]]: ...

    def socket(self) -> socket.socket: ...


def idle_until(client: IdleClient, seconds: float, wake_fd: int | None = None) -> Idled:
    """IDLE for at most `seconds`; DONE before returning, even when woken."""
    client.idle()
    outcome = _listen(client, time.monotonic() + seconds, wake_fd)
    # idle_done can block forever on a dead socket; the read timeout set at
    # connect bounds it.
    try:
        _, responses = client.idle_done()
    except (OSError, imaplib.IMAP4.error) as exc:
        if outcome is Idled.CHANGED:
            raise BrokenAfterChangeError(exc) from exc
        raise
    if outcome is Idled.CHANGED or any(is_change(r) for r in responses):
        return Idled.CHANGED
    return outcome


def _listen(client: IdleClient, deadline: float, wake_fd: int | None) -> Idled:
    sock = client.socket()
    watched: list[Any] = [sock] if wake_fd is None else [sock, wake_fd]
    empty = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Idled.QUIET
        if isinstance(sock, ssl.SSLSocket) and sock.pending() > 0:
            ready: list[Any] = [sock]  # decrypted already: select would not see it
        else:
            ready, _, _ = select.select(watched, [], [], remaining)
        if wake_fd is not None and wake_fd in ready:
            return Idled.WOKEN
        if sock not in ready:
            continue
        responses = client.idle_check(timeout=0)
        if any(isinstance(r, tuple) and r[:1] == (b"BYE",) for r in responses):
            raise ConnectionResetError("server said BYE during IDLE")
        if any(is_change(r) for r in responses):
            return Idled.CHANGED
        empty = 0 if responses else empty + 1
        if empty >= EMPTY_READS_AT_EOF:
            raise ConnectionResetError("server closed the connection during IDLE")
