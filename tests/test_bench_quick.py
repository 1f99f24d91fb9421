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
    data["printed"] = proc.stdout
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


# -- issue 18: a big Sent and a watched archive, the reply's way, classification -----

# One more watched folder is one more STATUS exchange per cycle (TLS records
# included) while the agent asks each folder in turn; nothing more may depend
# on how big Sent or the archive are.
ONE_FOLDER_MORE = 320


def test_a_big_sent_and_archive_do_not_grow_the_steady_cycle(figures: dict[str, Any]) -> None:
    plain, wide = figures["sizes"]["5000"], figures["sizes"]["wide"]
    assert (wide["sent"], wide["archive"]) == (5_100, 1_000), wide
    assert wide["steady"]["bytes_max"] <= plain["steady"]["bytes_max"] * 1.25 + ONE_FOLDER_MORE, (
        plain["steady"],
        wide["steady"],
    )
    # The target, exact because bytes on the wire are deterministic.
    assert wide["steady"]["bytes_median"] <= figures["targets"]["wide_steady_bytes"], wide
    assert wide["steady"]["ms_median"] <= plain["steady"]["ms_median"] * 2.5 + 20, (plain, wide)


def test_one_cycle_after_a_reply_makes_its_application_responded(
    figures: dict[str, Any],
) -> None:
    for name, column in figures["sizes"].items():
        wake = column["wake"]
        assert wake["runs"] == 5 and wake["missed"] == 0, (name, wake)
        # It fetched the new message: more than a steady cycle's bytes.
        assert wake["bytes_median"] > column["steady"]["bytes_median"], (name, wake)
        assert 0 < wake["ms_median"] < 2_000, (name, wake)


@pytest.mark.parametrize(("daemon", "watch"), [("daemon", ["Archive"]), ("daemon_inbox", [])])
def test_the_reply_breakdown_adds_up(
    figures: dict[str, Any], daemon: str, watch: list[str]
) -> None:
    d = figures[daemon]
    assert d["watch"] == watch, d
    rows = d["reply_rows"]
    assert len(rows) == 3 and "reply_note" not in d, d
    for r in rows:
        parts = r["delivery_s"] + r["notify_s"] + r["agent_s"]
        assert abs(parts - r["total_s"]) < 1e-6, r
        assert 0 < r["delivery_s"] < 5 and 0 <= r["notify_s"] < 5 and r["total_s"] < 10, r
    for part in ("reply_delivery", "reply_notify", "reply_agent"):
        assert d[part]["median"] <= d[part]["p95"] <= d[part]["max"], (part, d[part])
    assert d["reply_median_s"] == sorted(r["total_s"] for r in rows)[1], d


def test_classification_of_the_corpus(figures: dict[str, Any]) -> None:
    c = figures["classify"]
    corpus = len(list((ROOT / "tests" / "corpus").rglob("*.eml")))
    # 50 each of replies, out-of-office answers, bounces and everyday mail.
    assert c["messages"] >= corpus + 200, c
    assert c["by_source_ms_median"].keys() >= {"tests/corpus", "reply", "bounce", "auto-reply"}
    # The generated mail concerns the bench's applications: the index finds them.
    assert c["kinds"]["reply"] >= 50 and c["kinds"]["bounce"] >= 50, c["kinds"]
    assert c["kinds"]["auto_reply"] >= 50, c["kinds"]
    assert 0 < c["ms"]["median"] <= c["ms"]["p95"] <= c["ms"]["max"] < 1_000, c["ms"]


def test_every_target_is_printed_beside_its_figure(figures: dict[str, Any]) -> None:
    assert figures["targets"].keys() >= {
        "wide_steady_ms",
        "wide_steady_bytes",
        "reply_median_s",
        "reply_p95_s",
        "wake_agent_ms",
        "wake_agent_cpu_ms",
        "classify_median_ms",
        "maildir_rest_cpu_s_per_min",
    }
    assert figures["maildir_rest"], "the Maildir figure or why it is missing"
    if (ROOT / "bench" / "maildir_rest.py").exists():
        assert figures["maildir_rest"]["rest_cpu_s_per_min"] >= 0, figures["maildir_rest"]
    printed = figures["printed"]
    # The targets' table: from its header line to the next blank line.
    table = printed[printed.index("\ntarget ") + 1 :].split("\n\n")[0].splitlines()[1:]
    assert len(table) == len(figures["targets"]), table
    assert all(line.rstrip().endswith(("yes", "NO", "not measured")) for line in table), table
    for part in ("(a) delivery", "(b) server", "(c) the agent", "classifying one new message"):
        assert part in printed, part
