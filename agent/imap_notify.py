"""The watcher's IMAP NOTIFY (RFC 5465) session, on stdlib imaplib's public API.

imapclient has no NOTIFY command, so this second connection is plain imaplib:
sign-in and EXAMINE through its commands, `NOTIFY SET` through `xatom`, then
IDLE by hand (`send`, `readline`, `DONE`), reading only the lines it needs:
`* STATUS <folder> (...)` for a listed folder, `* n EXISTS|EXPUNGE|FETCH` for
the selected one if any. The daemon selects nothing here: its main connection
IDLEs on INBOX itself (agent/imap.py `rest`), so that the session the server
tells of a reply is the one that reads it. A line it cannot read says "every
folder may have changed". Re-issues IDLE within `IDLE_MAX_SECONDS`.

`readline`/`read` are overridden (imaplib documents both as overridable) to
read through a buffer of our own: a socket timeout would leave the file
object imaplib reads through unusable, so waits are bounded with `select`.
"""

from __future__ import annotations

import imaplib
import itertools
import logging
import select
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from agent.errors import (
    ConnectError,
    MailboxError,
    MailboxTransientError,
    NotifyRefusedError,
)
from agent.imap_session import (
    IDLE_MAX_SECONDS,
    Endpoint,
    bearer_sign_in,
    connect_problem,
    cut,
    describe,
    no_delay,
    no_starttls,
    password_sign_in,
    refuse_plain_login,
    ssl_context,
    untrusted,
)
from agent.imap_wire import (
    NoticeKind,
    bearer_error_reply,
    bearer_payload,
    notify_set_arguments,
    parse_notice,
    plain_payload,
    quoted,
    utf7_encode,
)
from agent.mailbox import Notified, TokenSource

log = logging.getLogger(__name__)

_MAX_LINE = 1_000_000
_tags = itertools.count(1)


class _QuietError(Exception):
    """Nothing arrived before the read's deadline (the stream is still whole)."""


class _Connection(imaplib.IMAP4):
    """imaplib reading through its own buffer, so that a read can wait with a deadline."""

    def __init__(self, endpoint: Endpoint, ctx: ssl.SSLContext | None) -> None:
        self._endpoint = endpoint
        self._ctx = ctx
        self._buffer = bytearray()
        self._source: socket.socket | None = None
        # Set only while we read IDLE's lines ourselves; imaplib's commands wait
        # on the socket's own timeout.
        self.deadline: float | None = None
        super().__init__(endpoint.host, endpoint.port, timeout=endpoint.timeout)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        self.host, self.port = host, port
        sock = socket.create_connection((host, port), timeout)
        no_delay(sock)
        if self._endpoint.security == "tls":
            assert self._ctx is not None
            try:
                sock = self._ctx.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock
        # imaplib's shutdown() closes it; we never read from it.
        self.file = sock.makefile("rb")

    def readline(self) -> bytes:
        while True:
            self._follow_socket()
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > _MAX_LINE:
                raise self.error(f"got more than {_MAX_LINE} bytes in one line")
            chunk = self._receive()
            if not chunk:  # EOF: what is left, as imaplib's own readline would
                line = bytes(self._buffer)
                self._buffer.clear()
                return line
            self._buffer += chunk

    def read(self, size: int) -> bytes:
        self._follow_socket()
        while len(self._buffer) < size:
            chunk = self._receive()
            if not chunk:
                break
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _follow_socket(self) -> None:
        # STARTTLS swaps the socket: whatever came in the clear after the
        # server's OK is not from the TLS session (an injection), so drop it.
        if self.sock is not self._source:
            self._source = self.sock
            self._buffer.clear()

    def _receive(self) -> bytes:
        sock = self.sock
        if self.deadline is not None:
            buffered = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not buffered:
                remaining = max(self.deadline - time.monotonic(), 0.0)
                ready, _, _ = select.select([sock], [], [], remaining)
                if not ready:
                    raise _QuietError
        data: bytes = sock.recv(65536)
        return data


def _refused(exc: BaseException) -> bool:
    # imaplib raises `error` for a NO/BAD to LOGIN/AUTHENTICATE, `abort` for a broken link.
    return isinstance(exc, imaplib.IMAP4.error) and not isinstance(exc, imaplib.IMAP4.abort)


class NotifyWatch:
    """One NOTIFY session: `open()`, then `wait()` as often as wanted, `close()`."""

    def __init__(
        self,
        endpoint: Endpoint,
        username: str,
        password: str,
        bearer: TokenSource | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.username = username
        self._password = password
        self._bearer = bearer
        self._conn: _Connection | None = None
        # The connection being opened, so that abort() reaches it before open() returns.
        self._opening: _Connection | None = None
        self._selected = ""

    def __repr__(self) -> str:
        return f"NotifyWatch({self.username}@{self.endpoint.where})"

    # -- opening ------------------------------------------------------------------

    def open(self, selected: str | None, others: Sequence[str]) -> None:
        """Sign in, EXAMINE `selected` unless None, and NOTIFY SET on it and `others`."""
        if self._conn is not None:
            return
        conn = self._opening = self._connect()
        try:
            with self._guard("sign-in"):
                self._sign_in(conn)
            with self._guard("NOTIFY SET"):
                self._watch(conn, selected, others)
        except BaseException:
            self._shutdown(conn)
            raise
        finally:
            self._opening = None
        self._conn, self._selected = conn, selected or ""
        log.info(
            "NOTIFY on %s: %s selected, %d folder(s) by name",
            self.endpoint.where,
            selected or "nothing",
            len(others),
        )

    def _connect(self) -> _Connection:
        endpoint = self.endpoint
        ctx = ssl_context(endpoint)
        try:
            conn = _Connection(endpoint, ctx)
        except ssl.SSLCertVerificationError as exc:
            raise untrusted(endpoint, exc) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ConnectError(connect_problem(endpoint, exc)) from exc
        if endpoint.security != "starttls":
            return conn
        try:
            if "STARTTLS" not in conn.capabilities:
                raise no_starttls(endpoint)
            assert ctx is not None
            conn.starttls(ctx)
            return conn
        except ConnectError:
            self._shutdown(conn)
            raise
        except ssl.SSLCertVerificationError as exc:
            self._shutdown(conn)
            raise untrusted(endpoint, exc) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            self._shutdown(conn)
            raise ConnectError(connect_problem(endpoint, exc)) from exc

    def _sign_in(self, conn: _Connection) -> None:
        caps = frozenset(str(c).upper() for c in conn.capabilities)
        user = self.username
        if self._bearer is not None:

            def attempt(mech: str, token: str) -> None:
                conn.authenticate(mech, _Responder(bearer_payload(mech, user, token), mech))

            bearer_sign_in(
                self.endpoint, user, self._bearer, caps, attempt=attempt, refused=_refused
            )
            return
        refuse_plain_login(self.endpoint, caps)
        password = self._password
        password_sign_in(
            self.endpoint,
            user,
            password,
            login=lambda: _ok(conn.login(user, password)),
            plain=lambda: _ok(
                conn.authenticate("PLAIN", _Responder(plain_payload(user, password), "PLAIN"))
            ),
            refused=_refused,
        )

    def _watch(self, conn: _Connection, selected: str | None, others: Sequence[str]) -> None:
        # Capabilities may grow once signed in (Dovecot lists NOTIFY after login).
        typ, data = conn.capability()
        # imaplib hands back every CAPABILITY it kept (the greeting's too): the
        # last one answers our command.
        last = data[-1] if typ == "OK" and data and isinstance(data[-1], bytes) else b""
        offered = set(last.decode("ascii", "replace").upper().split())
        if "NOTIFY" not in offered:
            raise NotifyRefusedError(f"{self.endpoint.where} does not offer NOTIFY")
        if "IDLE" not in offered:
            # Notifications arrive during IDLE (and on NOOP): without it, poll as today.
            raise NotifyRefusedError(f"{self.endpoint.where} offers NOTIFY without IDLE")
        if selected is not None:
            typ, data = conn.select(quoted(utf7_encode(selected)), readonly=True)
            if typ != "OK":
                raise MailboxTransientError(
                    f"EXAMINE {selected} on {self.endpoint.where}: {_text(data)}"
                )
        arguments = notify_set_arguments(others, selected=selected is not None)
        typ, data = conn.xatom("NOTIFY", arguments)
        if typ != "OK":
            raise NotifyRefusedError(f"{self.endpoint.where} refused NOTIFY SET: {_text(data)}")

    # -- waiting ------------------------------------------------------------------

    def wait(self, timeout: float) -> Notified:
        conn = self._conn
        if conn is None:
            raise MailboxTransientError(f"NOTIFY on {self.endpoint.where}: not open")
        deadline = time.monotonic() + timeout
        with self._guard("IDLE"):
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Notified()
                got = self._idle_once(conn, min(remaining, IDLE_MAX_SECONDS))
                if got:
                    return got

    def _idle_once(self, conn: _Connection, seconds: float) -> Notified:
        tag = f"FN{next(_tags)}"
        conn.send(f"{tag} IDLE\r\n".encode("ascii"))
        seen = _Seen(self._selected)
        ended = self._read(conn, tag, seen, time.monotonic() + seconds, stop_early=True)
        if not ended:
            conn.send(b"DONE\r\n")
            # The answer to DONE is bounded by the connection's timeout: a dead
            # socket that let IDLE run quietly is found here.
            if not self._read(conn, tag, seen, time.monotonic() + self.endpoint.timeout):
                raise TimeoutError(f"no answer to DONE within {self.endpoint.timeout:g} s")
        return seen.notified()

    def _read(
        self, conn: _Connection, tag: str, seen: _Seen, until: float, *, stop_early: bool = False
    ) -> bool:
        """Read lines into `seen` until `tag` completes (True) or `until` passes or news came."""
        conn.deadline = until
        try:
            while True:
                try:
                    line = conn.readline()
                except _QuietError:
                    return False
                if not line:
                    raise ConnectionResetError("server closed the connection during IDLE")
                if seen.take(line, tag):
                    return True
                if stop_early and seen.notified():
                    return False
        finally:
            conn.deadline = None

    # -- ending -------------------------------------------------------------------

    def abort(self) -> None:
        conn = self._conn or self._opening
        if conn is not None:
            cut(conn.socket())

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            log.debug("logout from %s failed (%s); dropping the socket", self.endpoint.where, exc)
            self._shutdown(conn)

    @staticmethod
    def _shutdown(conn: _Connection) -> None:
        try:
            conn.shutdown()
        except (OSError, imaplib.IMAP4.error) as exc:
            log.debug("shutdown failed: %s", exc)

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except MailboxError:
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            conn, self._conn = self._conn, None
            if conn is not None:
                self._shutdown(conn)
            raise MailboxTransientError(
                f"{what}: NOTIFY connection to {self.endpoint.where} lost: {describe(exc)}"
            ) from exc


class _Seen:
    """What the lines of one IDLE told."""

    def __init__(self, selected: str) -> None:
        self.selected = selected
        self.folders: set[str] = set()
        self.everything = False

    def take(self, line: bytes, tag: str) -> bool:
        """Note one line; True when it completes `tag`."""
        notice = parse_notice(line)
        kind = notice.kind
        if kind is NoticeKind.STATUS and notice.mailbox is not None:
            self.folders.add(notice.mailbox)
        elif kind is NoticeKind.SELECTED:
            self.folders.add(self.selected)
        elif kind in (NoticeKind.BYE, NoticeKind.OVERFLOW):
            # After an overflow the server tells nothing more: start over.
            raise ConnectionResetError(f"server ended notifications: {line[:80]!r}")
        elif kind in (NoticeKind.DONE, NoticeKind.REFUSED) and notice.tag == tag:
            if kind is NoticeKind.REFUSED:
                raise imaplib.IMAP4.abort(f"IDLE refused: {line[:80]!r}")
            return True
        elif kind is not NoticeKind.ALIVE:
            log.debug("NOTIFY: unexpected line %r: every folder may have changed", line[:80])
            self.everything = True
        return False

    def notified(self) -> Notified:
        return Notified(frozenset(self.folders), self.everything)


class _Responder:
    """imaplib's AUTHENTICATE callback: our first response, then the error reply."""

    def __init__(self, first: bytes, mechanism: str) -> None:
        self._first: bytes | None = first
        self._mechanism = mechanism

    def __call__(self, challenge: bytes) -> bytes:
        first, self._first = self._first, None
        return first if first is not None else bearer_error_reply(self._mechanism)


def _ok(answer: tuple[str, object]) -> None:
    # imaplib raises on NO/BAD to LOGIN and AUTHENTICATE; this is only a guard.
    if answer[0] != "OK":
        raise imaplib.IMAP4.error(f"refused: {answer[1]!r}")


def _text(data: object) -> str:
    if isinstance(data, list):
        return " ".join(
            d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data
        )
    return str(data)
