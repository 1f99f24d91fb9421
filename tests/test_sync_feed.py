"""Cycles with a NOTIFY change feed, over the in-memory mailbox: a folder the live
feed vouches for costs no command; without a live feed every folder is asked."""

from __future__ import annotations

import email
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import config, intake
from agent.changefeed import ChangeFeed
from agent.engine import Engine
from agent.mailbox import FolderStatus
from agent.memory import MemoryMailbox, MemoryServer
from agent.models import FolderRole, FolderSync, StepState
from agent.store import Store
from agent.sync import unchanged
from tests.test_cycle_memory import BERLIN, INTERVIEW, ME, at

pytestmark = pytest.mark.fast

FOLDERS = ["INBOX", "Archive", "Sent", "Drafts"]


class CountingMailbox(MemoryMailbox):
    """Records every folder asked about with `status`."""

    def __init__(self, server: MemoryServer) -> None:
        super().__init__(server)
        self.asked: list[str] = []

    def status(self, folder: str, *, keep_selected: bool = False) -> FolderStatus:
        self.asked.append(folder)
        return super().status(folder, keep_selected=keep_selected)


class Run:
    def __init__(self, root: Path) -> None:
        self.cfg = config.parse(
            {
                "account": {"kind": "maildir", "path": "unused", "email": ME, "name": "Alex"},
                "schedule": {"timezone": "Europe/Berlin"},
                "storage": {"database": str(root / "state.sqlite3")},
                "folders": {"watch": ["Archive"]},
            },
            root / "config.toml",
        )
        self.store = Store.open(root / "state.sqlite3")
        interview = root / "interview.toml"
        interview.write_text(INTERVIEW, encoding="utf-8")
        data, _ = intake.load_file(interview, BERLIN)
        self.app_id, _ = intake.record(self.store, data, at("2026-11-16 15:10"))
        self.server = MemoryServer()
        self.box = CountingMailbox(self.server)
        self.feed = ChangeFeed()
        self.engine = Engine(self.cfg, self.store, self.box)
        self.engine.changes = self.feed

    def cycle(self, now: str) -> list[str]:
        """The folders the cycle asked STATUS of (INBOX: the kept-selected NOOP)."""
        self.box.asked.clear()
        self.engine.run_cycle(at(now))
        return list(self.box.asked)

    def state_of(self, draft: bytes) -> StepState:
        """The state of the step this draft was written for."""
        msgid = str(email.message_from_bytes(draft)["Message-ID"]).strip("<>")
        app = self.store.load(self.app_id)
        step = next(s for s in app.steps if (s.message_id or "").strip("<>") == msgid)
        return step.state


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    r = Run(tmp_path)
    yield r
    r.store.close()


def test_a_live_feed_that_heard_nothing_leaves_only_inbox_to_ask(run: Run) -> None:
    assert run.cycle("2026-11-16 16:05") == FOLDERS  # not live yet: every folder
    run.feed.go_live(FOLDERS)
    assert run.cycle("2026-11-16 16:06") == FOLDERS  # live, but what came before is unknown
    assert run.cycle("2026-11-16 16:07") == ["INBOX"]
    assert run.cycle("2026-11-16 16:08") == ["INBOX"]


def test_a_notified_sent_folder_alone_is_asked_and_its_mail_applied(run: Run) -> None:
    run.cycle("2026-11-16 16:05")
    run.feed.go_live(FOLDERS)
    run.cycle("2026-11-16 16:06")
    (draft,) = [m for m in run.server.messages("Drafts") if b"jane@" in m.raw]
    run.server.deliver("Sent", draft.raw)
    run.feed.mark(["Sent"])  # what the watcher does when the server tells
    assert run.cycle("2026-11-17 08:00") == ["INBOX", "Sent"]
    assert run.state_of(draft.raw) is StepState.SENT


def test_a_lost_feed_asks_every_folder_and_misses_nothing(run: Run) -> None:
    run.cycle("2026-11-16 16:05")
    run.feed.go_live(FOLDERS)
    run.cycle("2026-11-16 16:06")
    (draft,) = [m for m in run.server.messages("Drafts") if b"jane@" in m.raw]
    # Sent while the watcher's connection was down: never notified.
    run.feed.lost()
    run.server.deliver("Sent", draft.raw)
    assert run.cycle("2026-11-17 08:00") == FOLDERS
    assert run.state_of(draft.raw) is StepState.SENT


def test_a_folder_never_synced_is_asked_whatever_the_feed_says(run: Run) -> None:
    run.feed.go_live(FOLDERS)
    run.feed.take()  # the ALL after going live, taken by a cycle that read nothing
    # No application has been synced yet: nothing is recorded for any folder.
    assert run.cycle("2026-11-16 16:05") == FOLDERS
    assert run.cycle("2026-11-16 16:06") == ["INBOX"]


def test_without_a_feed_every_cycle_asks_every_folder(run: Run) -> None:
    run.engine.changes = None  # run --once
    run.cycle("2026-11-16 16:05")
    assert run.cycle("2026-11-16 16:06") == FOLDERS


@pytest.mark.parametrize(
    ("prev", "status"),
    [
        (FolderSync("Sent", 7, 41, 99, 40), FolderStatus(7, 42, 40, 99)),
        (FolderSync("Sent", 7, 0, None, None), FolderStatus(7, 1, 0, None)),
    ],
)
def test_an_unchanged_folder_is_what_was_recorded(prev: FolderSync, status: FolderStatus) -> None:
    seen = unchanged(FolderRole.SENT, prev)
    assert seen.status == status and seen.last_uid == prev.last_uid
    assert seen.name == "Sent" and not seen.changed and not seen.messages
