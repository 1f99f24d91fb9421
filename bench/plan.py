"""What one bench run measures (the full and the quick plan) and where its figures go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.targets import TARGETS

# The key of the column with a big Sent and a watched archive, in `Results.sizes`.
WIDE = "wide"


@dataclass(frozen=True)
class Wide:
    """A mailbox big in every folder the agent watches, not only INBOX."""

    inbox: int
    sent: int
    archive: int  # watched through `[folders] watch`


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]  # INBOX sizes, with Sent a tenth of each
    wide: Wide
    apps: int
    steady_cycles: int
    new_mail_rounds: int
    naive_cycles: int
    deliveries: int  # replies to the daemon
    wake_deliveries: int  # replies for the in-process wake-up
    classify_repeats: int  # timings per corpus message
    rest_seconds: float
    # CPU is read in clock ticks (10 ms): 120 s resolve the 0.005 CPU-s/min target.
    maildir_rest_seconds: float
    soak_cycles: int
    plan_apps: int


FULL = Plan(
    sizes=(1_000, 10_000, 100_000),
    wide=Wide(100_000, 100_000, 10_000),
    apps=300,
    steady_cycles=20,
    new_mail_rounds=3,
    naive_cycles=3,
    deliveries=20,
    wake_deliveries=12,
    classify_repeats=5,
    rest_seconds=60.0,
    maildir_rest_seconds=120.0,
    soak_cycles=1_000,
    plan_apps=10_000,
)
QUICK = Plan(
    sizes=(1_000, 5_000),
    wide=Wide(5_000, 5_000, 1_000),
    apps=100,
    steady_cycles=10,
    new_mail_rounds=2,
    naive_cycles=2,
    deliveries=3,
    wake_deliveries=5,
    classify_repeats=3,
    rest_seconds=5.0,
    maildir_rest_seconds=5.0,
    soak_cycles=100,
    plan_apps=2_000,
)


@dataclass
class Results:
    mode: str
    started: str
    machine: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    daemon: dict[str, Any] = field(default_factory=dict)  # on the wide mailbox
    daemon_inbox: dict[str, Any] = field(default_factory=dict)  # replies, biggest INBOX only
    classify: dict[str, Any] = field(default_factory=dict)
    maildir_rest: dict[str, Any] = field(default_factory=dict)
    planning: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))
