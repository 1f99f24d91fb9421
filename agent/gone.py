"""Drafts that left Drafts unsent: deleted for sure (skipped at once) or vanished (after a grace).

A draft flagged \\Deleted, or found in Trash by its Message-ID, was deleted
by the user: its step is skipped at the next cycle. One that only vanished
may still turn up in Sent (a client that moves it on sending): `show`,
`agenda` and `status` say "gone from Drafts" at once, and the step is skipped
after GONE_GRACE. A skipped step is never drafted again.

The engine runs `GoneDrafts.watch` when it looks at Drafts. May import:
agent.drafts (uid_now), agent.classify, agent.store, agent.mailbox,
agent.models, agent.errors.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from . import classify
from .drafts import uid_now
from .errors import MailboxFatalError
from .mailbox import Folders, FolderStatus, Mailbox
from .models import DraftWatch, Step, StepState
from .store import Store

log = logging.getLogger(__name__)

# A draft missing this long from Drafts, and not in Sent, was rejected by the user.
GONE_GRACE = timedelta(days=3)


def _gone_at(watch: DraftWatch | None) -> datetime | None:
    return watch.gone_at if watch is not None else None


class GoneDrafts:
    """Follows our drafted steps' drafts in Drafts for one cycle."""

    def __init__(self, store: Store, mailbox: Mailbox, folders: Folders) -> None:
        self.store = store
        self.mailbox = mailbox
        self.folders = folders

    def watch(self, status: FolderStatus, changed: bool, now: datetime) -> list[Step]:
        """Notice drafts that left Drafts; after GONE_GRACE unsent, the step is skipped.

        A draft the user deleted for sure (flagged \\Deleted, or found in
        Trash) is skipped at once; one that only vanished waits out the grace
        period, in case it turns up in Sent.
        """
        drafted = self.store.steps_in_state(StepState.DRAFTED)
        if not drafted:
            return []
        watches = self.store.draft_watches([s.id for s in drafted])
        deleted: set[int] = set()
        if changed:
            deleted = self._check_present(drafted, watches, status, now)
        return self._skip_gone(drafted, watches, deleted, now)

    def _check_present(
        self,
        drafted: list[Step],
        watches: dict[int, DraftWatch],
        status: FolderStatus,
        now: datetime,
    ) -> set[int]:
        """Record which drafts are still in Drafts (updates `watches` in place).

        Returns the steps whose draft the user deleted for sure. A draft
        flagged \\Deleted counts as gone from Drafts, though still there.
        """
        uids = {s.id: uid for s in drafted if (uid := uid_now(s, watches.get(s.id))) is not None}
        present = self.mailbox.fetch_flags(self.folders.drafts, list(uids.values()))
        flagged = {s.id for s in drafted if "\\Deleted" in present.get(uids.get(s.id, -1), ())}
        away = {i for i, uid in uids.items() if uid not in present} | flagged
        newly_gone = [s for s in drafted if s.id in away and not _gone_at(watches.get(s.id))]
        deleted = flagged | self._in_trash(newly_gone, now)
        with self.store.transaction():
            for s in drafted:
                if s.id in uids:
                    self._note_presence(s, watches, uids[s.id], s.id in away, status, now)
        return deleted

    def _note_presence(
        self,
        s: Step,
        watches: dict[int, DraftWatch],
        uid: int,
        away: bool,
        status: FolderStatus,
        now: datetime,
    ) -> None:
        w = watches.get(s.id)
        gone = (_gone_at(w) or now) if away else None
        if w is not None and w.gone_at == gone:
            return
        w = (
            replace(w, uid=uid, gone_at=gone)
            if w is not None
            else DraftWatch(s.id, status.uidvalidity, uid, False, gone)
        )
        self.store.save_draft_watch(w, now)
        watches[s.id] = w
        if gone is not None:
            log.info("step %s: draft no longer in Drafts", s.key)

    def _in_trash(self, steps: list[Step], now: datetime) -> set[int]:
        """Which of these just-vanished drafts the user moved to Trash (by Message-ID)."""
        trash = self.folders.trash
        if not steps or trash is None:
            return set()
        since = min(s.drafted_at or now for s in steps).date() - timedelta(days=1)
        try:
            found = self.mailbox.fetch_new(trash, after_uid=0, since=since)
        except MailboxFatalError as exc:
            log.warning("cannot look for deleted drafts in %s: %s", trash, exc)
            return set()
        ids: set[str] = set()
        for msg in found:
            h = classify.parse_header(msg.header)
            ids.update(x for x in (h.message_id, h.followup_id) if x)
        return {s.id for s in steps if s.message_id in ids or s.key in ids}

    def _skip_gone(
        self,
        drafted: list[Step],
        watches: dict[int, DraftWatch],
        deleted: set[int],
        now: datetime,
    ) -> list[Step]:
        skipped = []
        for s in drafted:
            w = watches.get(s.id)
            if w is None or w.gone_at is None:
                continue
            if s.id not in deleted and now - w.gone_at < GONE_GRACE:
                continue
            why = (
                "you deleted the draft without sending it"
                if s.id in deleted
                else "draft removed from Drafts without being sent"
            )
            with self.store.transaction():
                self.store.set_step_state(
                    s.id,
                    StepState.SKIPPED,
                    now,
                    reason=f"{why}; not drafted again",
                )
                self.store.add_event(
                    s.application_id, "skipped", f"{s.key}: you deleted the draft", now
                )
            log.info("step %s: draft deleted unsent; skipped for good", s.key)
            skipped.append(s)
        return skipped
