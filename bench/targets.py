"""The targets the bench checks (issues 5 and 18), each read from the run's figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TARGETS = {
    "steady_ms": 50.0,
    "steady_bytes": 4096,
    "naive_ratio": 100.0,
    "wide_steady_ms": 10.0,
    "wide_steady_bytes": 1024,
    "reply_median_s": 0.6,
    "reply_p95_s": 0.7,
    "wake_agent_ms": 15.0,
    "wake_agent_cpu_ms": 15.0,
    "classify_median_ms": 1.0,
    "rest_cpu_s_per_min": 0.1,
    "rest_rss_mb": 60.0,
    "maildir_rest_cpu_s_per_min": 0.005,
    "plan_10k_ms": 200.0,
}

Figures = Mapping[str, Any]  # Results.__dict__: what the run wrote to JSON


@dataclass(frozen=True)
class Target:
    key: str  # in TARGETS
    label: str
    unit: str
    measured: Callable[[Figures], float | None]
    at_least: bool = False  # a ratio to reach, not a cost to stay under

    def met(self, value: float) -> bool:
        limit = TARGETS[self.key]
        return value >= limit if self.at_least else value <= limit


def _get(*path: str) -> Callable[[Figures], float | None]:
    def read(fig: Figures) -> float | None:
        node: Any = fig
        for p in path:
            if not isinstance(node, Mapping) or p not in node:
                return None
            node = node[p]
        return float(node) if isinstance(node, int | float) else None

    return read


def _inbox_columns(fig: Figures) -> list[Mapping[str, Any]]:
    return [s for k, s in fig.get("sizes", {}).items() if k.isdigit()]


def _worst_steady(field: str) -> Callable[[Figures], float | None]:
    def read(fig: Figures) -> float | None:
        values = [s["steady"][field] for s in _inbox_columns(fig)]
        return max(values) if values else None

    return read


def _naive_ratio(fig: Figures) -> float | None:
    cols = _inbox_columns(fig)
    if not cols:
        return None
    ratio = max(cols, key=lambda s: s["messages"])["naive_ratio_time"]
    return float(ratio) if ratio is not None else None


CHECKS = (
    Target("steady_ms", "steady cycle, any INBOX size (median)", "ms", _worst_steady("ms_median")),
    Target("steady_bytes", "  bytes (median)", "B", _worst_steady("bytes_median")),
    Target("naive_ratio", "naive / followup, time, biggest INBOX", "×", _naive_ratio, True),
    Target(
        "wide_steady_ms",
        "steady cycle, big Sent + archive (median)",
        "ms",
        _get("sizes", "wide", "steady", "ms_median"),
    ),
    Target(
        "wide_steady_bytes",
        "  bytes (median)",
        "B",
        _get("sizes", "wide", "steady", "bytes_median"),
    ),
    Target(
        "reply_median_s",
        "reply → responded, daemon (median)",
        "s",
        _get("daemon", "reply_median_s"),
    ),
    Target("reply_p95_s", "  p95", "s", _get("daemon", "reply_p95_s")),
    Target(
        "wake_agent_ms",
        "agent's part of a wake-up, 1 new (median)",
        "ms",
        _get("sizes", "wide", "wake", "ms_median"),
    ),
    Target(
        "wake_agent_cpu_ms",
        "  its CPU, the cycle's thread (median)",
        "ms",
        _get("sizes", "wide", "wake", "thread_cpu_ms_median"),
    ),
    Target(
        "classify_median_ms",
        "classify one message (median)",
        "ms",
        _get("classify", "ms", "median"),
    ),
    Target(
        "rest_cpu_s_per_min",
        "daemon at rest, CPU",
        "CPU-s/min",
        _get("daemon", "rest_cpu_s_per_min"),
    ),
    Target("rest_rss_mb", "daemon at rest, resident", "MB", _get("daemon", "rest_rss_mb")),
    Target(
        "maildir_rest_cpu_s_per_min",
        "Maildir backend at rest, CPU",
        "CPU-s/min",
        _get("maildir_rest", "rest_cpu_s_per_min"),
    ),
    Target(
        "plan_10k_ms",
        "planning, one cycle (engine.plan_all)",
        "ms",
        _get("planning", "plan_all_ms"),
    ),
)


def verdicts(fig: Figures) -> list[tuple[Target, float | None]]:
    """Every target with what this run measured (None: not measured in this run)."""
    return [(t, t.measured(fig)) for t in CHECKS]
