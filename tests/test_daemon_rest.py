"""The main connection rests in IDLE on INBOX between cycles (issue 18): the cycle a
reply wakes reads it on the session that heard of it, signals end a rest at once, and
without NOTIFY the daemon holds one connection only."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.daemonproc import DaemonProc, wait_for
from tests.support import Account, make_account
from tests.test_daemon import LATER, add_interview, health, set_config
from tests.test_daemon_faults import insecure_via
from tests.test_imap_notify import NoNotifyDovecot, no_notify_server
from tests.wiretap import Wiretap

pytestmark = pytest.mark.dovecot


def a_reply(acct: Account) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Person 0 <p0@acme.example>"
    msg["To"] = acct.user.address
    msg["Subject"] = "Re: thank you"
    msg.set_content("Thanks, we will be in touch.")
    return msg


def idlers(tap: Wiretap, until: int) -> set[int]:
    """Connections that sent IDLE before the `until`-th command."""
    return {n for n, v, _ in tap.commands()[:until] if v == "IDLE"}


def resting(tap: Wiretap, main: int) -> None:
    """Wait until `main` has gone back into IDLE after its last cycle."""

    def back_in_idle() -> bool:
        verbs = [v for n, v, _ in tap.commands() if n == main]
        return bool(verbs) and verbs[-1] == "IDLE"

    wait_for(back_in_idle, timeout=10)


@pytest.fixture
def tapped(acct: Account) -> Iterator[Wiretap]:
    set_config(acct, "poll_minutes = 5", "poll_minutes = 60")
    with Wiretap(acct.dovecot.port_starttls) as tap:
        insecure_via(acct, tap.port)
        yield tap


def test_the_connection_that_idled_on_inbox_fetches_the_reply_within_a_second_and_a_half(
    acct: Account, tapped: Wiretap, tmp_path: Path
) -> None:
    add_interview(acct, people=1)
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: len(acct.folder("Drafts")) == 1)
        wait_for(lambda: health(acct)["idle"])
        main = tapped.connection_sending("APPEND")
        time.sleep(1.5)  # the cycle our own APPEND woke is over
        mark = tapped.mark()
        started = time.monotonic()
        acct.deliver("INBOX", a_reply(acct))
        wait_for(lambda: any(v == "UID" for _, v, _ in tapped.commands(mark)), every=0.02)
        took = time.monotonic() - started
        fetcher = next(n for n, v, _ in tapped.commands(mark) if v == "UID")
        # Dovecot tells after its own 0.5 s; the session it told has synced already.
        assert fetcher == main
        assert fetcher in idlers(tapped, mark), tapped.commands()
        assert took < 1.5, f"the cycle fetched the new mail {took:.2f} s after delivery"
        assert d.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGHUP])
def test_a_wake_signal_ends_the_rest_at_once_and_runs_a_cycle(
    acct: Account, tapped: Wiretap, tmp_path: Path, sig: signal.Signals
) -> None:
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["idle"])
        main = next(n for n, v, _ in tapped.commands() if v == "IDLE")
        resting(tapped, main)
        time.sleep(0.3)
        mark = tapped.mark()
        started = time.monotonic()
        d.signal(sig)
        # The cycle's first command is a NOOP on INBOX, once IDLE is done.
        wait_for(lambda: any(n == main and v == "NOOP" for n, v, _ in tapped.commands(mark)))
        assert time.monotonic() - started < 1.0
        assert d.stop() == 0


def test_sigterm_ends_the_rest_at_once_and_logs_out(
    acct: Account, tapped: Wiretap, tmp_path: Path
) -> None:
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: health(acct)["idle"])
        main = next(n for n, v, _ in tapped.commands() if v == "IDLE")
        resting(tapped, main)
        started = time.monotonic()
        assert d.stop() == 0
        assert time.monotonic() - started < 2.0
    assert any(n == main and v == "LOGOUT" for n, v, _ in tapped.commands())


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[NoNotifyDovecot]:
    with no_notify_server() as server:
        yield server


def test_without_notify_one_connection_rests_in_idle_and_mail_wakes_it(
    plain_dovecot: NoNotifyDovecot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = plain_dovecot.add_user(f"r{time.monotonic_ns()}", "pw-rest-1")
    acct = make_account(plain_dovecot, user, tmp_path, capsys, monkeypatch)
    set_config(acct, "poll_minutes = 5", "poll_minutes = 60")
    with Wiretap(plain_dovecot.port_starttls) as tap:
        insecure_via(acct, tap.port)
        with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
            wait_for(lambda: health(acct)["idle"])
            main = next(n for n, v, _ in tap.commands() if v == "IDLE")
            resting(tap, main)
            time.sleep(0.5)
            logged_out = {n for n, v, _ in tap.commands() if v == "LOGOUT"}
            open_links = {n for n, _, _ in tap.commands()} - logged_out
            assert open_links == {main}, tap.commands()
            mark = tap.mark()
            acct.deliver("INBOX", a_reply(acct))
            wait_for(lambda: any(v == "UID" for _, v, _ in tap.commands(mark)), timeout=5)
            assert {n for n, _, _ in tap.commands(mark)} == {main}
            assert "the main connection rests in IDLE" in d.log_text()
            assert d.stop() == 0
