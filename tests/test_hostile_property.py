"""Property: no generated hostile message makes classification raise, and none
hides a genuine reply delivered after it (issue 11).

Messages are built from hostile pieces: deep (comments), huge and folded
headers, encoded words in unknown charsets, dates from year 1 to 9999, missing
and shared Message-IDs, deep MIME nesting, raw 8-bit bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cycle_memory import at
from test_hostile_mail import ME, genuine_reply, make_world, nested_bounce, responded

from agent import classify
from agent.classify import AppIndex, failed_addresses, parse_header
from agent.classify.bodies import body_text
from agent.models import FolderRole

SENDERS = st.sampled_from(
    [
        "Jane Doe <jane@acme.example>",
        "jane@acme.example",
        "no-reply@acme.example",
        "MAILER-DAEMON@mx.acme.example",
        '"Doe, Jane" <jane@acme.example>',
        "=?x-unknown?B?SmFuZQ==?= <jane@acme.example>",
        "jane@acme.example, maria@acme.example, " * 50,
        "",
    ]
)


@st.composite
def comments(draw: st.DrawFn) -> str:
    depth = draw(st.integers(0, 2000))
    return "(" * depth + draw(st.sampled_from(["", "x", ")" * depth]))


@st.composite
def dates(draw: st.DrawFn) -> str:
    year = draw(st.integers(1, 9999))
    zone = draw(st.sampled_from(["+0000", "-0100", "+1400", "-1200", "GMT", "+9999", ""]))
    return f"Fri, 31 Dec {year:04d} 23:59:59 {zone}"


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    headers = [f"From: {draw(comments())}{draw(SENDERS)}", f"To: {ME}"]
    if draw(st.booleans()):
        headers.append(f"Date: {draw(dates())}")
    msgid = draw(st.sampled_from(["<real@acme.example>", "<shared@ats.example>", "", "<"]))
    if msgid:
        headers.append(f"Message-ID: {msgid}")
    subject = draw(
        st.sampled_from(["Re: Thank you", "Автоматический ответ", "=?utf-8?Q?=FF?=", "x" * 5000])
    )
    headers.append(f"Subject: {subject}")
    for name in draw(st.lists(st.sampled_from(["List-Id", "Auto-Submitted", "Precedence"]))):
        headers.append(f"{name}: {draw(st.text(max_size=50)).encode('utf-8', 'replace')!r}")
    depth = draw(st.integers(0, 1600))
    if depth and draw(st.booleans()):
        return nested_bounce(depth).replace(
            b"Message-ID: <deep@", b"Message-ID: <deep" + bytes(str(depth), "ascii") + b"@"
        )
    body = draw(st.binary(max_size=2000)) + draw(st.sampled_from([b"", b"<" * 3000, b"\n" * 3000]))
    return ("\r\n".join(headers)).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


EMPTY = AppIndex.build([], [], [ME])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_classification_never_raises(raw: bytes) -> None:
    h = parse_header(raw)
    for role in FolderRole:
        classify.classify(h, role, EMPTY, body=raw)
    failed_addresses(raw, ["jane@acme.example"])
    body_text(raw, with_status=True)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(hostile(), min_size=1, max_size=4))
def test_a_reply_after_hostile_mail_is_still_detected(messages: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        w = make_world(Path(tmp))
        try:
            w.cycle("2026-11-16 16:05")
            for raw in messages:
                w.server.deliver("INBOX", raw, when=at("2026-11-17 09:00"))
            w.cycle("2026-11-17 09:05")
            if not responded(w):  # a generated message may itself be a reply from Jane
                w.server.deliver("INBOX", genuine_reply(), when=at("2026-11-18 09:30"))
                w.cycle("2026-11-18 09:35")
            assert responded(w)
        finally:
            w.store.close()
