"""Per-folder UID sync: new mail in INBOX, Sent, Drafts (and configured extras) → effects.

Per folder the store keeps UIDVALIDITY and the last UID seen. A folder whose
status shows no new UID costs nothing else: INBOX, kept selected between
cycles, one NOOP; Sent, Drafts and extra folders one STATUS each (cheap while
they are small; STATUS of a big unselected folder costs as much as EXAMINE); a changed one gets
`UID FETCH` of the new headers only, a body (capped) only when classification
needs it. A new UIDVALIDITY resyncs that folder; the `messages` table keeps
effects from repeating (by Message-ID).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import classify, effects
from .classify import Header, Verdict
from .config import Config
from .errors import FolderError, MailboxFatalError
from .mailbox import FetchedMessage, Folders, FolderStatus, Mailbox
from .models import (
    Application,
    AppState,
    DraftWatch,
    FolderRole,
    FolderSync,
    MessageKind,
    Step,
    StepState,
)
from .store import Store

log = logging.getLogger(__name__)

# Enough for a bounce's report or an out-of-office's text, not an attachment.
BODY_CAP = 64 * 1024
# A draft missing this long from Drafts, and not in Sent, was rejected by the user.
GONE_GRACE = timedelta(days=3)
INCOMING_KINDS = tuple(
    k.value
    for k in (
        MessageKind.REPLY,
        MessageKind.AUTO_REPLY,
        MessageKind.BOUNCE,
        MessageKind.LIST,
        MessageKind.AUTOMATED,
        MessageKind.PRIOR,
    )
)
SENT_KINDS = (MessageKind.USER_SENT.value, MessageKind.OUR_SENT.value)


@dataclass
class SyncReport:
    fetched: int = 0  # headers fetched
    bodies: int = 0  # bodies fetched
    skipped_folders: int = 0  # folders whose STATUS showed nothing new
    state_changes: list[effects.StateChange] = field(default_factory=list)
    withdrawn: list[Step] = field(default_factory=list)
    sent: list[Step] = field(default_factory=list)
    rejected: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def synthetic_id(h: Header, msg: FetchedMessage) -> str:
    """A stable stand-in for a missing Message-ID, so effects still happen once."""
    basis = "|".join(
        (h.from_addr, h.date.isoformat() if h.date else "", h.subject, ",".join(h.recipients))
    )
    if not (h.from_addr or h.date or h.subject):
        basis += f"|{msg.folder}|{msg.uid}|{msg.size}"
    return f"<nomid.{hashlib.sha256(basis.encode()).hexdigest()[:20]}@followup.invalid>"


class Syncer:
    """One sync pass over the watched folders; create one per cycle."""

    def __init__(
        self, cfg: Config, store: Store, mailbox: Mailbox, folders: Folders, tz: ZoneInfo
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.mailbox = mailbox
        self.folders = folders
        self.tz = tz
        self._index: classify.AppIndex | None = None
        self._apps: dict[int, Application] | None = None

    def folder_plan(self) -> list[tuple[FolderRole, str]]:
        """Folders in the order that keeps one cycle consistent.

        Incoming first (a reply stops check-ins), then Sent (a sent draft is
        not a rejected one), then Drafts.
        """
        f = self.folders
        out: list[tuple[FolderRole, str]] = [(FolderRole.INCOMING, f.inbox)]
        out += [(FolderRole.INCOMING, name) for name in self.cfg.folders.watch]
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

    @property
    def apps(self) -> dict[int, Application]:
        # Loaded once per pass, and only when some folder has news.
        if self._apps is None:
            self._apps = {a.id: a for a in self.store.load_many()}
        return self._apps

    @property
    def index(self) -> classify.AppIndex:
        if self._index is None:
            me = [self.cfg.account.email]
            self._index = classify.AppIndex.build(
                list(self.apps.values()), self.store.thread_ids(), me
            )
        return self._index

    def run(self, now: datetime) -> SyncReport:
        report = SyncReport()
        if not self.store.application_ids():
            return report  # nothing to watch for yet
        first = self.store.earliest_interview([AppState.ACTIVE]) or self.store.earliest_interview(
            list(AppState)
        )
        # Internal dates are the server's; a day of slack covers time zones.
        since = (first - timedelta(days=1)).date() if first else None
        drafts_status: FolderStatus | None = None
        drafts_changed = False
        for role, name in self.folder_plan():
            try:
                # INBOX stays selected between cycles: asking again is one NOOP.
                status = self.mailbox.status(name, keep_selected=name == self.folders.inbox)
            except (FolderError, MailboxFatalError) as exc:
                if role is FolderRole.INCOMING and name != self.folders.inbox:
                    log.warning("cannot watch folder %r: %s", name, exc)
                    report.problems.append(f"folder {name}: {exc}")
                    continue
                raise
            changed = self._sync_folder(role, name, status, since, now, report)
            if role is FolderRole.DRAFTS:
                drafts_status, drafts_changed = status, changed
        self._watch_drafts(drafts_status, drafts_changed, now, report)
        report.withdrawn = effects.withdraw_answered(
            self.store,
            self.mailbox,
            self.folders.drafts,
            self.folders.trash,
            drafts_status.uidvalidity if drafts_status else None,
            now,
        )
        return report

    # -- one folder -----------------------------------------------------------------

    def _sync_folder(
        self,
        role: FolderRole,
        name: str,
        status: FolderStatus,
        since: date | None,
        now: datetime,
        report: SyncReport,
    ) -> bool:
        """Fetch and handle what is new in `name`; True if the folder changed at all."""
        prev = self.store.folder_sync(name)
        same_validity = prev is not None and prev.uidvalidity == status.uidvalidity
        if prev is not None and same_validity and status.uidnext <= prev.last_uid + 1:
            report.skipped_folders += 1
            moved = status.messages != prev.messages or (
                status.highestmodseq is not None and status.highestmodseq != prev.highestmodseq
            )
            if moved:
                self._save(name, status, prev.last_uid, now)
            return moved
        resync = prev is not None and not same_validity
        if resync:
            assert prev is not None
            # Courier hands out a new UIDVALIDITY for every session to a folder no
            # client has SELECTed read-write, with the same messages under the same
            # UIDs: resynced (nothing repeats), but not worth a warning each cycle.
            same = status.messages == prev.messages and status.uidnext == prev.last_uid + 1
            empty = prev.last_uid == 0 and not prev.messages
            (log.info if same or empty else log.warning)(
                "%s: UIDVALIDITY changed (%s → %s); resyncing it, no action will repeat",
                name,
                prev.uidvalidity,
                status.uidvalidity,
            )
        after = prev.last_uid if prev is not None and same_validity else 0
        fetched = self.mailbox.fetch_new(
            name,
            after_uid=after,
            since=since if after == 0 else None,
        )
        last = max(after, status.uidnext - 1)
        for msg in fetched:
            if msg.uid <= after:
                continue  # "N:*" returns the last message even when nothing is new
            report.fetched += 1
            last = max(last, msg.uid)
            self._handle(role, name, status.uidvalidity, msg, resync, now, report)
        self._save(name, status, last, now)
        return True

    def _save(self, name: str, status: FolderStatus, last: int, now: datetime) -> None:
        with self.store.transaction():
            self.store.save_folder_sync(
                FolderSync(name, status.uidvalidity, last, status.highestmodseq, status.messages),
                now,
            )

    def _classify(
        self, role: FolderRole, name: str, msg: FetchedMessage, report: SyncReport
    ) -> tuple[Header, Verdict] | None:
        # The boundary where broken mail stops: logged and skipped, never fatal.
        try:
            h = classify.parse_header(msg.header)
            v = classify.classify(h, role, self.index, received=msg.internaldate)
            if v.needs_body:
                body = self.mailbox.fetch_body(name, msg.uid, BODY_CAP)
                if body is None:
                    return None
                report.bodies += 1
                v = classify.classify(h, role, self.index, received=msg.internaldate, body=body)
        except (ValueError, TypeError, LookupError, AttributeError, UnicodeError) as exc:
            log.warning("skipping %s UID %d: cannot classify it: %s", name, msg.uid, exc)
            return None
        return h, v

    def _handle(
        self,
        role: FolderRole,
        name: str,
        uidvalidity: int,
        msg: FetchedMessage,
        resync: bool,
        now: datetime,
        report: SyncReport,
    ) -> None:
        got = self._classify(role, name, msg, report)
        if got is None:
            return
        h, v = got
        if v.kind is MessageKind.UNRELATED and role is not FolderRole.SENT:
            return
        mid = h.message_id or synthetic_id(h, msg)
        log.debug("%s UID %d: %s (%s)", name, msg.uid, v.kind.value, v.reason)
        if role is FolderRole.DRAFTS:
            self._draft_seen(h, v, msg, uidvalidity, mid, resync, now)
            return
        if role is FolderRole.SENT:
            self._sent_seen(h, v, msg, uidvalidity, mid, now, report)
            return
        with self.store.transaction():
            if self.store.message_seen(mid, INCOMING_KINDS):
                # A copy (moved to an archive, or a resynced folder): no second
                # row either, since rows are what `show` and policy count.
                log.info("%s UID %d: %s already handled", name, msg.uid, mid)
                return
            app_ids = [m.application_id for m in v.matches]
            if v.kind is MessageKind.REPLY:
                report.state_changes += effects.reply(self.store, app_ids, h, v.reason, now)
            elif v.kind is MessageKind.AUTO_REPLY:
                effects.auto_reply(self.store, app_ids, h, v.return_date, self.tz, now)
            elif v.kind is MessageKind.BOUNCE:
                effects.bounce(
                    self.store,
                    [(m.application_id, m.contact_id) for m in v.matches],
                    ", ".join(v.failed) or "unknown address",
                    now,
                )
            self._record(v, h, msg, uidvalidity, mid, now)
        if v.kind is not MessageKind.UNRELATED:
            log.info("%s UID %d from %s: %s", name, msg.uid, h.from_addr, v.reason)

    def _record(
        self,
        v: Verdict,
        h: Header,
        msg: FetchedMessage,
        uidvalidity: int,
        mid: str,
        now: datetime,
        kind: MessageKind | None = None,
        app_id: int | None = None,
    ) -> None:
        effects.record(
            self.store,
            kind or v.kind,
            h,
            msg,
            uidvalidity,
            mid,
            now,
            app_id if app_id is not None else v.application_id,
            v.contact_id,
        )

    # -- Sent ---------------------------------------------------------------------

    def _draft_refs(self, states: Sequence[StepState]) -> list[tuple[classify.DraftRef, Step]]:
        out = []
        for step in self.store.steps_in_state(*states):
            app = self.apps.get(step.application_id)
            contact = app.contact(step.contact_id) if app else None
            if contact is None or not step.kind.is_email:
                continue
            ours = self.store.draft_message(step.message_id) if step.message_id else None
            ref = classify.DraftRef(
                step.key,
                step.message_id,
                classify.normalise_address(contact.email),
                step.subject,
                step.in_reply_to or (ours.in_reply_to if ours else None),
            )
            out.append((ref, step))
        return out

    def _sent_seen(
        self,
        h: Header,
        v: Verdict,
        msg: FetchedMessage,
        uidvalidity: int,
        mid: str,
        now: datetime,
        report: SyncReport,
    ) -> None:
        candidates = self._draft_refs(
            (StepState.DRAFTED, StepState.APPENDING, StepState.SKIPPED, StepState.WITHDRAWN)
        )
        hit = classify.match_draft(h, [ref for ref, _ in candidates])
        step = next((s for ref, s in candidates if hit is not None and ref is hit), None)
        if step is None and v.kind is not MessageKind.USER_SENT:
            return
        with self.store.transaction():
            if self.store.message_seen(mid, SENT_KINDS):
                log.info("%s UID %d: %s already handled", msg.folder, msg.uid, mid)
                return
            if step is not None:
                effects.our_sent(self.store, step, h.date or msg.internaldate, now)
                self._record(
                    v, h, msg, uidvalidity, mid, now, MessageKind.OUR_SENT, step.application_id
                )
                report.sent.append(step)
            else:
                effects.user_sent(self.store, [m.application_id for m in v.matches], h, now)
                self._record(v, h, msg, uidvalidity, mid, now)

    # -- Drafts -------------------------------------------------------------------

    def _draft_seen(
        self,
        h: Header,
        v: Verdict,
        msg: FetchedMessage,
        uidvalidity: int,
        mid: str,
        resync: bool,
        now: datetime,
    ) -> None:
        candidates = self._draft_refs((StepState.DRAFTED,))
        hit = classify.match_draft(h, [ref for ref, _ in candidates])
        step = next((s for ref, s in candidates if hit is not None and ref is hit), None)
        if step is None:
            return  # the user's own draft
        with self.store.transaction():
            watch = self.store.draft_watch(step.id)
            ours = h.message_id is not None and h.message_id == step.message_id
            # IMAP messages never change: a different UID in the same folder
            # generation, or a new Message-ID, is a copy the user saved.
            moved = not resync and step.draft_uid is not None and msg.uid != step.draft_uid
            if watch is not None and watch.uidvalidity == uidvalidity:
                moved = moved and msg.uid != watch.uid
            edited = (watch is not None and watch.edited) or not ours or moved
            if edited and not (watch is not None and watch.edited):
                log.info("step %s: the user edited the draft; it is theirs now", step.key)
                self.store.set_step_note(step.id, "edited by you in Drafts")
            self.store.save_draft_watch(
                DraftWatch(step.id, uidvalidity, msg.uid, edited, None), now
            )
            self._record(
                v, h, msg, uidvalidity, mid, now, MessageKind.OUR_DRAFT, step.application_id
            )

    def _watch_drafts(
        self, status: FolderStatus | None, changed: bool, now: datetime, report: SyncReport
    ) -> None:
        """Notice drafts that left Drafts; after GONE_GRACE unsent, the step is skipped."""
        drafted = self.store.steps_in_state(StepState.DRAFTED)
        if not drafted or status is None:
            return
        watches = {s.id: self.store.draft_watch(s.id) for s in drafted}
        if changed:
            uids: dict[int, int] = {}
            for s in drafted:
                w = watches[s.id]
                uid = w.uid if w is not None and w.uid is not None else s.draft_uid
                if uid is not None:
                    uids[s.id] = uid
            present = self.mailbox.fetch_flags(self.folders.drafts, list(uids.values()))
            with self.store.transaction():
                for s in drafted:
                    if s.id not in uids:
                        continue
                    w = watches[s.id]
                    here = uids[s.id] in present
                    gone = None if here else (w.gone_at if w and w.gone_at else now)
                    if w is None or w.gone_at != gone:
                        w = DraftWatch(
                            s.id,
                            w.uidvalidity if w else status.uidvalidity,
                            uids[s.id],
                            w.edited if w else False,
                            gone,
                        )
                        self.store.save_draft_watch(w, now)
                        watches[s.id] = w
                        if gone is not None:
                            log.info("step %s: draft no longer in Drafts", s.key)
        for s in drafted:
            w = watches[s.id]
            if w is None or w.gone_at is None or now - w.gone_at < GONE_GRACE:
                continue
            with self.store.transaction():
                self.store.set_step_state(
                    s.id,
                    StepState.SKIPPED,
                    now,
                    note="draft removed from Drafts without being sent; not drafted again",
                )
                self.store.add_event(
                    s.application_id, "skipped", f"{s.key}: you deleted the draft", now
                )
            log.info("step %s: draft deleted unsent; skipped for good", s.key)
            report.rejected.append(s)
