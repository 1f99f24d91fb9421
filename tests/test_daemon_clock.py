"""Laptop sleep: after a suspend the daemon catches up once, late but never twice.

Driven through the daemon's public methods on a fake clock: the wall clock
jumps 30 hours while the monotonic one does not, as a suspended laptop sees it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent import config, services
from agent.daemon import JUMP_SECONDS, TICK_SECONDS, Daemon
from agent.store import Store
from tests.support import Account
from tests.test_daemon import add_interview, set_config
from tests.timefake import FakeClock, NoSleep

pytestmark = pytest.mark.dovecot

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_suspend_is_caught_up_once_with_late_notes(acct: Account) -> None:
    app_id = add_interview(acct, people=2)  # interview Mon 16 Nov 14:00–15:00
    # Polling only: the IDLE watcher's own wake-ups would blur what the tick does.
    set_config(acct, "idle = true", "idle = false")
    cfg = config.load(acct.config)
    store = Store.open(cfg.storage.database)
    # The lid closes at 15:30, before the notes are due (16:00).
    clock = FakeClock(datetime(2026, 11, 16, 15, 30, tzinfo=BERLIN))
    d = Daemon(cfg, store, services.mailbox_for, clock=clock, monotonic=clock.mono, waker=NoSleep())
    try:
        d.start()
        assert d.run_pending() == ["start"]
        assert acct.folder("Drafts") == []
        assert d.pending()["due"] == datetime(2026, 11, 16, 16, 0, tzinfo=BERLIN)
        clock.advance(TICK_SECONDS)
        assert d.run_pending() == []  # the tick: no jump, no extra cycle

        # Opened again 30 hours later: the wall clock moved, the monotonic one did not.
        assert JUMP_SECONDS < 30 * 3600
        clock.advance(30 * 3600, suspended=True)
        # Poll, due time and the tick's catch-up all fell due: one cycle for all.
        assert sorted(d.run_pending()) == ["clock jump", "due"]
        assert len(acct.folder("Drafts")) == 2
        # The poll interval restarts from the resume, not from before the lid closed.
        assert d.pending()["poll"] == clock() + timedelta(minutes=cfg.daemon.poll_minutes)

        # More ticks and polls after the jump change nothing.
        for _ in range(6):
            clock.advance(TICK_SECONDS)
            d.run_pending()
        assert d.run_pending() == []
    finally:
        d.close()
        store.close()
    assert len(acct.folder("Drafts")) == 2
    shown = json.loads(acct.ok("show", str(app_id), "--json").out)
    notes = [s for s in shown["steps"] if s["kind"] == "thank_you"]
    assert [s["state"] for s in notes] == ["drafted", "drafted"]
    assert all(s["late"] for s in notes)  # past the 24 h the advisers allow
