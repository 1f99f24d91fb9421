"""Laptop sleep: after a suspend the daemon catches up once, late but never twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent import cli, config
from agent.daemon import JUMP_SECONDS, Daemon
from agent.store import Store
from tests.support import Account
from tests.test_daemon import add_interview, set_config

pytestmark = pytest.mark.dovecot

BERLIN = ZoneInfo("Europe/Berlin")


def wake_jobs(d: Daemon) -> list[str]:
    return [job.id for job in d.scheduler.get_jobs() if job.id == "wake"]


def test_a_suspend_is_caught_up_once_with_late_notes(
    acct: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = add_interview(acct, people=2)  # interview Mon 16 Nov 14:00–15:00
    # Polling only: the IDLE watcher's own wake-ups would blur what the tick does.
    set_config(acct, "idle = true", "idle = false")
    cfg = config.load(acct.config)
    store = Store.open(cfg.storage.database)
    # The lid closes at 15:30, before the notes are due (16:00).
    start = datetime(2026, 11, 16, 15, 30, tzinfo=BERLIN)
    d = Daemon(cfg, store, cli._mailbox_for, clock_offset=start - datetime.now(UTC))
    try:
        d._cycle("poll")
        assert acct.folder("Drafts") == []
        d._tick()
        assert wake_jobs(d) == []  # no jump, no extra cycle

        # Opened again 30 hours later: the wall clock moved, the monotonic one did not.
        real = Daemon._wall_minus_mono()
        monkeypatch.setattr(Daemon, "_wall_minus_mono", staticmethod(lambda: real + 30 * 3600))
        d.offset += timedelta(hours=30)
        assert JUMP_SECONDS < 30 * 3600
        d._tick()
        assert wake_jobs(d) == ["wake"]  # one catch-up cycle, not one per missed poll
        d._cycle("clock jump")
        assert len(acct.folder("Drafts")) == 2

        # More ticks and cycles after the jump change nothing.
        d._tick()
        d._cycle("poll")
        d._cycle("poll")
    finally:
        d.mailbox and d.mailbox.close()
        store.close()
    assert len(acct.folder("Drafts")) == 2
    shown = json.loads(acct.ok("show", str(app_id), "--json").out)
    notes = [s for s in shown["steps"] if s["kind"] == "thank_you"]
    assert [s["state"] for s in notes] == ["drafted", "drafted"]
    assert all(s["late"] for s in notes)  # past the 24 h the advisers allow
