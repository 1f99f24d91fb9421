"""The bench's targets table: each target read from the right figure, and met or not."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import daemonbench
from bench.targets import CHECKS, TARGETS, verdicts


def column(ms: float, nbytes: float, messages: int = 1_000, ratio: float | None = 150.0) -> Any:
    steady = {"ms_median": ms, "bytes_median": nbytes}
    return {"messages": messages, "steady": steady, "naive_ratio_time": ratio, "wake": {}}


FIGURES: dict[str, Any] = {
    "sizes": {
        "1000": column(6.0, 690, 1_000, 2.0),
        "100000": column(8.0, 700, 100_000, 130.0),
        "wide": {
            **column(12.0, 950, 100_000, 90.0),
            "wake": {"ms_median": 40.0, "thread_cpu_ms_median": 9.0},
        },
    },
    "daemon": {"reply_median_s": 0.58, "reply_p95_s": 0.81, "rest_cpu_s_per_min": 0.01},
    "classify": {"ms": {"median": 0.4}},
    "maildir_rest": {"note": "not measured"},
    "planning": {"plan_all_ms": 5.0},
}


@pytest.mark.parametrize(
    ("key", "measured", "met"),
    [
        # The worst INBOX column, not the wide one (it has its own targets).
        ("steady_ms", 8.0, True),
        ("steady_bytes", 700, True),
        # A ratio to reach, read at the biggest INBOX.
        ("naive_ratio", 130.0, True),
        ("wide_steady_ms", 12.0, False),
        ("wide_steady_bytes", 950, True),
        ("reply_median_s", 0.58, True),
        ("reply_p95_s", 0.81, False),
        ("wake_agent_ms", 40.0, False),
        ("wake_agent_cpu_ms", 9.0, True),
        ("classify_median_ms", 0.4, True),
        ("rest_cpu_s_per_min", 0.01, True),
        ("plan_10k_ms", 5.0, True),
    ],
)
def test_each_target_reads_its_figure(key: str, measured: float, met: bool) -> None:
    found = {t.key: (t, value) for t, value in verdicts(FIGURES)}
    target, value = found[key]
    assert value == pytest.approx(measured)
    assert target.met(measured) is met


@pytest.mark.parametrize("key", ["rest_rss_mb", "maildir_rest_cpu_s_per_min"])
def test_a_figure_the_run_lacks_is_not_measured(key: str) -> None:
    assert dict((t.key, v) for t, v in verdicts(FIGURES))[key] is None


def test_every_target_has_one_check() -> None:
    assert sorted(t.key for t in CHECKS) == sorted(TARGETS)


@dataclass(frozen=True)
class _Rest:
    rest_cpu_s_per_min: float
    wake_latencies_s: tuple[float, ...]

    def lines(self) -> list[str]:
        return [f"Maildir daemon at rest: {self.rest_cpu_s_per_min} CPU-s/min"]


def test_the_maildir_figure_comes_from_bench_maildir_rest_when_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Path, float]] = []

    def measure(work: Path, seconds: float) -> _Rest:
        calls.append((work, seconds))
        return _Rest(0.002, (0.05, 0.06))

    stand_in = types.ModuleType(daemonbench.MAILDIR_REST_MODULE)
    stand_in.measure = measure  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, daemonbench.MAILDIR_REST_MODULE, stand_in)
    out = daemonbench.maildir_at_rest(tmp_path / "maildir", 5.0)
    assert calls == [(tmp_path / "maildir", 5.0)]
    assert out["rest_cpu_s_per_min"] == 0.002 and out["wake_latencies_s"] == (0.05, 0.06)
    assert out["lines"] == ["Maildir daemon at rest: 0.002 CPU-s/min"]
    found = dict((t.key, v) for t, v in verdicts({"maildir_rest": out}))
    assert found["maildir_rest_cpu_s_per_min"] == 0.002


def test_without_bench_maildir_rest_the_figure_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # None in sys.modules makes the import fail as if the file were absent.
    monkeypatch.setitem(sys.modules, daemonbench.MAILDIR_REST_MODULE, None)
    out = daemonbench.maildir_at_rest(tmp_path, 5.0)
    assert out == {"note": f"not measured: no {daemonbench.MAILDIR_REST_MODULE} on this commit"}
