"""The bench's figures as a table: per mailbox column, the daemon, classification, targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.plan import Results
from bench.targets import TARGETS, verdicts


def _kb(n: float) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n:.0f} B"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}×"


def _spread(d: dict[str, float], unit: str, scale: float = 1.0, digits: int = 2) -> str:
    return (
        f"median {d['median'] * scale:.{digits}f} {unit}, p95 {d['p95'] * scale:.{digits}f} "
        f"{unit}, max {d['max'] * scale:.{digits}f} {unit}"
    )


def _wake(s: dict[str, Any], fmt: Callable[[dict[str, Any]], str], key: str = "wake") -> str:
    w = s.get(key)
    return fmt(w) if w and "ms_median" in w else "–"


def columns(sizes: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []

    def row(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"{label:44}" + "".join(f"{fn(s):>14}" for s in sizes))

    row("INBOX messages", lambda s: f"{s['messages']:,}")
    row("Sent messages", lambda s: f"{s.get('sent', 0):,}")
    row(
        "watched archive messages",
        lambda s: f"{s.get('archive', 0):,}" if s.get("archive") else "–",
    )
    row("mailbox synced by the cycle", lambda s: "yes" if s["synced"] else "NO")
    row("first sync of a new account", lambda s: f"{s['first_sync']['seconds']:.2f} s")
    row("  bytes exchanged", lambda s: _kb(s["first_sync"]["bytes"]))
    row("steady cycle, 0 new: time (median)", lambda s: f"{s['steady']['ms_median']:.1f} ms")
    row("  p95", lambda s: f"{s['steady']['ms_p95']:.1f} ms")
    row("  bytes exchanged (median)", lambda s: _kb(s["steady"]["bytes_median"]))
    row("cycle with 10 new messages: time", lambda s: f"{s['new10']['ms_median']:.1f} ms")
    row("  bytes exchanged", lambda s: _kb(s["new10"]["bytes_median"]))
    row(
        "steady cycle, NOTIFY feed live (median)",
        lambda s: _wake(s, lambda w: f"{w['ms_median']:.1f} ms", "steady_feed"),
    )
    row(
        "  bytes exchanged (median)",
        lambda s: _wake(s, lambda w: _kb(w["bytes_median"]), "steady_feed"),
    )
    row(
        "wake-up, 1 new reply: heard → responded",
        lambda s: _wake(s, lambda w: f"{w['ms_median']:.1f} ms"),
    )
    row("  p95", lambda s: _wake(s, lambda w: f"{w['ms_p95']:.1f} ms"))
    row(
        "  CPU, the cycle's thread (median)",
        lambda s: _wake(s, lambda w: f"{w['thread_cpu_ms_median']:.1f} ms"),
    )
    row(
        "  the rest, waiting on the server",
        lambda s: _wake(s, lambda w: f"{w['ms_median'] - w['thread_cpu_ms_median']:.1f} ms"),
    )
    row("  bytes exchanged", lambda s: _wake(s, lambda w: _kb(w["bytes_median"])))
    row(
        "  on a session not told (median)",
        lambda s: _wake(s, lambda w: f"{w['ms_median']:.1f} ms", "wake_cold"),
    )
    row("naive cycle (EXAMINE + 9 headers of all)", lambda s: f"{s['naive']['ms_median']:.0f} ms")
    row("  bytes exchanged", lambda s: _kb(s["naive"]["bytes_median"]))
    row("naive / followup, time", lambda s: _ratio(s["naive_ratio_time"]))
    row("naive / followup, bytes", lambda s: _ratio(s["naive_ratio_bytes"]))
    return lines


def daemon_lines(d: dict[str, Any]) -> list[str]:
    where = f"{d['messages']:,}-message INBOX, {d.get('sent', 0):,} Sent" + (
        f", watching {', '.join(d['watch'])}" if d.get("watch") else ""
    )
    lines = [f"daemon on the {where}:"]
    if "reply_median_s" in d:
        lines.append(
            f"  reply delivered → responded: median {d['reply_median_s']:.2f} s, "
            f"p95 {d['reply_p95_s']:.2f} s over {len(d['reply_latencies_s'])} deliveries"
        )
        for part, label in (
            ("delivery", "(a) delivery (doveadm save)"),
            ("notify", "(b) server → IDLE client EXISTS"),
            ("agent", "(c) the agent, EXISTS → responded"),
        ):
            if f"reply_{part}" in d:
                lines.append(f"    {label:36} {_spread(d[f'reply_{part}'], 'ms', 1000, 0)}")
        lines.append(
            "    (b) is when the bench's own IDLE connection heard of it; the daemon's is told"
        )
        lines.append("    on its own, so (c) is negative when the daemon heard first")
        lines.append("    per delivery (total = a + b + c, ms):")
        for i, r in enumerate(d.get("reply_rows", []), start=1):
            parts = " + ".join(
                f"{r[k] * 1000:.0f}" if k in r else "?"
                for k in ("delivery_s", "notify_s", "agent_s")
            )
            lines.append(f"      {i:3}  {r['total_s'] * 1000:5.0f} = {parts}")
    for key in ("note", "reply_note"):
        if key in d:
            lines.append(f"  {d[key]}")
    if "rest_cpu_s_per_min" in d:
        lines.append(
            f"  at rest: {d['rest_cpu_s_per_min']:.3f} CPU-s/min, {d['rest_rss_mb']:.1f} MB "
            f"resident (window {d['rest_window_s']:.0f} s)"
        )
    if "soak_cycles" in d:
        lines.append(
            f"  {d['soak_cycles']} cycles: resident {d['soak_rss_before_mb']:.1f} → "
            f"{d['soak_rss_after_mb']:.1f} MB ({d['soak_rss_growth_mb']:+.2f} MB), "
            f"{d['soak_ms_per_cycle']:.1f} ms per cycle"
        )
    return lines


def classify_lines(c: dict[str, Any]) -> list[str]:
    lines = [
        f"classifying one new message ({c['messages']} messages, {c['apps']} applications; "
        f"index built in {c['index_build_ms']:.1f} ms):",
        f"  {_spread(c['ms'], 'ms', 1, 3)}; slowest: {c['slowest']}",
    ]
    lines += [f"    {k:24} median {v:.3f} ms" for k, v in c["by_source_ms_median"].items()]
    lines.append("  verdicts: " + ", ".join(f"{k} {n}" for k, n in sorted(c["kinds"].items())))
    return lines


def target_lines(res: Results) -> list[str]:
    lines = [f"{'target':46}{'target':>20}{'measured':>16}  met"]
    for t, value in verdicts(res.__dict__):
        op = "≥" if t.at_least else "≤"
        limit = f"{op} {TARGETS[t.key]:g} {t.unit}"
        shown = "–" if value is None else f"{value:.3g} {t.unit}"
        met = "not measured" if value is None else ("yes" if t.met(value) else "NO")
        lines.append(f"{t.label:46}{limit:>20}{shown:>16}  {met}")
    return lines


def table(res: Results) -> str:
    lines = [f"followup benchmark ({res.mode}), {res.started}, {res.machine['cpus']} CPUs"]
    lines += [f"note: {n}" for n in res.notes]
    if res.sizes:
        lines += ["", *columns(list(res.sizes.values()))]
    for d in (res.daemon_inbox, res.daemon):
        if d:
            lines += ["", *daemon_lines(d)]
    if res.classify:
        lines += ["", *classify_lines(res.classify)]
    m = res.maildir_rest
    if m:
        lines += [""]
        if "lines" in m:
            lines += m["lines"]
        else:
            lines += ["Maildir backend at rest: " + ", ".join(f"{k} {v}" for k, v in m.items())]
    p = res.planning
    if p:
        lines += [
            "",
            f"planning {p['apps']:,} active applications: a cycle (engine.plan_all, nothing "
            f"changed) {p['plan_all_ms']:.1f} ms; a new engine plans all of them "
            f"{p['full_plan_ms']:.0f} ms (store load alone {p['load_ms']:.0f} ms, "
            f"policy.plan alone {p['policy_plan_ms']:.0f} ms)",
        ]
    lines += ["", *target_lines(res)]
    return "\n".join(lines)
