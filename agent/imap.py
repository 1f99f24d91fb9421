"""IMAP access through imapclient: the only module in agent/ that imports it.

Reads go through EXAMINE and BODY.PEEK only, so the user's flags never change;
the only writes are APPEND of our drafts and withdrawing one of them. Every
imapclient / ssl / socket exception is translated into agent.errors here.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from types import TracebackType
from typing import Any, TypeVar

import imapclient
from imapclient.exceptions import CapabilityError, LoginError

from agent.errors import (
    AuthError,
    ConfigError,
    ConnectError,
    MailboxError,
    MailboxFatalError,
    MailboxTransientError,
)
from agent.folders import resolve_folders
from agent.mailbox import HEADER_FIELDS, FetchedMessage, Folders, FolderStatus, ServerInfo

log = logging.getLogger(__name__)

T = TypeVar("T")

SECURITY_MODES = ("tls", "starttls", "insecure")
FETCH_CHUNK = 500
# RFC 2177 allows 29 minutes, but NAT boxes and providers drop quiet
# connections much sooner: re-issue IDLE within 10 minutes whatever the caller asks.
IDLE_MAX_SECONDS = 9 * 60
NOOP_POLL_SECONDS = 5.0
CHANGE_RESPONSES = frozenset({b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH", b"VANISHED"})
# The same, as imaplib files unsolicited responses (by type, whatever command they came with).
_CHANGE_KEYS = tuple(r.decode() for r in CHANGE_RESPONSES)
# NO responses that say "later", not "never" (RFC 5530 response codes).
TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]", "[OVERQUOTA]")

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_HEADER_FETCH = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
_SECRET_COMMAND = re.compile(r"\b(LOGIN|AUTHENTICATE)\b.*", re.IGNORECASE | re.DOTALL)


class _RedactCredentials(logging.Filter):
    """Drops the arguments of LOGIN/AUTHENTICATE from imapclient's protocol log.

    imapclient already redacts these, but only for the exact line format it
    expects; this keeps passwords out even if that format changes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if _SECRET_COMMAND.search(message):
            record.msg = _SECRET_COMMAND.sub(r"\1 **REDACTED**", message)
            record.args = None
        return True


_redactor = _RedactCredentials()
# Logger filters only see records created on that very logger, so cover each.
for _name in ("imapclient", "imapclient.imapclient", "imapclient.imaplib"):
    logging.getLogger(_name).addFilter(_redactor)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _is_change(response: Any) -> bool:
    # Parsed untagged responses look like (4, b'EXISTS') or (b'OK', b'Still here').
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and isinstance(response[1], bytes)
        and response[1].upper() in CHANGE_RESPONSES
    )


def _is_refusal(response: Any) -> bool:
    # An untagged NO or BAD: the server could not do part of what was asked.
    return (
        isinstance(response, tuple)
        and len(response) >= 1
        and isinstance(response[0], bytes)
        and response[0].upper() in (b"NO", b"BAD")
    )


def _flags(raw: Sequence[bytes | str]) -> frozenset[str]:
    # \Recent only says which session saw a message first (gone in IMAP4rev2);
    # keeping it would make the same message's flags differ between cycles.
    return frozenset(_text(f) for f in raw) - {"\\Recent"}


def _item(data: dict[bytes, Any], prefix: bytes) -> Any:
    # The server echoes BODY[...] keys in its own spelling (case, partial <0>).
    for key, value in data.items():
        if isinstance(key, bytes) and key.upper().startswith(prefix):
            return value
    return None


def _selected_status(answer: dict[bytes, Any], condstore: bool) -> FolderStatus | None:
    """A folder's status from the answer to EXAMINE; None if the server left a part out."""
    try:
        modseq = answer.get(b"HIGHESTMODSEQ")
        if condstore and modseq is None:
            return None
        return FolderStatus(
            uidvalidity=int(answer[b"UIDVALIDITY"]),
            uidnext=int(answer[b"UIDNEXT"]),
            messages=int(answer[b"EXISTS"]),
            highestmodseq=int(modseq) if modseq is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class ImapMailbox:
    """The `agent.mailbox.Mailbox` protocol over one IMAP connection.

    Methods connect lazily; after a transient error the connection is dropped
    and the next call (or `connect()`) opens a new one.
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        *,
        ca_file: str | None = None,
        timeout: float = 30.0,
        folder_overrides: dict[str, str] | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ConfigError(
                "imap.security", f"must be one of {', '.join(SECURITY_MODES)}, not {security!r}"
            )
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.ca_file = ca_file
        self.timeout = timeout
        self.folder_overrides = dict(folder_overrides or {})
        self._client: imapclient.IMAPClient | None = None
        self._caps: frozenset[str] = frozenset()
        self._greeting = ""
        # Folder currently selected and whether read-only (EXAMINE).
        self._selected: str | None = None
        self._readonly = True
        # Status of the selected folder as of the last look, for status(keep_selected=True);
        # None when it must be asked for again.
        self._known: FolderStatus | None = None

    def __repr__(self) -> str:
        return f"ImapMailbox({self.username}@{self.host}:{self.port}, {self.security})"

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- connection ---------------------------------------------------------

    def connect(self) -> None:
        """Open, secure and log in; a no-op when already connected."""
        if self._client is not None:
            return
        client = self._open()
        try:
            self._login(client)
            self._caps = frozenset(_text(c).upper() for c in client.capabilities())
            self._greeting = _text(client.welcome or b"")
        except BaseException:
            self._shutdown(client)
            raise
        self._client = client
        self._selected, self._known = None, None
        log.info(
            "connected to %s (%s) as %s; %d capabilities",
            self._where,
            self.security,
            self.username,
            len(self._caps),
        )

    def _ssl_context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot load ca_file {self.ca_file!r}: {exc}") from exc
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def _open(self) -> imapclient.IMAPClient:
        ctx = self._ssl_context() if self.security != "insecure" else None
        if ctx is None:
            log.warning(
                "connecting to %s WITHOUT TLS (security = insecure): "
                "the password and mail cross the network in clear text",
                self._where,
            )
        client: imapclient.IMAPClient | None = None
        try:
            client = imapclient.IMAPClient(
                self.host,
                port=self.port,
                ssl=self.security == "tls",
                ssl_context=ctx,
                timeout=self.timeout,
            )
            # Keep INTERNALDATE timezone-aware instead of converted to naive local time.
            client.normalise_times = False
            if self.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ConnectError(
                        f"{self._where} does not offer STARTTLS; "
                        "use security = tls on the implicit-TLS port (usually 993)"
                    )
                client.starttls(ctx)
            return client
        except ConnectError:
            if client is not None:
                self._shutdown(client)
            raise
        except ssl.SSLCertVerificationError as exc:
            if client is not None:
                self._shutdown(client)
            raise ConnectError(
                f"TLS certificate of {self._where} is not trusted "
                f"({exc.verify_message or exc.reason}); if the server uses a private CA "
                "or a self-signed certificate, set ca_file to its PEM file"
            ) from exc
        except (OSError, imaplib.IMAP4.error, CapabilityError) as exc:
            if client is not None:
                self._shutdown(client)
            raise ConnectError(f"cannot connect to {self._where}: {self._describe(exc)}") from exc

    def _login(self, client: imapclient.IMAPClient) -> None:
        if self.security == "insecure" and client.has_capability("LOGINDISABLED"):
            # Cyrus's and pymap's plain ports: a login would be refused whatever the password.
            raise ConnectError(
                f"{self._where} advertises LOGINDISABLED: this server only accepts a login "
                'over TLS: use security = "starttls" on this port, or security = "tls" '
                "with port 993"
            )
        try:
            if (self.username + self._password).isascii():
                client.login(self.username, self._password)
            else:
                # LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8.
                client.plain_login(self.username, self._password)
        except LoginError as exc:
            raise AuthError(
                f"{self._where} refused the login for {self.username}: "
                f"{self._scrub(self._describe(exc))}"
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxTransientError(
                f"connection to {self._where} failed during login: "
                f"{self._scrub(self._describe(exc))}"
            ) from exc

    def close(self) -> None:
        """Log out; tolerant of a dead connection."""
        client, self._client = self._client, None
        self._selected, self._known = None, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            log.debug("logout from %s failed (%s); dropping the socket", self._where, exc)
            self._shutdown(client)

    def __enter__(self) -> ImapMailbox:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def _shutdown(client: imapclient.IMAPClient) -> None:
        with suppress(OSError, imaplib.IMAP4.error):
            client.shutdown()

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._selected, self._known = None, None
        if client is not None:
            self._shutdown(client)

    def abort(self) -> None:
        """Shut the connection down from another thread; a blocked IDLE then fails at once.

        Works on a duplicate of the file descriptor, leaving the TLS object to
        the thread that owns it; that thread sees EOF and drops the connection.
        """
        client = self._client
        if client is None:
            return
        with suppress(OSError, ValueError):
            fd = client.socket().fileno()
            dup = socket.socket(fileno=os.dup(fd))
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    @staticmethod
    def _describe(exc: BaseException) -> str:
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _conn(self) -> imapclient.IMAPClient:
        self.connect()
        assert self._client is not None
        return self._client

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Translate library exceptions raised while doing `what`."""
        try:
            yield
        except MailboxError:
            raise
        except (OSError, imaplib.IMAP4.abort) as exc:
            # Timeouts, resets, EOF: the connection is unusable, reconnect later.
            self._drop()
            raise MailboxTransientError(
                f"{what}: connection to {self._where} lost: {self._describe(exc)}"
            ) from exc
        except imaplib.IMAP4.error as exc:
            message = f"{what} on {self._where}: {self._scrub(self._describe(exc))}"
            if any(code in str(exc).upper() for code in TRANSIENT_CODES):
                raise MailboxTransientError(message) from exc
            raise MailboxFatalError(message) from exc

    def _run(self, what: str, fn: Callable[[imapclient.IMAPClient], T]) -> T:
        with self._guard(what):
            return fn(self._conn())

    def _fetch(self, what: str, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        with self._guard(what):
            data: dict[int, dict[bytes, Any]] = self._conn().fetch(uids, items)
            return data

    # -- reading ------------------------------------------------------------

    def info(self) -> ServerInfo:
        self._conn()
        return ServerInfo(capabilities=self._caps, greeting=self._greeting)

    def folders(self) -> Folders:
        listing = self._run("LIST", lambda c: c.list_folders())
        return resolve_folders(listing, self.folder_overrides, prefix=self._personal_prefix())

    def _personal_prefix(self) -> str | None:
        """The personal namespace's prefix ("INBOX." on Courier); None: let names tell."""
        if "NAMESPACE" not in self._caps:
            return None
        spaces = self._run("NAMESPACE", lambda c: c.namespace())
        personal = spaces.personal or ()
        return _text(personal[0][0]) if personal else None

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        """MESSAGES, UIDNEXT, UIDVALIDITY (and HIGHESTMODSEQ) of `folder`.

        With `keep_selected`, `folder` is the one asked about every cycle: it
        is EXAMINEd once and stays selected, and later calls cost one NOOP.
        STATUS of an unselected 100k-message maildir costs Dovecot ~45 ms, as
        much as an EXAMINE; a NOOP on the selected folder ~0.1 ms.
        """
        self._conn()
        if keep_selected:
            return self._kept_status(folder)
        if self._selected == folder:
            # STATUS of the selected folder answers from the session's view,
            # which only catches up on a NOOP: new mail would look absent.
            self._examine(folder)
        return self._status(folder)

    def _status(self, folder: str) -> FolderStatus:
        items = [b"MESSAGES", b"UIDNEXT", b"UIDVALIDITY"]
        if "CONDSTORE" in self._caps:
            items.append(b"HIGHESTMODSEQ")
        data = self._run(f"STATUS {folder}", lambda c: c.folder_status(folder, items))
        modseq = data.get(b"HIGHESTMODSEQ")
        return FolderStatus(
            uidvalidity=int(data[b"UIDVALIDITY"]),
            uidnext=int(data[b"UIDNEXT"]),
            messages=int(data[b"MESSAGES"]),
            highestmodseq=int(modseq) if modseq is not None else None,
        )

    def _kept_status(self, folder: str) -> FolderStatus:
        was_selected = self._selected == folder and self._readonly
        # A NOOP if `folder` is selected, else EXAMINE, whose answer is the status.
        changed = self._examine(folder)
        if was_selected and (self._take_changes() or changed):
            # The NOOP has brought the session's view up to date: STATUS is exact.
            self._known = None
        if self._known is None:
            self._known = self._status(folder)
        return self._known

    def _take_changes(self) -> bool:
        """Whether the server announced changes to the selected folder since the last call."""
        client = self._client
        if client is None:
            return True
        pending = client._imap.untagged_responses
        return any([pending.pop(key, None) is not None for key in _CHANGE_KEYS])

    def _examine(self, folder: str) -> bool:
        """Make `folder` the read-only selected folder; True if NOOP reported changes.

        Re-selecting costs ~0.3 s on a 100k-message maildir, so stay selected
        and ask with NOOP (Dovecot reports new mail on it) instead.
        """
        client = self._conn()
        with self._guard(f"EXAMINE {folder}"):
            changed = False
            if self._selected == folder and self._readonly:
                _, responses = client.noop()
                refused = [r for r in responses if _is_refusal(r)]
                if not refused:
                    return any(_is_change(r) for r in responses)
                # Dovecot answers "* NO Internal error" to NOOP, and STATUS from
                # the old view, once the selected folder was deleted or
                # recreated underneath: only a new EXAMINE sees the new one.
                log.info(
                    "%s: the server cannot refresh it (%s); examining it again", folder, refused
                )
                changed = True
            self._selected, self._known = None, None
            answer = client.select_folder(folder, readonly=True)
            self._selected, self._readonly = folder, True
            # EXAMINE's own EXISTS/RECENT are not news.
            self._take_changes()
            self._known = _selected_status(answer, "CONDSTORE" in self._caps)
            return changed

    def fetch_new(
        self, folder: str, *, after_uid: int, since: date | None = None
    ) -> list[FetchedMessage]:
        """Headers of messages with UID > after_uid, oldest first, read-only.

        `since` (SEARCH SINCE, by internal date) applies only when after_uid is
        0, i.e. the first sync of a folder: later syncs must not skip a message
        just because its internal date is old (e.g. moved in from elsewhere).
        """
        self._examine(folder)
        # Unsolicited FETCHes (flag changes) come mixed with ours: ask STATUS next time.
        self._known = None
        # imapclient 4.0-4.1 raise ValueError on fetch("N:*") range strings, so
        # the open range goes through SEARCH and FETCH gets explicit UIDs.
        criteria: list[Any] = ["UID", f"{after_uid + 1}:*"]
        if since is not None and after_uid == 0:
            criteria += ["SINCE", since]
        found = self._run(f"UID SEARCH {folder}", lambda c: c.search(criteria))
        # "N:*" with N above the highest UID still matches the last message.
        uids = sorted(int(u) for u in found if int(u) > after_uid)
        items = ["UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE", _HEADER_FETCH]
        result: list[FetchedMessage] = []
        for chunk in _chunks(uids, FETCH_CHUNK):
            data = self._fetch(f"UID FETCH {folder}", chunk, items)
            for uid in chunk:
                item = data.get(uid)
                if item is None:  # expunged between SEARCH and FETCH
                    continue
                header = _item(item, b"BODY[HEADER.FIELDS")
                internaldate = item.get(b"INTERNALDATE")
                result.append(
                    FetchedMessage(
                        folder=folder,
                        uid=uid,
                        header=bytes(header or b""),
                        flags=_flags(item.get(b"FLAGS", ())),
                        size=int(item.get(b"RFC822.SIZE", 0)),
                        internaldate=internaldate if isinstance(internaldate, datetime) else None,
                    )
                )
        log.debug("fetched %d new header(s) from %s after UID %d", len(result), folder, after_uid)
        return result

    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None:
        """The first `max_bytes` of the whole message, read-only; None if gone."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._examine(folder)
        self._known = None
        data = self._fetch(f"UID FETCH {folder} {uid}", [uid], [f"BODY.PEEK[]<0.{max_bytes}>"])
        item = data.get(uid)
        if item is None:
            return None
        body = _item(item, b"BODY[]")
        log.debug("fetched %d body byte(s) of %s UID %d", len(body or b""), folder, uid)
        return bytes(body) if body is not None else b""

    def fetch_flags(self, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
        """Current flags of these UIDs; UIDs that no longer exist are absent."""
        wanted = sorted({int(u) for u in uids})
        if not wanted:
            return {}
        self._examine(folder)
        self._known = None
        result: dict[int, frozenset[str]] = {}
        for chunk in _chunks(wanted, FETCH_CHUNK):
            data = self._fetch(f"UID FETCH {folder} flags", chunk, ["FLAGS"])
            for uid, item in data.items():
                if uid in chunk:
                    result[int(uid)] = _flags(item.get(b"FLAGS", ()))
        log.debug("fetched flags of %d/%d message(s) in %s", len(result), len(wanted), folder)
        return result

    # -- writing our own drafts ---------------------------------------------

    def append_draft(self, folder: str, message: bytes, when: datetime) -> int | None:
        """APPEND with \\Draft and \\Seen; the new UID when the server says it (UIDPLUS)."""
        response = self._run(
            f"APPEND {folder}",
            lambda c: c.append(folder, message, flags=("\\Draft", "\\Seen"), msg_time=when),
        )
        match = _APPENDUID.search(response if isinstance(response, bytes) else b"")
        uid = int(match.group(2)) if match else None
        log.info("appended a draft to %s (UID %s)", folder, uid)
        return uid

    def withdraw(
        self,
        folder: str,
        uid: int,
        trash: str | None,
        *,
        uidvalidity: int | None = None,
        followup_id: str | None = None,
    ) -> None:
        """Move one of our own drafts to `trash`, or delete it when trash is None.

        Never a plain EXPUNGE: that would also purge the user's own \\Deleted
        messages. Without MOVE or UIDPLUS there is no safe way, so refuse.
        `uidvalidity` and `followup_id`, when given, must match the folder and
        the message: a UID from before a UIDVALIDITY change may name the
        user's mail.
        """
        client = self._conn()
        move = "MOVE" in self._caps and trash is not None
        if not move and "UIDPLUS" not in self._caps:
            raise MailboxFatalError(
                f"{self._where} supports neither MOVE nor UIDPLUS: cannot remove draft "
                f"UID {uid} from {folder} without touching other messages"
            )
        with self._guard(f"withdraw {folder} UID {uid}"):
            self._selected, self._known = None, None
            selected = client.select_folder(folder, readonly=False)
            self._readonly = False
            # On any error below _selected stays None, so the next read re-EXAMINEs.
            self._selected = None
            current = selected.get(b"UIDVALIDITY")
            if uidvalidity is not None and current is not None and int(current) != uidvalidity:
                raise MailboxFatalError(
                    f"refusing to withdraw {folder} UID {uid}: the folder's UIDVALIDITY is "
                    f"{int(current)}, not {uidvalidity}"
                )
            items = ["FLAGS", "BODY.PEEK[HEADER.FIELDS (X-Followup-Id)]"]
            found = client.fetch([uid], items).get(uid)
            if found is None:
                log.info("draft %s UID %d already gone", folder, uid)
                return
            if "\\draft" not in {f.lower() for f in _flags(found.get(b"FLAGS", ()))}:
                # Our drafts always carry \Draft; anything else is not ours to touch.
                raise MailboxFatalError(
                    f"refusing to withdraw {folder} UID {uid}: it is not flagged \\Draft"
                )
            if followup_id is not None:
                header = bytes(_item(found, b"BODY[HEADER.FIELDS") or b"")
                _, _, value = header.decode("utf-8", "replace").partition(":")
                if " ".join(value.split()) != followup_id:
                    raise MailboxFatalError(
                        f"refusing to withdraw {folder} UID {uid}: it is not our draft "
                        f"{followup_id}"
                    )
            if move:
                client.move([uid], trash)
            else:
                if trash is not None:
                    client.copy([uid], trash)
                client.add_flags([uid], [imapclient.DELETED], silent=True)
                client.uid_expunge([uid])
            # Leave read-write mode now. UNSELECT never expunges (CLOSE would
            # expunge every \Deleted message); without it the next EXAMINE does.
            if "UNSELECT" in self._caps:
                client.unselect_folder()
        log.info("withdrew draft %s UID %d to %s", folder, uid, trash or "(deleted)")

    # -- waiting ------------------------------------------------------------

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until `folder` may have changed (IDLE) or `timeout`; True on a change."""
        if self._examine(folder):
            return True
        if "IDLE" not in self._caps:
            return self._poll(folder, timeout)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._idle_once(folder, min(remaining, IDLE_MAX_SECONDS)):
                return True

    def _poll(self, folder: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(remaining, NOOP_POLL_SECONDS))
            if self._examine(folder):
                return True

    def _idle_once(self, folder: str, seconds: float) -> bool:
        client = self._conn()
        changed = False
        # idle_check reads responses itself: imaplib never files what IDLE reports.
        self._known = None
        try:
            client.idle()
            deadline = time.monotonic() + seconds
            quick_empty = 0
            while not changed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                started = time.monotonic()
                responses = client.idle_check(timeout=remaining)
                changed = any(_is_change(r) for r in responses)
                if any(isinstance(r, tuple) and r[:1] == (b"BYE",) for r in responses):
                    raise ConnectionResetError("server said BYE during IDLE")
                # idle_check swallows EOF and returns [] early on a dead socket,
                # which looks like a quiet server; repeated early returns mean EOF.
                early = not responses and time.monotonic() - started < remaining - 0.05
                quick_empty = quick_empty + 1 if early else 0
                if quick_empty >= 3:
                    raise ConnectionResetError("server closed the connection during IDLE")
            # idle_done can block forever on a dead socket; the read timeout
            # set at connect bounds it.
            _, responses = client.idle_done()
            return changed or any(_is_change(r) for r in responses)
        except (OSError, imaplib.IMAP4.error) as exc:
            # The connection state is unknown mid-IDLE: start over.
            self._drop()
            if changed:
                # The change was seen; what broke came after (pymap's responses to
                # DONE can trip imaplib's parser). Report it; the next call reconnects.
                log.info("IDLE on %s ended badly after a change: %s", folder, exc)
                return True
            raise MailboxTransientError(
                f"IDLE on {folder} at {self._where} failed: {self._describe(exc)}"
            ) from exc
