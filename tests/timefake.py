"""A fake clock and a waker that never sleeps, for driving the daemon in tests."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """The daemon's clock and monotonic clock; `advance` moves them (a suspend: only the first)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.monotonic = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def mono(self) -> float:
        return self.monotonic

    def advance(self, seconds: float, suspended: bool = False) -> None:
        self.now += timedelta(seconds=seconds)
        if not suspended:
            self.monotonic += seconds


class NoSleep:
    """A Waker that records what the daemon asked for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.wakes = 0
        self.closed = False

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)

    def wake(self) -> None:
        self.wakes += 1

    def close(self) -> None:
        self.closed = True
