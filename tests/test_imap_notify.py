"""The NOTIFY watcher session (agent/imap_notify.py) against a real Dovecot."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agent import imap_notify
from agent.errors import AuthError, MailboxTransientError, NotifyRefusedError
from agent.imap import ImapMailbox
from agent.imap_notify import NotifyWatch
from agent.imap_session import Endpoint
from agent.mailbox import Notified
from tests.dovecot import Dovecot, MailUser, dovecot_available

pytestmark = pytest.mark.dovecot

OTHERS = ["Sent", "Drafts", "Archive"]
RAW = b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <x@b.example>\r\n\r\nhello\r\n"


def watch(dovecot: Dovecot, user: MailUser, security: str = "tls") -> NotifyWatch:
    port = dovecot.port_tls if security == "tls" else dovecot.port_starttls
    endpoint = Endpoint(dovecot.host, port, security, 5.0, str(dovecot.ca_file))
    return NotifyWatch(endpoint, user.name, user.password)


@pytest.fixture
def opened(dovecot: Dovecot, mail_user: MailUser) -> Iterator[NotifyWatch]:
    session = watch(dovecot, mail_user)
    session.open("INBOX", OTHERS)
    yield session
    session.close()


def later(seconds: float, action: object) -> threading.Timer:
    timer = threading.Timer(seconds, action)  # type: ignore[arg-type]
    timer.start()
    return timer


def wait_for_news(session: NotifyWatch, timeout: float = 5.0) -> tuple[Notified, float]:
    started = time.monotonic()
    got = session.wait(timeout)
    return got, time.monotonic() - started


@pytest.mark.parametrize("folder", ["Sent", "Drafts", "Archive", "INBOX"])
def test_a_delivery_to_a_watched_folder_is_reported_at_once(
    dovecot: Dovecot, mail_user: MailUser, opened: NotifyWatch, folder: str
) -> None:
    later(0.2, lambda: dovecot.deliver(mail_user, folder, RAW))
    got, took = wait_for_news(opened)
    assert got == Notified(frozenset({folder}))
    # Dovecot waits 500 ms after the file-system change before it tells.
    assert took < 2.5


def test_a_flag_change_and_an_expunge_in_sent_are_reported(
    dovecot: Dovecot, mail_user: MailUser, opened: NotifyWatch
) -> None:
    dovecot.deliver(mail_user, "Sent", RAW)
    assert wait_for_news(opened)[0].folders == {"Sent"}
    later(0.2, lambda: dovecot.add_flags(mail_user, "Sent", 1, "\\Flagged"))
    assert wait_for_news(opened)[0].folders == {"Sent"}
    later(0.2, lambda: dovecot.expunge(mail_user, "Sent", 1))
    assert wait_for_news(opened)[0].folders == {"Sent"}


def test_a_quiet_mailbox_waits_out_the_timeout(opened: NotifyWatch) -> None:
    got, took = wait_for_news(opened, timeout=0.6)
    assert not got and got == Notified()
    assert 0.5 < took < 2.0


def test_idle_is_reissued_and_a_change_between_two_idles_is_not_lost(
    dovecot: Dovecot,
    mail_user: MailUser,
    opened: NotifyWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_notify, "IDLE_MAX_SECONDS", 0.3)
    later(1.0, lambda: dovecot.deliver(mail_user, "Drafts", RAW))
    got, took = wait_for_news(opened, timeout=6)
    assert got.folders == {"Drafts"} and took > 1.0


def test_abort_from_another_thread_ends_a_wait_at_once(opened: NotifyWatch) -> None:
    later(0.3, opened.abort)
    started = time.monotonic()
    with pytest.raises(MailboxTransientError, match="lost"):
        opened.wait(30)
    assert time.monotonic() - started < 3


def test_starttls_and_a_non_ascii_password_sign_in(dovecot: Dovecot) -> None:
    user = dovecot.add_user(f"n{time.monotonic_ns()}", "pässwört-ü")
    session = watch(dovecot, user, security="starttls")
    session.open("INBOX", ["Sent"])
    try:
        later(0.2, lambda: dovecot.deliver(user, "Sent", RAW))
        assert session.wait(5).folders == {"Sent"}
    finally:
        session.close()


def test_a_wrong_password_is_an_auth_error_without_the_password(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    wrong = MailUser(mail_user.name, "wrong-Secret-42")
    with pytest.raises(AuthError) as caught:
        watch(dovecot, wrong).open("INBOX", OTHERS)
    assert "refused the login" in str(caught.value)
    assert "wrong-Secret-42" not in str(caught.value)


def test_the_main_connection_offers_the_watch_with_the_same_account(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    box = ImapMailbox(
        dovecot.host,
        dovecot.port_tls,
        "tls",
        mail_user.name,
        mail_user.password,
        ca_file=str(dovecot.ca_file),
    )
    try:
        assert box.info().notify
        session = box.change_watch()
    finally:
        box.close()
    assert isinstance(session, NotifyWatch)
    session.open("INBOX", OTHERS)
    try:
        later(0.2, lambda: dovecot.deliver(mail_user, "Archive", RAW))
        assert session.wait(5).folders == {"Archive"}
    finally:
        session.close()


# -- a Dovecot that hides NOTIFY ------------------------------------------------

# Dovecot 2.3.19's own list after login, without NOTIFY.
NO_NOTIFY_CAPS = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES "
    "WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW "
    "STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE"
)


class NoNotifyDovecot(Dovecot):
    def _extra_config(self) -> str:
        return f"imap_capability = {NO_NOTIFY_CAPS}\n"


@contextmanager
def no_notify_server() -> Iterator[NoNotifyDovecot]:
    """A Dovecot of its own that hides NOTIFY (skipped without Dovecot, except in CI)."""
    if not dovecot_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("dovecot not installed; CI must run the real-server tests")
        pytest.skip("dovecot not installed")
    root = Path(tempfile.mkdtemp(prefix="followup-nonotify-"))
    server = NoNotifyDovecot(root / "srv")
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def no_notify_dovecot() -> Iterator[NoNotifyDovecot]:
    with no_notify_server() as server:
        yield server


def test_a_server_without_notify_is_told_apart(no_notify_dovecot: NoNotifyDovecot) -> None:
    user = no_notify_dovecot.add_user(f"q{time.monotonic_ns()}", "pw-quiet")
    with pytest.raises(NotifyRefusedError, match="does not offer NOTIFY"):
        watch(no_notify_dovecot, user).open("INBOX", OTHERS)
    box = ImapMailbox(
        no_notify_dovecot.host,
        no_notify_dovecot.port_tls,
        "tls",
        user.name,
        user.password,
        ca_file=str(no_notify_dovecot.ca_file),
    )
    try:
        assert not box.info().notify and box.info().idle
        assert box.change_watch() is None
    finally:
        box.close()
