"""The one base class of every mailbox backend: each safety check lives here, once.

A backend (`agent.imap`, `agent.maildir`, `agent.memory`) supplies how to read
(headers, flags, bodies, status) and a few write primitives on ONE message:
append, open a folder for writing, peek at a UID's flags and header, move it,
delete it. Everything that decides whether a write may happen is in
`BaseMailbox`: writes go only into the Drafts folder, never while that
folder is open read-only; a withdraw needs the folder's UIDVALIDITY, the
`\\Draft` flag and a matching identity; with no Trash folder the draft is
deleted, and the caller is told so.

May import: agent.mailbox, agent.errors, agent.classify (header parsing).
"""

from __future__ import annotations

import logging
import re
import select
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Self

from agent.classify import Header, parse_header
from agent.errors import MailboxFatalError
from agent.mailbox import (
    HEADER_FIELDS,
    ChangeWatch,
    DraftIdentity,
    FetchedMessage,
    Folders,
    FolderStatus,
    ServerInfo,
    Withdrawn,
)

log = logging.getLogger(__name__)

# Every draft we write carries both: \Draft marks it ours to withdraw later,
# \Seen keeps it from showing up as unread mail in the user's client.
DRAFT_FLAGS: tuple[str, ...] = ("\\Draft", "\\Seen")
# The header fields the withdraw guard reads (a subset of HEADER_FIELDS).
IDENTITY_FIELDS: tuple[str, ...] = ("Message-ID", "X-Followup-Id")

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_WANTED = frozenset(h.lower().encode() for h in HEADER_FIELDS)


@dataclass(frozen=True)
class Peek:
    """What the withdraw guard learns about one message: flags and header fields."""

    flags: frozenset[str]
    header: bytes  # at least IDENTITY_FIELDS


def _bare_id(message_id: str | None) -> str | None:
    if message_id is None:
        return None
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    return bare or None


def identity_mismatch(identity: DraftIdentity, header: Header) -> str | None:
    """Why `header` is not the draft `identity` names; None when it is.

    The one place that decides "this draft is ours": at least one field must
    be given, and every given field must equal the message's.
    """
    checks = [
        ("X-Followup-Id", identity.followup_id, header.followup_id),
        ("Message-ID", _bare_id(identity.message_id), _bare_id(header.message_id)),
    ]
    given = [(name, want, got) for name, want, got in checks if want]
    if not given:
        return "no identity given, so nothing shows it is ours"
    for name, want, got in given:
        if got != want:
            return f"it is not our draft {identity} (its {name} is {got or 'missing'})"
    return None


def draft_refusal(peek: Peek, identity: DraftIdentity) -> str | None:
    """Why the peeked message must not be withdrawn; None when it is our draft."""
    if "\\draft" not in {f.lower() for f in peek.flags}:
        # Our drafts always carry \Draft; anything else is not ours to touch.
        return "it is not flagged \\Draft"
    return identity_mismatch(identity, parse_header(peek.header))


def header_block(raw: bytes) -> bytes:
    """The header block of a whole message (up to and including the blank line)."""
    end = _HEADER_END.search(raw)
    return raw[: end.end()] if end is not None else raw


def header_fields(header: bytes) -> bytes:
    """The HEADER_FIELDS lines of a header block, as IMAP's HEADER.FIELDS returns them."""
    eol = b"\r\n" if b"\r\n" in header else b"\n"
    kept: list[bytes] = []
    keep = False
    for line in header.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        name = line.partition(b":")[0].strip().lower()
        keep = name in _WANTED
        if keep:
            kept.append(line)
    return b"".join(kept) + eol


class BaseMailbox(ABC):
    """The `agent.mailbox.Mailbox` protocol's rules; subclasses supply primitives."""

    _drafts_folder: str | None = None

    # -- what every backend implements: reading ------------------------------

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def abort(self) -> None: ...

    @abstractmethod
    def info(self) -> ServerInfo: ...

    @abstractmethod
    def _list_folders(self) -> Folders:
        """Resolve the account's folders (LIST or directory scan)."""

    @abstractmethod
    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus: ...

    @abstractmethod
    def fetch_new(
        self, folder: str, *, after_uid: int, since: date | None = None
    ) -> list[FetchedMessage]: ...

    @abstractmethod
    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None: ...

    @abstractmethod
    def fetch_flags(self, folder: str, uids: Sequence[int]) -> dict[int, frozenset[str]]: ...

    @abstractmethod
    def wait(self, folder: str, timeout: float) -> bool: ...

    def rest(self, folder: str, timeout: float, wake_fd: int) -> bool:
        """Only `wake_fd` or the timeout end it: the server cannot wake this backend."""
        select.select([wake_fd], [], [], max(timeout, 0.0))
        return False

    def rests(self) -> bool:
        return False

    def change_watch(self) -> ChangeWatch | None:
        """None: this backend has no server-side change feed (the daemon polls)."""
        return None

    def settle(self, folder: str) -> None:
        """Nothing to keep warm: a backend without a selected folder looks as cheaply any time."""
        return None

    # -- what every backend implements: write primitives on one message ------

    def _prepare_write(self, folder: str) -> None:
        """Leave any read-only view of `folder` before writing to it (IMAP: EXAMINE)."""
        return None

    @abstractmethod
    def _append(
        self, folder: str, message: bytes, when: datetime, flags: tuple[str, ...]
    ) -> int | None:
        """Store `message` in `folder` with `flags`; its UID when known."""

    @abstractmethod
    def _write_session(self, folder: str) -> AbstractContextManager[int | None]:
        """Open `folder` for writing; yields its UIDVALIDITY as of now (None: not said)."""

    @abstractmethod
    def _peek(self, folder: str, uid: int) -> Peek | None:
        """Flags and identity header fields of `uid`, read-only; None if gone."""

    @abstractmethod
    def _move(self, folder: str, uid: int, trash: str) -> None:
        """Move exactly `uid` to `trash`, touching no other message."""

    @abstractmethod
    def _delete(self, folder: str, uid: int) -> None:
        """Remove exactly `uid` for good, touching no other message."""

    def _removal_problem(self, trash: str | None) -> str | None:
        """Why this backend cannot remove one message safely; None when it can."""
        return None

    # -- the rules -----------------------------------------------------------

    def folders(self) -> Folders:
        found = self._list_folders()
        self._drafts_folder = found.drafts
        return found

    def _check_drafts_folder(self, folder: str, what: str) -> None:
        # Invariant 1: the only folder we ever write to is Drafts.
        drafts = self._drafts_folder or self.folders().drafts
        if folder != drafts:
            raise MailboxFatalError(
                f"refusing to {what} in {folder!r}: the agent writes only to Drafts ({drafts!r})"
            )

    def append_draft(self, folder: str, message: bytes, when: datetime) -> int | None:
        """Store one of our drafts, flagged \\Draft and \\Seen; its UID when known."""
        self._check_drafts_folder(folder, "append a draft")
        self._prepare_write(folder)
        uid = self._append(folder, message, when, DRAFT_FLAGS)
        log.info("appended a draft to %s (UID %s)", folder, uid)
        return uid

    def withdraw(
        self,
        folder: str,
        uid: int,
        trash: str | None,
        *,
        uidvalidity: int | None,
        identity: DraftIdentity,
    ) -> Withdrawn:
        """Move one of our own drafts to `trash`, or delete it when there is none.

        The agent never asks for the delete: with no Trash, drafts.py keeps the
        draft and tells the user (the one place that rule lives).

        Refuses (MailboxFatalError) unless `uidvalidity` is the folder's (a UID
        from before a change may name the user's mail), the message carries
        \\Draft and its header matches `identity`.
        """
        self._check_drafts_folder(folder, "withdraw a draft")
        if uidvalidity is None:
            raise MailboxFatalError(
                f"refusing to withdraw {folder} UID {uid}: its UIDVALIDITY is unknown"
            )
        problem = self._removal_problem(trash)
        if problem is not None:
            raise MailboxFatalError(f"cannot remove draft UID {uid} from {folder}: {problem}")
        self._prepare_write(folder)
        with self._write_session(folder) as current:
            if current != uidvalidity:
                raise MailboxFatalError(
                    f"refusing to withdraw {folder} UID {uid}: the folder's UIDVALIDITY is "
                    f"{current}, not {uidvalidity}"
                )
            peek = self._peek(folder, uid)
            if peek is None:
                log.info("draft %s UID %d already gone", folder, uid)
                return Withdrawn.ALREADY_GONE
            refusal = draft_refusal(peek, identity)
            if refusal is not None:
                raise MailboxFatalError(f"refusing to withdraw {folder} UID {uid}: {refusal}")
            if trash is None:
                self._delete(folder, uid)
                outcome = Withdrawn.DELETED
            else:
                self._move(folder, uid, trash)
                outcome = Withdrawn.TO_TRASH
        if outcome is Withdrawn.DELETED:
            log.warning("withdrew draft %s UID %d: deleted for good, no Trash folder", folder, uid)
        else:
            log.info("withdrew draft %s UID %d to %s", folder, uid, trash)
        return outcome

    # -- context manager -----------------------------------------------------

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
