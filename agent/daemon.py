"""`followup run`: cycles on a timer and at the next due step, until a signal."""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

from .config import Config
from .engine import Engine
from .errors import MailboxError, MailboxTransientError
from .mailbox import Mailbox
from .store import Store

log = logging.getLogger(__name__)

BACKOFF_START = 5.0
BACKOFF_CAP = 300.0


def _real_now() -> datetime:
    return datetime.now(UTC)


def run_daemon(
    cfg: Config,
    store: Store,
    mailbox_factory: Callable[[], Mailbox],
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Run cycles until SIGTERM/SIGINT; returns the exit code."""
    now = clock or _real_now
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current cycle, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    poll = timedelta(minutes=cfg.daemon.poll_minutes)
    delay = BACKOFF_START
    failing = False
    mailbox: Mailbox | None = None
    log.info("followup daemon started; polling every %s", poll)
    while not stop.is_set():
        try:
            if mailbox is None:
                mailbox = mailbox_factory()
                mailbox.connect()
            Engine(cfg, store, mailbox).run_cycle(now())
            if failing:
                log.warning("mailbox reachable again")
            failing, delay = False, BACKOFF_START
            wake = now() + poll
            due = store.next_due()
            if due is not None:
                wake = min(wake, max(due, now()))
            timeout = max((wake - now()).total_seconds(), 1.0)
        except MailboxTransientError as exc:
            if not failing:
                log.warning("mailbox unavailable, retrying with backoff: %s", exc)
            failing = True
            if mailbox is not None:
                mailbox.close()
                mailbox = None
            timeout = delay * random.uniform(0.5, 1.0)  # jitter: many clients, one server
            delay = min(delay * 2, BACKOFF_CAP)
        except MailboxError:
            if mailbox is not None:
                mailbox.close()
            raise
        stop.wait(timeout)
    if mailbox is not None:
        mailbox.close()
    log.info("followup daemon stopped")
    return 0
