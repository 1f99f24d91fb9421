"""What incoming mail, and the user's own sent mail, change in the store.

`apply_incoming` and `apply_user_sent` each run one transaction holding the
effect and the `messages` row that records the message, so an effect happens
exactly once: new mail is known by folder, UIDVALIDITY and UID (the row's
key), and a copy of it in another folder by the same Message-ID from the same
sender as the same kind (`Store.copy_seen`). A Message-ID alone never hides a
message: anyone can reuse one. Our own drafts, seen in Drafts or Sent, are
agent/drafts.py's.
No function here touches the mailbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from . import policy
from .classify import Header
from .models import AppState, MessageKind, SeenMessage
from .store import Store
from .sync import Seen

log = logging.getLogger(__name__)

# States a human reply ends: an exhausted sequence that gets an answer is answered.
ANSWERABLE = (AppState.ACTIVE, AppState.EXHAUSTED)
# A rejection also ends an application that was answered before ("we'll get back to you").
REJECTABLE = (*ANSWERABLE, AppState.RESPONDED)
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
# What a message in Sent was recorded as: a copy of it is not a second contact.
SENT_KINDS = (MessageKind.USER_SENT.value, MessageKind.OUR_SENT.value)


@dataclass(frozen=True)
class StateChange:
    application_id: int
    state: AppState
    reason: str


def seen_message(
    seen: Seen, kind: MessageKind | None = None, application_id: int | None = None
) -> SeenMessage:
    """The `messages` row this message is recorded as."""
    h, msg, v = seen.header, seen.msg, seen.verdict
    return SeenMessage(
        folder=msg.folder,
        uidvalidity=seen.uidvalidity,
        uid=msg.uid,
        message_id=seen.message_id,
        kind=kind or v.kind,
        application_id=application_id if application_id is not None else v.application_id,
        contact_id=v.contact_id,
        from_addr=h.from_text or h.from_addr,
        to_addrs=h.recipients,
        subject=h.subject,
        sent_at=h.date or msg.internaldate,
        in_reply_to=h.in_reply_to[0] if h.in_reply_to else None,
        refs=" ".join(h.references),
    )


def record(
    store: Store,
    seen: Seen,
    now: datetime,
    kind: MessageKind | None = None,
    application_id: int | None = None,
) -> bool:
    """The `messages` row for this message; False if this folder/UID was recorded before."""
    return store.record_message(seen_message(seen, kind, application_id), now)


def apply_incoming(
    store: Store, seen: Seen, tz: ZoneInfo, now: datetime, answer_rejection: bool = True
) -> list[StateChange]:
    """A new message in INBOX or a watched folder: its effect, once, with its record.

    `answer_rejection`: a rejection also leaves a reminder to answer it graciously.
    """
    h, v, msg = seen.header, seen.verdict, seen.msg
    changes: list[StateChange] = []
    with store.transaction():
        if store.copy_seen(seen_message(seen), INCOMING_KINDS):
            # A copy (moved to an archive, or a resynced folder): no second
            # row either, since rows are what `show` and policy count.
            log.info("%s UID %d: %s already handled", msg.folder, msg.uid, seen.message_id)
            return changes
        app_ids = [m.application_id for m in v.matches]
        if v.kind is MessageKind.REPLY:
            changes = reply(store, app_ids, h, v.reason, now, v.rejection, answer_rejection)
        elif v.kind is MessageKind.AUTO_REPLY:
            auto_reply(store, app_ids, h, v.return_date, tz, now)
        elif v.kind is MessageKind.BOUNCE:
            failed = ", ".join(v.failed) or "unknown address"
            bounce(store, [(m.application_id, m.contact_id) for m in v.matches], failed, now)
        record(store, seen, now)
    log.info("%s UID %d from %s: %s", msg.folder, msg.uid, h.from_addr, v.reason)
    return changes


def apply_user_sent(store: Store, seen: Seen, now: datetime) -> None:
    """The user's own message to an application's people (not one of our drafts)."""
    if seen.verdict.kind is not MessageKind.USER_SENT:
        return
    with store.transaction():
        if store.copy_seen(seen_message(seen), SENT_KINDS):
            log.info("%s: %s already handled", seen.msg.folder, seen.message_id)
            return
        user_sent(store, [m.application_id for m in seen.verdict.matches], seen.header, now)
        record(store, seen, now)


def end_sequence(
    store: Store, app_id: int, state: AppState, why: str, step_reason: str, now: datetime
) -> int:
    """The one way a sequence ends (reply, stop, rejection): no planned step survives.

    Unsent drafts are withdrawn by the next cycle, which withdraws the drafts of
    every ended application. Returns how many planned steps were cancelled.
    """
    store.set_app_state(app_id, state, why, now)
    cancelled = store.cancel_planned(app_id, step_reason, now)
    store.add_event(app_id, state.value, why, now)
    return cancelled


def reply(
    store: Store,
    app_ids: list[int],
    h: Header,
    reason: str,
    now: datetime,
    rejection: str = "",
    answer_rejection: bool = False,
) -> list[StateChange]:
    """A human (or their ATS) answered: the sequence ends; planned steps are cancelled.

    With `rejection` (the wording found) it ends as `rejected`, else `responded`.
    """
    changes = []
    who = h.from_text or h.from_addr or "unknown sender"
    state, allowed = (
        (AppState.REJECTED, REJECTABLE) if rejection else (AppState.RESPONDED, ANSWERABLE)
    )
    for app_id in app_ids:
        app = store.load(app_id)
        detail = f"{who}: {h.subject or '(no subject)'}"
        store.add_event(app_id, "reply", detail, now)
        if app.state not in allowed:
            continue
        if rejection:
            why = f'rejected by {who}: "{rejection}"'
            step_reason = "they turned the application down"
        else:
            why, step_reason = f"reply from {who}", "they replied"
        cancelled = end_sequence(store, app_id, state, why, step_reason, now)
        if rejection and answer_rejection:
            sender = next((c.id for c in app.contacts if c.address == h.from_addr), None)
            store.reconcile_steps(app_id, [policy.answer_rejection(app, sender, now)], now)
        log.info(
            "application %s (%s) %s (%s); %d planned step(s) cancelled",
            app_id,
            app.company,
            state.value,
            reason,
            cancelled,
        )
        changes.append(StateChange(app_id, state, why))
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
