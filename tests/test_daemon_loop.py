"""The daemon's loop without a server: a Maildir account, a fake clock, public methods only."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent import cli, config, health
from agent.config import Config, DaemonConfig
from agent.configfile import AccountAnswers, render_config
from agent.daemon import BACKOFF_CAP, TICK_SECONDS, Daemon, MailboxFactory
from agent.errors import AuthError, ConnectError
from agent.mailbox import Mailbox
from agent.maildir import create_maildir
from agent.store import Store
from agent.timers import PipeWaker, Timers, clock_from
from tests.timefake import FakeClock, NoSleep

T0 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


@dataclass
class Setup:
    path: Path
    cfg: Config
    store: Store
    clock: FakeClock

    def daemon(self, factory: MailboxFactory | None = None, cfg: Config | None = None) -> Daemon:
        return Daemon(
            cfg or self.cfg,
            self.store,
            factory or cli._mailbox_for,
            clock=self.clock,
            config_path=self.path,
            monotonic=self.clock.mono,
            waker=NoSleep(),
        )


def maildir_setup(tmp_path: Path, *, idle: bool) -> Setup:
    """A Maildir account on a fake clock; the caller closes its store."""
    root = tmp_path / "Mail"
    create_maildir(root, "maildir++")
    answers = AccountAnswers(
        email="me@example.com",
        name="Me",
        kind="maildir",
        path=str(root),
        layout="maildir++",
        database=str(tmp_path / "db.sqlite3"),
    )
    path = tmp_path / "config.toml"
    text = render_config(answers)
    path.write_text(text if idle else text.replace("idle = true", "idle = false"))
    cfg = config.load(path)
    return Setup(path, cfg, Store.open(cfg.storage.database), FakeClock(T0))


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = maildir_setup(tmp_path, idle=False)
    yield s
    s.store.close()


def failing(exc: Exception) -> MailboxFactory:
    def factory(cfg: Config) -> Mailbox:
        raise exc

    return factory


def test_a_good_start_records_health_and_arms_poll_and_tick(setup: Setup) -> None:
    d = setup.daemon()
    d.start()
    assert set(d.pending()) == {"poll", "tick", "wake"}
    assert d.run_pending() == ["start"]
    h = health.read(setup.store)
    assert h.running and h.connected and h.last_ok_at == T0
    assert d.pending() == {
        "poll": T0 + timedelta(minutes=5),
        "tick": T0 + timedelta(seconds=TICK_SECONDS),
    }
    assert d.seconds_to_next() == TICK_SECONDS
    d.close()
    h = health.read(setup.store)
    assert not h.running and h.stopped_at == T0 and not h.crashed


def test_poll_runs_once_per_interval_and_coalesces(setup: Setup) -> None:
    d = setup.daemon()
    d.start()
    d.run_pending()
    setup.clock.advance(4 * 60)
    assert d.run_pending() == []
    setup.clock.advance(60)
    assert d.run_pending() == ["poll"]
    assert d.pending()["poll"] == setup.clock() + timedelta(minutes=5)
    # Ten missed polls (a blocked loop, not a suspend: monotonic moved too) run once.
    setup.clock.advance(50 * 60)
    assert d.run_pending() == ["poll"]
    assert d.run_pending() == []
    d.close()


@pytest.mark.parametrize("why", ["new mail", "idle connected", "config reloaded"])
def test_request_cycle_runs_at_once_and_wakes_the_loop(setup: Setup, why: str) -> None:
    d = setup.daemon()
    d.start()
    d.run_pending()
    waker = d.waker
    assert isinstance(waker, NoSleep)
    before = waker.wakes
    threading.Thread(target=d.request_cycle, args=(why,)).start()
    deadline = time.monotonic() + 5
    while "wake" not in d.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert waker.wakes == before + 1 and d.seconds_to_next() == 0
    assert d.run_pending() == [why]
    d.close()


def test_failures_retry_with_growing_backoff_and_record_the_error(setup: Setup) -> None:
    d = setup.daemon(failing(ConnectError("connection refused")))
    d.start()
    waits = []
    for _ in range(10):
        ran = d.run_pending()
        assert ran == ["start"] or "retry" in ran
        wait = (d.pending()["retry"] - setup.clock()).total_seconds()
        waits.append(wait)
        setup.clock.advance(wait)
    assert waits[0] <= 2.0 and waits[-1] >= BACKOFF_CAP / 2 and max(waits) <= BACKOFF_CAP
    assert waits[5] > waits[0] * 4
    h = health.read(setup.store)
    assert h.last_error == "connection refused" and not h.connected and h.error_is_current
    assert not d.stop.is_set()
    d.close()


def test_during_an_outage_the_poll_waits_for_the_retry(setup: Setup) -> None:
    # Polling every minute, retrying every 150–300 s once the backoff is capped.
    cfg = replace(setup.cfg, daemon=DaemonConfig(poll_minutes=1, idle=False))
    d = setup.daemon(failing(ConnectError("down")), cfg)
    d.start()
    for _ in range(12):
        d.run_pending()
        setup.clock.advance((d.pending()["retry"] - setup.clock()).total_seconds())
    d.run_pending()
    retry, poll = d.pending()["retry"], d.pending()["poll"]
    assert poll < retry
    setup.clock.advance((poll - setup.clock()).total_seconds())
    assert d.run_pending() == []  # the poll alone does not hammer a down server
    assert d.pending()["retry"] == retry
    setup.clock.advance((retry - setup.clock()).total_seconds())
    assert "retry" in d.run_pending()
    d.close()


def test_a_fatal_error_before_any_success_stops_with_its_exit_code(setup: Setup) -> None:
    d = setup.daemon(failing(AuthError("login refused")))
    d.start()
    assert d.run_pending() == ["start"]
    assert d.stop.is_set() and d.exit_code == 3
    d.close()


def test_a_suspend_catches_up_in_one_cycle_and_restarts_the_poll(setup: Setup) -> None:
    d = setup.daemon()
    d.start()
    d.run_pending()
    setup.clock.advance(8 * 3600, suspended=True)
    assert sorted(d.run_pending()) == ["clock jump"]
    assert d.pending()["poll"] == setup.clock() + timedelta(minutes=5)
    setup.clock.advance(TICK_SECONDS)
    assert d.run_pending() == []
    d.close()


def test_reload_keeps_the_old_config_when_the_new_one_is_invalid(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    d = setup.daemon()
    d.start()
    d.run_pending()
    good = setup.path.read_text()
    setup.path.write_text(good.replace("min_gap_days = 8", "min_gap_days = 2"))
    with caplog.at_level(logging.INFO, logger="agent.daemon"):
        d.request_reload()
        assert d.seconds_to_next() == 0
        assert d.run_pending() == []
    assert "keeping the old one" in caplog.text and "policy.min_gap_days" in caplog.text
    assert d.cfg is setup.cfg
    setup.path.write_text(good.replace("poll_minutes = 5", "poll_minutes = 7"))
    d.request_reload()
    assert d.run_pending() == ["config reloaded"]
    assert d.cfg.daemon.poll_minutes == 7
    assert d.pending()["poll"] == setup.clock() + timedelta(minutes=7)
    d.close()


def test_stop_is_seen_before_the_next_cycle(setup: Setup) -> None:
    d = setup.daemon()
    d.start()
    d.request_stop()
    assert d.run_pending() == []
    d.close()
    assert not health.read(setup.store).running


@pytest.mark.parametrize(
    ("entries", "now", "due"),
    [
        ([("poll", 5), ("due", 3), ("wake", 0)], 4, ["wake", "due"]),
        ([("poll", 5), ("poll", 1)], 2, ["poll"]),  # a later set replaces the earlier
        ([("retry", 9)], 8, []),
        ([], 100, []),
    ],
)
def test_timers_hand_out_what_is_due_earliest_first(
    entries: list[tuple[str, int]], now: int, due: list[str]
) -> None:
    t = Timers()
    for name, minute in entries:
        t.set(name, T0 + timedelta(minutes=minute))
    assert [name for name, _ in t.take_due(T0 + timedelta(minutes=now))] == due
    assert not set(due) & set(t.pending())


def test_a_simulated_clock_runs_at_real_speed() -> None:
    base = FakeClock(T0)
    clock = clock_from(T0 - timedelta(days=3), base)
    assert clock() == T0 - timedelta(days=3)
    base.advance(90)
    assert clock() == T0 - timedelta(days=3, seconds=-90)


def test_the_pipe_waker_sleeps_until_woken_from_another_thread() -> None:
    w = PipeWaker()
    try:
        t0 = time.monotonic()
        w.wait(0.05)
        assert time.monotonic() - t0 >= 0.04
        w.wake()
        w.wake()  # a pending wake-up: the next wait returns at once, only once
        t0 = time.monotonic()
        w.wait(5)
        assert time.monotonic() - t0 < 1
        threading.Timer(0.05, w.wake).start()
        t0 = time.monotonic()
        w.wait(5)
        assert time.monotonic() - t0 < 2
    finally:
        w.close()
