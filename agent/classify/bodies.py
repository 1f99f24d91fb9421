"""Message bodies as readable text: the message's own text parts, HTML tags stripped.

The body may be truncated or malformed MIME, or built to hurt (thousands of
nested parts, megabytes of text): reading it is bounded, linear in its size,
and never raises.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from email.message import Message

from .headers import decode_bytes, header_block

log = logging.getLogger(__name__)

# `[^<>]` rather than `[^>]`: a run of '<' with no '>' would make each one scan to the end.
_TAG = re.compile(r"<[^<>]*>")
MAX_BODY_BYTES = 256 * 1024  # read at all; sync fetches 64 KB
MAX_DEPTH = 16  # MIME nesting walked; the stdlib parser recurses on each level
MAX_PARTS = 200  # leaf parts read
# Each nested multipart declares a boundary: counting them bounds the parser's recursion.
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)


def _parse_message(body: bytes) -> Message | None:
    """The MIME tree, or None when it is too deep or too broken to parse safely."""
    single = _single_part(body)
    if single is not None:
        return single
    if len(_BOUNDARY.findall(body)) > MAX_PARTS:
        log.warning("message body has more than %d MIME boundaries: read as plain text", MAX_PARTS)
        return None
    try:
        return email.message_from_bytes(body, policy=email.policy.compat32)
    except (ValueError, TypeError, IndexError, LookupError, RecursionError) as exc:
        log.warning("cannot parse a message body: %s", type(exc).__name__)
        return None


def _single_part(body: bytes) -> Message | None:
    """A message that is one part, without the feed parser (which costs per line); else None."""
    head = header_block(body)
    try:
        msg = email.message_from_bytes(head, policy=email.policy.compat32)
        if msg.get_content_maintype() in ("multipart", "message"):
            return None
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        log.warning("cannot parse a message header: %s", type(exc).__name__)
        return None
    rest = body[len(head) - 4 :] if head.endswith(b"\r\n\r\n") else b""
    rest = rest[4:] if rest.startswith(b"\r\n\r\n") else rest[2:]
    # The parser's own convention for raw bytes in a str payload.
    msg.set_payload(rest.decode("ascii", "surrogateescape"))
    return msg


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset() or "utf-8"
    except (ValueError, LookupError):
        charset = "utf-8"
    return decode_bytes(payload, charset)


def _own_parts(msg: Message) -> list[Message]:
    """Leaf parts of this message, not descending into an attached original message.

    Walked with an explicit stack: at most MAX_DEPTH levels and MAX_PARTS leaves.
    """
    out: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack and len(out) < MAX_PARTS:
        part, depth = stack.pop()
        if part.get_content_type() == "message/delivery-status" or not part.is_multipart():
            out.append(part)
            continue
        payload = part.get_payload()
        subs = [
            sub
            for sub in (payload if isinstance(payload, list) else [])
            if isinstance(sub, Message)
            and sub.get_content_type() not in ("message/rfc822", "text/rfc822-headers")
        ]
        if depth < MAX_DEPTH:
            stack += [(sub, depth + 1) for sub in reversed(subs)]
    return out


def _status_text(part: Message) -> list[str]:
    # The email package parses each status block as a header-only message.
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else [payload]
    return [str(b) for b in blocks]


def body_text(body: bytes, *, with_status: bool = False) -> str:
    """Readable text of a (possibly truncated) message: text parts, HTML tags stripped."""
    body = body[:MAX_BODY_BYTES]
    msg = _parse_message(body)
    if msg is None:
        return body.decode("utf-8", "replace")
    texts: list[str] = []
    for part in _own_parts(msg):
        ct = part.get_content_type()
        if ct == "message/delivery-status":
            texts += _status_text(part) if with_status else []
        elif ct == "text/html":
            texts.append(_TAG.sub(" ", _part_text(part)))
        elif ct.startswith("text/"):
            texts.append(_part_text(part))
    return "\n".join(texts)
