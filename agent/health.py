"""Daemon health kept in the database's `meta` table, so `followup status` can show it.

The daemon writes; any other process reads. "Running" is not trusted from the
table alone (a `kill -9` leaves it behind): the recorded pid must be alive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from .store import Store, parse_ts, ts

PREFIX = "daemon."
KEYS = (
    "pid",
    "started_at",
    "stopped_at",
    "last_cycle_at",
    "last_ok_at",
    "connected",
    "idle",
    "last_error",
    "last_error_at",
)


def _put(store: Store, values: dict[str, str]) -> None:
    with store.transaction():
        for key, value in values.items():
            store.set_meta(PREFIX + key, value)


def started(store: Store, pid: int, now: datetime) -> None:
    _put(
        store,
        {"pid": str(pid), "started_at": ts(now) or "", "stopped_at": "", "connected": "no"},
    )


def stopped(store: Store, now: datetime) -> None:
    _put(store, {"pid": "", "stopped_at": ts(now) or "", "connected": "no", "idle": "no"})


def cycle_ok(store: Store, now: datetime, idle: bool) -> None:
    stamp = ts(now) or ""
    _put(
        store,
        {
            "last_cycle_at": stamp,
            "last_ok_at": stamp,
            "connected": "yes",
            "idle": "yes" if idle else "no",
        },
    )


def cycle_failed(store: Store, now: datetime, error: str) -> None:
    stamp = ts(now) or ""
    _put(
        store,
        {"last_cycle_at": stamp, "connected": "no", "last_error": error, "last_error_at": stamp},
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class Health:
    """What `followup health` and `status` show; timestamps are aware UTC datetimes."""

    running: bool
    pid: int | None  # only while running
    crashed: bool  # a pid left behind by a process that is gone: it did not stop cleanly
    started_at: datetime | None
    stopped_at: datetime | None
    last_cycle_at: datetime | None
    last_ok_at: datetime | None
    connected: bool
    idle: bool
    last_error: str | None
    last_error_at: datetime | None
    unreadable: int = 0  # messages passed over because they could not be read

    @property
    def error_is_current(self) -> bool:
        """The last error came after the last good cycle (or there was none)."""
        if self.last_error is None:
            return False
        if self.last_ok_at is None or self.last_error_at is None:
            return True
        return self.last_error_at >= self.last_ok_at


def read(store: Store) -> Health:
    """The recorded health, with "running" checked against the live process table."""
    raw = {k: store.get_meta(PREFIX + k) or "" for k in KEYS}
    pid = int(raw["pid"]) if raw["pid"].isdigit() else None
    running = pid is not None and _alive(pid)
    return Health(
        running=running,
        pid=pid if running else None,
        crashed=pid is not None and not running,
        started_at=parse_ts(raw["started_at"]),
        stopped_at=parse_ts(raw["stopped_at"]),
        last_cycle_at=parse_ts(raw["last_cycle_at"]),
        last_ok_at=parse_ts(raw["last_ok_at"]),
        connected=running and raw["connected"] == "yes",
        idle=running and raw["idle"] == "yes",
        last_error=raw["last_error"] or None,
        last_error_at=parse_ts(raw["last_error_at"]),
        unreadable=store.unreadable_count(),
    )
