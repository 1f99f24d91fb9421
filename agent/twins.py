"""No twin left behind: a step seen in Sent has its unedited draft withdrawn from Drafts.

neomutt's "edit as new" sends a copy under a new Message-ID and keeps the
draft; some clients keep the draft after sending it. Left there, it could be
sent a second time (issue 16). Each sent step is looked at once, with one
FETCH for all of them; a draft still there goes through the same withdraw
guard as every other (UIDVALIDITY, \\Draft, identity), and its watch's gone_at
then records that nothing of ours is left in Drafts.

The engine runs it after withdraw_ended. May import: agent.drafts (uid_now,
identity_of), agent.store, agent.mailbox, agent.models, agent.errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from .drafts import identity_of, uid_now
from .errors import MailboxFatalError
from .mailbox import Folders, Mailbox
from .models import DraftWatch, Step
from .store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Twin:
    """A sent step whose draft may still be in Drafts, at `uid`."""

    step: Step
    watch: DraftWatch | None
    uid: int


def stale(watch: DraftWatch | None, drafts_uidvalidity: int | None) -> bool:
    """The watch's UID belongs to an older generation of the Drafts folder."""
    return (
        watch is not None
        and watch.uidvalidity is not None
        and drafts_uidvalidity is not None
        and watch.uidvalidity != drafts_uidvalidity
    )


def candidates(store: Store) -> list[Twin]:
    """Sent steps not yet looked at whose draft's UID is known and was never the user's."""
    # Which sent steps are still unsettled is store.unsettled_sent's rule, in SQL.
    sent = store.unsettled_sent()
    watches = store.draft_watches([s.id for s in sent]) if sent else {}
    out = []
    for s in sent:
        w = watches.get(s.id)
        uid = uid_now(s, w)
        if uid is not None:  # always, by that query; narrows the type
            out.append(Twin(s, w, uid))
    return out


def withdraw_sent_twins(
    store: Store, mailbox: Mailbox, folders: Folders, drafts_uidvalidity: int | None, now: datetime
) -> list[Step]:
    """Withdraw every sent step's draft still in Drafts; the steps whose draft was."""
    pending = candidates(store)
    if not pending:
        return []
    # Most sent drafts left Drafts when they were sent: one FETCH tells which.
    uids = [t.uid for t in pending if not stale(t.watch, drafts_uidvalidity)]
    present = mailbox.fetch_flags(folders.drafts, uids) if uids else {}
    done, gone = [], []
    for t in pending:
        if stale(t.watch, drafts_uidvalidity) or t.uid not in present:
            gone.append(t)
        elif _withdraw(store, mailbox, folders, t, drafts_uidvalidity, now):
            done.append(t.step)
    if gone:
        with store.transaction():
            for t in gone:
                _settle(store, t, drafts_uidvalidity, now)
    return done


def _withdraw(
    store: Store,
    mailbox: Mailbox,
    folders: Folders,
    t: Twin,
    drafts_uidvalidity: int | None,
    now: datetime,
) -> bool:
    validity = t.watch.uidvalidity if t.watch is not None else drafts_uidvalidity
    try:
        done = mailbox.withdraw(
            folders.drafts,
            t.uid,
            folders.trash,
            uidvalidity=validity,
            identity=identity_of(t.step),
        )
    except MailboxFatalError as exc:
        log.warning("step %s: sent, but its draft is left in Drafts: %s", t.step.key, exc)
        w = t.watch or DraftWatch(t.step.id, validity, t.uid, False, None)
        with store.transaction():
            why = f"sent; its draft left in Drafts ({exc})"
            store.save_draft_watch(replace(w, left_for_user=why), now)
        return False
    with store.transaction():
        _settle(store, t, validity, now)
        store.add_event(
            t.step.application_id,
            "withdrawn",
            f"{t.step.key} was sent; its unedited draft left in Drafts was {done.value}",
            now,
        )
    log.info("step %s: sent; its draft left in Drafts %s", t.step.key, done.value)
    return True


def _settle(store: Store, t: Twin, validity: int | None, now: datetime) -> None:
    """Nothing of this sent step's is left in Drafts: never looked at again."""
    w = t.watch or DraftWatch(t.step.id, validity, t.uid, False, None)
    store.save_draft_watch(replace(w, gone_at=now), now)
