"""`python -m bench [--quick] [--json PATH]`: what a cycle costs as the mailbox grows.

Starts its own Dovecot on 127.0.0.1, builds one account per mailbox column
(INBOX sizes with a Sent a tenth as big, then one big in INBOX, Sent and a
watched archive), and drives the agent's real code (daemon cycle, `followup
run`, store, classification, policy) through a byte-counting proxy. Everything
measured is printed as a table, beside the targets, and written as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import imaplib
import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent import config
from agent.models import AppState
from agent.store import Store
from bench import daemonbench, world
from bench.agentcycle import close, cycle, daemon, sync_available
from bench.classifybench import bench_classify
from bench.mailgen import filler
from bench.measure import measured, summarise
from bench.plan import FULL, QUICK, WIDE, Plan, Results
from bench.planning import bench_planning
from bench.proxy import CountingProxy
from bench.report import table
from bench.wakeup import agent_wakeup
from tests.dovecot import Dovecot

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
# The nine header fields a simple script fetches for every message.
NAIVE_FIELDS = "FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES AUTO-SUBMITTED"


# -- per mailbox column -----------------------------------------------------------


def build(
    server: Dovecot,
    proxy: CountingProxy,
    work: Path,
    name: str,
    plan: Plan,
    now: datetime,
    inbox: int,
    sent: int | None = None,
    archive: int = 0,
) -> tuple[dict[str, Any], world.Account]:
    t0 = time.perf_counter()
    acct = world.build_account(
        server, work, name, inbox, plan.apps, now, proxy.port, 1.0, sent, archive
    )
    out: dict[str, Any] = {
        "messages": inbox,
        # Sent also holds the user's mail to each application's recruiter.
        "sent": (max(inbox // 10, 1) if sent is None else sent) + plan.apps,
        "archive": archive,
        "apps": plan.apps,
        "build_s": time.perf_counter() - t0,
    }
    log.info("built account %s in %.1fs", name, out["build_s"])
    return out, acct


def bench_column(
    server: Dovecot,
    proxy: CountingProxy,
    out: dict[str, Any],
    acct: world.Account,
    plan: Plan,
    now: datetime,
    profile: Path | None = None,
) -> None:
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
        out["wake"] = agent_wakeup(proxy, acct, agent, plan.wake_deliveries, profile)
        out["wake_cold"] = agent_wakeup(proxy, acct, agent, plan.wake_deliveries, heard=False)
    finally:
        close(agent)
        store.close()
    out["steady_feed"] = steady_with_feed(proxy, acct, plan, now)
    out["naive"] = summarise([naive_cycle(server, proxy, acct) for _ in range(plan.naive_cycles)])
    # Without sync a cycle does no mailbox I/O: a ratio against it would flatter.
    steady_fig = out["steady"]
    out["naive_ratio_bytes"] = (
        out["naive"]["bytes_median"] / steady_fig["bytes_median"]
        if steady_fig["bytes_median"]
        else None
    )
    out["naive_ratio_time"] = (
        out["naive"]["ms_median"] / steady_fig["ms_median"] if out["synced"] else None
    )


def steady_with_feed(
    proxy: CountingProxy, acct: world.Account, plan: Plan, now: datetime
) -> dict[str, Any]:
    """Steady cycles as `followup run` does them: the NOTIFY watcher's feed live.

    Then a cycle asks nothing about Sent, Drafts or watched folders the server
    did not report changed. The watcher's own connection is counted too.
    """
    cfg = config.load(acct.daemon_config_path)
    store = Store.open(acct.database)
    agent = daemon(cfg, store, now)
    try:
        cycle(agent)  # connects, and starts the watcher
        deadline = time.monotonic() + 10
        while not agent.feed.live and time.monotonic() < deadline:
            time.sleep(0.05)
        if not agent.feed.live:
            return {"note": "the change feed never went live (no NOTIFY?)"}
        cycle(agent)  # the full look the feed asks for once it is live
        runs = []
        for _ in range(plan.steady_cycles):
            with measured(proxy) as m:
                cycle(agent)
            runs.append(m)
        return summarise(runs)
    finally:
        agent.close()  # the watcher too
        store.close()


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


def machine() -> dict[str, Any]:
    dovecot = subprocess.run(
        [shutil.which("dovecot") or "/usr/sbin/dovecot", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "dovecot": dovecot}


# -- main ---------------------------------------------------------------------------


def bench_mailboxes(
    res: Results, server: Dovecot, plan: Plan, now: datetime, work: Path, profile: Path | None
) -> None:
    accounts = work / "accounts"
    with CountingProxy(server.host, server.port_tls) as proxy:
        for size in plan.sizes:
            out, acct = build(server, proxy, accounts, f"box{size}", plan, now, size)
            bench_column(server, proxy, out, acct, plan, now)
            res.sizes[str(size)] = out
            log.info("%d messages: %s", size, json.dumps(out["steady"]))
        # Replies on the biggest INBOX with a small Sent: comparable with earlier runs.
        res.daemon_inbox = daemonbench.bench_daemon(proxy, acct, plan, now, work, True)
        res.daemon_inbox["sent"] = out["sent"]
        w = plan.wide
        out, acct = build(server, proxy, accounts, "wide", plan, now, w.inbox, w.sent, w.archive)
        bench_column(server, proxy, out, acct, plan, now, profile)
        res.sizes[WIDE] = out
        store = Store.open(acct.database)
        try:
            res.classify = bench_classify(
                acct.load_config(), store, acct, now, plan.classify_repeats
            )
        finally:
            store.close()
        # The daemon on the mailbox that is big in every folder it watches.
        res.daemon = daemonbench.bench_daemon(proxy, acct, plan, now, work)
        res.daemon["sent"] = out["sent"]


def run(
    plan: Plan, mode: str, keep: bool, planning_only: bool = False, profile: Path | None = None
) -> Results:
    res = Results(mode, datetime.now(UTC).isoformat(timespec="seconds"), machine())
    if not sync_available():
        res.notes.append(
            daemonbench.NOT_AVAILABLE + ": cycles do no mailbox I/O, so the figures are a floor"
        )
    now = datetime.now(UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    server = Dovecot(work / "srv")
    server.start()
    try:
        if not planning_only:
            bench_mailboxes(res, server, plan, now, work, profile)
            res.maildir_rest = daemonbench.maildir_at_rest(
                work / "maildir", plan.maildir_rest_seconds
            )
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
    ap.add_argument(
        "--quick", action="store_true", help="1k and 5k messages, 5k Sent + 1k archive (for CI)"
    )
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
    ap.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="write cProfile data of the agent's wake-up cycles (big column) to DIR/wake.prof",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.verbose:
        daemonbench.DAEMON_OPTIONS[:] = ["-vv"]
    profile = None
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = args.profile / "wake.prof"
    t0 = time.perf_counter()
    mode = ("quick" if args.quick else "full") + (" planning only" if args.planning_only else "")
    res = run(QUICK if args.quick else FULL, mode, args.keep, args.planning_only, profile)
    res.machine["bench_seconds"] = round(time.perf_counter() - t0, 1)
    args.json.write_text(json.dumps(res.__dict__, indent=2, default=str) + "\n")
    print(table(res))
    print(f"\n{res.machine['bench_seconds']:.0f} s; figures written to {args.json}")
    return 0
