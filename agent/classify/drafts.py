"""Our drafts seen again: which of them a message in Sent or Drafts is (a sent or edited copy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .headers import Header, fold_subject, normalise_subject


@dataclass(frozen=True)
class DraftRef:
    """What we know of one of our drafts, to recognise it in Sent or Drafts."""

    step_key: str
    message_id: str | None
    to: str  # normalised recipient
    subject: str | None
    in_reply_to: str | None = None  # None: not known


# Subject comparisons, strictest first: as written, then without Re:/Fwd:/[EXT].
_SUBJECT_FORMS: tuple[Callable[[str], str], ...] = (fold_subject, normalise_subject)


def match_draft(h: Header, drafts: Sequence[DraftRef]) -> DraftRef | None:
    """The draft `h` is (a sent or edited copy of), if any.

    By Message-ID (or the X-Followup-Id of a draft of the old scheme), and
    failing that (Outlook/Exchange rewrite Message-ID on send, neomutt's
    "edit as new" sends under a new one) by recipient + normalised subject +
    In-Reply-To.
    """
    hit = _by_identity(h, drafts)
    return hit if hit is not None else _by_content(h, drafts)


def _by_identity(h: Header, drafts: Sequence[DraftRef]) -> DraftRef | None:
    """The draft an old-scheme X-Followup-Id header names, else the one with this Message-ID."""
    if h.followup_id:
        hit = next((d for d in drafts if d.step_key == h.followup_id), None)
        if hit is not None:
            return hit
    if h.message_id:
        return next((d for d in drafts if d.message_id == h.message_id), None)
    return None


def _by_content(h: Header, drafts: Sequence[DraftRef]) -> DraftRef | None:
    """The draft to one of `h`'s recipients in the same place of the thread, same subject."""
    candidates = [d for d in drafts if _could_be(h, d)]
    for form in _SUBJECT_FORMS:
        want = form(h.subject)
        hit = next((d for d in candidates if form(d.subject or "") == want), None)
        if hit is not None:
            return hit
    return None


def _could_be(h: Header, d: DraftRef) -> bool:
    reply_to = h.in_reply_to[0] if h.in_reply_to else None
    # A message answering one of our drafts is not that draft (a check-in
    # threaded on a thank-you has the same subject after "Re:").
    return (
        d.to in h.recipients
        and d.subject is not None
        and d.message_id not in h.thread_ids
        # Unknown when the draft left Drafts before a sync saw it.
        and (d.in_reply_to is None or d.in_reply_to == reply_to)
    )
