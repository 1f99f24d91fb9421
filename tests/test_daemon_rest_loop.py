"""The daemon's rest between cycles, in process: a Maildir account whose mailbox says
it rests in IDLE, with a scripted `rest`, so each outcome is chosen, not raced."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest

from agent import cli, health
from agent.config import Config
from agent.daemon import Daemon
from agent.errors import MailboxTransientError
from agent.mailbox import Mailbox
from agent.timers import PipeWaker
from tests.test_daemon_feed import setup as feed_setup
from tests.test_daemon_loop import Setup

__all__ = ["feed_setup"]


class Resting:
    """The Maildir mailbox, resting as IMAP would: each rest returns or raises the next outcome."""

    def __init__(self, inner: Mailbox, outcomes: list[bool | Exception]) -> None:
        self._inner = inner
        self.outcomes = outcomes
        self.rested: list[tuple[str, float]] = []
        self.closed = 0

    def rests(self) -> bool:
        return True

    def rest(self, folder: str, timeout: float, wake_fd: int) -> bool:
        self.rested.append((folder, timeout))
        got = self.outcomes.pop(0)
        if isinstance(got, Exception):
            raise got
        return got

    def close(self) -> None:
        self.closed += 1
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def resting(feed_setup: Setup) -> Iterator[tuple[Daemon, Resting]]:
    boxes: list[Resting] = []
    outcomes: list[bool | Exception] = []

    def factory(c: Config) -> Mailbox:
        box = Resting(cli._mailbox_for(c), outcomes)
        boxes.append(box)
        return cast(Mailbox, box)

    s = feed_setup
    d = Daemon(
        s.cfg,
        s.store,
        factory,
        clock=s.clock,
        config_path=s.path,
        monotonic=s.clock.mono,
        waker=PipeWaker(),
    )
    d._no_watcher = True  # the watcher thread is not what this is about
    d.start()
    assert d.run_pending() == ["start"]
    yield d, boxes[0]
    d.close()


def test_a_change_heard_in_the_rest_runs_a_cycle_and_health_says_idle(
    resting: tuple[Daemon, Resting],
) -> None:
    d, box = resting
    # No watcher thread: IDLE is up because the main connection rests in it.
    assert d.watcher is None and health.read(d.store).idle is True
    box.outcomes.append(True)
    d.sleep(30.0)
    assert box.rested == [("INBOX", 30.0)]
    assert d.run_pending() == ["new mail"]


def test_a_quiet_rest_runs_nothing(resting: tuple[Daemon, Resting]) -> None:
    d, box = resting
    box.outcomes.append(False)
    d.sleep(30.0)
    assert d.run_pending() == []


def test_a_failed_rest_drops_the_connection_asks_a_cycle_and_does_not_spin(
    resting: tuple[Daemon, Resting],
) -> None:
    d, box = resting
    box.outcomes.append(MailboxTransientError("IDLE on INBOX failed: reset"))
    d.sleep(30.0)
    assert box.closed == 1
    assert "wake" in d.pending()
    assert d.run_pending() == ["idle lost"]
    # Right after a failed rest the next sleep waits on the pipe (at most the
    # pause), not in another rest that would fail at once.
    started = time.monotonic()
    d.sleep(30.0)
    assert len(box.rested) == 1
    # ...and only until the pause is over, not until the next timer.
    assert time.monotonic() - started < 10.0
    d.clock.advance(60.0)
    box.outcomes.append(False)
    d.sleep(0.01)
    assert len(box.rested) == 2


def test_a_wake_up_during_the_rest_is_taken_by_it(resting: tuple[Daemon, Resting]) -> None:
    d, box = resting
    box.outcomes.append(False)
    d.request_cycle("the plan changed")  # writes the pipe, as the CLI's SIGUSR1 would
    d.sleep(30.0)
    assert d.run_pending() == ["the plan changed"]
    # The pipe was drained: the next plain wait is not cut short.
    assert not _readable(d)


def _readable(d: Daemon) -> bool:
    waker = d.waker
    assert isinstance(waker, PipeWaker)
    ready, _, _ = select.select([waker.fileno()], [], [], 0)
    return bool(ready)
