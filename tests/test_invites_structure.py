"""Telling calendar mail apart from BODYSTRUCTURE and headers (shapes as Dovecot returns them)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.invites.structure import has_calendar, header_may_have_calendar

PLAIN = (
    b"text",
    b"plain",
    (b"charset", b"UTF-8"),
    None,
    None,
    b"7bit",
    195,
    6,
    None,
    None,
    None,
    None,
)
HTML = (
    b"text",
    b"html",
    (b"charset", b"utf-8"),
    None,
    None,
    b"7bit",
    17,
    1,
    None,
    None,
    None,
    None,
)
CAL = (
    b"text",
    b"calendar",
    (b"charset", b"UTF-8", b"method", b"REQUEST"),
    None,
    None,
    b"7bit",
    1112,
    29,
    None,
    None,
    None,
    None,
)
ICS_ATTACHMENT = (
    b"application",
    b"octet-stream",
    (b"name", b"interview.ics"),
    None,
    None,
    b"7bit",
    1215,
    None,
    (b"attachment", (b"filename", b"interview.ics")),
    None,
    None,
)
ICS_BY_DISPOSITION = (
    b"application",
    b"octet-stream",
    None,
    None,
    None,
    b"base64",
    1215,
    None,
    (b"attachment", (b"filename", b"invite.ICS")),
    None,
    None,
)
PDF = (
    b"application",
    b"pdf",
    (b"name", b"cv.pdf"),
    None,
    None,
    b"base64",
    5000,
    None,
    (b"attachment", (b"filename", b"cv.pdf")),
    None,
    None,
)
FORWARDED = (b"message", b"rfc822", None, None, None, b"7bit", 3000, (None,), ([CAL], b"mixed"), 80)


def multipart(subtype: bytes, *parts: Any) -> tuple[Any, ...]:
    return (list(parts), subtype, (b"boundary", b"b"), None, None, None)


@pytest.mark.parametrize(
    ("structure", "expected"),
    [
        (CAL, True),  # a bare text/calendar message
        (multipart(b"alternative", PLAIN, CAL), True),  # Outlook
        (multipart(b"mixed", multipart(b"alternative", PLAIN, HTML, CAL), ICS_ATTACHMENT), True),
        (multipart(b"mixed", PLAIN, ICS_ATTACHMENT), True),  # Greenhouse
        (multipart(b"mixed", PLAIN, ICS_BY_DISPOSITION), True),
        (HTML, False),
        (multipart(b"alternative", PLAIN, HTML), False),
        (multipart(b"mixed", PLAIN, PDF), False),
        (multipart(b"mixed", PLAIN, FORWARDED), False),  # someone else's invitation
        (None, False),
        ((), False),
        ([[]], False),
        ((b"text",), False),
    ],
)  # fmt: skip
def test_bodystructure(structure: Any, expected: bool) -> None:
    assert has_calendar(structure) is expected


def test_deep_nesting_is_bounded() -> None:
    body: Any = CAL
    for _ in range(50):
        body = multipart(b"mixed", body)
    assert has_calendar(body) is False
    shallow: Any = CAL
    for _ in range(3):
        shallow = multipart(b"mixed", shallow)
    assert has_calendar(shallow) is True


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Content-Type: text/calendar; method=REQUEST\r\n\r\n", True),
        (b"Content-Type: multipart/mixed; boundary=x\r\n\r\n", True),
        (b"Content-Type: application/octet-stream; name=invite.ics\r\n\r\n", True),
        (b"Content-Type: text/plain\r\n\r\n", False),
        (b"Content-Type: text/html; charset=utf-8\r\n\r\n", False),
        (b"Subject: no content type\r\n\r\n", False),
        (b"\xff\xfe garbage", False),
    ],
)
def test_header(header: bytes, expected: bool) -> None:
    assert header_may_have_calendar(header) is expected
