"""What a classified message changes in the store (and, for replies, in Drafts).

Each function runs inside the caller's transaction together with the
`messages` row that records the message, so an effect happens exactly once:
the row's Message-ID is what `Store.message_seen` de-duplicates on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .classify import Header
from .errors import MailboxFatalError
from .mailbox import FetchedMessage, Mailbox
from .models import AppState, DraftWatch, MessageKind, SeenMessage, Step, StepState
from .store import Store

log = logging.getLogger(__name__)

# States a human reply ends: an exhausted sequence that gets an answer is answered.
ANSWERABLE = (AppState.ACTIVE, AppState.EXHAUSTED)


@dataclass(frozen=True)
class StateChange:
    application_id: int
    state: AppState
    reason: str


def record(
    store: Store,
    kind: MessageKind,
    h: Header,
    msg: FetchedMessage,
    uidvalidity: int,
    message_id: str,
    now: datetime,
    application_id: int | None = None,
    contact_id: int | None = None,
) -> bool:
    """The `messages` row for this message; False if this folder/UID was recorded before."""
    return store.record_message(
        SeenMessage(
            folder=msg.folder,
            uidvalidity=uidvalidity,
            uid=msg.uid,
            message_id=message_id,
            kind=kind.value,
            application_id=application_id,
            contact_id=contact_id,
            from_addr=h.from_text or h.from_addr,
            to_addrs=", ".join(h.recipients),
            subject=h.subject,
            sent_at=h.date or msg.internaldate,
            in_reply_to=h.in_reply_to[0] if h.in_reply_to else None,
            refs=" ".join(h.references),
        ),
        now,
    )


def end_sequence(
    store: Store, app_id: int, state: AppState, why: str, step_note: str, now: datetime
) -> int:
    """The one way a sequence ends (reply, stop, rejection): no planned step survives.

    Unsent drafts are withdrawn by the next cycle, which withdraws the drafts of
    every ended application. Returns how many planned steps were cancelled.
    """
    store.set_app_state(app_id, state, why, now)
    cancelled = store.cancel_planned(app_id, step_note, now)
    store.add_event(app_id, state.value, why, now)
    return cancelled


def reply(
    store: Store, app_ids: list[int], h: Header, reason: str, now: datetime
) -> list[StateChange]:
    """A human answered: the sequence ends; planned steps are cancelled."""
    changes = []
    who = h.from_text or h.from_addr or "unknown sender"
    for app_id in app_ids:
        app = store.load(app_id)
        detail = f"{who}: {h.subject or '(no subject)'}"
        store.add_event(app_id, "reply", detail, now)
        if app.state not in ANSWERABLE:
            continue
        why = f"reply from {who}"
        cancelled = end_sequence(store, app_id, AppState.RESPONDED, why, "they replied", now)
        log.info(
            "application %s (%s) responded (%s); %d planned step(s) cancelled",
            app_id,
            app.company,
            reason,
            cancelled,
        )
        changes.append(StateChange(app_id, AppState.RESPONDED, why))
    return changes


def auto_reply(
    store: Store, app_ids: list[int], h: Header, back: date | None, tz: ZoneInfo, now: datetime
) -> None:
    """An auto-reply is not an answer; a return date holds the next check-in."""
    who = h.from_text or h.from_addr
    for app_id in app_ids:
        app = store.load(app_id)
        if back is None:
            store.add_event(app_id, "auto_reply", f"{who}: no return date found", now)
            continue
        until = datetime.combine(back, time(0, 0), tzinfo=tz)
        if app.state is not AppState.ACTIVE or (app.hold_until and app.hold_until >= until):
            store.add_event(app_id, "auto_reply", f"{who}: back {back:%a %d %b}", now)
            continue
        store.set_hold(app_id, until, now)
        store.add_event(
            app_id, "auto_reply", f"{who}: back {back:%a %d %b}; check-ins wait until then", now
        )
        log.info("application %s: %s is away until %s", app_id, who, back)


def bounce(
    store: Store, contacts: list[tuple[int, int | None]], failed: str, now: datetime
) -> None:
    """Flag the contacts whose address failed; policy drafts nothing more to them."""
    for app_id, contact_id in contacts:
        if contact_id is None:
            store.add_event(app_id, "bounce", f"delivery failed: {failed}", now)
            continue
        store.mark_bounced(contact_id, now)
        store.add_event(app_id, "bounce", f"undeliverable: {failed}", now)
        log.warning("application %s: %s bounced; no more drafts to it", app_id, failed)


def user_sent(store: Store, app_ids: list[int], h: Header, now: datetime) -> None:
    to = ", ".join(h.recipients) or "?"
    for app_id in app_ids:
        store.add_event(app_id, "user_sent", f"you wrote to {to}: {h.subject}", now)


def our_sent(store: Store, step: Step, sent_at: datetime | None, now: datetime) -> None:
    """One of our drafts went out: the step is `sent`, timed from when it really was."""
    if step.state is StepState.SENT:
        return
    store.set_step_state(step.id, StepState.SENT, now, sent_at=sent_at or now)
    store.add_event(step.application_id, "sent", f"{step.kind.value} {step.key} was sent", now)
    log.info("step %s was sent (%s)", step.key, sent_at)


def withdraw_answered(
    store: Store,
    mailbox: Mailbox,
    drafts: str,
    trash: str | None,
    drafts_uidvalidity: int | None,
    now: datetime,
) -> list[Step]:
    """Move our unsent, unedited drafts of answered or stopped applications to Trash.

    With no Trash folder they stay in Drafts, noted on the step and logged:
    the other way to withdraw one deletes it for good.
    """
    # A stopped sequence is as over as an answered one: a draft left behind
    # could still be sent by mistake.
    why = {i: "they replied" for i in store.application_ids([AppState.RESPONDED])}
    why.update({i: "you stopped it" for i in store.application_ids([AppState.STOPPED])})
    done = []
    for step in store.steps_in_state(StepState.DRAFTED):
        reason = why.get(step.application_id)
        if reason is None:
            continue
        watch = store.draft_watch(step.id)
        if watch is not None and watch.edited:
            continue  # the user's words now: never ours to remove
        uid = watch.uid if watch is not None and watch.uid is not None else step.draft_uid
        if uid is None:
            with store.transaction():
                store.set_step_note(step.id, f"{reason}; draft left in Drafts (UID unknown)")
                _mark_edited(store, step, watch, now)
            continue
        if trash is None:
            # Withdrawing means moving to Trash; with none, the only other way
            # deletes for good. The draft stays, and the note says so.
            note = f"{reason}; no Trash folder, so the draft was left in Drafts: delete it yourself"
            log.warning("step %s: %s", step.key, note)
            with store.transaction():
                store.set_step_note(step.id, note)
                _mark_edited(store, step, watch, now)
                store.add_event(step.application_id, "kept", f"draft {step.key}: {note}", now)
            continue
        validity = watch.uidvalidity if watch is not None else drafts_uidvalidity
        try:
            mailbox.withdraw(drafts, uid, trash, uidvalidity=validity, followup_id=step.key)
        except MailboxFatalError as exc:
            log.warning("step %s: draft left in Drafts: %s", step.key, exc)
            with store.transaction():
                store.set_step_note(step.id, f"{reason}; draft left in Drafts ({exc})")
                _mark_edited(store, step, watch, now)
            continue
        with store.transaction():
            store.set_step_state(
                step.id, StepState.WITHDRAWN, now, note=f"{reason}; draft moved to Trash"
            )
            store.add_event(step.application_id, "withdrawn", f"draft {step.key} withdrawn", now)
        done.append(step)
    return done


def _mark_edited(store: Store, step: Step, watch: DraftWatch | None, now: datetime) -> None:
    # Not retried every cycle: left for the user, like an edited draft.
    store.save_draft_watch(
        DraftWatch(
            step.id,
            watch.uidvalidity if watch else None,
            watch.uid if watch else step.draft_uid,
            True,
            watch.gone_at if watch else None,
        ),
        now,
    )
