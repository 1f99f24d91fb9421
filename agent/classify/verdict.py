"""The verdict on one message: what it is (`MessageKind`) and which applications it concerns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from ..models import FolderRole, MessageKind
from .appindex import AppIndex, Match, MatchedBy
from .automail import is_auto_reply, is_automated, is_list
from .bodies import body_text
from .bounces import delay_only, failed_addresses, looks_like_bounce
from .headers import Header
from .rejection import rejection_phrase
from .returndates import parse_return_date


@dataclass(frozen=True)
class Verdict:
    kind: MessageKind
    matches: tuple[Match, ...] = ()
    reason: str = ""
    needs_body: bool = False  # classify again with the body to finish
    return_date: date | None = None
    failed: tuple[str, ...] = ()  # bounced addresses (normalised)
    followup_id: str | None = None  # the X-Followup-Id of an old-scheme draft
    rejection: str = ""  # the rejection wording found in a reply ("" if none)

    @property
    def application_id(self) -> int | None:
        return self.matches[0].application_id if self.matches else None

    @property
    def contact_id(self) -> int | None:
        return self.matches[0].contact_id if self.matches else None


def classify(
    h: Header,
    role: FolderRole,
    idx: AppIndex,
    *,
    received: datetime | None = None,
    body: bytes | None = None,
) -> Verdict:
    """What `h` is and which application(s) it concerns.

    Returns needs_body=True when the answer depends on the body (a bounce's
    failed address, an out-of-office's return date) and `body` was not given.
    """
    if role is FolderRole.DRAFTS:
        return _classify_draft(h, idx)
    if role is FolderRole.SENT:
        return _classify_sent(h, idx)
    if looks_like_bounce(h):
        return _classify_bounce(h, idx, body)
    if h.from_addr in idx.me:
        return Verdict(MessageKind.UNRELATED, reason="from the user")
    matches = tuple(idx.match_thread(h) or idx.match_people([h.from_addr, *h.reply_to]))
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    machine = _machine_mail(h, matches, received, body)
    verdict = machine if machine is not None else _human_reply(h, matches, idx, received)
    return _rejection(h, verdict, body)


def _rejection(h: Header, v: Verdict, body: bytes | None) -> Verdict:
    """A reply or an ATS notice that turns the application down: a reply with its wording.

    ATS mail often comes as bulk mail (Precedence: bulk) without list headers:
    read too; a real mailing list or newsletter is not.
    """
    ats_bulk = v.kind is MessageKind.LIST and not h.is_list
    if v.kind not in (MessageKind.REPLY, MessageKind.AUTOMATED) and not ats_bulk:
        return v
    if body is None:
        return replace(v, needs_body=True)
    found = rejection_phrase(h.subject + "\n" + body_text(body))
    if found is None:
        return v
    return replace(v, kind=MessageKind.REPLY, reason=f"rejection ({found!r})", rejection=found)


def _machine_mail(
    h: Header, matches: tuple[Match, ...], received: datetime | None, body: bytes | None
) -> Verdict | None:
    """A list, an auto-reply or other automated mail about these applications; None if human."""
    if is_list(h):
        return Verdict(MessageKind.LIST, matches, "mailing list or newsletter")
    if is_auto_reply(h):
        if body is None:
            return Verdict(MessageKind.AUTO_REPLY, matches, "auto-reply", needs_body=True)
        back = parse_return_date(h.subject + "\n" + body_text(body), _ref_day(h, received))
        why = f"auto-reply, back on {back.isoformat()}" if back else "auto-reply"
        return Verdict(MessageKind.AUTO_REPLY, matches, why, return_date=back)
    if is_automated(h):
        return Verdict(
            MessageKind.AUTOMATED, matches, f"automated ({h.auto_submitted or h.precedence})"
        )
    return None


def _human_reply(
    h: Header, matches: tuple[Match, ...], idx: AppIndex, received: datetime | None
) -> Verdict:
    """A person's mail: a reply, unless it predates the latest interview of every match."""
    how = matches[0].how
    when = h.date or received
    if when is not None:
        recent = tuple(m for m in matches if when >= idx.since.get(m.application_id, when))
        if not recent:
            return Verdict(MessageKind.PRIOR, matches, "dated before the latest interview")
        matches = recent
    return Verdict(MessageKind.REPLY, matches, f"human reply ({how})")


def _ref_day(h: Header, received: datetime | None) -> date:
    when = h.date or received
    return when.date() if when is not None else date(1970, 1, 1)


def _classify_bounce(h: Header, idx: AppIndex, body: bytes | None) -> Verdict:
    if body is None:
        return Verdict(MessageKind.BOUNCE, reason="delivery failure", needs_body=True)
    if delay_only(body):
        return Verdict(MessageKind.AUTOMATED, reason="delivery delayed, not failed")
    failed = tuple(failed_addresses(body, idx.contacts))
    matches = [Match(a, c, MatchedBy.CONTACT) for addr in failed for a, c in idx.contact_ids(addr)]
    if not matches:
        matches = idx.match_thread(h)
    if not matches:
        return Verdict(MessageKind.UNRELATED, reason="bounce for no known contact", failed=failed)
    return Verdict(
        MessageKind.BOUNCE,
        tuple(matches),
        "undeliverable: " + (", ".join(failed) or "unknown address"),
        failed=failed,
    )


def _classify_sent(h: Header, idx: AppIndex) -> Verdict:
    if h.followup_id:  # sent from a draft of the old scheme
        return Verdict(MessageKind.OUR_SENT, reason="X-Followup-Id", followup_id=h.followup_id)
    matches = idx.match_thread(h) or idx.match_people(h.recipients)
    if h.message_id and h.message_id in idx.threads and not matches:
        matches = [Match(idx.threads[h.message_id], None, MatchedBy.THREAD)]
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    # Whether it is one of our drafts (matched by Message-ID or recipient and
    # subject) is decided against the steps by the caller.
    return Verdict(MessageKind.USER_SENT, tuple(matches), "sent by the user")


def _classify_draft(h: Header, idx: AppIndex) -> Verdict:
    if h.followup_id:  # a draft of the old scheme: our header named its step
        return Verdict(MessageKind.OUR_DRAFT, reason="X-Followup-Id", followup_id=h.followup_id)
    if h.message_id and h.message_id in idx.threads:
        # Our drafts carry no header of ours: the Message-ID a step was given is the tie.
        ours = Match(idx.threads[h.message_id], None, MatchedBy.THREAD)
        return Verdict(MessageKind.OUR_DRAFT, (ours,), "Message-ID of one of our steps")
    matches = idx.match_people(h.recipients, domains=False)
    if not matches:
        return Verdict(MessageKind.UNRELATED)
    # Possibly the user's edit of one of our drafts, with our header dropped.
    return Verdict(MessageKind.OUR_DRAFT, tuple(matches), "draft to a contact")
