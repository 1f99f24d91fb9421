"""IMAP access through imapclient: the only module in agent/ that imports it.

Reads go through EXAMINE and BODY.PEEK only, so the user's flags never change.
The write primitives (APPEND, SELECT of Drafts, MOVE or STORE + UID EXPUNGE of
one UID) are called only by `agent.backend.BaseMailbox`, which holds the
safety checks. Every imapclient / ssl / socket exception is translated into
agent.errors here.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import date, datetime
from typing import Any, TypeVar

import imapclient
from imapclient.exceptions import CapabilityError, LoginError

from agent.backend import IDENTITY_FIELDS, BaseMailbox, Peek
from agent.errors import (
    ConfigError,
    ConnectError,
    MailboxError,
    MailboxFatalError,
    MailboxTransientError,
)
from agent.folders import resolve_folders
from agent.imap_idle import BrokenAfterChangeError, Idled, idle_until
from agent.imap_notify import NotifyWatch
from agent.imap_session import (
    IDLE_MAX_SECONDS,
    SECURITY_MODES,
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
    APPENDUID,
    CHANGE_KEYS,
    TRANSIENT_CODES,
    as_text,
    chunks,
    fetched_item,
    flags_of,
    is_change,
    is_refusal,
    selected_status,
)
from agent.invites.structure import has_calendar
from agent.mailbox import (
    HEADER_FIELDS,
    FetchedMessage,
    Folders,
    FolderStatus,
    ServerInfo,
    TokenSource,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

FETCH_CHUNK = 500
NOOP_POLL_SECONDS = 5.0
_HEADER_FETCH = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
_IDENTITY_FETCH = f"BODY.PEEK[HEADER.FIELDS ({' '.join(IDENTITY_FIELDS)})]"


def _refused(exc: BaseException) -> bool:
    return isinstance(exc, LoginError)


class ImapMailbox(BaseMailbox):
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
        bearer: TokenSource | None = None,
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
        # auth = "oauth2": asked for a token at every (re)connect.
        self._bearer = bearer
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
        # What the last status(keep_selected=True) told the caller: selecting
        # another folder flushes the EXISTS imaplib kept, so a later EXAMINE's
        # answer is compared with it instead (see rest).
        self._looked: FolderStatus | None = None

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
            self._caps = frozenset(as_text(c).upper() for c in client.capabilities())
            self._greeting = as_text(client.welcome or b"")
        except BaseException:
            self._shutdown(client)
            raise
        self._client = client
        self._selected, self._known, self._looked = None, None, None
        log.info(
            "connected to %s (%s) as %s; %d capabilities",
            self._where,
            self.security,
            self.username,
            len(self._caps),
        )

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.host, self.port, self.security, self.timeout, self.ca_file)

    def _open(self) -> imapclient.IMAPClient:
        endpoint = self.endpoint
        ctx = ssl_context(endpoint)
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
            no_delay(client.socket())
            if self.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise no_starttls(endpoint)
                client.starttls(ctx)
            return client
        except ConnectError:
            if client is not None:
                self._shutdown(client)
            raise
        except ssl.SSLCertVerificationError as exc:
            if client is not None:
                self._shutdown(client)
            raise untrusted(endpoint, exc) from exc
        except (OSError, imaplib.IMAP4.error, CapabilityError) as exc:
            if client is not None:
                self._shutdown(client)
            raise ConnectError(connect_problem(endpoint, exc)) from exc

    def _login(self, client: imapclient.IMAPClient) -> None:
        endpoint = self.endpoint
        if self._bearer is not None:
            try:
                caps = frozenset(as_text(c).upper() for c in client.capabilities())
            except (OSError, imaplib.IMAP4.error) as exc:
                raise MailboxTransientError(
                    f"connection to {self._where} failed before login: {self._describe(exc)}"
                ) from exc

            def attempt(mech: str, token: str) -> None:
                if mech == "OAUTHBEARER":
                    client.oauthbearer_login(self.username, token)
                else:
                    client.oauth2_login(self.username, token)

            bearer_sign_in(
                endpoint, self.username, self._bearer, caps, attempt=attempt, refused=_refused
            )
            return
        refuse_plain_login(endpoint, frozenset(as_text(c).upper() for c in client.capabilities()))
        password_sign_in(
            endpoint,
            self.username,
            self._password,
            login=lambda: client.login(self.username, self._password),
            plain=lambda: client.plain_login(self.username, self._password),
            refused=_refused,
        )

    def close(self) -> None:
        """Log out; tolerant of a dead connection."""
        client, self._client = self._client, None
        self._selected, self._known, self._looked = None, None, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            log.debug("logout from %s failed (%s); dropping the socket", self._where, exc)
            self._shutdown(client)

    @staticmethod
    def _shutdown(client: imapclient.IMAPClient) -> None:
        with suppress(OSError, imaplib.IMAP4.error):
            client.shutdown()

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._selected, self._known, self._looked = None, None, None
        if client is not None:
            self._shutdown(client)

    def abort(self) -> None:
        """Shut the connection down from another thread; a blocked IDLE then fails at once.

        Works on a duplicate of the file descriptor, leaving the TLS object to
        the thread that owns it; that thread sees EOF and drops the connection.
        """
        client = self._client
        if client is not None:
            cut(client.socket())

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    _describe = staticmethod(describe)

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

    def change_watch(self) -> NotifyWatch | None:
        """A NOTIFY session with this account's settings, when the server announces NOTIFY.

        Its notifications are read during IDLE, so a server needs both.
        """
        self._conn()
        if not {"NOTIFY", "IDLE"} <= self._caps:
            return None
        return NotifyWatch(self.endpoint, self.username, self._password, self._bearer)

    def _list_folders(self) -> Folders:
        listing = self._run("LIST", lambda c: c.list_folders())
        return resolve_folders(listing, self.folder_overrides, prefix=self._personal_prefix())

    def _personal_prefix(self) -> str | None:
        """The personal namespace's prefix ("INBOX." on Courier); None: let names tell."""
        if "NAMESPACE" not in self._caps:
            return None
        spaces = self._run("NAMESPACE", lambda c: c.namespace())
        personal = spaces.personal or ()
        return as_text(personal[0][0]) if personal else None

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        """MESSAGES, UIDNEXT, UIDVALIDITY (and HIGHESTMODSEQ) of `folder`.

        With `keep_selected`, `folder` is the one asked about every cycle: it
        is EXAMINEd once and stays selected, and later calls cost one NOOP.
        STATUS of an unselected 100k-message maildir costs Dovecot ~45 ms, as
        much as an EXAMINE; a NOOP on the selected folder ~0.1 ms.
        """
        self._conn()
        if keep_selected:
            self._looked = self._kept_status(folder)
            return self._looked
        if self._selected == folder:
            # STATUS of the selected folder answers from the session's view,
            # which only catches up on a NOOP: new mail would look absent.
            self._examine(folder)
        return self._status(folder)

    def settle(self, folder: str) -> None:
        # No command when `folder` is still the read-only selected one: a
        # steady cycle must cost nothing here.
        if self._client is None or (self._selected == folder and self._readonly):
            return
        self._kept_status(folder)

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
        pending = _untagged(client)
        return any([pending.pop(key, None) is not None for key in CHANGE_KEYS])

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
                refused = [r for r in responses if is_refusal(r)]
                if not refused:
                    return any(is_change(r) for r in responses)
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
            self._known = selected_status(answer, "CONDSTORE" in self._caps)
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
        # BODYSTRUCTURE tells calendar invitations apart without fetching any body.
        items = ["UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE", "BODYSTRUCTURE", _HEADER_FETCH]
        result: list[FetchedMessage] = []
        for chunk in chunks(uids, FETCH_CHUNK):
            data = self._fetch(f"UID FETCH {folder}", chunk, items)
            for uid in chunk:
                item = data.get(uid)
                if item is None:  # expunged between SEARCH and FETCH
                    continue
                header = fetched_item(item, b"BODY[HEADER.FIELDS")
                internaldate = item.get(b"INTERNALDATE")
                structure = item.get(b"BODYSTRUCTURE")
                result.append(
                    FetchedMessage(
                        folder=folder,
                        uid=uid,
                        header=bytes(header or b""),
                        flags=flags_of(item.get(b"FLAGS", ())),
                        size=int(item.get(b"RFC822.SIZE", 0)),
                        internaldate=internaldate if isinstance(internaldate, datetime) else None,
                        calendar=has_calendar(structure) if structure is not None else None,
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
        body = fetched_item(item, b"BODY[]")
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
        for chunk in chunks(wanted, FETCH_CHUNK):
            data = self._fetch(f"UID FETCH {folder} flags", chunk, ["FLAGS"])
            for uid, item in data.items():
                if uid in chunk:
                    result[int(uid)] = flags_of(item.get(b"FLAGS", ()))
        log.debug("fetched flags of %d/%d message(s) in %s", len(result), len(wanted), folder)
        return result

    # -- write primitives (the rules are in agent.backend) ---------------------

    def _prepare_write(self, folder: str) -> None:
        """Leave a read-only selection of `folder` before writing to it.

        Courier refuses APPEND into the mailbox selected with EXAMINE ("NO
        Current box is selected READ-ONLY"). UNSELECT, or CLOSE, which on a
        folder selected read-only expunges nothing (RFC 3501 6.4.2).
        """
        if self._client is None or not (self._selected == folder and self._readonly):
            return
        client = self._client
        self._selected, self._known = None, None
        if "UNSELECT" in self._caps:
            with self._guard(f"leave {folder}"):
                client.unselect_folder()
            return
        try:
            with self._guard(f"leave {folder}"):
                client.close_folder()
        except MailboxFatalError as exc:
            # pymap answers NO to CLOSE on a folder selected read-only, and
            # appends there anyway: carry on; the APPEND reports a real refusal.
            log.debug("%s; appending anyway", exc)

    def _append(
        self, folder: str, message: bytes, when: datetime, flags: tuple[str, ...]
    ) -> int | None:
        response = self._run(
            f"APPEND {folder}",
            lambda c: c.append(folder, message, flags=flags, msg_time=when),
        )
        match = APPENDUID.search(response if isinstance(response, bytes) else b"")
        return int(match.group(2)) if match else None

    def _removal_problem(self, trash: str | None) -> str | None:
        # Never a plain EXPUNGE: that would also purge the user's own \Deleted
        # messages. Without MOVE or UIDPLUS (UID EXPUNGE) there is no safe way.
        self._conn()
        if ("MOVE" in self._caps and trash is not None) or "UIDPLUS" in self._caps:
            return None
        return f"{self._where} supports neither MOVE nor UIDPLUS, so it would touch other messages"

    def _write_session(self, folder: str) -> AbstractContextManager[int | None]:
        return self._selected_for_write(folder)

    @contextmanager
    def _selected_for_write(self, folder: str) -> Iterator[int | None]:
        """SELECT `folder` read-write (only Drafts ever is), then leave it again."""
        client = self._conn()
        with self._guard(f"SELECT {folder}"):
            self._selected, self._known = None, None
            answer = client.select_folder(folder, readonly=False)
            self._selected, self._readonly = folder, False
        current = answer.get(b"UIDVALIDITY")
        yield int(current) if current is not None else None
        # UNSELECT never expunges (CLOSE would expunge every \Deleted message,
        # the user's too); without it the folder stays selected read-write and
        # the next read EXAMINEs, since _readonly is False.
        if "UNSELECT" in self._caps and self._selected == folder:
            with self._guard(f"UNSELECT {folder}"):
                client.unselect_folder()
                self._selected = None

    def _peek(self, folder: str, uid: int) -> Peek | None:
        data = self._fetch(f"UID FETCH {folder} {uid}", [uid], ["FLAGS", _IDENTITY_FETCH])
        found = data.get(uid)
        if found is None:
            return None
        header = bytes(fetched_item(found, b"BODY[HEADER.FIELDS") or b"")
        return Peek(flags=flags_of(found.get(b"FLAGS", ())), header=header)

    def _move(self, folder: str, uid: int, trash: str) -> None:
        with self._guard(f"move {folder} UID {uid} to {trash}"):
            client = self._conn()
            if "MOVE" in self._caps:
                client.move([uid], trash)
                return
            client.copy([uid], trash)
        self._delete(folder, uid)

    def _delete(self, folder: str, uid: int) -> None:
        with self._guard(f"delete {folder} UID {uid}"):
            client = self._conn()
            client.add_flags([uid], [imapclient.DELETED], silent=True)
            client.uid_expunge([uid])

    # -- waiting ------------------------------------------------------------

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until `folder` may have changed (IDLE) or `timeout`; True on a change."""
        if self._examine(folder):
            return True
        if "IDLE" not in self._caps:
            return self._poll(folder, timeout)
        return self._idle(folder, timeout, None) is Idled.CHANGED

    def rests(self) -> bool:
        return self._client is not None and "IDLE" in self._caps

    def rest(self, folder: str, timeout: float, wake_fd: int) -> bool:
        """IDLE on `folder` (INBOX) between cycles, so this session hears of new mail.

        The cycle that follows then reads the new message on the session the
        server told, which has synced its view already: another session pays
        Dovecot's resync of a big maildir (~0.25 s at 100k) on its first FETCH.
        Never connects: a dropped connection is the next cycle's to reopen.
        """
        if not self.rests():
            return super().rest(folder, timeout, wake_fd)
        # A change during the cycle, after its look, is reported here: as news
        # imaplib kept, or, when the cycle selected another folder meanwhile
        # (which flushes that news), as an EXAMINE answer unlike the last look.
        if self._examine(folder) or self._pending_change() or self._moved_since_look():
            return True
        return self._idle(folder, timeout, wake_fd) is Idled.CHANGED

    def _moved_since_look(self) -> bool:
        known, looked = self._known, self._looked
        return known is not None and looked is not None and known != looked

    def _pending_change(self) -> bool:
        """Whether a command of the cycle brought news the next status() will take."""
        client = self._client
        return client is not None and any(key in _untagged(client) for key in CHANGE_KEYS)

    def _poll(self, folder: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(remaining, NOOP_POLL_SECONDS))
            if self._examine(folder):
                return True

    def _idle(self, folder: str, timeout: float, wake_fd: int | None) -> Idled:
        """IDLE until a change, `wake_fd` or `timeout`, re-issued within IDLE_MAX_SECONDS."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Idled.QUIET
            outcome = self._idle_once(folder, min(remaining, IDLE_MAX_SECONDS), wake_fd)
            if outcome is not Idled.QUIET:
                return outcome

    def _idle_once(self, folder: str, seconds: float, wake_fd: int | None) -> Idled:
        client = self._conn()
        try:
            outcome = idle_until(client, seconds, wake_fd)
        except BrokenAfterChangeError as exc:
            self._drop()
            log.info("IDLE on %s ended badly after a change: %s", folder, exc)
            return Idled.CHANGED
        except (OSError, imaplib.IMAP4.error) as exc:
            # The connection state is unknown mid-IDLE: start over.
            self._drop()
            raise MailboxTransientError(
                f"IDLE on {folder} at {self._where} failed: {self._describe(exc)}"
            ) from exc
        if outcome is Idled.CHANGED:
            # idle_check reads responses itself, so the next status() would not
            # see them: it must ask STATUS again.
            self._known = None
        return outcome


def _untagged(client: imapclient.IMAPClient) -> dict[str, list[Any]]:
    """What the server said unasked during our commands (EXISTS, EXPUNGE, FETCH).

    The one place that reads imapclient's internal imaplib object: imapclient
    4.1 has no public view of these, and without it every cycle would cost a
    STATUS of INBOX (kept selected, a NOOP is all it needs).
    """
    pending: dict[str, list[Any]] = client._imap.untagged_responses
    return pending
