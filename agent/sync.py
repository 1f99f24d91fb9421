"""Per-folder UID sync: reads what is new in INBOX, Sent, Drafts (and extras) and reports it.

It never writes: the engine hands what it saw to effects (incoming mail, the
user's own sent mail) and to drafts (our drafts in Drafts and Sent), then
records each folder's new sync state.

Per folder the store keeps UIDVALIDITY and the last UID seen. A folder whose
status shows no new UID costs nothing else: INBOX, kept selected between
cycles, one NOOP; Sent, Drafts and extra folders one STATUS each (cheap while
they are small; STATUS of a big unselected folder costs as much as EXAMINE),
or nothing at all when the daemon's NOTIFY feed says the server reported no
change in them (agent/changefeed.py); a changed one gets
`UID FETCH` of the new headers only, a body (capped) only when classification
needs it. A new UIDVALIDITY resyncs that folder; the `messages` table keeps
effects from repeating (a copy is the same Message-ID from the same sender).

Anyone can send mail: whatever goes wrong reading, parsing or classifying one
message is that message's alone. It is listed in `FolderSeen.unreadable`
(recorded with the folder's new cursor, so it is passed over exactly once)
and the folder goes on.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from . import classify
from .changefeed import ALL, ChangeFeed, Changes
from .classify import Header, Verdict
from .config import Config, InvitationMode
from .errors import FolderError, MailboxError, MailboxFatalError
from .invites.structure import may_hold_invitation
from .mailbox import FetchedMessage, Folders, FolderStatus, Mailbox
from .mailstate import Unreadable
from .models import AppState, FolderRole, FolderSync, MessageKind
from .store import Store

log = logging.getLogger(__name__)

# With no interview recorded yet, a first sync looks this far back for invitations.
INVITATION_LOOKBACK = timedelta(days=30)

# Enough for a bounce's report or an out-of-office's text, not an attachment.
BODY_CAP = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One new message in a folder, and what classification made of it."""

    msg: FetchedMessage
    uidvalidity: int
    header: Header
    verdict: Verdict
    message_id: str  # its Message-ID, or a stable stand-in when it has none


@dataclass
class FolderSeen:
    """What one folder showed this cycle."""

    role: FolderRole
    name: str
    status: FolderStatus
    last_uid: int  # the sync state to record once its messages are handled
    changed: bool  # new messages, or fewer, or changed flags: worth recording
    resync: bool = False  # UIDVALIDITY changed: everything in it is seen anew
    messages: list[Seen] = field(default_factory=list)
    # New incoming mail that may hold a calendar invitation, whatever its verdict.
    invitations: list[FetchedMessage] = field(default_factory=list)
    # Messages passed over: recorded with the folder's sync state.
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def state(self) -> FolderSync:
        s = self.status
        return FolderSync(self.name, s.uidvalidity, self.last_uid, s.highestmodseq, s.messages)


@dataclass
class SyncReport:
    fetched: int = 0  # headers fetched
    bodies: int = 0  # bodies fetched
    skipped_folders: int = 0  # folders whose STATUS showed nothing new
    folders: list[FolderSeen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def folder(self, role: FolderRole) -> FolderSeen | None:
        return next((f for f in self.folders if f.role is role), None)


def synthetic_id(msg: FetchedMessage, uidvalidity: int) -> str:
    """A stand-in for a missing Message-ID: this one message, never another like it.

    Built from where the message is (folder, UIDVALIDITY, UID) and when the
    server took it, not from its header: two messages without Message-ID or
    Date from one sender are still two messages.
    """
    when = msg.internaldate.isoformat() if msg.internaldate else ""
    basis = f"{msg.folder}|{uidvalidity}|{msg.uid}|{when}"
    return f"<nomid.{hashlib.sha256(basis.encode()).hexdigest()[:20]}@followup.invalid>"


def unchanged(role: FolderRole, prev: FolderSync) -> FolderSeen:
    """A folder the server reported no change in: as recorded, no command sent."""
    status = FolderStatus(
        prev.uidvalidity, prev.last_uid + 1, prev.messages or 0, prev.highestmodseq
    )
    return FolderSeen(role, prev.folder, status, prev.last_uid, changed=False)


def message_fault(exc: Exception) -> bool:
    """Whether `exc`, raised while handling one message, is that message's fault.

    The mailbox's and the database's own failures (a cut connection, a locked,
    full or damaged database) are not: they fail the cycle, and the message is
    read again by the next one.
    """
    if isinstance(exc, MailboxError):
        return False
    if isinstance(exc, sqlite3.Error):
        return isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError))
    return True


def unreadable(
    msg: FetchedMessage, uidvalidity: int, exc: BaseException, now: datetime
) -> Unreadable:
    """The record of a message passed over, with a one-line reason."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return Unreadable(msg.folder, uidvalidity, msg.uid, reason, now)


def folder_plan(cfg: Config, folders: Folders) -> list[tuple[FolderRole, str]]:
    """The folders a cycle reads, in the order that keeps one cycle consistent.

    Incoming first (a reply stops check-ins), then Sent (a sent draft is
    not a rejected one), then Drafts. The NOTIFY watcher watches the same.
    """
    f = folders
    out: list[tuple[FolderRole, str]] = [(FolderRole.INCOMING, f.inbox)]
    out += [(FolderRole.INCOMING, name) for name in cfg.folders.watch]
    out += [(FolderRole.SENT, f.sent), (FolderRole.DRAFTS, f.drafts)]
    seen: set[str] = set()
    unique = []
    for role, name in out:
        if f.ignored.get(name) == "all mail":
            # Gmail's All Mail holds a copy of every message: never read it.
            log.warning("not watching %r: it repeats every message of the account", name)
            continue
        if name not in seen:
            seen.add(name)
            unique.append((role, name))
    return unique


class Syncer:
    """One read-only sync pass over the watched folders; create one per cycle."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox: Mailbox,
        folders: Folders,
        index: Callable[[], classify.AppIndex],
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox = mailbox
        self.folders = folders
        # Where the application index comes from (the engine keeps one between
        # cycles); asked once per pass, and only when some folder has news.
        self._source = index
        self._index: classify.AppIndex | None = None

    def folder_plan(self) -> list[tuple[FolderRole, str]]:
        """Folders in the order that keeps one cycle consistent (see `folder_plan`)."""
        return folder_plan(self.cfg, self.folders)

    @property
    def index(self) -> classify.AppIndex:
        if self._index is None:
            self._index = self._source()
        return self._index

    def run(self, now: datetime, feed: ChangeFeed | None = None) -> SyncReport:
        """What every watched folder shows that is new; `now` bounds a first look back.

        With a live `feed` (the daemon's NOTIFY watcher), a folder other than
        INBOX that the server did not report changed is not asked about.
        """
        report = SyncReport()
        watch_invites = self.cfg.intake.invitations is not InvitationMode.OFF
        if not self.store.application_ids() and not watch_invites:
            return report  # nothing to watch for yet
        first = self.store.earliest_interview([AppState.ACTIVE]) or self.store.earliest_interview(
            list(AppState)
        )
        if first is None and watch_invites:
            first = now - INVITATION_LOOKBACK  # no interview yet: recent invitations only
        # Internal dates are the server's; a day of slack covers time zones.
        since = (first - timedelta(days=1)).date() if first else None
        changes = feed.take() if feed is not None else ALL
        for role, name in self.folder_plan():
            quiet = self._vouched_for(name, changes)
            if quiet is not None:
                report.skipped_folders += 1
                report.folders.append(unchanged(role, quiet))
                continue
            try:
                # INBOX stays selected between cycles: asking again is one NOOP.
                status = self.mailbox.status(name, keep_selected=name == self.folders.inbox)
            except (FolderError, MailboxFatalError) as exc:
                if role is FolderRole.INCOMING and name != self.folders.inbox:
                    log.warning("cannot watch folder %r: %s", name, exc)
                    report.problems.append(f"folder {name}: {exc}")
                    if feed is not None:
                        feed.mark([name])  # asked again next cycle, as without a feed
                    continue
                raise
            report.folders.append(self._read_folder(role, name, status, since, report, now))
        return report

    def _vouched_for(self, name: str, changes: Changes) -> FolderSync | None:
        """The recorded state of a folder the live feed says did not change; None: ask it.

        INBOX is always asked: kept selected, asking is one NOOP.
        """
        if name == self.folders.inbox or changes.may_have_changed(name):
            return None
        return self.store.folder_sync(name)

    # -- one folder -----------------------------------------------------------------

    def _read_folder(
        self,
        role: FolderRole,
        name: str,
        status: FolderStatus,
        since: date | None,
        report: SyncReport,
        now: datetime,
    ) -> FolderSeen:
        """What is new in `name` since the recorded sync state."""
        prev = self.store.folder_sync(name)
        same_validity = prev is not None and prev.uidvalidity == status.uidvalidity
        if prev is not None and same_validity and status.uidnext <= prev.last_uid + 1:
            report.skipped_folders += 1
            moved = status.messages != prev.messages or (
                status.highestmodseq is not None and status.highestmodseq != prev.highestmodseq
            )
            return FolderSeen(role, name, status, prev.last_uid, changed=moved)
        resync = prev is not None and not same_validity
        if resync:
            assert prev is not None
            _log_resync(name, prev, status)
        after = prev.last_uid if prev is not None and same_validity else 0
        fetched = self.mailbox.fetch_new(name, after_uid=after, since=since if after == 0 else None)
        seen = FolderSeen(role, name, status, max(after, status.uidnext - 1), True, resync)
        for msg in fetched:
            if msg.uid <= after:
                continue  # "N:*" returns the last message even when nothing is new
            report.fetched += 1
            seen.last_uid = max(seen.last_uid, msg.uid)
            self._take(seen, msg, report, now)
        return seen

    def _take(
        self, seen: FolderSeen, msg: FetchedMessage, report: SyncReport, now: datetime
    ) -> None:
        """One new message into `seen`: classified, or passed over as unreadable."""
        try:
            if seen.role is FolderRole.INCOMING and may_hold_invitation(msg.calendar, msg.header):
                seen.invitations.append(msg)
            item = self._classify(seen.role, seen.status.uidvalidity, msg, report)
        except Exception as exc:  # anything a stranger's mail can trigger
            if not message_fault(exc):
                raise
            log.warning("%s UID %d: passed over, cannot read it: %s", msg.folder, msg.uid, exc)
            seen.unreadable.append(unreadable(msg, seen.status.uidvalidity, exc, now))
            return
        if item is not None:
            seen.messages.append(item)

    def _classify(
        self, role: FolderRole, uidvalidity: int, msg: FetchedMessage, report: SyncReport
    ) -> Seen | None:
        # Any exception here is the message's: the caller passes it over.
        h = classify.parse_header(msg.header)
        v = classify.classify(h, role, self.index, received=msg.internaldate)
        if v.needs_body:
            body = self.mailbox.fetch_body(msg.folder, msg.uid, BODY_CAP)
            if body is None:
                return None
            report.bodies += 1
            v = classify.classify(h, role, self.index, received=msg.internaldate, body=body)
        # In Sent an unrelated-looking message may still be one of our drafts.
        if v.kind is MessageKind.UNRELATED and role is not FolderRole.SENT:
            return None
        log.debug("%s UID %d: %s (%s)", msg.folder, msg.uid, v.kind.value, v.reason)
        return Seen(msg, uidvalidity, h, v, h.message_id or synthetic_id(msg, uidvalidity))


def _log_resync(name: str, prev: FolderSync, status: FolderStatus) -> None:
    """A new UIDVALIDITY: a warning, unless the folder looks the same or was empty.

    Courier hands out a new UIDVALIDITY for every session to a folder no client
    has SELECTed read-write, with the same messages under the same UIDs:
    resynced (nothing repeats), but not worth a warning each cycle.
    """
    same = status.messages == prev.messages and status.uidnext == prev.last_uid + 1
    empty = prev.last_uid == 0 and not prev.messages
    (log.info if same or empty else log.warning)(
        "%s: UIDVALIDITY changed (%s → %s); resyncing it, no action will repeat",
        name,
        prev.uidvalidity,
        status.uidvalidity,
    )
