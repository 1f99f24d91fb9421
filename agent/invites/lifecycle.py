"""Pure rule: what a copy of an invitation changes, given what is known of its UID.

RFC 5546: SEQUENCE grows with every significant change and the highest one
wins; DTSTAMP breaks ties (Greenhouse and Calendly re-send the same SEQUENCE
with a new time in a new mail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from .records import Invitation, InviteStatus, Verdict

_NEVER = datetime.min.replace(tzinfo=UTC)


class Change(StrEnum):
    NEW = "new"  # a first interview-like invitation: store it
    MOVED = "moved"  # a newer copy with another start or end
    UPDATED = "updated"  # a newer copy, same time (people, title, place)
    CANCELLED = "cancelled"  # a newer copy that cancels
    STALE = "stale"  # an older or the same copy: nothing to do
    IGNORED = "ignored"  # not an interview, or a cancel of nothing known


@dataclass(frozen=True)
class Known:
    """What the store holds for one UID."""

    sequence: int
    dtstamp: datetime | None
    start: datetime
    end: datetime
    status: InviteStatus
    organizer: str = ""  # address of the organizer, "" when the invitation named none


def change(known: Known | None, inv: Invitation, verdict: Verdict) -> Change:
    """The change this copy makes (idempotent: the same copy twice is STALE)."""
    if known is None:
        if inv.cancelled or not verdict.interview:
            return Change.IGNORED
        return Change.NEW
    sender = inv.organizer.email if inv.organizer else ""
    if known.organizer and sender.casefold() != known.organizer.casefold():
        # Only the organizer moves or cancels an event (RFC 5546): anyone
        # else reusing its UID is ignored.
        return Change.IGNORED
    newer = (inv.sequence, inv.dtstamp or _NEVER) > (known.sequence, known.dtstamp or _NEVER)
    if not newer:
        return Change.STALE
    if inv.cancelled:
        return Change.STALE if known.status is InviteStatus.CANCELLED else Change.CANCELLED
    if inv.start.at != known.start or inv.end.at != known.end:
        return Change.MOVED
    return Change.UPDATED
