"""Finds the calendar parts of one message, walking its MIME tree with limits.

Hostile mail must never raise here: anything unreadable yields no part.
"""

from __future__ import annotations

import email
import email.policy
import logging
from email.message import Message
from email.utils import collapse_rfc2231_value

from .records import CalendarPart

log = logging.getLogger(__name__)

# Bounds that no real invitation comes near: a calendar part is a few KB,
# nested at most three deep (mixed > alternative > text/calendar).
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_PART_BYTES = 512 * 1024
MAX_DEPTH = 8
MAX_PARTS = 200
MAX_CALENDAR_PARTS = 4

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
# An attached .ics often travels as a generic type; its name says what it is.
GENERIC_TYPES = frozenset({"application/octet-stream", "text/plain", "application/x-download"})


def is_calendar_type(content_type: str, filename: str) -> bool:
    """True for a part that is (or is named as) an iCalendar object."""
    ctype = content_type.lower().strip()
    if ctype in CALENDAR_TYPES:
        return True
    return ctype in GENERIC_TYPES and filename.lower().strip().endswith((".ics", ".ical", ".vcs"))


def calendar_parts(raw: bytes) -> tuple[CalendarPart, ...]:
    """The distinct calendar parts of a message (inline first, then attachments)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        log.info("message of %s bytes is too large to look for invitations", len(raw))
        return ()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except (ValueError, TypeError, IndexError, LookupError, UnicodeError, RecursionError) as exc:
        log.info("unparsable message skipped for invitations: %s", exc)
        return ()
    found: list[CalendarPart] = []
    budget = [MAX_PARTS]
    _walk(msg, 0, found, budget)
    return tuple(found)


def _walk(part: Message, depth: int, found: list[CalendarPart], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH or len(found) >= MAX_CALENDAR_PARTS:
        return
    try:
        ctype = part.get_content_type()
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                for child in children:
                    if isinstance(child, Message):
                        _walk(child, depth + 1, found, budget)
            return
        # A forwarded message (message/rfc822) is someone else's invitation.
        filename = _filename(part)
        if not is_calendar_type(ctype, filename):
            return
        data = part.get_payload(decode=True)
        method = str(part.get_param("method", "") or "")
    except (ValueError, TypeError, IndexError, LookupError, UnicodeError, AttributeError) as exc:
        log.info("unreadable MIME part skipped: %s", exc)
        return
    if not isinstance(data, bytes) or not data.strip() or len(data) > MAX_PART_BYTES:
        return
    if any(p.data == data for p in found):
        return  # Outlook and Google send the same object inline and as invite.ics
    found.append(CalendarPart(data=data, content_type=ctype, filename=filename, method=method))


def _filename(part: Message) -> str:
    name = part.get_filename() or part.get_param("name") or ""
    # RFC 2231 values come as (charset, language, text).
    return name if isinstance(name, str) else collapse_rfc2231_value(name)
