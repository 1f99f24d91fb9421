"""The bench's own IMAP connections to Dovecot, beside the agent's, to time the server's part.

They go straight to the server, not through the counting proxy, so they never
count against the agent's bytes nor disturb the bench's wait for a quiet wire.
Both only EXAMINE: nothing in the mailbox changes.
"""

from __future__ import annotations

import contextlib
import imaplib
import queue
import re
import ssl
import threading
import time
from types import TracebackType

from tests.dovecot import Dovecot, MailUser

_EXISTS = re.compile(rb"^\* (\d+) EXISTS")
_TAG = b"BIDLE"


class BenchImapError(RuntimeError):
    """The bench's own connection did not get the answer it needs."""


def _connect(
    server: Dovecot, user: MailUser, folder: str, timeout: float | None
) -> tuple[imaplib.IMAP4_SSL, int]:
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    imap = imaplib.IMAP4_SSL(server.host, server.port_tls, ssl_context=ctx, timeout=timeout)
    imap.login(user.name, user.password)
    typ, data = imap.select(folder, readonly=True)
    if typ != "OK":
        raise BenchImapError(f"EXAMINE {folder}: {typ} {data!r}")
    return imap, int(data[0] or 0)


class ServerView:
    """A connection kept on a folder: how many messages the server has indexed there."""

    def __init__(self, server: Dovecot, user: MailUser, folder: str = "INBOX") -> None:
        self._imap, self.exists = _connect(server, user, folder, 30.0)

    def wait_for(self, count: int, timeout: float = 10.0) -> float:
        """NOOP until the folder holds `count` messages; returns when it did (perf_counter)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self._imap.noop()
            _, data = self._imap.response("EXISTS")
            if data and data[-1] is not None:
                self.exists = int(data[-1])
            if self.exists >= count:
                return time.perf_counter()
            time.sleep(0.002)
        raise BenchImapError(f"the server never showed {count} messages (has {self.exists})")

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self._imap.logout()

    def __enter__(self) -> ServerView:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class IdleWatcher:
    """An IDLE connection on a folder: when the server announces each new message.

    A thread reads the untagged responses and stamps every `* N EXISTS` with
    perf_counter as it arrives, the moment any IDLE client could act on it.
    """

    def __init__(self, server: Dovecot, user: MailUser, folder: str = "INBOX") -> None:
        # No timeout: an IDLE connection is silent until the server has news.
        self._imap, _ = _connect(server, user, folder, None)
        self._events: queue.Queue[tuple[float, int]] = queue.Queue()
        self._imap.send(_TAG + b" IDLE\r\n")
        line = self._imap.readline()
        if not line.startswith(b"+"):
            raise BenchImapError(f"IDLE refused: {line!r}")
        self._thread = threading.Thread(target=self._read, name="bench-idle", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.abort):
            while True:
                line = self._imap.readline()
                stamp = time.perf_counter()
                if not line or line.startswith(_TAG):
                    return
                m = _EXISTS.match(line)
                if m:
                    self._events.put((stamp, int(m.group(1))))

    def drain(self) -> None:
        """Forget announcements so far (the next one is for the next delivery)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self._events.get_nowait()

    def next_exists(self, timeout: float) -> float | None:
        """When the next EXISTS arrived (perf_counter), or None if none within `timeout`."""
        try:
            return self._events.get(timeout=timeout)[0]
        except queue.Empty:
            return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._imap.send(b"DONE\r\n")
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self._imap.logout()

    def __enter__(self) -> IdleWatcher:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
