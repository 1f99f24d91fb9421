"""ImapMailbox.rest against Dovecot: IDLE on INBOX ended by new mail, by the wake fd, by
the timeout; a change made before the rest is reported by its NOOP; a dead server is
a transient error."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from agent.errors import MailboxTransientError
from agent.imap import ImapMailbox
from tests.dovecot import Dovecot, MailUser
from tests.test_imap import _message, mbox

__all__ = ["mbox"]

pytestmark = pytest.mark.dovecot


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def test_new_mail_ends_the_rest_and_the_next_status_sees_it(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    before = mbox.status("INBOX", keep_selected=True)
    assert mbox.rests()
    timer = threading.Timer(0.3, dovecot.deliver, (mail_user, "INBOX", _message("ping")))
    started = time.monotonic()
    timer.start()
    try:
        assert mbox.rest("INBOX", 10, pipe[0]) is True
    finally:
        timer.join()
    assert time.monotonic() - started < 2.5
    assert mbox.status("INBOX", keep_selected=True).messages == before.messages + 1


def test_the_wake_fd_ends_the_rest_at_once_without_being_read(
    mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    mbox.status("INBOX", keep_selected=True)
    timer = threading.Timer(0.3, os.write, (pipe[1], b"\0"))
    started = time.monotonic()
    timer.start()
    try:
        assert mbox.rest("INBOX", 20, pipe[0]) is False
    finally:
        timer.join()
    assert time.monotonic() - started < 1.0
    assert os.read(pipe[0], 1) == b"\0"  # left for the daemon's waker to take
    assert mbox.fetch_new("INBOX", after_uid=0) == []  # IDLE is done: usable


def test_a_quiet_rest_times_out(mbox: ImapMailbox, pipe: tuple[int, int]) -> None:
    mbox.status("INBOX", keep_selected=True)
    started = time.monotonic()
    assert mbox.rest("INBOX", 0.3, pipe[0]) is False
    assert 0.25 < time.monotonic() - started < 2


def test_mail_that_came_after_the_cycles_look_is_reported_at_once(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    mbox.status("INBOX", keep_selected=True)
    dovecot.deliver(mail_user, "INBOX", _message("during the cycle"))
    started = time.monotonic()
    assert mbox.rest("INBOX", 20, pipe[0]) is True
    assert time.monotonic() - started < 0.5


def test_without_a_connection_it_only_waits_on_the_fd(
    mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    mbox.close()
    assert not mbox.rests()
    os.write(pipe[1], b"\0")
    assert mbox.rest("INBOX", 20, pipe[0]) is False
    assert mbox._client is None  # a rest never connects: the next cycle does


def test_the_server_gone_during_a_rest_is_transient(
    dovecot: Dovecot, mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    mbox.status("INBOX", keep_selected=True)
    timer = threading.Timer(0.3, dovecot.restart)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(MailboxTransientError):
            mbox.rest("INBOX", 20, pipe[0])
    finally:
        timer.join()
    assert time.monotonic() - started < 5
    assert not mbox.rests()


def test_mail_that_came_while_the_cycle_read_another_folder_ends_the_rest_at_once(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox, pipe: tuple[int, int]
) -> None:
    # Selecting Drafts flushes what imaplib kept of INBOX; the EXAMINE that
    # settle() sends afterwards already counts the new mail, so only comparing
    # it with the cycle's own look tells the rest there is news (it waited for
    # the next poll, found by test_hostile_daemon under load).
    mbox.status("INBOX", keep_selected=True)
    dovecot.deliver(mail_user, "INBOX", _message("during the cycle"))
    mbox.fetch_new("Drafts", after_uid=0)
    mbox.settle("INBOX")
    started = time.monotonic()
    assert mbox.rest("INBOX", 3, pipe[0]) is True
    assert time.monotonic() - started < 1
