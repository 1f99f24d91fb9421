"""Our drafts seen again: which of them a message in Sent or Drafts is (a sent or edited copy)."""

from __future__ import annotations

import hashlib
import re
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
    body_digest: str = ""  # body_fingerprint of what we wrote; "" for old drafts


_WORD = re.compile(r"\w+")
# Where a client's additions begin: a signature, or the message quoted below.
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)


def _words(text: str) -> list[str]:
    own = _SIGNATURE.split(text, maxsplit=1)[0]
    lines = [ln for ln in own.splitlines() if not ln.lstrip().startswith(">")]
    return _WORD.findall("\n".join(lines).casefold())


def _digest(words: Sequence[str]) -> str:
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


def body_fingerprint(text: str) -> str:
    """'<words>:<hash>' of a body's words: the same however a client re-wraps or re-encodes it."""
    words = _words(text)
    return f"{len(words)}:{_digest(words)}"


def same_body(fingerprint: str, text: str) -> bool:
    """Whether `text` starts with the words `fingerprint` was taken of.

    Only the words count (not wrapping, case or punctuation), and what a
    client adds after them (a signature, a footer, the quoted thread) is
    ignored; any edit of the words is a different body.
    """
    count, sep, want = fingerprint.partition(":")
    if not sep or not count.isdigit() or int(count) == 0:
        return False
    words = _words(text)
    n = int(count)
    return len(words) >= n and _digest(words[:n]) == want


# Subject comparisons, strictest first: as written, then without Re:/Fwd:/[EXT].
_SUBJECT_FORMS: tuple[Callable[[str], str], ...] = (fold_subject, normalise_subject)


def match_draft(h: Header, drafts: Sequence[DraftRef], body: str | None = None) -> DraftRef | None:
    """The draft `h` is (a sent or edited copy of), if any.

    By Message-ID (or the X-Followup-Id of a draft of the old scheme), and
    failing that (Outlook/Exchange rewrite Message-ID on send, neomutt's
    "edit as new" sends under a new one) by recipient + normalised subject +
    In-Reply-To; and given the message's `body` text, by recipient +
    In-Reply-To + the body's fingerprint (the subject changed as well).
    """
    hit = _by_identity(h, drafts)
    if hit is None:
        hit = _by_content(h, drafts)
    if hit is None and body is not None:
        hit = next((d for d in drafts if _same_place(h, d) and _body_is(d, body)), None)
    return hit


def needs_body(h: Header, drafts: Sequence[DraftRef]) -> bool:
    """Whether `h` could still be one of `drafts` by its body (worth fetching it)."""
    return any(_same_place(h, d) and d.body_digest for d in drafts)


def _body_is(d: DraftRef, body: str) -> bool:
    return bool(d.body_digest) and same_body(d.body_digest, body)


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
    return d.subject is not None and _same_place(h, d)


def _same_place(h: Header, d: DraftRef) -> bool:
    """To one of `h`'s recipients, at the same place in the thread."""
    reply_to = h.in_reply_to[0] if h.in_reply_to else None
    # A message answering one of our drafts is not that draft (a check-in
    # threaded on a thank-you has the same subject after "Re:").
    return (
        d.to in h.recipients
        and d.message_id not in h.thread_ids
        # Unknown when the draft left Drafts before a sync saw it.
        and (d.in_reply_to is None or d.in_reply_to == reply_to)
    )
