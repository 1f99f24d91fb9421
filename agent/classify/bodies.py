"""Message bodies as readable text: the message's own text parts, HTML tags stripped.

The body may be truncated or malformed MIME: reading it never raises.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from collections.abc import Iterable
from email.message import Message

from .headers import decode_bytes

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]+>")


def _parse_message(body: bytes) -> Message | None:
    try:
        return email.message_from_bytes(body, policy=email.policy.compat32)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        log.warning("cannot parse a message body: %s", exc)
        return None


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


def _own_parts(msg: Message) -> Iterable[Message]:
    """Leaf parts of this message, not descending into an attached original message."""
    ct = msg.get_content_type()
    if ct == "message/delivery-status" or not msg.is_multipart():
        yield msg
        return
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message) and sub.get_content_type() not in (
            "message/rfc822",
            "text/rfc822-headers",
        ):
            yield from _own_parts(sub)


def _status_text(part: Message) -> list[str]:
    # The email package parses each status block as a header-only message.
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else [payload]
    return [str(b) for b in blocks]


def body_text(body: bytes, *, with_status: bool = False) -> str:
    """Readable text of a (possibly truncated) message: text parts, HTML tags stripped."""
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
