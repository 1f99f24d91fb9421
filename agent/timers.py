"""What the daemon sleeps on: named times on an injected clock, and a wake-up pipe.

The daemon's clock is a callable returning an aware datetime (the real one, or
`--now` running at real speed), so tests drive it with a fake clock and never
sleep. Times are kept on that clock, not on the monotonic one: after a laptop
sleeps, whatever fell due in the meantime is due at once — and, one entry per
name, runs once however many polls were missed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_from(start: datetime, base: Clock = system_clock) -> Clock:
    """A clock that reads `start` now and then runs at the speed of `base` (`--now`)."""
    offset = start - base()
    return lambda: base() + offset


class Timers:
    """One pending time per name (a later `set` replaces it); safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at: dict[str, tuple[datetime, str]] = {}

    def set(self, name: str, when: datetime, why: str | None = None) -> None:
        with self._lock:
            self._at[name] = (when, why or name)

    def cancel(self, name: str) -> None:
        with self._lock:
            self._at.pop(name, None)

    def take(self, name: str, now: datetime) -> bool:
        """Remove `name` if it is due by `now`; whether it was."""
        with self._lock:
            entry = self._at.get(name)
            if entry is None or entry[0] > now:
                return False
            del self._at[name]
            return True

    def take_due(self, now: datetime) -> list[tuple[str, str]]:
        """Remove every entry due by `now`: (name, why), earliest first."""
        with self._lock:
            due = sorted((e for e in self._at.items() if e[1][0] <= now), key=lambda e: e[1][0])
            for name, _ in due:
                del self._at[name]
        return [(name, why) for name, (_, why) in due]

    def next_at(self) -> datetime | None:
        with self._lock:
            return min((when for when, _ in self._at.values()), default=None)

    def pending(self) -> dict[str, datetime]:
        with self._lock:
            return {name: when for name, (when, _) in self._at.items()}


class Waker(Protocol):
    """How the daemon sleeps until its next time or until someone wakes it."""

    def wait(self, seconds: float) -> None: ...

    def wake(self) -> None:
        """Thread-safe; a wake before `wait` makes the next `wait` return at once."""

    def close(self) -> None: ...


class PipeWaker:
    """A self-pipe: other threads write a byte, and so do signals (set_wakeup_fd).

    A Python signal handler runs between bytecodes of the main thread, possibly
    while it holds a lock; writing to a pipe is the one wake-up that cannot
    deadlock there, so signal handlers only set flags and let this pipe wake
    the loop.
    """

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._signals = False

    def wake_on_signals(self) -> None:
        """Make any signal wake `wait` (main thread only)."""
        signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        self._signals = True

    def wait(self, seconds: float) -> None:
        ready, _, _ = select.select([self._r], [], [], max(seconds, 0.0))
        if ready:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._r, 512):
                    pass

    def fileno(self) -> int:
        """The read end, readable while a wake-up is pending: for a caller's own select."""
        return self._r

    def wake(self) -> None:
        # Full pipe: a wake-up is pending already. Closed: the loop is over.
        with contextlib.suppress(OSError):
            os.write(self._w, b"\0")

    def close(self) -> None:
        if self._signals:
            signal.set_wakeup_fd(-1)
            self._signals = False
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)
