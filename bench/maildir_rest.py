"""`followup run` on a local Maildir at rest: its CPU, and how fast a delivery wakes it.

    python -m bench.maildir_rest [--seconds N] [--poll]

A Maildir with a few applications whose thank-yous are sent (so the daemon
has nothing to draft), the daemon in a subprocess; once it is at rest its CPU
is read over N seconds, then a reply is delivered as a delivery agent does
(written into tmp/, renamed into new/) and timed until the application is
`responded` in the database. `--poll` measures the fallback (the watch
refused through agent/faults.py) for comparison.

CPU comes from /proc in clock ticks (1/CLK_TCK s), so the figure's resolution
is one tick over the window: the result says it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent import config, faults, fswatch
from agent.configfile import AccountAnswers, render_config
from agent.maildir import create_maildir
from agent.maildir_files import unique_name
from agent.models import AppState
from bench import world
from bench.mailgen import message
from bench.procstat import cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
APPLICATIONS = 3
# At rest: the daemon used less than this much CPU over SETTLE_WINDOW.
SETTLE_WINDOW = 1.0
SETTLE_CPU = 0.011
WAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class MaildirRest:
    """What one measurement found."""

    watching: bool  # woken by file-system events; False: the polling fallback
    rest_window_s: float
    rest_cpu_s_per_min: float
    cpu_resolution_s_per_min: float  # one clock tick over the window
    wake_latencies_s: tuple[float, ...]  # delivery into new/ -> `responded`

    @property
    def wake_median_s(self) -> float:
        return statistics.median(self.wake_latencies_s)

    @property
    def wake_max_s(self) -> float:
        return max(self.wake_latencies_s)

    def lines(self) -> list[str]:
        mode = "file-system events" if self.watching else "polling (fallback)"
        return [
            f"Maildir daemon at rest ({mode}):",
            f"  CPU {self.rest_cpu_s_per_min:.4f} CPU-s/min over {self.rest_window_s:.0f} s"
            f" (resolution {self.cpu_resolution_s_per_min:.4f})",
            f"  delivery -> responded: median {self.wake_median_s * 1000:.0f} ms,"
            f" max {self.wake_max_s * 1000:.0f} ms over {len(self.wake_latencies_s)}",
        ]


@dataclass(frozen=True)
class MaildirWorld:
    """A Maildir, its config and a database of applications waiting for a reply."""

    root: Path
    config_path: Path
    database: Path
    log: Path
    companies: tuple[world.Company, ...]


def build(work: Path, applications: int = APPLICATIONS) -> MaildirWorld:
    """Make the Maildir, the config and `applications` active applications under `work`."""
    root = work / "Mail"
    create_maildir(root, "maildir++")
    answers = AccountAnswers(
        email="alex@example.org",
        name="Alex Candidate",
        kind="maildir",
        path=str(root),
        layout="maildir++",
        database=str(work / "state.sqlite3"),
    )
    path = work / "config.toml"
    path.write_text(render_config(answers), encoding="utf-8")
    cfg = config.load(path)
    store = world.fast_store(cfg.storage.database)
    try:
        companies = world.record_applications(cfg, store, applications, datetime.now(UTC))
    finally:
        store.close()
    return MaildirWorld(root, path, cfg.storage.database, work / "daemon.log", tuple(companies))


def daemon_command(w: MaildirWorld) -> list[str]:
    config_args = ["--config", str(w.config_path), "--log-file", str(w.log)]
    return [sys.executable, "-m", "agent.cli", *config_args, "run"]


def fallback_env() -> dict[str, str]:
    """The environment that makes the daemon's file-system watch fail (see agent/faults.py)."""
    return {faults.ENV_VAR: fswatch.FAULT_POINT}


def settle(pid: int, timeout: float = 30.0) -> None:
    """Wait until the process uses (almost) no CPU: started, first cycle done."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(SETTLE_WINDOW)
        now = cpu_seconds(pid)
        if now - last < SETTLE_CPU:
            return
        last = now
    raise TimeoutError(f"the daemon (pid {pid}) did not come to rest within {timeout:g} s")


def deliver_reply(w: MaildirWorld, company: world.Company) -> bytes:
    """The interviewer's answer, as a delivery agent leaves it: tmp/ then new/; its bytes."""
    raw = message(
        company.interviewer,
        "alex@example.org",
        f"Re: Interview at Company {company.index}",
        datetime.now(UTC),
        f"<reply.{company.index}.{time.time_ns()}@{company.domain}>",
        "Hi Alex,\r\n\r\nWe would like to move forward. Are you free next week?\r\n",
    )
    name = unique_name()
    tmp = w.root / "tmp" / name
    tmp.write_bytes(raw)
    os.rename(tmp, w.root / "new" / name)
    return raw


def wake_latency(w: MaildirWorld, company: world.Company) -> float:
    """Seconds from the start of a delivery to its application being `responded`."""
    t0 = time.perf_counter()
    deliver_reply(w, company)
    while time.perf_counter() - t0 < WAKE_TIMEOUT:
        if world.app_state(w.database, company.app_id) is AppState.RESPONDED:
            return time.perf_counter() - t0
        time.sleep(0.002)
    raise TimeoutError(f"reply to Company {company.index} not noticed in {WAKE_TIMEOUT:g} s")


def rest_cpu(pid: int, seconds: float) -> tuple[float, float]:
    """(window in seconds, CPU seconds used in it)."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return t1 - t0, c1 - c0


def measure(work: Path, seconds: float, *, poll: bool = False) -> MaildirRest:
    """Build a Maildir world under `work`, run the daemon on it and measure it."""
    w = build(work)
    env = dict(os.environ)
    env.pop(faults.ENV_VAR, None)
    if poll:
        env.update(fallback_env())
    proc = subprocess.Popen(
        daemon_command(w),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        settle(proc.pid)
        window, used = rest_cpu(proc.pid, seconds)
        latencies = []
        for company in w.companies:
            latencies.append(wake_latency(w, company))
            settle(proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)
    log = w.log.read_text(errors="replace") if w.log.exists() else ""
    return MaildirRest(
        watching="polling it instead" not in log,
        rest_window_s=window,
        rest_cpu_s_per_min=used / window * 60,
        cpu_resolution_s_per_min=60 / (os.sysconf("SC_CLK_TCK") * window),
        wake_latencies_s=tuple(latencies),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.maildir_rest", description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0, help="the rest window")
    parser.add_argument("--poll", action="store_true", help="measure the polling fallback")
    parser.add_argument("--work", type=Path, help="where to build (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        result = measure(args.work, args.seconds, poll=args.poll)
    else:
        with tempfile.TemporaryDirectory(prefix="maildir-rest-") as tmp:
            result = measure(Path(tmp), args.seconds, poll=args.poll)
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
