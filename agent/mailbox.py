"""What the engine needs from a mail store, independent of how it is reached.

The protocol and its records only: no backend is imported here. Backends
(`agent.imap`, `agent.maildir`, `agent.memory`) inherit `agent.backend.BaseMailbox`,
which holds the safety checks; `agent.connect.open_mailbox` picks one for a config.
Every method raises only `agent.errors.MailboxError` subclasses.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

# Header fields fetched for every new message: enough to classify it and to
# tie it to an application without downloading bodies.
HEADER_FIELDS: tuple[str, ...] = (
    "Message-ID",
    "In-Reply-To",
    "References",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Date",
    "Subject",
    "X-Followup-Id",  # only on drafts written before issue 16: still recognised
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Precedence",
    "List-Id",
    "List-Unsubscribe",
    "Content-Type",
    "Return-Path",
)


@dataclass(frozen=True)
class FolderInfo:
    """One folder as the server lists it: name (Unicode) and LIST attributes."""

    name: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Folders:
    """Folder names on this account, and how each was found."""

    inbox: str
    drafts: str
    sent: str
    trash: str | None = None
    archive: str | None = None
    # role -> "special-use" | "name" | "config"
    found_by: dict[str, str] = field(default_factory=dict)
    delimiter: str = "/"
    # The personal namespace prefix ("INBOX." on Courier-style servers), "" if none.
    prefix: str = ""
    # Every folder listed, for `check` to show when a role is missing.
    existing: tuple[FolderInfo, ...] = ()
    # Folders recognised as no role (Gmail's All Mail, Important, Starred, junk):
    # name -> why. All Mail is never synced, even when listed in `watch`.
    ignored: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FolderStatus:
    uidvalidity: int
    uidnext: int
    messages: int
    highestmodseq: int | None = None


@dataclass(frozen=True)
class ServerInfo:
    capabilities: frozenset[str]
    greeting: str = ""

    def has(self, name: str) -> bool:
        return name.upper() in self.capabilities

    @property
    def idle(self) -> bool:
        return self.has("IDLE")

    @property
    def condstore(self) -> bool:
        return self.has("CONDSTORE")

    @property
    def qresync(self) -> bool:
        return self.has("QRESYNC")

    @property
    def uidplus(self) -> bool:
        return self.has("UIDPLUS")

    @property
    def move(self) -> bool:
        return self.has("MOVE")

    @property
    def notify(self) -> bool:
        return self.has("NOTIFY")


@dataclass(frozen=True)
class FetchedMessage:
    """One message as first seen: selected header fields only, never a body."""

    folder: str
    uid: int
    header: bytes  # raw RFC 5322 header block of HEADER_FIELDS
    flags: frozenset[str]
    size: int
    internaldate: datetime | None = None
    # Whether its MIME structure holds a calendar part (IMAP: from BODYSTRUCTURE,
    # fetched with the header); None when the backend cannot tell without the body.
    calendar: bool | None = None


@dataclass(frozen=True)
class DraftIdentity:
    """What proves a message in Drafts is the draft we wrote for a step.

    A withdraw goes ahead only when at least one field is given and every
    given field equals the message's header (see `agent.backend.identity_mismatch`).
    """

    # The X-Followup-Id header of a draft of the old scheme; None for new
    # drafts, which carry no header of ours and are known by Message-ID alone.
    followup_id: str | None = None
    message_id: str | None = None  # the Message-ID we gave the draft, with or without <>

    def __str__(self) -> str:
        given = [v for v in (self.followup_id, self.message_id) if v]
        return " / ".join(given) or "(no identity)"


class Withdrawn(enum.Enum):
    """What a withdraw really did, so callers can say it truthfully."""

    TO_TRASH = "moved to Trash"
    DELETED = "deleted for good (no Trash folder)"
    ALREADY_GONE = "already gone"


@dataclass(frozen=True)
class Notified:
    """What one wait of a `ChangeWatch` was told: these folders, or maybe every one."""

    folders: frozenset[str] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return self.everything or bool(self.folders)


class ChangeWatch(Protocol):
    """A connection of its own on which the server reports changes to many folders.

    IMAP NOTIFY (RFC 5465): `open()` watches `selected` (kept selected; None:
    nothing selected) and `others` by name; each `wait()` returns what changed
    since the last one.
    """

    def open(self, selected: str | None, others: Sequence[str]) -> None:
        """Connect, sign in, select `selected` (if any) read-only and ask to be told.

        Raises `NotifyRefusedError` when the server cannot: watch without it.
        """
        ...

    def wait(self, timeout: float) -> Notified:
        """Block until the server reports a change or `timeout`; empty on a timeout."""
        ...

    def abort(self) -> None:
        """From another thread: make a blocked `wait()` fail at once (transient error)."""
        ...

    def close(self) -> None: ...


class Mailbox(Protocol):
    """A mailbox the agent may read, and write only its own drafts to."""

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """From another thread: make a blocked `wait()` fail at once (transient error)."""
        ...

    def info(self) -> ServerInfo: ...

    def folders(self) -> Folders: ...

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        """UIDVALIDITY, UIDNEXT, message count (and HIGHESTMODSEQ) of `folder`, as of now.

        `keep_selected` marks the folder asked about every cycle (INBOX): a
        backend may keep it open so that asking again costs almost nothing.
        """
        ...

    def fetch_new(
        self, folder: str, *, after_uid: int, since: date | None = None
    ) -> list[FetchedMessage]:
        """Messages with UID > after_uid, oldest first, read-only.

        When `since` is given and after_uid is 0 (the first sync of a folder),
        only messages whose internal date is on or after it (IMAP SEARCH SINCE).
        """
        ...

    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None:
        """The first `max_bytes` of the whole message, read-only; None if gone."""
        ...

    def fetch_flags(self, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]:
        """Current flags of these UIDs; UIDs that no longer exist are absent."""
        ...

    def append_draft(self, folder: str, message: bytes, when: datetime) -> int | None:
        """APPEND with \\Draft and \\Seen; the new UID when the server says it."""
        ...

    def withdraw(
        self,
        folder: str,
        uid: int,
        trash: str | None,
        *,
        uidvalidity: int | None,
        identity: DraftIdentity,
    ) -> Withdrawn:
        """Move one of our own drafts to Trash (or delete it when there is none).

        Refuses (MailboxFatalError) unless the folder's UIDVALIDITY is
        `uidvalidity` (None: unknown, so refused), the message is flagged
        \\Draft and its header matches `identity`. A UID already gone is a no-op.
        """
        ...

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until the folder may have changed (IDLE) or timeout; True on a change.

        Mail that arrived before the wait began is not reported: callers run a
        cycle after every (re)connect, then wait.
        """
        ...

    def rest(self, folder: str, timeout: float, wake_fd: int) -> bool:
        """Between cycles: wait for a change to `folder`, `timeout`, or `wake_fd` readable.

        True when the folder changed (or may have: a change since the cycle's
        last look counts). Returns at once when `wake_fd` becomes readable,
        without reading it. Backends the server cannot wake (see `rests`) only
        wait on `wake_fd` and return False.
        """
        ...

    def rests(self) -> bool:
        """Whether `rest` is woken by the server (IMAP IDLE on this connection)."""
        ...

    def change_watch(self) -> ChangeWatch | None:
        """A new, unopened watch of many folders with this account, if the server has one."""
        ...

    def settle(self, folder: str) -> None:
        """The cycle is over: make the next `status(folder, keep_selected=True)` cheap.

        IMAP selects `folder` again now if the cycle left another one
        selected, so the next wake-up does not pay for it; others do nothing.
        """
        ...


class TokenSource(Protocol):
    """Bearer tokens for SASL XOAUTH2/OAUTHBEARER, asked for at every login."""

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A token valid for a while; `force_refresh` after the server refused one."""
        ...
