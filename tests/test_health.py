"""Daemon health as a typed record; `health --json` keeps its keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent import health
from agent.jsonview import to_json
from agent.store import Store

T0 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 17, 9, 5, tzinfo=UTC)
JSON_KEYS = {
    "running",
    "pid",
    "crashed",
    "started_at",
    "stopped_at",
    "last_cycle_at",
    "last_ok_at",
    "connected",
    "idle",
    "last_error",
    "last_error_at",
    "unreadable",  # messages passed over (issue 11)
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_a_running_daemon_reads_back_as_the_record(store: Store) -> None:
    health.started(store, os.getpid(), T0)
    health.cycle_ok(store, T1, idle=True)
    h = health.read(store)
    assert (h.running, h.pid, h.crashed, h.connected, h.idle) == (
        True,
        os.getpid(),
        False,
        True,
        True,
    )
    assert h.started_at == T0 and h.last_ok_at == T1 and not h.error_is_current
    data = to_json(h, UTC)
    assert set(data) == JSON_KEYS
    assert data["last_ok_at"] == "2026-11-17T09:05:00+00:00" and data["stopped_at"] is None


def test_a_pid_that_is_gone_is_a_crash(store: Store) -> None:
    health.started(store, 2**22 + 12345, T0)  # above pid_max's default: never alive
    h = health.read(store)
    assert (h.running, h.pid, h.crashed, h.connected) == (False, None, True, False)


@pytest.mark.parametrize(
    ("ok_at", "error_at", "current"),
    [(None, T0, True), (T0, T1, True), (T1, T0, False), (T0, T0, True)],
)
def test_an_error_is_current_until_a_good_cycle_follows(
    store: Store, ok_at: datetime | None, error_at: datetime, current: bool
) -> None:
    health.cycle_failed(store, error_at, "connection refused")
    if ok_at is not None:
        health.cycle_ok(store, ok_at, idle=False)
    assert health.read(store).error_is_current is current


def test_nothing_recorded_yet(store: Store) -> None:
    h = health.read(store)
    assert not h.running and not h.crashed and not h.error_is_current
    assert to_json(h, UTC) == {
        k: (False if k in ("running", "crashed", "connected", "idle") else None)
        for k in JSON_KEYS - {"unreadable"}
    } | {"unreadable": 0}
