"""`followup run` on a real Maildir, woken by file-system events (and by polling when refused)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent import cli, faults, fswatch
from agent.maildir import deliver
from agent.maildir_files import unique_name
from agent.models import AppState
from bench import maildir_rest, world
from tests.daemonproc import ROOT, wait_for

# Well under a second, and under the half second a poll would take.
WAKE_SECONDS = 0.45


class Daemon:
    """`followup -v run` (debug log: one line per cycle) through the draft audit."""

    def __init__(self, w: maildir_rest.MaildirWorld, env: dict[str, str] | None = None) -> None:
        base = {k: v for k, v in os.environ.items() if k != faults.ENV_VAR}
        cmd = [sys.executable, "-m", "tests.audited", "agent.cli", "--config", str(w.config_path)]
        cmd += ["--log-file", str(w.log), "-v", "run"]
        self.w = w
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**base, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: "followup daemon started" in self.log(), 20)
        maildir_rest.settle(self.proc.pid)

    def log(self) -> str:
        return self.w.log.read_text(errors="replace") if self.w.log.exists() else ""

    def cycles(self) -> int:
        return self.log().count("agent.daemon: cycle (")

    def reloads(self) -> int:
        return self.log().count("config reloaded from")

    def threads_and_fds(self) -> tuple[int, int]:
        pid = self.proc.pid
        return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


def eventually(get: Callable[[], object], want: object, timeout: float = 10) -> None:
    wait_for(lambda: get() == want, timeout)


@pytest.fixture
def replies(tmp_path: Path) -> Iterator[tuple[maildir_rest.MaildirWorld, Daemon]]:
    w = maildir_rest.build(tmp_path, applications=3)
    d = Daemon(w)
    yield w, d
    assert d.stop() == 0


def test_a_delivery_into_inbox_wakes_the_daemon_at_once(
    replies: tuple[maildir_rest.MaildirWorld, Daemon],
) -> None:
    w, d = replies
    latencies = [maildir_rest.wake_latency(w, c) for c in w.companies]
    assert min(latencies) < WAKE_SECONDS and sorted(latencies)[1] < WAKE_SECONDS, latencies
    assert "polling it instead" not in d.log()


def test_tmp_does_not_wake_the_daemon(replies: tuple[maildir_rest.MaildirWorld, Daemon]) -> None:
    w, d = replies
    before = d.cycles()
    for folder in (w.root, w.root / ".Sent", w.root / ".Drafts"):
        (folder / "tmp" / unique_name()).write_bytes(b"Subject: half written\n\n")
    time.sleep(0.6)
    assert d.cycles() == before
    maildir_rest.deliver_reply(w, w.companies[0])  # the control: new/ does
    wait_for(lambda: d.cycles() > before, 2)
    assert "cycle (new mail)" in d.log()


def thank_you(database: Path) -> tuple[str, str | None]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute(
            "SELECT state, message_id FROM steps WHERE kind = ?", ("thank_you",)
        ).fetchone()
    finally:
        conn.close()
    return (str(row[0]), row[1]) if row else ("", None)


def test_a_sent_copy_of_our_draft_wakes_the_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = maildir_rest.build(tmp_path, applications=0)
    at = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%d %H:00")
    interview = ["--company", "Acme", "--role", "Engineer", "--at", at, "--kind", "video"]
    person = ["--interviewer", "Jane Doe <jane@acme.example>"]
    code = cli.main(["--config", str(w.config_path), "add", *interview, *person])
    assert code == 0, capsys.readouterr()
    d = Daemon(w)
    try:
        wait_for(lambda: thank_you(w.database)[0] == "drafted", 20)
        (draft,) = (w.root / ".Drafts" / "cur").iterdir()
        sent = w.root / ".Sent"
        # The user sends it from their mail client: a copy lands in Sent.
        t0 = time.perf_counter()
        tmp = sent / "tmp" / unique_name()
        tmp.write_bytes(draft.read_bytes())
        os.rename(tmp, sent / "cur" / f"{tmp.name}:2,S")
        wait_for(lambda: thank_you(w.database)[0] == "sent", 5, every=0.005)
        assert time.perf_counter() - t0 < WAKE_SECONDS * 2
    finally:
        assert d.stop() == 0


def test_a_refused_watch_polls_and_still_sees_the_reply(tmp_path: Path) -> None:
    w = maildir_rest.build(tmp_path, applications=1)
    d = Daemon(w, env=maildir_rest.fallback_env())
    try:
        latency = maildir_rest.wake_latency(w, w.companies[0])
        assert latency < 2.0
        told = [line for line in d.log().splitlines() if "polling it instead" in line]
        assert len(told) == 1 and " INFO " in told[0] and "limit reached" in told[0], told
    finally:
        assert d.stop() == 0
    assert fswatch.FAULT_POINT in maildir_rest.fallback_env()[faults.ENV_VAR]


def test_reloads_leave_no_thread_or_fd_behind_and_watch_the_new_folders(tmp_path: Path) -> None:
    w = maildir_rest.build(tmp_path, applications=1)
    d = Daemon(w)
    try:
        threads, fds = d.threads_and_fds()
        # Archive adds two directories to the watch: watchdog runs a thread for each.
        expected = {"[]": (threads, fds), '["Archive"]': (threads + 2, fds)}
        text = w.config_path.read_text()
        for i, watch in enumerate(['["Archive"]', "[]", '["Archive"]']):
            w.config_path.write_text(text.replace("watch = []", f"watch = {watch}"))
            d.proc.send_signal(signal.SIGHUP)
            eventually(d.reloads, i + 1)
            # The watcher reconnects (after its backoff): the old watch's threads and fds are gone.
            eventually(d.threads_and_fds, expected[watch])
        # The reconnected watcher watches Archive now.
        c = w.companies[0]
        t0 = time.perf_counter()
        deliver(
            w.root / ".Archive",
            f"From: {c.interviewer}\nSubject: Re: Interview\n\nAre you free?\n".encode(),
        )
        wait_for(
            lambda: world.app_state(w.database, c.app_id) is AppState.RESPONDED, 5, every=0.005
        )
        assert time.perf_counter() - t0 < WAKE_SECONDS * 2
    finally:
        assert d.stop() == 0
