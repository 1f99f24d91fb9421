"""Does a message hold a calendar part? Judged from its BODYSTRUCTURE or its header,
so that no other message's body is ever fetched.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from .mime import MAX_DEPTH, MAX_PARTS, is_calendar_type


def has_calendar(bodystructure: Any) -> bool:
    """True if an IMAP BODYSTRUCTURE (as nested tuples, RFC 3501 7.4.2) has a calendar part.

    A multipart body starts with its list of parts; a single part with its
    type and subtype. A message/rfc822 part is a forwarded message: not ours.
    """
    budget = [MAX_PARTS]
    return _walk(bodystructure, 0, budget)


def _walk(body: Any, depth: int, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH or not isinstance(body, (tuple, list)) or not body:
        return False
    if isinstance(body[0], (list, tuple)):
        parts = body[0] if isinstance(body[0], list) else body
        return any(_walk(p, depth + 1, budget) for p in parts if isinstance(p, (list, tuple)))
    if len(body) < 2:
        return False
    ctype = f"{_text(body[0])}/{_text(body[1])}".lower()
    if ctype == "message/rfc822":
        return False
    return is_calendar_type(ctype, _filename(body))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return value if isinstance(value, str) else ""


def _filename(part: Any) -> str:
    """A `name` or `filename` parameter anywhere in this part's own fields."""
    for field in part[2:]:
        for params in _param_lists(field):
            for key, value in zip(params[::2], params[1::2], strict=False):
                if _text(key).lower() in ("name", "filename"):
                    return _text(value)
    return ""


def _param_lists(field: Any) -> list[Any]:
    """Parameter lists in a field: (k, v, ...) itself, or a disposition (type, (k, v, ...))."""
    if not isinstance(field, (tuple, list)) or not field:
        return []
    if len(field) == 2 and isinstance(field[1], (tuple, list)):
        return [field[1]]  # body disposition
    if all(isinstance(x, (bytes, str)) for x in field):
        return [field]
    return []


def header_may_have_calendar(header: bytes) -> bool:
    """From the top-level Content-Type alone: calendar, or a multipart that may hold one."""
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(header)
        ctype = msg.get_content_type()
        name = msg.get_param("name") or ""
    except (ValueError, TypeError, LookupError, UnicodeError, AttributeError):
        return False
    return ctype.startswith("multipart/") or is_calendar_type(
        ctype, name if isinstance(name, str) else ""
    )


def may_hold_invitation(calendar: bool | None, header: bytes) -> bool:
    """Worth fetching the body for: BODYSTRUCTURE said so, or (unknown) the Content-Type may."""
    if calendar is not None:
        return calendar
    return header_may_have_calendar(header)
