"""Whole cycles with no server: `Engine.run_cycle` over a `MemoryMailbox`.

The same stories as the Dovecot end-to-end tests (thank-yous once, a reply
stops everything, an out-of-office holds the check-in, a sent draft, a crash
mid-append), in milliseconds: the store is a temp SQLite file, the mailbox
lives in memory, the clock is passed in.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import config, faults, intake
from agent.config import Config
from agent.engine import CycleReport, Engine
from agent.memory import MemoryMailbox, MemoryServer
from agent.models import AppState, StepState
from agent.store import Store
from tests.ours import step_key

BERLIN = ZoneInfo("Europe/Berlin")
ME = "alex@example.net"
CORPUS = Path(__file__).parent / "corpus"

INTERVIEW = """\
company = "Acme"
role = "Data Engineer"

[interview]
at = "2026-11-16 14:00"
duration = 60
kind = "onsite"
decision_by = "2026-12-04"

[[interviewers]]
name = "Jane Doe"
email = "jane@acme.example"

[hiring_manager]
name = "Maria Garcia"
email = "maria@acme.example"
"""


def at(text: str) -> datetime:
    """A local Berlin time, as the CLI's --now takes it."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


class Crash(BaseException):
    """Stands for SIGKILL at a fault point: nothing after it runs, nothing is caught."""


@dataclass
class World:
    """One user: a config, a store on disk, a mailbox in memory."""

    root: Path
    cfg: Config
    server: MemoryServer
    app_id: int
    store: Store

    def engine(self) -> Engine:
        """A fresh process: its own session on the same mailbox."""
        return Engine(self.cfg, self.store, MemoryMailbox(self.server))

    def cycle(self, now: str) -> CycleReport:
        return self.engine().run_cycle(at(now))

    def restart(self) -> None:
        """The process died: reopen the store as the next one would."""
        self.store.close()
        self.store = Store.open(self.root / "state.sqlite3")

    def drafts(self, folder: str = "Drafts") -> list[EmailMessage]:
        out = []
        for m in self.server.messages(folder):
            msg = email.message_from_bytes(m.raw, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def draft_to(self, who: str) -> EmailMessage:
        return next(d for d in self.drafts() if who in str(d["To"]))

    def key_of(self, draft: EmailMessage) -> str:
        """The step a draft is for, by the Message-ID the store recorded."""
        return step_key(self.store.conn, draft)

    def steps(self) -> dict[str, tuple[str, StepState]]:
        """Step key -> (kind, state) of the application's email steps."""
        app = self.store.load(self.app_id)
        return {s.key: (s.kind.value, s.state) for s in app.steps if s.kind.is_email}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    cfg = config.parse(
        {
            # The kind only matters to the factory; the engine gets the mailbox directly.
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
    w = World(tmp_path, cfg, MemoryServer(), app_id, store)
    yield w
    w.store.close()


def mail(frm: str, subject: str, when: str, msgid: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = ME
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at(when))
    msg["Message-ID"] = msgid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hello Alex,\n\nthanks, we will be in touch.\n\nJane\n")
    return msg.as_bytes()


def nothing_happened(report: CycleReport) -> bool:
    return not (
        report.drafted
        or report.recovered
        or report.state_changes
        or report.sent
        or report.withdrawn
        or report.twins
        or report.rejected
        or report.problems
    )


def test_thank_yous_are_drafted_once(world: World) -> None:
    assert nothing_happened(world.cycle("2026-11-16 14:30"))  # the interview is still on
    report = world.cycle("2026-11-16 16:05")
    assert sorted(s.kind.value for s in report.drafted) == ["thank_you", "thank_you"]
    stored = world.server.messages("Drafts")
    assert [m.flags for m in stored] == [{"\\Draft", "\\Seen"}] * 2
    drafts = world.drafts()
    assert sorted(str(d["To"]) for d in drafts) == [
        "Jane Doe <jane@acme.example>",
        "Maria Garcia <maria@acme.example>",
    ]
    assert len({world.key_of(d) for d in drafts}) == 2
    assert {k for k, v in world.steps().items() if v[1] is StepState.DRAFTED} == {
        world.key_of(d) for d in drafts
    }

    # A second cycle, and one more in a new process: nothing new.
    assert nothing_happened(world.cycle("2026-11-16 16:10"))
    world.restart()
    assert nothing_happened(world.cycle("2026-11-16 16:20"))
    assert len(world.server.messages("Drafts")) == 2


def test_a_reply_stops_everything_and_withdraws_the_drafts_to_trash(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    thanks = world.draft_to("jane@")
    reply = mail(
        "Jane Doe <jane@acme.example>",
        "Re: " + str(thanks["Subject"]),
        "2026-11-18 09:30",
        "<r1@acme.example>",
        In_Reply_To=str(thanks["Message-ID"]),
    )
    world.server.deliver("INBOX", reply)
    report = world.cycle("2026-11-18 10:00")

    assert [(a, s) for a, s, _ in report.state_changes] == [(world.app_id, AppState.RESPONDED)]
    assert len(report.withdrawn) == 2
    assert world.server.messages("Drafts") == []
    trashed = world.drafts("Trash")
    assert {str(d["To"]) for d in trashed} == {
        "Jane Doe <jane@acme.example>",
        "Maria Garcia <maria@acme.example>",
    }
    assert {v[1] for v in world.steps().values()} <= {StepState.WITHDRAWN, StepState.CANCELLED}
    # The reply itself is the user's mail: still unread, still in INBOX.
    assert [m.flags for m in world.server.messages("INBOX")] == [set()]

    # Stopped means stopped: no check-in, ever.
    assert nothing_happened(world.cycle("2026-11-18 10:05"))
    assert nothing_happened(world.cycle("2026-12-20 10:00"))
    assert world.server.messages("Drafts") == []
    assert world.store.load(world.app_id).state is AppState.RESPONDED


def test_an_out_of_office_holds_the_check_in(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    planned = next(
        s for s in world.store.load(world.app_id).steps if s.kind.value == "checkin"
    ).due_at
    assert planned.astimezone(BERLIN).date().isoformat() == "2026-12-08"

    world.server.deliver("INBOX", (CORPUS / "ooo_exchange_no_headers.eml").read_bytes())
    report = world.cycle("2026-12-07 09:30")
    assert report.drafted == [] and report.withdrawn == []
    app = world.store.load(world.app_id)
    assert app.state is AppState.ACTIVE and app.hold_until is not None
    assert app.hold_until.astimezone(BERLIN).date().isoformat() == "2026-12-14"

    # Not on the 8th: one business day after the return, the 15th.
    assert world.cycle("2026-12-08 12:00").drafted == []
    checkin = next(s for s in app.steps if s.kind.value == "checkin")
    due = world.store.step(checkin.id).due_at
    assert due.astimezone(BERLIN).date().isoformat() == "2026-12-15"
    later = world.engine().run_cycle(due)
    assert [s.kind.value for s in later.drafted] == ["checkin"]
    assert len(world.server.messages("Drafts")) == 3


def test_the_user_sending_a_draft_marks_its_step_sent(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    jane = world.draft_to("jane@")
    key = world.key_of(jane)
    mid = str(jane["Message-ID"]).encode()
    # The mail client sends it: out of Drafts, into Sent without \Draft.
    [uid] = [m.uid for m in world.server.messages("Drafts") if mid in m.raw]
    sent_uid = world.server.move("Drafts", uid, "Sent")
    assert sent_uid is not None
    world.server.set_flags("Sent", sent_uid, {"\\Seen"})

    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [key]
    assert world.steps()[key] == ("thank_you", StepState.SENT)
    assert report.withdrawn == []  # the other note is still the user's to send
    assert [str(d["To"]) for d in world.drafts()] == ["Maria Garcia <maria@acme.example>"]
    assert nothing_happened(world.cycle("2026-11-17 09:05"))


def resend(raw: bytes, new_id: str) -> bytes:
    """neomutt's "edit as new": the same note under a new Message-ID."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    del msg["Message-ID"]
    msg["Message-ID"] = new_id
    return msg.as_bytes()


def test_a_note_sent_under_a_new_message_id_leaves_no_twin_in_drafts(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    jane = world.draft_to("jane@")
    key, mid = world.key_of(jane), str(jane["Message-ID"])
    [original] = [m for m in world.server.messages("Drafts") if mid.encode() in m.raw]
    # Sent as a copy under a new Message-ID; the draft itself stays in Drafts.
    world.server.deliver("Sent", resend(original.raw, "<20261117.abc@example.net>"), ["\\Seen"])

    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [key]
    assert [s.key for s in report.twins] == [key] and report.withdrawn == []
    assert world.steps()[key] == ("thank_you", StepState.SENT)
    # The twin is in Trash; the other note is still the user's to send.
    assert [str(d["Message-ID"]) for d in world.drafts("Trash")] == [mid]
    assert [str(d["To"]) for d in world.drafts()] == ["Maria Garcia <maria@acme.example>"]
    events = [e.detail for e in world.store.load(world.app_id).events if e.kind == "withdrawn"]
    assert events == [f"{key} was sent; its unedited draft left in Drafts was moved to Trash"]
    assert nothing_happened(world.cycle("2026-11-17 09:05"))


def test_a_copy_with_a_new_id_and_subject_is_known_by_its_body(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    jane = world.draft_to("jane@")
    key, mid = world.key_of(jane), str(jane["Message-ID"]).encode()
    [uid] = [m.uid for m in world.server.messages("Drafts") if mid in m.raw]
    # Exchange rewrites the Message-ID on send; the user changed the subject
    # and the client added a signature.
    sent = EmailMessage()
    for name in ("From", "To", "Cc", "Date"):
        if jane[name]:
            sent[name] = str(jane[name])
    sent["Subject"] = "Great to meet you today"
    sent["Message-ID"] = "<AM0PR01MB77@eurprd01.prod.exchangelabs.com>"
    sent.set_content(jane.get_content() + "\n-- \nAlex Candidate\n")
    world.server.delete("Drafts", uid)
    world.server.deliver("Sent", sent.as_bytes(), ["\\Seen"])

    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [key]
    assert world.steps()[key] == ("thank_you", StepState.SENT)
    assert nothing_happened(world.cycle("2026-11-17 09:05"))


def test_a_sent_steps_draft_the_user_edited_is_never_withdrawn(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    jane = world.draft_to("jane@")
    mid = str(jane["Message-ID"])
    [original] = [m for m in world.server.messages("Drafts") if mid.encode() in m.raw]
    # The user edits it (saved as a new message, same Message-ID), then sends a copy.
    edited = original.raw.replace(b"Dear Jane", b"Hi Jane")
    world.server.delete("Drafts", original.uid)
    world.server.deliver("Drafts", edited, ["\\Draft", "\\Seen"])
    world.cycle("2026-11-16 18:00")
    world.server.deliver("Sent", resend(edited, "<20261117.def@example.net>"), ["\\Seen"])

    report = world.cycle("2026-11-17 09:00")
    assert [s.key for s in report.sent] == [world.key_of(jane)] and report.twins == []
    assert len(world.drafts()) == 2 and world.drafts("Trash") == []


def test_a_sent_step_whose_draft_left_drafts_is_looked_at_once(world: World) -> None:
    world.cycle("2026-11-16 16:05")
    jane = world.draft_to("jane@")
    mid = str(jane["Message-ID"]).encode()
    [uid] = [m.uid for m in world.server.messages("Drafts") if mid in m.raw]
    sent_uid = world.server.move("Drafts", uid, "Sent")
    assert sent_uid is not None
    report = world.cycle("2026-11-17 09:00")
    assert len(report.sent) == 1 and report.twins == []
    step = world.store.step(report.sent[0].id)
    watch = world.store.draft_watch(step.id)
    assert watch is not None and watch.gone_at is not None  # settled: not fetched again


@pytest.mark.parametrize("point", ["claimed", "appended"])
def test_a_crash_mid_append_recovers_without_a_duplicate(
    world: World, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    def crash_once(where: str) -> None:
        if where == point:
            monkeypatch.setattr(faults, "hit", lambda where: None)
            raise Crash(where)

    monkeypatch.setattr(faults, "hit", crash_once)
    with pytest.raises(Crash):
        world.cycle("2026-11-16 16:05")
    states = sorted(v[1].value for v in world.steps().values() if v[0] == "thank_you")
    assert states == ["appending", "planned"]
    assert len(world.server.messages("Drafts")) == (1 if point == "appended" else 0)

    world.restart()
    report = world.cycle("2026-11-16 16:06")
    assert len(report.recovered) == (1 if point == "appended" else 0)
    assert len(report.recovered) + len(report.drafted) == 2
    drafts = world.drafts()
    assert len(drafts) == 2 and len({world.key_of(d) for d in drafts}) == 2
    assert all(v[1] is StepState.DRAFTED for v in world.steps().values() if v[0] == "thank_you")
    assert nothing_happened(world.cycle("2026-11-16 16:10"))
