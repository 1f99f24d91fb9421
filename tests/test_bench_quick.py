"""`python -m bench --quick` in CI: a steady-state cycle must not cost more on a bigger mailbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.dovecot import dovecot_available

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.dovecot


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not dovecot_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must run the benchmark against the real Dovecot", pytrace=False)
        pytest.skip("dovecot not installed")
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run(
        # Through tests.audited: the benchmark's drafts are audited too.
        [sys.executable, "-m", "tests.audited", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_steady_cycle_bytes_do_not_grow_with_the_mailbox(figures: dict[str, Any]) -> None:
    small, big = figures["sizes"]["1000"], figures["sizes"]["5000"]
    # Bytes on the wire are deterministic: 5× the mail may cost a few bytes
    # more (longer UIDs), never a share of the mailbox.
    assert big["steady"]["bytes_max"] <= small["steady"]["bytes_max"] * 1.25 + 64, (small, big)


def test_steady_cycle_time_does_not_grow_with_the_mailbox(figures: dict[str, Any]) -> None:
    small, big = figures["sizes"]["1000"], figures["sizes"]["5000"]
    # Times are noisy on a shared CI machine: only a growth in step with the
    # mailbox (5×) would break this bound.
    assert big["steady"]["ms_median"] <= small["steady"]["ms_median"] * 2.5 + 20, (small, big)


def test_the_proxy_sees_the_naive_baseline_grow(figures: dict[str, Any]) -> None:
    # The byte counter has teeth: fetching every header costs in proportion.
    small, big = figures["sizes"]["1000"], figures["sizes"]["5000"]
    assert big["naive"]["bytes_median"] >= 4 * small["naive"]["bytes_median"] > 0


def test_the_daemon_at_rest_and_over_many_cycles(figures: dict[str, Any]) -> None:
    d = figures["daemon"]
    assert d["exit_code"] == 0, d
    assert d["rest_rss_mb"] < 200, d
    # A leak of a few KB per cycle shows after a hundred cycles.
    assert d["soak_rss_growth_mb"] < 2.0, d
