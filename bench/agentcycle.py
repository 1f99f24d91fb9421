"""The agent's own cycle, exactly as `followup run` performs it.

The benchmark drives `agent.daemon.Daemon` in process, one cycle at a time,
so the figures cover what the daemon really does per cycle (engine cycle,
health record, next-due scheduling) over the connection it keeps open.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime

from agent import health, services
from agent.config import Config
from agent.daemon import Daemon
from agent.store import Store
from agent.timers import clock_from


class CycleError(RuntimeError):
    """The daemon recorded a failed cycle (it logs and retries; a benchmark must not)."""


def daemon(cfg: Config, store: Store, now: datetime) -> Daemon:
    """A daemon whose clock starts at `now` and runs at real speed (like `run --now`)."""
    return Daemon(cfg, store, services.mailbox_for, clock=clock_from(now))


def cycle(d: Daemon) -> None:
    # What the daemon's loop does on each poll, due time or IDLE wake-up.
    d.request_cycle("poll")
    d.run_pending()
    if d.backoff.failing or d.stop.is_set():
        raise CycleError(health.read(d.store).last_error or "")


def close(d: Daemon) -> None:
    if d.mailbox is not None:
        d.mailbox.close()
    d.waker.close()


def sync_available() -> bool:
    """Whether this commit has the mailbox sync (issue #4: agent/sync.py)."""
    return importlib.util.find_spec("agent.sync") is not None
