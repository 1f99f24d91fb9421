"""`python -m bench [--quick] [--json PATH]`: what a cycle costs as the mailbox grows.

Starts its own Dovecot on 127.0.0.1, builds one account per mailbox size, and
drives the agent's real code (engine cycle, daemon, store, policy) through a
byte-counting proxy. Everything measured is printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import imaplib
import json
import logging
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent import config, policy
from agent.models import AppState
from agent.planner import Planner
from agent.store import Store
from bench import world
from bench.agentcycle import close, cycle, daemon, sync_available
from bench.mailgen import filler, message
from bench.procstat import cpu_seconds, rss_bytes
from bench.proxy import CountingProxy, Traffic
from tests.dovecot import Dovecot

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
# The nine header fields a simple script fetches for every message.
NAIVE_FIELDS = "FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES AUTO-SUBMITTED"
# Extra options for `followup run` (-vv with --verbose: its log is kept with --keep).
DAEMON_OPTIONS: list[str] = []
NOT_AVAILABLE = "sync: not available on this commit (no agent/sync.py)"


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    apps: int
    steady_cycles: int
    new_mail_rounds: int
    naive_cycles: int
    deliveries: int
    rest_seconds: float
    soak_cycles: int
    plan_apps: int


FULL = Plan((1_000, 10_000, 100_000), 300, 20, 3, 3, 20, 60.0, 1_000, 10_000)
QUICK = Plan((1_000, 5_000), 100, 10, 2, 2, 3, 5.0, 100, 2_000)

TARGETS = {
    "steady_ms": 50.0,
    "steady_bytes": 4096,
    "naive_ratio": 100.0,
    "reply_median_s": 1.0,
    "reply_p95_s": 2.0,
    "rest_cpu_s_per_min": 0.1,
    "rest_rss_mb": 60.0,
    "plan_10k_ms": 200.0,
}


@dataclass
class Results:
    mode: str
    started: str
    machine: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    daemon: dict[str, Any] = field(default_factory=dict)
    planning: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@contextlib.contextmanager
def measured(proxy: CountingProxy) -> Iterator[dict[str, float]]:
    """Wall time, this process's CPU time and bytes on the wire of the block."""
    out: dict[str, float] = {}
    t0, c0, b0 = time.perf_counter(), time.process_time(), proxy.traffic()
    yield out
    delta: Traffic = proxy.traffic() - b0
    out.update(
        seconds=time.perf_counter() - t0,
        cpu=time.process_time() - c0,
        sent=delta.sent,
        received=delta.received,
        bytes=delta.total,
    )


def summarise(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    return {
        "runs": len(runs),
        "ms_median": statistics.median(r["seconds"] for r in runs) * 1000,
        "ms_p95": p95([r["seconds"] for r in runs]) * 1000,
        "cpu_ms_median": statistics.median(r["cpu"] for r in runs) * 1000,
        "bytes_median": statistics.median(r["bytes"] for r in runs),
        "bytes_max": max(r["bytes"] for r in runs),
        "sent_median": statistics.median(r["sent"] for r in runs),
        "received_median": statistics.median(r["received"] for r in runs),
    }


# -- per mailbox size -------------------------------------------------------------


def bench_size(
    server: Dovecot, proxy: CountingProxy, work: Path, size: int, plan: Plan, now: datetime
) -> tuple[dict[str, Any], world.Account]:
    t0 = time.perf_counter()
    acct = world.build_account(
        server, work, f"box{size}", size, plan.apps, now, proxy.port, poll_minutes=1.0
    )
    out: dict[str, Any] = {"messages": size, "apps": plan.apps, "build_s": time.perf_counter() - t0}
    log.info("built the %d-message account in %.1fs", size, out["build_s"])
    cfg = acct.load_config()
    # First sync of a new account: a fresh connection and a database that has
    # never seen this mailbox.
    store = Store.open(acct.database)
    agent = daemon(cfg, store, now)
    try:
        with measured(proxy) as first:
            cycle(agent)
        out["first_sync"] = dict(first)
        out["first_sync"]["responded"] = len(store.application_ids([AppState.RESPONDED]))
        out["synced"] = store.folder_sync("INBOX") is not None
        steady = []
        for _ in range(plan.steady_cycles):
            with measured(proxy) as m:
                cycle(agent)
            steady.append(m)
        out["steady"] = summarise(steady)
        new_mail = []
        for r in range(plan.new_mail_rounds):
            for raw in filler(acct.user, 10, now - timedelta(minutes=5), now, seed=100 + r):
                server.deliver(acct.user, "INBOX", raw)
            with measured(proxy) as m:
                cycle(agent)
            new_mail.append(m)
        out["new10"] = summarise(new_mail)
    finally:
        close(agent)
        store.close()
    out["naive"] = summarise([naive_cycle(server, proxy, acct) for _ in range(plan.naive_cycles)])
    # Without sync a cycle does no mailbox I/O: a ratio against it would flatter.
    steady = out["steady"]
    out["naive_ratio_bytes"] = (
        out["naive"]["bytes_median"] / steady["bytes_median"] if steady["bytes_median"] else None
    )
    out["naive_ratio_time"] = (
        out["naive"]["ms_median"] / steady["ms_median"] if out["synced"] else None
    )
    return out, acct


def naive_cycle(server: Dovecot, proxy: CountingProxy, acct: world.Account) -> dict[str, float]:
    """What simple scripts do each cycle: EXAMINE INBOX, fetch headers of everything.

    The connection is kept open between cycles (login is not counted), as a
    fair baseline for an agent that keeps its own connection.
    """
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    imap = imaplib.IMAP4_SSL(server.host, proxy.port, ssl_context=ctx)
    try:
        imap.login(acct.user.name, acct.user.password)
        with measured(proxy) as m:
            imap.select("INBOX", readonly=True)
            typ, data = imap.uid("FETCH", "1:*", f"(BODY.PEEK[HEADER.FIELDS ({NAIVE_FIELDS})])")
            if typ != "OK" or len(data) < acct.inbox_size:
                raise RuntimeError(f"naive fetch failed: {typ} ({len(data)} items)")
        return m
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


# -- the daemon ---------------------------------------------------------------------


def _daemon_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _quiet(proxy: CountingProxy, seconds: float, timeout: float) -> bool:
    """Wait until no byte crossed the proxy for `seconds` (the daemon is at rest)."""
    deadline = time.monotonic() + timeout
    last, since = proxy.traffic(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = proxy.traffic()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return True
    return False


def bench_daemon(
    server: Dovecot,
    proxy: CountingProxy,
    acct: world.Account,
    plan: Plan,
    now: datetime,
    work: Path,
) -> dict[str, Any]:
    out: dict[str, Any] = {"messages": acct.inbox_size}
    log_path = work / "daemon.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "--config",
                str(acct.daemon_config_path),
                *DAEMON_OPTIONS,
                "run",
            ],
            cwd=ROOT,
            env=_daemon_env(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        if not _quiet(proxy, 1.0, 60.0):
            out["note"] = "the daemon never came to rest"
            return out
        if proc.poll() is not None:
            out["note"] = f"the daemon exited {proc.returncode}: {log_path.read_text()[-800:]}"
            return out
        out.update(reply_latency(server, proxy, acct, plan))
        _quiet(proxy, 1.0, 10.0)
        out.update(at_rest(proc.pid, plan.rest_seconds))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out["exit_code"] = proc.returncode
    out.update(soak(acct, plan, now))
    return out


def reply_latency(
    server: Dovecot, proxy: CountingProxy, acct: world.Account, plan: Plan
) -> dict[str, Any]:
    """Delivery of a reply from an interviewer → its application is `responded`."""
    active = [
        c for c in acct.companies if world.app_state(acct.database, c.app_id) is AppState.ACTIVE
    ]
    latencies: list[float] = []
    for c in active[: plan.deliveries]:
        raw = message(
            c.interviewer,
            acct.user.address,
            f"Re: Interview at Company {c.index}",
            datetime.now(UTC),
            f"<reply.{c.index}.{time.time_ns()}@{c.domain}>",
            "Hi Alex,\r\n\r\nWe would like to move forward. Are you free next week?\r\n",
        )
        # Timed from before the delivery starts: doveadm's own start-up counts against us.
        t0 = time.perf_counter()
        server.deliver(acct.user, "INBOX", raw)
        seen = False
        while time.perf_counter() - t0 < 10.0:
            if world.app_state(acct.database, c.app_id) is AppState.RESPONDED:
                seen = True
                break
            time.sleep(0.005)
        if not seen:
            return {
                "reply_note": "reply not noticed within 10 s"
                + ("" if sync_available() else f" ({NOT_AVAILABLE})"),
                "reply_latencies_s": latencies,
            }
        latencies.append(time.perf_counter() - t0)
        _quiet(proxy, 0.3, 5.0)
    return {
        "reply_latencies_s": latencies,
        "reply_median_s": statistics.median(latencies),
        "reply_p95_s": p95(latencies),
    }


def at_rest(pid: int, seconds: float) -> dict[str, Any]:
    c0, t0, rss0 = cpu_seconds(pid), time.monotonic(), rss_bytes(pid)
    time.sleep(seconds)
    c1, t1, rss1 = cpu_seconds(pid), time.monotonic(), rss_bytes(pid)
    return {
        "rest_window_s": t1 - t0,
        "rest_cpu_s_per_min": (c1 - c0) / (t1 - t0) * 60,
        "rest_rss_mb": max(rss0, rss1) / 1e6,
    }


def soak(acct: world.Account, plan: Plan, now: datetime) -> dict[str, Any]:
    """Resident memory before and after many cycles, in a process of its own."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            str(acct.config_path),
            str(plan.soak_cycles),
            now.isoformat(),
        ],
        cwd=ROOT,
        env=_daemon_env(),
        capture_output=True,
        timeout=600,
        check=True,
    )
    data = json.loads(proc.stdout)
    return {
        "soak_cycles": data["cycles"],
        "soak_rss_before_mb": data["rss_before"] / 1e6,
        "soak_rss_after_mb": data["rss_after"] / 1e6,
        "soak_rss_growth_mb": (data["rss_after"] - data["rss_before"]) / 1e6,
        "soak_ms_per_cycle": data["seconds"] / data["cycles"] * 1000,
    }


# -- planning -----------------------------------------------------------------------


def bench_planning(server: Dovecot, work: Path, n: int, now: datetime) -> dict[str, Any]:
    """engine.plan_all and policy.plan over a database of `n` active applications."""
    user = server.add_user("planner", "planner-pw")
    database = work / "planning.sqlite3"
    cfg_path = work / "planning.toml"
    world.write_config(cfg_path, user, server, server.port_tls, database, 5.0)
    cfg = config.load(cfg_path)
    store = world.fast_store(database)
    t0 = time.perf_counter()
    try:
        world.record_applications(cfg, store, n, now)
    finally:
        store.close()
    out: dict[str, Any] = {"apps": n, "setup_s": time.perf_counter() - t0}
    store = Store.open(database)
    try:
        # A new engine (daemon start, `run --once`) plans every application;
        # then a cycle plans only those whose data changed or whose plan came due.
        full, cycles = [], []
        for _ in range(3):
            engine = Planner(cfg, store)
            t = time.perf_counter()
            engine.plan_all(now)
            full.append(time.perf_counter() - t)
        for k in range(5):
            t = time.perf_counter()
            engine.plan_all(now + timedelta(minutes=5 * (k + 1)))
            cycles.append(time.perf_counter() - t)
        out["full_plan_ms"] = statistics.median(full) * 1000
        out["plan_all_ms"] = statistics.median(cycles) * 1000
        t = time.perf_counter()
        apps = store.load_many(store.application_ids([AppState.ACTIVE]), events=False)
        out["load_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        for app in apps:
            policy.plan(app, cfg.policy, engine.cal, now)
        out["policy_plan_ms"] = (time.perf_counter() - t) * 1000
    finally:
        store.close()
    return out


# -- output -------------------------------------------------------------------------


def _kb(n: float) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n:.0f} B"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}×"


def table(res: Results) -> str:
    lines = [f"followup benchmark ({res.mode}), {res.started}, {res.machine['cpus']} CPUs"]
    lines += [f"note: {n}" for n in res.notes]
    sizes = list(res.sizes.values())
    if sizes:
        head = f"{'':44}" + "".join(f"{s['messages']:>14,}" for s in sizes)
        lines += ["", "INBOX messages" + head[14:]]

        def row(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
            lines.append(f"{label:44}" + "".join(f"{fn(s):>14}" for s in sizes))

        row("mailbox synced by the cycle", lambda s: "yes" if s["synced"] else "NO")
        row("first sync of a new account", lambda s: f"{s['first_sync']['seconds']:.2f} s")
        row("  bytes exchanged", lambda s: _kb(s["first_sync"]["bytes"]))
        row("steady cycle, 0 new: time (median)", lambda s: f"{s['steady']['ms_median']:.1f} ms")
        row("  p95", lambda s: f"{s['steady']['ms_p95']:.1f} ms")
        row("  bytes exchanged (median)", lambda s: _kb(s["steady"]["bytes_median"]))
        row("cycle with 10 new messages: time", lambda s: f"{s['new10']['ms_median']:.1f} ms")
        row("  bytes exchanged", lambda s: _kb(s["new10"]["bytes_median"]))
        row(
            "naive cycle (EXAMINE + 9 headers of all)",
            lambda s: f"{s['naive']['ms_median']:.0f} ms",
        )
        row("  bytes exchanged", lambda s: _kb(s["naive"]["bytes_median"]))
        row("naive / followup, time", lambda s: _ratio(s["naive_ratio_time"]))
        row("naive / followup, bytes", lambda s: _ratio(s["naive_ratio_bytes"]))
    d = res.daemon
    if d:
        lines += ["", f"daemon on the {d['messages']:,}-message mailbox:"]
        if "reply_median_s" in d:
            lines.append(
                f"  reply delivered → responded: median {d['reply_median_s']:.2f} s, "
                f"p95 {d['reply_p95_s']:.2f} s over {len(d['reply_latencies_s'])} deliveries"
            )
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
    p = res.planning
    if p:
        lines += [
            "",
            f"planning {p['apps']:,} active applications: a cycle (engine.plan_all, nothing "
            f"changed) {p['plan_all_ms']:.1f} ms; a new engine plans all of them "
            f"{p['full_plan_ms']:.0f} ms (store load alone {p['load_ms']:.0f} ms, "
            f"policy.plan alone {p['policy_plan_ms']:.0f} ms)",
        ]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    dovecot = subprocess.run(
        [shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "dovecot": dovecot}


# -- main ---------------------------------------------------------------------------


def bench_mailboxes(res: Results, server: Dovecot, plan: Plan, now: datetime, work: Path) -> None:
    with CountingProxy(server.host, server.port_tls) as proxy:
        account = None
        for size in plan.sizes:
            out, account = bench_size(server, proxy, work / "accounts", size, plan, now)
            res.sizes[str(size)] = out
            log.info("%d messages: %s", size, json.dumps(out["steady"]))
        assert account is not None
        res.daemon = bench_daemon(server, proxy, account, plan, now, work)


def run(plan: Plan, mode: str, keep: bool, planning_only: bool = False) -> Results:
    res = Results(mode, datetime.now(UTC).isoformat(timespec="seconds"), machine())
    if not sync_available():
        res.notes.append(NOT_AVAILABLE + ": cycles do no mailbox I/O, so the figures are a floor")
    now = datetime.now(UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    server = Dovecot(work / "srv")
    server.start()
    try:
        if not planning_only:
            bench_mailboxes(res, server, plan, now, work)
        res.planning = bench_planning(server, work, plan.plan_apps, now)
    finally:
        server.cleanup()
        if keep:
            log.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1k and 5k messages only (for CI)")
    ap.add_argument(
        "--json",
        metavar="PATH",
        type=Path,
        default=ROOT / "bench" / "results.json",
        help="where to write the figures (default: bench/results.json)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument(
        "--planning-only",
        action="store_true",
        help="only the planning figures (with --quick: 2,000 applications, else 10,000)",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.verbose:
        DAEMON_OPTIONS[:] = ["-vv"]
    t0 = time.perf_counter()
    mode = ("quick" if args.quick else "full") + (" planning only" if args.planning_only else "")
    res = run(QUICK if args.quick else FULL, mode, args.keep, args.planning_only)
    res.machine["bench_seconds"] = round(time.perf_counter() - t0, 1)
    args.json.write_text(json.dumps(res.__dict__, indent=2, default=str) + "\n")
    print(table(res))
    print(f"\n{res.machine['bench_seconds']:.0f} s; figures written to {args.json}")
    return 0
