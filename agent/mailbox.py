"""What the engine needs from a mail store, independent of how it is reached.

Implementations: `agent.imap.ImapMailbox` (the only module importing
imapclient) and `agent.maildir.MaildirMailbox` (a local Maildir).
Every method raises only `agent.errors.MailboxError` subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from .config import AccountConfig, FoldersConfig

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
    "X-Followup-Id",
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


@dataclass(frozen=True)
class FetchedMessage:
    """One message as first seen: selected header fields only, never a body."""

    folder: str
    uid: int
    header: bytes  # raw RFC 5322 header block of HEADER_FIELDS
    flags: frozenset[str]
    size: int
    internaldate: datetime | None = None


class Mailbox(Protocol):
    """A mailbox the agent may read, and write only its own drafts to."""

    def connect(self) -> None: ...

    def close(self) -> None: ...

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
        uidvalidity: int | None = None,
        followup_id: str | None = None,
    ) -> None:
        """Move one of our own drafts to Trash (or delete it when there is none).

        Refuses (MailboxFatalError) when the folder's UIDVALIDITY is not
        `uidvalidity` or the message's X-Followup-Id is not `followup_id`.
        """
        ...

    def wait(self, folder: str, timeout: float) -> bool:
        """Block until the folder may have changed (IDLE) or timeout; True on a change.

        Mail that arrived before the wait began is not reported: callers run a
        cycle after every (re)connect, then wait.
        """
        ...


def open_mailbox(
    account: AccountConfig,
    folders: FoldersConfig,
    password: str | None,
    *,
    state_dir: Path | None = None,
) -> Mailbox:
    """The mailbox for an account config (not yet connected).

    `password` is needed for IMAP only; `state_dir` is where a Maildir
    account keeps its UID index (default: the platform state directory).
    """
    if account.is_maildir:
        from .maildir import MaildirMailbox, index_path

        assert account.path is not None  # config.parse requires it
        return MaildirMailbox(
            account.path,
            layout=account.layout,
            index=index_path(account.path, state_dir) if state_dir is not None else None,
            folder_overrides=folders.overrides(),
        )
    if password is None:
        raise ValueError("an IMAP account needs a password")
    # Imported here so that only code that talks to a server loads imapclient.
    from .imap import ImapMailbox

    return ImapMailbox(
        account.host,
        account.port,
        account.security,
        account.login,
        password,
        ca_file=account.ca_file,
        timeout=account.timeout_seconds,
        folder_overrides=folders.overrides(),
    )
