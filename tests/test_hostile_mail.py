"""Mail from anyone cannot stop the agent: each "Measured" case of issue 11 (the mail side).

Every story runs whole cycles over a `MemoryMailbox`: the hostile message
arrives, the cycle survives it, and a genuine reply delivered afterwards is
still detected (or a machine's mail is still not taken for one).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cycle_memory import BERLIN, INTERVIEW, ME, World, at, mail

from agent import config, intake
from agent.classify import failed_addresses, parse_header
from agent.classify.bodies import body_text
from agent.errors import ConnectError, FolderError
from agent.memory import MemoryServer
from agent.models import AppState
from agent.store import Store
from agent.sync import message_fault

JANE = "Jane Doe <jane@acme.example>"


def make_world(tmp_path: Path) -> World:
    cfg = config.parse(
        {
            "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex Candidate"},
            "schedule": {"timezone": "Europe/Berlin"},
            "storage": {"database": str(tmp_path / "state.sqlite3")},
        },
        tmp_path / "config.toml",
    )
    store = Store.open(tmp_path / "state.sqlite3")
    interview = tmp_path / "interview.toml"
    interview.write_text(INTERVIEW, encoding="utf-8")
    data, _ = intake.load_file(interview, BERLIN)
    app_id, _ = intake.record(store, data, at("2026-11-16 15:10"))
    return World(tmp_path, cfg, MemoryServer(), app_id, store)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.store.close()


def add_globex(w: World) -> int:
    """A second application, at a company whose ATS shares Acme's Message-IDs."""
    path = w.root / "globex.toml"
    text = INTERVIEW.replace("Acme", "Globex").replace("acme.example", "globex.example")
    path.write_text(text, encoding="utf-8")
    data, _ = intake.load_file(path, BERLIN)
    app_id, _ = intake.record(w.store, data, at("2026-11-16 15:20"))
    return app_id


def raw(*headers: str, body: str = "Hello Alex,\n\nthanks.\n") -> bytes:
    text = "\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n")
    return text.encode("utf-8")


def nested_bounce(depth: int) -> bytes:
    """A MAILER-DAEMON message with `depth` nested multipart/mixed levels."""
    head = [
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>",
        f"To: {ME}",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Wed, 18 Nov 2026 09:00:00 +0100",
        "Message-ID: <deep@mx.acme.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b0"',
    ]
    parts = []
    for i in range(1, depth + 1):
        parts.append(f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n')
    tail = "".join(f"\r\n--b{i}--\r\n" for i in range(depth, -1, -1))
    body = "".join(parts) + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\njane@acme.example\r\n"
    return ("\r\n".join(head) + "\r\n\r\n" + body + tail).encode()


def deep_comment_from() -> bytes:
    folded = "\r\n ".join("(" * 400 for _ in range(4))
    return raw(
        f"From: {folded}jane@acme.example",
        f"To: {ME}",
        "Subject: hi",
        "Date: Wed, 18 Nov 2026 09:00:00 +0100",
        "Message-ID: <paren@acme.example>",
    )


def far_future_date() -> bytes:
    return raw(
        f"From: {JANE}",
        f"To: {ME}",
        "Subject: Our timeline",
        "Date: Fri, 31 Dec 9999 23:59:59 -0100",
        "Message-ID: <y9999@acme.example>",
    )


POISON = {
    "recursion in From": deep_comment_from,
    "1,500 nested multiparts": lambda: nested_bounce(1500),
    "Date 9999": far_future_date,
}


def genuine_reply(msgid: str = "<real@acme.example>", when: str = "2026-11-18 09:30") -> bytes:
    return mail(JANE, "Re: Thank you", when, msgid)


def responded(w: World) -> bool:
    return w.store.load(w.app_id).state is AppState.RESPONDED


@pytest.mark.parametrize("make", list(POISON.values()), ids=list(POISON))
def test_poison_mail_does_not_hide_a_later_reply(world: World, make: object) -> None:
    assert callable(make)
    world.cycle("2026-11-16 16:05")
    world.server.deliver("INBOX", make(), when=at("2026-11-18 09:00"))
    world.cycle("2026-11-18 09:05")  # survives
    world.server.deliver("INBOX", genuine_reply(), when=at("2026-11-18 09:30"))
    world.cycle("2026-11-18 09:35")
    assert responded(world)


def test_an_unreadable_message_is_recorded_once_and_passed(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    uid = world.server.deliver("INBOX", deep_comment_from(), when=at("2026-11-18 09:00"))
    world.cycle("2026-11-18 09:05")
    world.cycle("2026-11-18 09:10")
    # The hostile From either parses within bounds (then Jane's reply) or is unreadable.
    got = world.store.unreadable()
    assert [(u.folder, u.uid) for u in got] in ([], [("INBOX", uid)])


def test_status_and_health_count_the_unreadable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent import classify, health
    from agent.cli_output import health_line

    world.cycle("2026-11-16 16:05")
    world.server.deliver("INBOX", genuine_reply("<boom@acme.example>"))

    real = classify.classify

    def explode(h: classify.Header, *a: object, **k: object) -> classify.Verdict:
        if h.message_id == "<boom@acme.example>":
            raise RecursionError("maximum recursion depth exceeded")
        return real(h, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(classify, "classify", explode)
    world.cycle("2026-11-18 09:05")
    got = health.read(world.store)
    assert got.unreadable == 1
    assert "1 unreadable message(s) passed over" in health_line(got, BERLIN)


def test_a_crash_inside_classification_is_isolated(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent import classify

    world.cycle("2026-11-16 16:05")
    bad = world.server.deliver("INBOX", genuine_reply("<boom@acme.example>"))
    real = classify.classify

    def explode(h: classify.Header, *a: object, **k: object) -> classify.Verdict:
        if h.message_id == "<boom@acme.example>":
            raise RecursionError("maximum recursion depth exceeded")
        return real(h, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(classify, "classify", explode)
    world.cycle("2026-11-18 09:05")
    world.cycle("2026-11-18 09:06")
    assert [(u.folder, u.uid, u.reason) for u in world.store.unreadable()] == [
        ("INBOX", bad, "RecursionError: maximum recursion depth exceeded")
    ]
    assert not responded(world)
    world.server.deliver("INBOX", genuine_reply())
    world.cycle("2026-11-18 09:35")
    assert responded(world)
    assert world.store.folder_sync("INBOX").last_uid == bad + 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("exc", "the_message"),
    [
        (RecursionError("maximum recursion depth exceeded"), True),
        (OverflowError("date value out of range"), True),
        (ValueError("Header values may not contain linefeed"), True),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (sqlite3.DatabaseError("database disk image is malformed"), False),
        (ConnectError("connection reset"), False),
        (FolderError("no such folder"), False),
    ],
)
def test_whose_fault_an_exception_is(exc: Exception, the_message: bool) -> None:
    assert message_fault(exc) is the_message


def test_a_newsletter_then_a_reply_with_the_same_message_id(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    news = mail(JANE, "Acme news", "2026-11-17 09:00", "<same@acme.example>", List_Id="<n.acme>")
    world.server.deliver("INBOX", news)
    world.cycle("2026-11-17 09:05")
    assert not responded(world)
    world.server.deliver("INBOX", genuine_reply("<same@acme.example>"))
    world.cycle("2026-11-18 09:35")
    assert responded(world)


def test_the_same_message_id_from_two_companies(world: World) -> None:
    globex = add_globex(world)
    world.cycle("2026-11-16 16:05")
    theirs = mail(
        "Bob <bob@globex.example>", "Re: Thank you", "2026-11-17 09:00", "<ats-1@ats.example>"
    )
    theirs = theirs.replace(b"jane@acme.example", b"bob@globex.example")
    world.server.deliver("INBOX", theirs.replace(b"Bob <bob", b"Maria Garcia <maria"))
    world.cycle("2026-11-17 09:05")
    assert world.store.load(globex).state is AppState.RESPONDED
    assert not responded(world)
    world.server.deliver("INBOX", genuine_reply("<ats-1@ats.example>"))
    world.cycle("2026-11-18 09:35")
    assert responded(world)


def test_a_copy_in_another_folder_is_handled_once(world: World) -> None:
    world.cfg = config.parse(
        {
            "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex"},
            "schedule": {"timezone": "Europe/Berlin"},
            "storage": {"database": str(world.root / "state.sqlite3")},
            "folders": {"watch": ["Archive"]},
        },
        world.root / "config.toml",
    )
    world.server.create_folder("Archive")
    world.cycle("2026-11-16 16:05")
    reply = genuine_reply()
    world.server.deliver("INBOX", reply)
    world.server.deliver("Archive", reply)
    world.cycle("2026-11-18 09:35")
    assert responded(world)
    rows = [m for m in world.store.messages_for(world.app_id) if m.kind.value == "reply"]
    assert len(rows) == 1


def test_two_messages_without_message_id_or_date(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    bare = [f"From: {JANE}", f"To: {ME}", "Subject: Quick question"]
    ooo = raw(*bare, "Auto-Submitted: auto-replied", body="I am out of the office.\n")
    world.server.deliver("INBOX", ooo, when=at("2026-11-17 09:00"))
    world.cycle("2026-11-17 09:05")
    assert not responded(world)
    world.server.deliver("INBOX", raw(*bare), when=at("2026-11-18 09:00"))
    world.cycle("2026-11-18 09:05")
    assert responded(world)


def test_a_reply_dated_1970_is_a_reply(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    old = raw(
        f"From: {JANE}",
        f"To: {ME}",
        "Subject: Re: Thank you",
        "Date: Thu, 01 Jan 1970 00:00:00 +0000",
        "Message-ID: <epoch@acme.example>",
    )
    world.server.deliver("INBOX", old, when=at("2026-11-18 09:00"))
    world.cycle("2026-11-18 09:05")
    assert responded(world)
    # The server's date stands in for the broken one.
    (row,) = [m for m in world.store.messages_for(world.app_id) if m.kind.value == "reply"]
    assert row.sent_at == at("2026-11-18 09:00")


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("no-reply@acme.example", "Your application status has been updated"),
        ("noreply@acme.example", "Update on your application"),
        ("donotreply@acme.example", "Update on your application"),
        ("notifications@acme.example", "Update on your application"),
        ("jane@acme.example", "Автоматический ответ: Thank you"),
    ],
)
def test_machines_are_not_a_reply(world: World, sender: str, subject: str) -> None:
    world.cycle("2026-11-16 16:05")
    msg = raw(
        f"From: Acme <{sender}>",
        f"To: {ME}",
        f"Subject: {subject}",
        "Date: Wed, 18 Nov 2026 09:00:00 +0100",
        "Message-ID: <robot@acme.example>",
    )
    world.server.deliver("INBOX", msg)
    world.cycle("2026-11-18 09:05")
    assert world.store.load(world.app_id).state is AppState.ACTIVE


@pytest.mark.parametrize(
    "body",
    [
        b"a" * 65536,
        b"\n" * 65536,
        b"<" * 65536,
        b"a@" * 32768,
        (b"x" * 60 + b"\n") * 1000,
    ],
    ids=["letters", "newlines", "angles", "ats", "lines"],
)
def test_a_64k_bounce_body_is_classified_in_under_50ms(body: bytes) -> None:
    message = (
        b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\n"
        b"Content-Type: text/html\r\n\r\n" + body
    )
    start = time.process_time()
    failed_addresses(message, ["jane@acme.example"])
    body_text(message)
    assert time.process_time() - start < 0.05


def test_parse_header_bounds_a_deep_comment() -> None:
    h = parse_header(deep_comment_from())
    assert h.message_id == "<paren@acme.example>"


@pytest.mark.parametrize(
    ("date", "kept"),
    [
        ("Fri, 31 Dec 9999 23:59:59 -0100", False),  # past datetime's range in UTC
        ("Thu, 01 Jan 1970 00:00:00 +0000", False),  # a clock never set
        ("Sun, 01 Jan 1899 00:00:00 +0000", False),
        ("Sat, 01 Jan 2250 00:00:00 +0000", False),
        ("Wed, 18 Nov 2026 09:00:00 +0100", True),
        ("Wed, 18 Nov 2026 09:00:00", True),  # no zone: UTC
    ],
)
def test_a_date_outside_a_sane_window_is_dropped(date: str, kept: bool) -> None:
    h = parse_header(f"From: {JANE}\r\nDate: {date}\r\n\r\n".encode())
    assert (h.date is not None) is kept


@pytest.mark.parametrize("bad", ["Data\rEngineer", "Data\u2028Engineer", "Data\nEngineer"])
def test_a_bad_value_fails_its_own_steps_only(world: World, bad: str) -> None:
    from agent import report

    globex = add_globex(world)
    # What the door now refuses may still be in an older database.
    with world.store.transaction():
        world.store.conn.execute("UPDATE applications SET role = ? WHERE id = ?", (bad, globex))
    done = world.cycle("2026-11-16 16:05")
    assert sorted(s.application_id for s in done.drafted) == [world.app_id] * 2
    assert len(done.problems) == 2
    steps = [s for s in world.store.load(globex).steps if s.kind.is_email]
    assert {s.state.value for s in steps} == {"planned"}  # never left appending
    failed = [s for s in steps if s.failed]
    assert len(failed) == 2 and all(s.note.startswith("failed: ") for s in failed)
    view = report.application_view(world.store.load(globex), world.cfg.policy)
    assert sum("failed: " in w for w in view.warnings) == 2
    # The daemon's exact-time wake-up is for the next step that can be written.
    next_due = world.store.next_due()
    assert next_due is not None and next_due > at("2026-11-16 16:05")
    # Retried each cycle, one event per reason, not one per cycle.
    world.cycle("2026-11-16 16:10")
    events = [e for e in world.store.load(globex).events if e.kind == "failed"]
    assert len(events) == 2

    with world.store.transaction():  # the user's fix (what `edit` does for them)
        world.store.conn.execute(
            "UPDATE applications SET role = 'Data Engineer' WHERE id = ?", (globex,)
        )
    again = world.cycle("2026-11-16 16:15")
    assert sorted(s.application_id for s in again.drafted) == [globex] * 2
    assert not any(s.failed for s in world.store.load(globex).steps)
