"""`followup run` in its own process: replies noticed, the daemon at rest, a long soak.

Also the Maildir backend at rest, measured by `bench.maildir_rest` when that
module exists (it is written apart from this one).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import world
from bench.agentcycle import sync_available
from bench.plan import Plan
from bench.procstat import cpu_seconds, rss_bytes
from bench.proxy import CountingProxy
from bench.wakeup import reply_breakdown

ROOT = Path(__file__).resolve().parent.parent
# Extra options for `followup run` (-vv with --verbose: its log is kept with --keep).
DAEMON_OPTIONS: list[str] = []
NOT_AVAILABLE = "sync: not available on this commit (no agent/sync.py)"
# The hook for the Maildir backend's figure: `measure(work: Path, seconds: float)`.
MAILDIR_REST_MODULE = "bench.maildir_rest"


def daemon_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def quiet(proxy: CountingProxy, seconds: float, timeout: float) -> bool:
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
    proxy: CountingProxy,
    acct: world.Account,
    plan: Plan,
    now: datetime,
    work: Path,
    replies_only: bool = False,
) -> dict[str, Any]:
    """Replies under the daemon; then, unless `replies_only`, at rest and the soak."""
    out: dict[str, Any] = {"messages": acct.inbox_size, "watch": list(acct.watch)}
    log_path = work / f"daemon-{acct.user.name}.log"
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
            env=daemon_env(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        if not quiet(proxy, 1.0, 60.0):
            out["note"] = "the daemon never came to rest"
            return out
        if proc.poll() is not None:
            out["note"] = f"the daemon exited {proc.returncode}: {log_path.read_text()[-800:]}"
            return out
        missing = "" if sync_available() else f" ({NOT_AVAILABLE})"
        out.update(reply_breakdown(acct, plan.deliveries, lambda: quiet(proxy, 0.3, 5.0), missing))
        if replies_only:
            return out
        quiet(proxy, 1.0, 10.0)
        out.update(at_rest(proc.pid, plan.rest_seconds))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out["exit_code"] = proc.returncode
    if not replies_only and "note" not in out:
        out.update(soak(acct, plan, now))
    return out


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
        env=daemon_env(),
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


def maildir_at_rest(work: Path, seconds: float) -> dict[str, Any]:
    """`bench.maildir_rest.measure`'s figures, or a note that this commit lacks it.

    Its result is a dataclass (`MaildirRest`): kept as JSON, with the lines
    it prints for itself when it has a `lines()` method.
    """
    try:
        module = importlib.import_module(MAILDIR_REST_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != MAILDIR_REST_MODULE:
            raise  # the module is there but something it needs is not
        return {"note": f"not measured: no {MAILDIR_REST_MODULE} on this commit"}
    work.mkdir(parents=True, exist_ok=True)
    result = module.measure(work, seconds)
    out: dict[str, Any] = (
        dataclasses.asdict(result)
        if dataclasses.is_dataclass(result) and not isinstance(result, type)
        else {"result": repr(result)}
    )
    lines = getattr(result, "lines", None)
    if callable(lines):
        out["lines"] = [str(line) for line in lines()]
    return out
