"""Interviews from the calendar invitations in the mailbox (pure: no I/O, no store).

mime finds the calendar parts of a message, parse reads one into an
`Invitation` (zones resolves its TZIDs), detect judges and proposes, and
lifecycle decides what a newer copy of a known invitation changes.
"""

from __future__ import annotations

from datetime import tzinfo

from .mime import calendar_parts
from .records import Invitation


def read_invitations(raw: bytes, default_tz: tzinfo) -> tuple[Invitation, ...]:
    """Every invitation in one message (usually one; never raises on hostile mail)."""
    out: list[Invitation] = []
    parts = calendar_parts(raw)
    if not parts:
        return ()
    # icalendar costs the daemon 4 MB resident: loaded with the first invitation.
    from .parse import parse_calendar

    for part in parts:
        inv = parse_calendar(part.data, default_tz, part.method)
        if inv is not None and all(o.uid != inv.uid for o in out):
            out.append(inv)
    return tuple(out)


__all__ = ["read_invitations"]
