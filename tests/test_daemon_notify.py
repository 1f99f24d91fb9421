"""`followup run` with IMAP NOTIFY on Dovecot: woken by Sent, Drafts and watched
folders, no STATUS in a steady cycle, STATUS of everything after the watcher's
connection is lost, and today's behaviour on a server without NOTIFY."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemonproc import DaemonProc, wait_for
from tests.support import Account, make_account, parse
from tests.test_daemon import LATER, add_interview, health, set_config
from tests.test_daemon_faults import insecure_via
from tests.test_imap_notify import NoNotifyDovecot, no_notify_server
from tests.wiretap import Wiretap

pytestmark = pytest.mark.dovecot


def thank_you_state(acct: Account) -> str:
    apps = json.loads(acct.ok("status", "--json").out)
    (step,) = [s for a in apps for s in a["steps"] if s["kind"] == "thank_you"]
    state: str = step["state"]
    return state


def quiet_daemon(acct: Account) -> None:
    # Polling once an hour, Archive watched: only the watcher explains a quick cycle.
    set_config(acct, "poll_minutes = 5", "poll_minutes = 60")
    set_config(acct, "watch = []", 'watch = ["Archive"]')


def settle(tap: Wiretap, d: DaemonProc, main: int) -> int:
    """Wake one cycle and wait until it is over; the mark before it."""
    mark = tap.mark()
    d.signal(signal.SIGUSR1)
    # The cycle starts with a NOOP on INBOX (after an EXAMINE if another folder was selected).
    wait_for(lambda: any(v == "NOOP" for n, v, _ in tap.commands(mark) if n == main))
    time.sleep(1.0)  # the rest of the cycle
    return mark


def statuses(tap: Wiretap, since: int) -> list[str]:
    return sorted(
        args.split(" (")[0].strip('"') for _, v, args in tap.commands(since) if v == "STATUS"
    )


@contextlib.contextmanager
def drafted_under_notify(acct: Account, tap: Wiretap, log: Path) -> Iterator[DaemonProc]:
    """A quiet daemon that drafted one thank-you and whose NOTIFY watcher is set."""
    quiet_daemon(acct)
    add_interview(acct, people=1)
    with DaemonProc(acct.config, log, now=LATER) as d:
        wait_for(lambda: len(acct.folder("Drafts")) == 1)
        wait_for(lambda: any(v == "NOTIFY" for _, v, _ in tap.commands()))
        yield d


@pytest.fixture
def tapped(acct: Account) -> Iterator[Wiretap]:
    with Wiretap(acct.dovecot.port_starttls) as tap:
        insecure_via(acct, tap.port)
        yield tap


def test_the_users_sent_copy_of_our_thank_you_is_seen_within_two_seconds(
    acct: Account, tmp_path: Path
) -> None:
    quiet_daemon(acct)
    add_interview(acct, people=1)
    with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
        wait_for(lambda: len(acct.folder("Drafts")) == 1)
        wait_for(lambda: health(acct)["idle"])
        time.sleep(1.5)  # the cycle our own APPEND woke is over
        (stored,) = acct.folder("Drafts")
        # Sent from the phone: the draft leaves Drafts, its copy lands in Sent.
        acct.dovecot.expunge(acct.user, "Drafts", stored.uid)
        started = time.monotonic()
        acct.deliver("Sent", parse(stored.raw))
        wait_for(lambda: thank_you_state(acct) == "sent", timeout=10, every=0.1)
        took = time.monotonic() - started
        # Dovecot's own 0.5 s, then one cycle; under the suite's load, more.
        assert took < 2.5, f"sent seen after {took:.2f} s"
        assert d.stop() == 0


def test_a_steady_cycle_sends_no_status_and_a_watched_folder_wakes_only_itself(
    acct: Account, tapped: Wiretap, tmp_path: Path
) -> None:
    with drafted_under_notify(acct, tapped, tmp_path / "d.log") as d:
        main = tapped.connection_sending("APPEND")
        watcher = tapped.connection_sending("NOTIFY")
        assert main != watcher
        time.sleep(1.5)
        mark = settle(tapped, d, main)
        assert statuses(tapped, mark) == [], tapped.commands(mark)

        # A delivery to the watched archive wakes a cycle, which asks about it alone.
        mark = tapped.mark()
        acct.deliver("Archive", b"From: x@else.example\r\nSubject: hi\r\n\r\nhi\r\n")
        wait_for(lambda: "Archive" in statuses(tapped, mark), timeout=5)
        time.sleep(0.8)
        assert statuses(tapped, mark) == ["Archive"]
        assert d.stop() == 0


@pytest.mark.parametrize("how", ["cut", "server restart"])
def test_after_the_watcher_is_cut_every_folder_is_asked_and_nothing_is_missed(
    acct: Account, tapped: Wiretap, tmp_path: Path, how: str
) -> None:
    with drafted_under_notify(acct, tapped, tmp_path / "d.log") as d:
        watcher = tapped.connection_sending("NOTIFY")
        time.sleep(1.5)
        (stored,) = acct.folder("Drafts")
        mark = tapped.mark()
        if how == "cut":
            tapped.cut(watcher)
        else:
            acct.dovecot.restart()
        # Sent while nobody watches: no notification will ever tell of it.
        acct.deliver("Sent", parse(stored.raw))
        wait_for(lambda: thank_you_state(acct) == "sent", timeout=15, every=0.1)
        assert set(statuses(tapped, mark)) >= {"Sent", "Drafts", "Archive"}
        # The watcher is back, and steady cycles are quiet again.
        wait_for(lambda: len([n for n, v, _ in tapped.commands(mark) if v == "NOTIFY"]) == 1)
        time.sleep(1.5)
        # After a restart the main connection is a new one too: the one asking STATUS.
        quiet = settle(tapped, d, tapped.connection_sending("STATUS"))
        assert statuses(tapped, quiet) == []
        assert d.stop() == 0


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[NoNotifyDovecot]:
    with no_notify_server() as server:
        yield server


def test_without_notify_every_cycle_asks_status_and_inbox_still_wakes_it(
    plain_dovecot: NoNotifyDovecot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = plain_dovecot.add_user(f"p{time.monotonic_ns()}", "pw-plain-1")
    acct = make_account(plain_dovecot, user, tmp_path, capsys, monkeypatch)
    quiet_daemon(acct)
    with Wiretap(plain_dovecot.port_starttls) as tap:
        insecure_via(acct, tap.port)
        add_interview(acct, people=1)
        with DaemonProc(acct.config, tmp_path / "d.log", now=LATER) as d:
            wait_for(lambda: len(acct.folder("Drafts")) == 1)
            wait_for(lambda: any(v == "IDLE" for _, v, _ in tap.commands()))
            assert not any(v == "NOTIFY" for _, v, _ in tap.commands())
            main = tap.connection_sending("APPEND")
            time.sleep(1.0)
            mark = settle(tap, d, main)
            assert statuses(tap, mark) == ["Archive", "Drafts", "Sent"]
            # IDLE on INBOX still wakes a cycle at once.
            mark = tap.mark()
            acct.deliver("INBOX", b"From: x@else.example\r\nSubject: hi\r\n\r\nhi\r\n")
            wait_for(lambda: "Sent" in statuses(tap, mark), timeout=5)
            assert d.stop() == 0


def test_the_cycle_after_one_that_read_drafts_finds_inbox_still_selected(
    acct: Account, tapped: Wiretap, tmp_path: Path
) -> None:
    # Re-selecting a 100k INBOX costs Dovecot ~0.3 s cold: the next wake-up,
    # a reply say, must not pay it because the last cycle looked at Drafts.
    with drafted_under_notify(acct, tapped, tmp_path / "d.log") as d:
        main = tapped.connection_sending("APPEND")
        time.sleep(1.5)  # the cycle our APPEND woke read Drafts
        mark = settle(tapped, d, main)
        verbs = [v for n, v, _ in tapped.commands(mark) if n == main]
        assert "EXAMINE" not in verbs and "SELECT" not in verbs, verbs
        assert d.stop() == 0
