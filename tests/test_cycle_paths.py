"""Issue 14's paths in whole cycles over a `MemoryMailbox`: deleted drafts, rejections, delays.

A draft moved to Trash or flagged \\Deleted is skipped at the next cycle; one
that only vanished is shown at once as "gone from Drafts" and skipped after the
grace period. A rejection ends the sequence as `rejected` with its drafts
withdrawn; a delay is an ordinary answer (`responded`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import config, intake
from agent.config import Config
from agent.engine import CycleReport, Engine
from agent.gone import GONE_GRACE
from agent.memory import MemoryMailbox, MemoryServer
from agent.models import GONE_FROM_DRAFTS, AppState, StepKind, StepState
from agent.services import Services
from agent.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
ME = "alex@example.net"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@dataclass
class World:
    cfg: Config
    server: MemoryServer
    store: Store
    app_id: int

    def cycle(self, now: str) -> CycleReport:
        return Engine(self.cfg, self.store, MemoryMailbox(self.server)).run_cycle(at(now))

    def uid_of_draft_to(self, who: str) -> int:
        return next(m.uid for m in self.server.messages("Drafts") if who.encode() in m.raw)

    def thank_you_to(self, who: str) -> StepState:
        app = self.store.load(self.app_id)
        return next(
            s.state
            for s in app.steps
            if s.kind is StepKind.THANK_YOU and who in (app.contact(s.contact_id) or ME).email  # type: ignore[union-attr]
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    cfg = config.parse(
        {
            "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex Candidate"},
            "schedule": {"timezone": "Europe/Berlin"},
            "storage": {"database": str(tmp_path / "state.sqlite3")},
        },
        tmp_path / "config.toml",
    )
    store = Store.open(tmp_path / "state.sqlite3")
    data = intake.InterviewIn(
        company="Acme",
        role="Data Engineer",
        at=at("2026-11-16 14:00"),
        interviewers=(intake.PersonIn("Jane Doe", "jane@acme.example"),),
        hiring_manager=intake.PersonIn("Maria Garcia", "maria@acme.example"),
    )
    app_id, _ = intake.record(store, data, at("2026-11-16 15:10"))
    w = World(cfg, MemoryServer(), store, app_id)
    w.cycle("2026-11-16 16:05")  # both thank-yous drafted
    w.cycle("2026-11-16 16:06")  # and seen in Drafts
    yield w
    store.close()


def mail(
    subject: str, body: str, msgid: str, sender: str = "Maria Garcia <maria@acme.example>"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ME
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at("2026-11-20 10:00"))
    msg["Message-ID"] = msgid
    msg.set_content(body)
    return msg.as_bytes()


def test_a_draft_moved_to_trash_is_skipped_at_the_next_cycle(world: World) -> None:
    world.server.move("Drafts", world.uid_of_draft_to("jane@"), "Trash")
    report = world.cycle("2026-11-16 18:00")
    assert world.thank_you_to("jane@") is StepState.SKIPPED
    assert [s.key for s in report.rejected] == ["a1.i1.thank_you.c1"]
    assert world.thank_you_to("maria@") is StepState.DRAFTED
    # Never drafted again.
    assert world.cycle("2026-11-17 09:00").drafted == []


def test_a_draft_flagged_deleted_is_skipped_at_the_next_cycle(world: World) -> None:
    uid = world.uid_of_draft_to("jane@")
    world.server.set_flags("Drafts", uid, {"\\Draft", "\\Seen", "\\Deleted"})
    world.cycle("2026-11-16 18:00")
    assert world.thank_you_to("jane@") is StepState.SKIPPED
    # The user's flag is theirs: nothing of ours touched that message.
    (flagged,) = [m for m in world.server.messages("Drafts") if m.uid == uid]
    assert "\\Deleted" in flagged.flags


def test_a_vanished_draft_is_shown_gone_at_once_then_skipped(world: World) -> None:
    world.server.delete("Drafts", world.uid_of_draft_to("jane@"))
    world.cycle("2026-11-16 18:00")
    assert world.thank_you_to("jane@") is StepState.DRAFTED  # may still turn up in Sent
    svc = Services(world.cfg, world.store)
    agenda = svc.agenda(at("2026-11-16 18:01"), 7)
    jane = [i for i in agenda.today if "Jane" in i.what]
    assert jane and all(GONE_FROM_DRAFTS in i.what for i in jane)
    assert not any("review and send" in i.what for i in jane)
    shown = svc.show(world.app_id)
    entries = [e for e in shown.timeline if "Jane" in getattr(e, "what", "")]
    assert entries and all("review and send" not in e.what for e in entries)  # type: ignore[union-attr]
    (status,) = svc.status().applications
    assert any(GONE_FROM_DRAFTS in w for w in status.warnings)

    world.cycle("2026-11-18 18:00")
    assert world.thank_you_to("jane@") is StepState.DRAFTED
    later = at("2026-11-16 18:00") + GONE_GRACE
    world.cycle(later.strftime("%Y-%m-%d %H:%M"))
    assert world.thank_you_to("jane@") is StepState.SKIPPED


def test_a_rejection_ends_as_rejected_and_withdraws_the_drafts(world: World) -> None:
    world.server.deliver(
        "INBOX",
        mail(
            "Your application",
            "Dear Alex,\n\nThank you for your time. Unfortunately we have decided to move "
            "forward with other candidates.\n\nBest,\nMaria\n",
            "<reject@acme.example>",
        ),
    )
    report = world.cycle("2026-11-20 11:00")
    assert [(a, s) for a, s, _ in report.state_changes] == [(world.app_id, AppState.REJECTED)]
    assert world.server.messages("Drafts") == [] and len(report.withdrawn) == 2
    app = world.store.load(world.app_id)
    assert app.state is AppState.REJECTED and "other candidates" in app.stop_reason
    assert {s.state for s in app.steps if s.kind.is_email} <= {
        StepState.WITHDRAWN,
        StepState.CANCELLED,
    }
    # The user's mail stays unread in INBOX.
    assert [m.flags for m in world.server.messages("INBOX")] == [set()]
    assert world.cycle("2026-12-20 10:00").drafted == []

    # A reminder, never a draft, to answer graciously: on the agenda until done.
    svc = Services(world.cfg, world.store)
    (item,) = svc.agenda(at("2026-11-20 11:05"), 7).today
    assert item.kind is StepKind.ANSWER_REJECTION and item.to == "maria@acme.example"
    assert "graciously" in item.what
    svc.done(item.step, at("2026-11-20 12:00"))
    assert svc.agenda(at("2026-11-20 12:01"), 7).today == ()
    assert world.store.load(world.app_id).state is AppState.REJECTED


def test_the_answer_reminder_can_be_turned_off(world: World) -> None:
    world.cfg = replace(world.cfg, reminders=replace(world.cfg.reminders, answer_rejection=False))
    world.server.deliver(
        "INBOX",
        mail("Your application", "The position has been filled.\n", "<filled@acme.example>"),
    )
    world.cycle("2026-11-20 11:00")
    assert world.store.load(world.app_id).state is AppState.REJECTED
    assert Services(world.cfg, world.store).agenda(at("2026-11-20 11:05"), 7).today == ()


def test_a_delay_is_an_answer_not_a_rejection(world: World) -> None:
    world.server.deliver(
        "INBOX",
        mail(
            "Re: Thank you",
            "Hi Alex,\n\nthe decision is taking longer than expected; we hope to have news "
            "next week.\n\nMaria\n",
            "<delay@acme.example>",
        ),
    )
    report = world.cycle("2026-11-20 11:00")
    assert [(a, s) for a, s, _ in report.state_changes] == [(world.app_id, AppState.RESPONDED)]
