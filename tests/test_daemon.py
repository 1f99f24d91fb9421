"""`followup run` as a real process against Dovecot: cycles, IDLE wake-ups, signals, health."""

from __future__ import annotations

import json
import signal
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.daemonproc import DaemonProc, wait_for
from tests.support import Account

pytestmark = pytest.mark.dovecot

# Interviews on 16 Nov 14:00; the daemon's clock starts the next morning, when
# every thank-you is due and no check-in is.
LATER = "2026-11-17 10:00"


def add_interview(acct: Account, company: str = "Acme", people: int = 2) -> int:
    who: list[str] = []
    for i in range(people):
        who += ["--interviewer", f"Person {i} <p{i}@{company.lower()}.example>"]
    return acct.add(
        "--company",
        company,
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--kind",
        "onsite",
        *who,
        now="2026-11-16 15:10",
    )


def followup_ids(acct: Account) -> list[str]:
    return [acct.key_of(d) for d in acct.drafts()]


def set_config(acct: Account, old: str, new: str) -> None:
    text = acct.config.read_text()
    assert old in text
    acct.config.write_text(text.replace(old, new))


def health(acct: Account) -> dict[str, object]:
    r = acct.run("health", "--json")
    data: dict[str, object] = json.loads(r.out)
    return data


def test_daemon_drafts_reports_health_and_stops_cleanly(acct: Account, tmp_path: Path) -> None:
    add_interview(acct, people=2)
    assert health(acct)["running"] is False
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: len(acct.folder("Drafts")) == 2)
        wait_for(lambda: health(acct)["connected"])
        h = health(acct)
        assert h["running"] is True and h["pid"] == d.pid and h["last_ok_at"]
        human = acct.ok("status").out
        assert f"daemon: running (pid {d.pid}), connected" in human
        assert isinstance(json.loads(acct.ok("status", "--json").out), list)
        assert d.stop() == 0
    assert "followup daemon stopped" in d.log_text()
    h = health(acct)
    assert h["running"] is False and h["stopped_at"] and not h["crashed"]
    assert acct.run("health").code == 1
    assert acct.user.password not in d.log_text()
    assert len(acct.folder("Drafts")) == 2


def test_new_mail_wakes_a_cycle_through_idle(
    acct: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polling once an hour: only IDLE (the main connection rests in it) explains a quick cycle.
    set_config(acct, "poll_minutes = 5", "poll_minutes = 60")
    # ...and the CLI must not wake the daemon itself after the add (that is the next test).
    monkeypatch.setattr("agent.cli.wakeup.wake_daemon", lambda store: None)
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["idle"])
        # IDLE is up with the first cycle (the main connection rests in it); the
        # NOTIFY watcher comes next and wakes one more cycle: let it pass.
        d.wait_log("NOTIFY on")
        time.sleep(1.0)
        add_interview(acct, people=1)  # due, but nothing tells the daemon yet
        time.sleep(1.0)
        assert acct.folder("Drafts") == []
        msg = EmailMessage()
        msg["From"] = "Someone <someone@elsewhere.example>"
        msg["To"] = acct.user.address
        msg["Subject"] = "hello"
        msg.set_content("hi")
        acct.deliver("INBOX", msg)
        wait_for(lambda: len(acct.folder("Drafts")) == 1, timeout=10)
        assert d.stop() == 0


def test_add_wakes_the_daemon_within_a_second(acct: Account, tmp_path: Path) -> None:
    # Polling once an hour and no new mail: only the CLI's wake-up explains a quick cycle.
    set_config(acct, "poll_minutes = 5", "poll_minutes = 60")
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["connected"])
        started = time.monotonic()
        add_interview(acct, people=1)
        wait_for(lambda: len(acct.folder("Drafts")) == 1, timeout=10)
        assert time.monotonic() - started < 3  # under load; about 0.3 s alone
        out = acct.run("run", "--once")
        assert out.code == 5
        assert f"the daemon (pid {d.pid}) is running" in out.err and "followup status" in out.err
        assert d.stop() == 0


def test_second_daemon_on_same_database_exits_5(acct: Account, tmp_path: Path) -> None:
    with DaemonProc(acct.config, tmp_path / "a.log", now=LATER) as first:
        wait_for(lambda: health(acct)["running"])
        second = DaemonProc(acct.config, tmp_path / "b.log", now=LATER)
        assert second.wait(20) == 5
        err = (tmp_path / "b.stderr").read_text()
        assert "already running" in err and str(first.pid) in err
        assert first.proc.poll() is None
        assert first.stop() == 0


def test_sighup_reloads_config_and_keeps_old_one_when_invalid(
    acct: Account, tmp_path: Path
) -> None:
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["connected"])
        good = acct.config.read_text()
        acct.config.write_text(good.replace("min_gap_days = 8", "min_gap_days = 2"))
        d.signal(signal.SIGHUP)
        d.wait_log("keeping the old one")
        assert "policy.min_gap_days" in d.log_text()
        acct.config.write_text(good.replace("poll_minutes = 5", "poll_minutes = 7"))
        d.signal(signal.SIGHUP)
        d.wait_log("config reloaded")
        assert d.proc.poll() is None
        assert d.stop() == 0


def test_wrong_password_at_start_exits_3(acct: Account, tmp_path: Path) -> None:
    d = DaemonProc(
        acct.config, tmp_path / "d.log", env={"FOLLOWUP_PASSWORD": "wrong-" + acct.user.password}
    )
    assert d.wait(20) == 3
    assert acct.user.password not in d.log_text()
