"""Run `followup run` as a real subprocess (the package is not installed in tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_for(check: Callable[[], object], timeout: float = 15.0, every: float = 0.05) -> None:
    """Poll `check` until it returns something truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {check}")
        time.sleep(every)


class DaemonProc:
    """One `python -m agent.cli run` process with its log in a file."""

    def __init__(
        self,
        config: Path,
        log: Path,
        now: str | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        # Through tests.audited: its drafts go through the suite's draft audit.
        cmd = [sys.executable, "-m", "tests.audited", "agent.cli"]
        cmd += ["--config", str(config), "--log-file", str(log)]
        if now:
            cmd += ["--now", now]
        cmd += ["run", *args]
        self.log = log
        self._err = open(log.with_suffix(".stderr"), "ab")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_log(self, text: str, timeout: float = 15.0, count: int = 1) -> None:
        wait_for(lambda: self.log_text().count(text) >= count, timeout)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait(10)

    def wait(self, timeout: float = 15.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.returncode is not None:
                self._err.close()

    def __enter__(self) -> DaemonProc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
