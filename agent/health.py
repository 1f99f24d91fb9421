"""Daemon health kept in the database's `meta` table, so `followup status` can show it.

The daemon writes; any other process reads. "Running" is not trusted from the
table alone (a `kill -9` leaves it behind): the recorded pid must be alive.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from .store import Store, ts

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


def read(store: Store) -> dict[str, Any]:
    """Health as plain data: running, pid, timestamps (ISO, UTC), connected, last error."""
    raw = {k: store.get_meta(PREFIX + k) or "" for k in KEYS}
    pid = int(raw["pid"]) if raw["pid"].isdigit() else None
    running = pid is not None and _alive(pid)
    return {
        "running": running,
        "pid": pid if running else None,
        # A pid left behind by a process that is gone: it did not stop cleanly.
        "crashed": pid is not None and not running,
        "started_at": raw["started_at"] or None,
        "stopped_at": raw["stopped_at"] or None,
        "last_cycle_at": raw["last_cycle_at"] or None,
        "last_ok_at": raw["last_ok_at"] or None,
        "connected": running and raw["connected"] == "yes",
        "idle": running and raw["idle"] == "yes",
        "last_error": raw["last_error"] or None,
        "last_error_at": raw["last_error_at"] or None,
    }
