"""The daemon's NOTIFY watcher and its change feed, in process: a Maildir account and a
scripted `ChangeWatch`, so each interleaving is chosen, not raced."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from agent import cli, config
from agent.changefeed import ALL
from agent.config import Config
from agent.daemon import Daemon
from agent.errors import MailboxTransientError, NotifyRefusedError
from agent.mailbox import Mailbox, Notified
from tests.daemonproc import wait_for
from tests.test_daemon_loop import Setup, maildir_setup

WAIT = 5.0


class ScriptedWatch:
    """A `ChangeWatch` whose every wait returns what the test puts in next."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.opened = threading.Event()
        self.closed = threading.Event()
        self.waiting = threading.Semaphore(0)
        self.args: tuple[str | None, list[str]] | None = None
        self.script: queue.Queue[Notified | Exception] = queue.Queue()

    def open(self, selected: str | None, others: Sequence[str]) -> None:
        self.args = (selected, list(others))
        if self.refuse:
            raise NotifyRefusedError("test server refused NOTIFY SET")
        self.opened.set()

    def wait(self, timeout: float) -> Notified:
        self.waiting.release()
        got = self.script.get(timeout=WAIT)
        if isinstance(got, Exception):
            raise got
        return got

    def abort(self) -> None:
        self.script.put(MailboxTransientError("aborted"))

    def close(self) -> None:
        self.closed.set()


class Watched:
    """The Maildir mailbox, offering `watch` as its change watch (once; then none)."""

    def __init__(self, inner: Mailbox, watches: list[ScriptedWatch]) -> None:
        self._inner = inner
        self._watches = watches
        self.waits = 0

    def change_watch(self) -> ScriptedWatch | None:
        return self._watches.pop(0) if self._watches else None

    def wait(self, folder: str, timeout: float) -> bool:
        self.waits += 1
        threading.Event().wait(0.05)
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def daemon_with(setup: Setup, watches: list[ScriptedWatch], watch: str = "[]") -> Daemon:
    setup.path.write_text(setup.path.read_text().replace("watch = []", f"watch = {watch}"))
    cfg = config.load(setup.path)

    def factory(c: Config) -> Mailbox:
        return cast(Mailbox, Watched(cli._mailbox_for(c), watches))

    return setup.daemon(factory, cfg)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """A Maildir account (its backend has no change watch: `Watched` adds one)."""
    s = maildir_setup(tmp_path, idle=True)
    yield s
    s.store.close()


@pytest.fixture
def started(setup: Setup) -> Iterator[tuple[Daemon, ScriptedWatch]]:
    watch = ScriptedWatch()
    d = daemon_with(setup, [watch], watch='["Archive"]')
    d.start()
    assert d.run_pending() == ["start"]  # the first cycle starts the watcher
    assert watch.opened.wait(WAIT) and watch.waiting.acquire(timeout=WAIT)
    yield d, watch
    d.close()


def test_the_watcher_lists_every_folder_but_inbox_and_goes_live_with_a_cycle(
    started: tuple[Daemon, ScriptedWatch],
) -> None:
    d, watch = started
    assert watch.args is not None
    selected, others = watch.args
    # Nothing selected: INBOX is the main connection's, which rests in IDLE on it.
    assert selected is None and others == ["Archive", "Sent", "Drafts"]
    assert d.feed.live
    assert "wake" in d.pending()  # changes before NOTIFY SET were never reported
    assert d.feed.take() == ALL
    assert d.feed.take().folders == frozenset()


def test_a_notified_folder_is_marked_and_wakes_a_cycle(
    started: tuple[Daemon, ScriptedWatch],
) -> None:
    d, watch = started
    d.run_pending()  # the "notify connected" cycle takes ALL
    assert "wake" not in d.pending()
    watch.script.put(Notified(frozenset({"Sent"})))
    assert watch.waiting.acquire(timeout=WAIT)  # the watcher handled it and waits again
    assert "wake" in d.pending()
    taken = d.feed.take()
    assert not taken.everything and taken.folders == {"Sent"}
    assert not taken.may_have_changed("Drafts")


def test_an_unreadable_line_makes_the_next_take_all(
    started: tuple[Daemon, ScriptedWatch],
) -> None:
    d, watch = started
    d.run_pending()
    watch.script.put(Notified(everything=True))
    assert watch.waiting.acquire(timeout=WAIT)
    assert d.feed.take() == ALL


def test_a_lost_watcher_connection_makes_every_take_all(
    started: tuple[Daemon, ScriptedWatch],
) -> None:
    d, watch = started
    d.run_pending()
    watch.script.put(MailboxTransientError("connection reset"))
    assert watch.closed.wait(WAIT)
    assert not d.feed.live
    assert d.feed.take() == ALL and d.feed.take() == ALL
    # "idle lost": a cycle finds out what the server is up to.
    wait_for(lambda: "wake" in d.pending(), timeout=WAIT)


def test_a_failed_cycle_gives_its_changes_back(
    started: tuple[Daemon, ScriptedWatch], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, watch = started
    d.run_pending()
    watch.script.put(Notified(frozenset({"Sent"})))
    assert watch.waiting.acquire(timeout=WAIT)
    assert d.engine is not None

    def broken(now: object, feed: object = None) -> None:
        assert d.feed.take().folders == {"Sent"}  # taken, then the cycle breaks
        raise MailboxTransientError("cut mid-cycle")

    monkeypatch.setattr("agent.engine.Syncer.run", lambda self, now, feed=None: broken(now, feed))
    d.run_pending()
    assert d.feed.take() == ALL


def test_a_reload_drops_the_watch_and_the_feed_with_it(
    started: tuple[Daemon, ScriptedWatch],
) -> None:
    d, watch = started
    d.run_pending()
    setup_path = d.config_path
    assert setup_path is not None
    setup_path.write_text(setup_path.read_text().replace('watch = ["Archive"]', "watch = []"))
    d.request_reload()
    d.run_pending()
    assert watch.closed.wait(WAIT)
    assert d.feed.take() == ALL


def test_a_server_refusing_notify_set_gets_idle_on_inbox(setup: Setup) -> None:
    watch = ScriptedWatch(refuse=True)
    d = daemon_with(setup, [watch])
    d.start()
    d.run_pending()
    assert watch.closed.wait(WAIT)
    assert not d.feed.live and d.feed.take() == ALL
    d.close()


def test_a_backend_without_a_change_watch_keeps_idle(setup: Setup) -> None:
    d = daemon_with(setup, [])
    d.start()
    d.run_pending()
    threading.Event().wait(0.5)
    assert d.watch.up and not d.feed.live
    d.close()
