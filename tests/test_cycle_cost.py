"""What a cycle reads from the store does not grow with the user's history.

Issue 18: a steady cycle must cost the same with 4 or 40 applications whose
thank-yous were sent long ago, and a wake-up for one reply must read that one
application, not all of them. Counted, not timed: the rows the store turns
into records (steps, applications) during one cycle of a long-running engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import config, intake, rows
from agent import store as store_module
from agent.engine import Engine
from agent.memory import MemoryMailbox, MemoryServer
from agent.models import AppState, InterviewKind, StepKind, StepState
from agent.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
ME = "alex@example.net"
START = datetime(2026, 11, 2, 10, 0, tzinfo=BERLIN)


@dataclass
class Reads:
    steps: int = 0
    applications: list[int] = field(default_factory=list)


@dataclass
class History:
    store: Store
    server: MemoryServer
    engine: Engine
    apps: list[int]
    reads: Reads

    def cycle(self, now: datetime) -> Reads:
        self.reads.steps, self.reads.applications = 0, []
        self.engine.run_cycle(now)
        return Reads(self.reads.steps, list(self.reads.applications))


def _history(tmp: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> History:
    """`n` applications interviewed in early November, thank-yous drafted and sent."""
    cfg = config.parse(
        {
            "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex"},
            "schedule": {"timezone": "Europe/Berlin"},
            "storage": {"database": str(tmp / "state.sqlite3")},
        },
        tmp / "config.toml",
    )
    store = Store.open(tmp / "state.sqlite3")
    apps = []
    for i in range(n):
        at = START + timedelta(hours=i)
        app_id, _ = intake.record(
            store,
            intake.InterviewIn(
                company=f"Company {i}",
                role="Engineer",
                at=at,
                kind=InterviewKind.VIDEO,
                interviewers=(intake.PersonIn(f"Ivan Person{i}", f"ivan{i}@c{i}.example"),),
                decision_by=(START + timedelta(days=60)).date(),
            ),
            now=at,
        )
        apps.append(app_id)
    server = MemoryServer()
    engine = Engine(cfg, store, MemoryMailbox(server))
    engine.run_cycle(START + timedelta(days=1, hours=n))  # every thank-you drafted
    # The user sends them all: each draft leaves Drafts for Sent.
    for m in server.messages("Drafts"):
        uid = server.move("Drafts", m.uid, "Sent")
        server.set_flags("Sent", uid, {"\\Seen"})
    engine.run_cycle(START + timedelta(days=2))
    sent = store.steps_in_state(StepState.SENT)
    assert len([s for s in sent if s.kind is StepKind.THANK_YOU]) == n

    reads = Reads()
    step_row = rows.step_row
    load_many = Store.load_many

    def counting_step_row(r: object) -> object:
        reads.steps += 1
        return step_row(r)  # type: ignore[arg-type]

    def counting_load_many(self: Store, ids: object = None, **kw: object) -> object:
        got = load_many(self, ids, **kw)  # type: ignore[arg-type]
        reads.applications += [a.id for a in got]
        return got

    monkeypatch.setattr(store_module, "step_row", counting_step_row)
    monkeypatch.setattr(Store, "load_many", counting_load_many)
    return History(store, server, engine, apps, reads)


def _reply(i: int, when: datetime) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Ivan Person{i} <ivan{i}@c{i}.example>"
    msg["To"] = ME
    msg["Subject"] = "Re: Thank you"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<reply{i}@c{i}.example>"
    msg.set_content("Hi Alex,\n\nwe would like to move forward. Are you free next week?\n")
    return msg.as_bytes()


def test_a_steady_cycle_reads_nothing_that_grows_with_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs = []
    for n in (4, 40):
        h = _history(tmp_path / f"h{n}", n, monkeypatch)
        h.cycle(START + timedelta(days=2, minutes=5))  # settles anything left from set-up
        costs.append(h.cycle(START + timedelta(days=2, minutes=10)))
        h.store.close()
    small, big = costs
    assert big.steps == small.steps, costs
    assert len(big.applications) == len(small.applications), costs


def test_a_wake_up_for_one_reply_reads_only_that_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = _history(tmp_path, 40, monkeypatch)
    # A quiet cycle just before each reply: whatever the clock alone brings
    # due (a plan to check again) is done, so what is left is the reply's.
    woke = START + timedelta(days=3)
    h.cycle(woke)
    i = 17
    h.server.deliver("INBOX", _reply(i, woke))
    got = h.cycle(woke + timedelta(seconds=1))
    assert h.store.load(h.apps[i]).state is AppState.RESPONDED
    assert set(got.applications) <= {h.apps[i]}, got
    # Its steps and its planned check-in, not the 40 applications' history.
    assert got.steps <= 10, got
    # The next reply is as cheap: what changed was read again, nothing else.
    woke += timedelta(hours=1)
    h.cycle(woke)
    j = 23
    h.server.deliver("INBOX", _reply(j, woke))
    got = h.cycle(woke + timedelta(seconds=1))
    assert h.store.load(h.apps[j]).state is AppState.RESPONDED
    assert set(got.applications) <= {h.apps[i], h.apps[j]}, got
    h.store.close()
