"""Exponential delays with jitter, for the daemon's retries and the watcher's reconnects."""

from __future__ import annotations

import random

BACKOFF_START = 2.0
BACKOFF_CAP = 300.0


class Backoff:
    """Exponential delays with jitter; `failing` tells a new streak from a continued one."""

    def __init__(self, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> None:
        self.start, self.cap = start, cap
        self.delay = start
        self.failing = False

    def fail(self) -> tuple[float, bool]:
        """The next delay, and whether this failure starts a streak (log it then)."""
        first = not self.failing
        self.failing = True
        # Full jitter in the upper half: many clients, one recovering server.
        wait = self.delay * random.uniform(0.5, 1.0)
        self.delay = min(self.delay * 2, self.cap)
        return wait, first

    def ok(self) -> bool:
        """Reset; True if this ends a failure streak."""
        ended = self.failing
        self.failing, self.delay = False, self.start
        return ended
