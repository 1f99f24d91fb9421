"""One cycle of the agent, its steps named in order: see `Engine.run_cycle`.

A cycle is idempotent: running it twice in a row changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import jinja2

from . import effects, invitations, policy, twins
from .config import Config
from .drafts import Composer, Drafts
from .gone import GoneDrafts
from .indexcache import IndexCache
from .mailbox import FetchedMessage, Folders, Mailbox
from .models import AppState, FolderRole, Step
from .planner import Planner
from .store import Store
from .sync import FolderSeen, Syncer, SyncReport, message_fault, unreadable

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    drafted: list[Step] = field(default_factory=list)
    recovered: list[Step] = field(default_factory=list)
    state_changes: list[tuple[int, AppState, str]] = field(default_factory=list)
    # What the mailbox showed happened to our drafts.
    sent: list[Step] = field(default_factory=list)
    withdrawn: list[Step] = field(default_factory=list)
    # Sent steps whose unedited draft, still in Drafts, was withdrawn (no twin left).
    twins: list[Step] = field(default_factory=list)
    rejected: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    invitations: list[invitations.Outcome] = field(default_factory=list)


@contextlib.contextmanager
def isolated(folder: FolderSeen, msg: FetchedMessage, now: datetime) -> Iterator[None]:
    """Applying one message: whatever it raises (short of the mailbox's or the
    database's own failure) passes that message over, not the folder."""
    try:
        yield
    except Exception as exc:  # one stranger's message must not stop the cycle
        if not message_fault(exc):
            raise
        log.warning("%s UID %d: passed over, cannot apply it: %s", msg.folder, msg.uid, exc)
        folder.unreadable.append(unreadable(msg, folder.status.uidvalidity, exc, now))


class Engine:
    """Ties the store, the policy, the templates and a mailbox together."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        mailbox: Mailbox,
        env: jinja2.Environment | None = None,
        cal: policy.Calendar | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        # The daemon swaps in a new mailbox after a reconnect: read it per cycle.
        self.mailbox = mailbox
        self.cal = cal or policy.make_calendar(cfg.schedule)
        self.composer = Composer(cfg, store, env, self.cal)
        self._folders: Folders | None = None
        self.planner = Planner(cfg, store, self.cal)
        self.index = IndexCache(store, [cfg.account.email])
        # Set by the daemon on SIGTERM: finish the append in flight, start no other.
        self.stop: threading.Event | None = None

    @property
    def folders(self) -> Folders:
        if self._folders is None:
            self._folders = self.mailbox.folders()
        return self._folders

    def run_cycle(self, now: datetime) -> CycleReport:
        """recover_appends → sync → apply_mail → observe_drafts → withdraw_ended
        → withdraw_sent_twins → plan → draft_due; each folder's sync state is
        recorded once its mail is applied.

        The order is the rule: an interrupted append is settled before the
        mailbox is read (so its draft is not taken for the user's), mail is
        applied before planning (a reply stops a check-in due now), and the
        ended sequences' drafts are withdrawn before new ones are written.
        """
        report = CycleReport()
        drafts = Drafts(self.cfg, self.store, self.mailbox, self.folders, self.composer, self.stop)
        report.recovered += drafts.recover_appends(now)
        seen = self.sync(now, report)
        self.apply_mail(seen, drafts, now, report)
        self.observe_drafts(seen, drafts, now, report)
        drafts_folder = seen.folder(FolderRole.DRAFTS)
        validity = drafts_folder.status.uidvalidity if drafts_folder else None
        report.withdrawn += drafts.withdraw_ended(validity, now)
        report.twins += twins.withdraw_sent_twins(
            self.store, self.mailbox, self.folders, validity, now
        )
        report.state_changes += self.planner.plan_all(now)
        done = drafts.draft_due(now)
        report.drafted += done.drafted
        report.problems += done.problems
        # Brought up to date now, off the path of the next wake-up, which then
        # reads only what changed after this point.
        self.index.current()
        return report

    def sync(self, now: datetime, report: CycleReport) -> SyncReport:
        """Read what is new in the watched folders (nothing is written)."""
        seen = Syncer(self.cfg, self.store, self.mailbox, self.folders, self.index.current).run(now)
        report.problems += seen.problems
        log.debug(
            "sync: %d header(s), %d body(ies) fetched; %d folder(s) unchanged",
            seen.fetched,
            seen.bodies,
            seen.skipped_folders,
        )
        return seen

    def apply_mail(
        self, seen: SyncReport, drafts: Drafts, now: datetime, report: CycleReport
    ) -> None:
        """Incoming mail and Sent into the store, each folder's sync state after its mail."""
        for folder in seen.folders:
            if folder.role is FolderRole.INCOMING:
                for item in folder.messages:
                    with isolated(folder, item.msg, now):
                        changes = effects.apply_incoming(
                            self.store, item, self.cal.tz, now, self.cfg.reminders.answer_rejection
                        )
                        report.state_changes += [
                            (c.application_id, c.state, c.reason) for c in changes
                        ]
                # After the messages' own effects: an invitation to a later round
                # is also the company's answer, and the new round must outlive it.
                for msg in folder.invitations:
                    with isolated(folder, msg, now):
                        got = invitations.from_mail(
                            self.store, self.mailbox, msg, self.cfg, self.cal.tz, now
                        )
                        report.invitations += got.outcomes
            elif folder.role is FolderRole.SENT:
                for item in folder.messages:
                    with isolated(folder, item.msg, now):
                        step = drafts.sent_copy_of(item)
                        if step is None:
                            effects.apply_user_sent(self.store, item, now)
                        elif drafts.record_sent(step, item, now):
                            report.sent.append(step)
            else:
                continue  # Drafts: observe_drafts
            self.record(folder, now)

    def observe_drafts(
        self, seen: SyncReport, drafts: Drafts, now: datetime, report: CycleReport
    ) -> None:
        """Our drafts in Drafts: edited, still there, or gone (then skipped)."""
        folder = seen.folder(FolderRole.DRAFTS)
        if folder is None:
            return
        for item in folder.messages:
            drafts.seen_in_drafts(item, folder.resync, now)
        self.record(folder, now)
        gone = GoneDrafts(self.store, self.mailbox, self.folders)
        report.rejected += gone.watch(folder.status, folder.changed, now)

    def record(self, folder: FolderSeen, now: datetime) -> None:
        """The folder's sync state, once what it showed is in the store."""
        if not folder.changed:
            return
        with self.store.transaction():
            for bad in folder.unreadable:
                self.store.record_unreadable(bad)
            self.store.save_folder_sync(folder.state, now)
