"""The wire helpers the NOTIFY watcher and the main connection share: names, lines, SASL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.imap_wire import (
    Notice,
    NoticeKind,
    bearer_error_reply,
    bearer_mechanism,
    bearer_payload,
    login_needs_sasl,
    notify_set_arguments,
    parse_notice,
    plain_payload,
    quoted,
    utf7_decode,
    utf7_encode,
)

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("INBOX", "INBOX"),
        ("Sent Items", "Sent Items"),
        ("Tom & Jerry", "Tom &- Jerry"),
        # RFC 3501 5.1.3's own example, and the German Gmail folders.
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("[Gmail]/Entwürfe", "[Gmail]/Entw&APw-rfe"),
        ("Gesendete Objekte", "Gesendete Objekte"),
    ],
)
def test_folder_names_in_modified_utf7(name: str, wire: str) -> None:
    assert utf7_encode(name) == wire
    assert utf7_decode(wire) == name


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_folder_name_survives_the_wire(name: str) -> None:
    wire = utf7_encode(name)
    assert wire.isascii()
    assert utf7_decode(wire) == name


@pytest.mark.parametrize("wire", ["&", "a&U,BTFw", "&!!!-"])
def test_a_broken_wire_name_is_refused(wire: str) -> None:
    with pytest.raises(ValueError):
        utf7_decode(wire)


def test_notify_set_names_the_selected_folder_and_each_other_one() -> None:
    assert notify_set_arguments(["Sent", "Entwürfe", 'Say "hi"']) == (
        "SET (selected (MessageNew MessageExpunge FlagChange)) "
        '(mailboxes ("Sent" "Entw&APw-rfe" "Say \\"hi\\"") (MessageNew MessageExpunge FlagChange))'
    )
    assert notify_set_arguments([]) == "SET (selected (MessageNew MessageExpunge FlagChange))"
    assert quoted("a\\b") == '"a\\\\b"'


@pytest.mark.parametrize(
    ("line", "notice"),
    [
        (b"+ idling\r\n", Notice(NoticeKind.ALIVE)),
        (b"* OK Still here\r\n", Notice(NoticeKind.ALIVE)),
        (
            b'* STATUS "Sent" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1 UNSEEN 0 HIGHESTMODSEQ 5)\r\n',
            Notice(NoticeKind.STATUS, mailbox="Sent"),
        ),
        (b"* STATUS Drafts (UNSEEN 0 HIGHESTMODSEQ 3)\r\n", Notice(NoticeKind.STATUS, "Drafts")),
        (
            b'* STATUS "[Gmail]/Entw&APw-rfe" (MESSAGES 1)\r\n',
            Notice(NoticeKind.STATUS, mailbox="[Gmail]/Entwürfe"),
        ),
        (b'* STATUS "a \\"b\\"" (MESSAGES 1)\r\n', Notice(NoticeKind.STATUS, mailbox='a "b"')),
        (b"* 12 EXISTS\r\n", Notice(NoticeKind.SELECTED)),
        (b"* 3 EXPUNGE\r\n", Notice(NoticeKind.SELECTED)),
        (b"* 3 FETCH (FLAGS (\\Seen) MODSEQ (9))\r\n", Notice(NoticeKind.SELECTED)),
        (b"* 1 RECENT\r\n", Notice(NoticeKind.SELECTED)),
        (b"* VANISHED 4:7\r\n", Notice(NoticeKind.SELECTED)),
        (b"* BYE Server shutting down.\r\n", Notice(NoticeKind.BYE)),
        (b"* OK [NOTIFICATIONOVERFLOW] too many\r\n", Notice(NoticeKind.OVERFLOW)),
        (b"FN7 OK Idle completed (0.001 + 2.5 secs).\r\n", Notice(NoticeKind.DONE, tag="FN7")),
        (b"FN7 BAD Unknown command\r\n", Notice(NoticeKind.REFUSED, tag="FN7")),
        # What cannot be read marks every folder changed.
        (b"* STATUS {4}\r\n", Notice(NoticeKind.UNKNOWN)),
        (b'* STATUS "bad&name" (MESSAGES 1)\r\n', Notice(NoticeKind.UNKNOWN)),
        (b'* LIST (\\HasNoChildren) "/" Archive\r\n', Notice(NoticeKind.UNKNOWN)),
        (b"* NO something odd\r\n", Notice(NoticeKind.UNKNOWN)),
        (b"\xff\xfe garbage\r\n", Notice(NoticeKind.UNKNOWN)),
    ],
)
def test_lines_of_the_watching_connection(line: bytes, notice: Notice) -> None:
    assert parse_notice(line) == notice


@given(st.binary(max_size=200))
def test_any_line_is_read_without_raising(line: bytes) -> None:
    assert isinstance(parse_notice(line), Notice)


@pytest.mark.parametrize(
    ("caps", "mechanism"),
    [
        ({"AUTH=OAUTHBEARER", "AUTH=XOAUTH2"}, "OAUTHBEARER"),
        ({"AUTH=XOAUTH2", "AUTH=PLAIN"}, "XOAUTH2"),
        ({"AUTH=PLAIN"}, None),
    ],
)
def test_bearer_mechanism(caps: set[str], mechanism: str | None) -> None:
    assert bearer_mechanism(frozenset(caps)) == mechanism


@pytest.mark.parametrize(
    ("mechanism", "user", "payload"),
    [
        # RFC 7628 3.1's shape; saslname escapes "," and "=" (RFC 5801).
        ("OAUTHBEARER", "u@x.example", b"n,a=u@x.example,\x01auth=Bearer TOK\x01\x01"),
        ("OAUTHBEARER", "a,b=c", b"n,a=a=2Cb=3Dc,\x01auth=Bearer TOK\x01\x01"),
        ("XOAUTH2", "u@x.example", b"user=u@x.example\x01auth=Bearer TOK\x01\x01"),
    ],
)
def test_bearer_payloads(mechanism: str, user: str, payload: bytes) -> None:
    assert bearer_payload(mechanism, user, "TOK") == payload


def test_sasl_plain_and_the_error_replies() -> None:
    assert plain_payload("jürgen", "pässword") == "\0jürgen\0pässword".encode()
    assert bearer_error_reply("OAUTHBEARER") == b"\x01"
    assert bearer_error_reply("XOAUTH2") == b""
    with pytest.raises(ValueError):
        bearer_payload("PLAIN", "u", "t")


@pytest.mark.parametrize(
    ("user", "password", "sasl"),
    [("bob", "secret", False), ("jürgen", "secret", True), ("bob", "pässword", True)],
)
def test_login_or_sasl_plain(user: str, password: str, sasl: bool) -> None:
    assert login_needs_sasl(user, password) is sasl
