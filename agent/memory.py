"""A complete in-memory mailbox, for tests and the demo: no disk, no network.

`MemoryServer` is the "server": folders with special-use roles, UIDs,
UIDVALIDITY, flags, a modification sequence, and helpers that play the
user's mail system (deliver, delete, move, flag, a new UIDVALIDITY).
`MemoryMailbox` is one client session on it, implementing the
`agent.mailbox.Mailbox` protocol through `agent.backend.BaseMailbox`, so its
drafts pass the same withdraw guard as IMAP and Maildir. Several sessions
may share a server (a reopened mailbox, a second daemon). Thread-safe: one
`threading.Condition` guards the server and wakes `wait()`.

May import: agent.mailbox, agent.backend, agent.errors, agent.folders.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from agent.backend import BaseMailbox, Peek, header_block, header_fields
from agent.errors import FolderError, MailboxTransientError
from agent.folders import resolve_folders
from agent.mailbox import FetchedMessage, Folders, FolderStatus, ServerInfo

log = logging.getLogger(__name__)

# Says what IMAP would: UIDs from append (UIDPLUS), atomic withdraw (MOVE),
# wait() wakes at once (IDLE), status carries a modseq (CONDSTORE).
CAPABILITIES = frozenset({"IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "X-MEMORY"})
# name -> SPECIAL-USE flag of the folders a new server has.
DEFAULT_FOLDERS: tuple[tuple[str, str | None], ...] = (
    ("INBOX", None),
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
    ("Archive", "\\Archive"),
)


@dataclass
class StoredMessage:
    """One message as the server holds it."""

    uid: int
    raw: bytes
    flags: set[str]
    internaldate: datetime


@dataclass
class _Folder:
    name: str
    special_use: str | None
    uidvalidity: int
    uidnext: int = 1
    modseq: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    # Bumped on every change: what wait() compares.
    version: int = 0

    def changed(self) -> None:
        self.modseq += 1
        self.version += 1


def _new_uidvalidity(avoid: int = 0) -> int:
    while True:
        value = secrets.randbelow(2**31 - 2) + 1
        if value != avoid:
            return value


class MemoryServer:
    """The mail store that `MemoryMailbox` sessions talk to."""

    def __init__(
        self, folders: Iterable[tuple[str, str | None]] = DEFAULT_FOLDERS, delimiter: str = "/"
    ) -> None:
        self.delimiter = delimiter
        self.cond = threading.Condition()
        self._folders: dict[str, _Folder] = {}
        for name, special_use in folders:
            self.create_folder(name, special_use)

    # -- what the user's mail system does (tests, demo) ----------------------

    def create_folder(self, name: str, special_use: str | None = None) -> None:
        with self.cond:
            if name not in self._folders:
                self._folders[name] = _Folder(name, special_use, _new_uidvalidity())
            self.cond.notify_all()

    def deliver(
        self,
        folder: str,
        raw: bytes,
        flags: Iterable[str] = (),
        when: datetime | None = None,
    ) -> int:
        """Add a message as a delivery agent or another client would; its UID."""
        with self.cond:
            f = self.folder(folder)
            uid = f.uidnext
            f.uidnext += 1
            f.messages[uid] = StoredMessage(uid, raw, set(flags), when or datetime.now(UTC))
            f.changed()
            self.cond.notify_all()
            return uid

    def delete(self, folder: str, uid: int) -> None:
        """Expunge one message (the user deleted it)."""
        with self.cond:
            f = self.folder(folder)
            if f.messages.pop(uid, None) is not None:
                f.changed()
            self.cond.notify_all()

    def move(self, folder: str, uid: int, dest: str) -> int | None:
        """Move one message to `dest`, where it gets a new UID; None if it was gone."""
        with self.cond:
            src, target = self.folder(folder), self.folder(dest)
            msg = src.messages.pop(uid, None)
            if msg is None:
                return None
            src.changed()
            new = target.uidnext
            target.uidnext += 1
            target.messages[new] = StoredMessage(new, msg.raw, set(msg.flags), msg.internaldate)
            target.changed()
            self.cond.notify_all()
            return new

    def set_flags(self, folder: str, uid: int, flags: Iterable[str]) -> None:
        """Replace one message's flags (the user read, flagged or edited it)."""
        with self.cond:
            f = self.folder(folder)
            f.messages[uid].flags = set(flags)
            f.changed()
            self.cond.notify_all()

    def new_uidvalidity(self, folder: str) -> int:
        """Renumber a folder as a server that rebuilt its index does; the new UIDVALIDITY."""
        with self.cond:
            f = self.folder(folder)
            f.uidvalidity = _new_uidvalidity(avoid=f.uidvalidity)
            old = sorted(f.messages.values(), key=lambda m: m.uid)
            f.messages = {}
            for uid, msg in enumerate(old, start=1):
                msg.uid = uid
                f.messages[uid] = msg
            f.uidnext = len(old) + 1
            f.changed()
            self.cond.notify_all()
            return f.uidvalidity

    def messages(self, folder: str) -> list[StoredMessage]:
        """What the folder holds, oldest UID first (copies: safe to keep)."""
        with self.cond:
            return [
                StoredMessage(m.uid, m.raw, set(m.flags), m.internaldate)
                for _, m in sorted(self.folder(folder).messages.items())
            ]

    # -- for sessions ------------------------------------------------------------

    def folder(self, name: str) -> _Folder:
        """The folder called `name`; FolderError if there is none. Caller holds `cond`."""
        found = self._folders.get(name)
        if found is None:
            raise FolderError(f"no folder {name!r} in the in-memory mailbox")
        return found

    def listing(self) -> list[tuple[tuple[str, ...], str, str]]:
        with self.cond:
            return [
                ((f.special_use,) if f.special_use else (), self.delimiter, f.name)
                for f in self._folders.values()
            ]


class MemoryMailbox(BaseMailbox):
    """One session on a `MemoryServer` (a new one with the default folders if none)."""

    def __init__(
        self,
        server: MemoryServer | None = None,
        *,
        folder_overrides: dict[str, str] | None = None,
    ) -> None:
        self.server = server if server is not None else MemoryServer()
        self.folder_overrides = dict(folder_overrides or {})
        self._connected = False
        self._aborted = False
        # folder -> the version this session last looked at (what wait() compares).
        self._looked: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"MemoryMailbox({len(self.server.listing())} folders)"

    # -- session -------------------------------------------------------------

    def connect(self) -> None:
        self._connected = True

    def close(self) -> None:
        self._connected = False
        self._looked.clear()

    def abort(self) -> None:
        """End a `wait()` blocked in another thread at once (it raises a transient error)."""
        with self.server.cond:
            self._aborted = True
            self.server.cond.notify_all()

    @contextmanager
    def _open(self, folder: str) -> Iterator[_Folder]:
        """The folder under the server lock, noted as looked at by this session."""
        self.connect()
        with self.server.cond:
            f = self.server.folder(folder)
            yield f
            self._looked[folder] = f.version

    # -- reading ---------------------------------------------------------------

    def info(self) -> ServerInfo:
        self.connect()
        return ServerInfo(capabilities=CAPABILITIES, greeting="in-memory mailbox")

    def _list_folders(self) -> Folders:
        self.connect()
        return resolve_folders(self.server.listing(), self.folder_overrides)

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        with self._open(folder) as f:
            return FolderStatus(
                uidvalidity=f.uidvalidity,
                uidnext=f.uidnext,
                messages=len(f.messages),
                highestmodseq=f.modseq,
            )

    def fetch_new(
        self, folder: str, *, after_uid: int, since: date | None = None
    ) -> list[FetchedMessage]:
        """Headers of messages with UID > after_uid, oldest first, read-only.

        `since` (by internal date, in local time like Maildir's) applies only
        when after_uid is 0, i.e. the first sync of a folder.
        """
        with self._open(folder) as f:
            found = [m for uid, m in sorted(f.messages.items()) if uid > after_uid]
            if since is not None and after_uid == 0:
                found = [m for m in found if m.internaldate.astimezone().date() >= since]
            return [
                FetchedMessage(
                    folder=folder,
                    uid=m.uid,
                    header=header_fields(header_block(m.raw)),
                    flags=frozenset(m.flags),
                    size=len(m.raw),
                    internaldate=m.internaldate,
                )
                for m in found
            ]

    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        with self._open(folder) as f:
            msg = f.messages.get(uid)
            return msg.raw[:max_bytes] if msg is not None else None

    def fetch_flags(self, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
        with self._open(folder) as f:
            return {u: frozenset(f.messages[u].flags) for u in set(uids) if u in f.messages}

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until `folder` changes or `timeout`; True on a change.

        A change is reported once, compared with this session's last look
        at the folder (a read, or the wait that reported the previous change).
        """
        self.connect()
        deadline = time.monotonic() + timeout
        with self.server.cond:
            f = self.server.folder(folder)
            ref = self._looked.setdefault(folder, f.version)
            while f.version == ref and not self._aborted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.server.cond.wait(remaining)
            if self._aborted:
                self._aborted = False
                raise MailboxTransientError(f"waiting on {folder} was aborted")
            self._looked[folder] = f.version
            return True

    # -- write primitives (the rules are in agent.backend) -----------------------

    def _append(
        self, folder: str, message: bytes, when: datetime, flags: tuple[str, ...]
    ) -> int | None:
        self.connect()
        return self.server.deliver(folder, message, flags, when)

    def _write_session(self, folder: str) -> AbstractContextManager[int | None]:
        return self._writing(folder)

    @contextmanager
    def _writing(self, folder: str) -> Iterator[int | None]:
        # Held for the whole guard-then-write: nobody renumbers the folder in between.
        with self._open(folder) as f:
            yield f.uidvalidity

    def _peek(self, folder: str, uid: int) -> Peek | None:
        with self._open(folder) as f:
            msg = f.messages.get(uid)
            if msg is None:
                return None
            return Peek(flags=frozenset(msg.flags), header=header_fields(header_block(msg.raw)))

    def _move(self, folder: str, uid: int, trash: str) -> None:
        self.server.move(folder, uid, trash)

    def _delete(self, folder: str, uid: int) -> None:
        self.server.delete(folder, uid)
