"""ImapMailbox against a real Dovecot, plus the pure folder resolution table."""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from agent.errors import (
    AuthError,
    ConnectError,
    FolderError,
    MailboxFatalError,
    MailboxTransientError,
)
from agent.imap import ImapMailbox, resolve_folders
from agent.mailbox import DraftIdentity, Mailbox, Withdrawn
from tests.dovecot import Dovecot, MailUser


def _message(subject: str, sender: str = "jane@acme.test", when: str | None = None) -> bytes:
    date_header = when or "Fri, 20 Nov 2026 15:00:00 +0000"
    return (
        f"From: Jane Doe <{sender}>\r\n"
        "To: cand@example.test\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {date_header}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@acme.test>\r\n"
        "X-Unrelated: not fetched\r\n"
        "\r\n"
        f"Body of {subject}.\r\n"
    ).encode()


def _draft(subject: str) -> bytes:
    """A draft as the agent writes one: no header that names software (tests/audit.py)."""
    return _message(subject).replace(b"X-Unrelated: not fetched\r\n", b"")


OURS = DraftIdentity(message_id="<ours@acme.test>")


def _withdraw(box: ImapMailbox, uid: int, trash: str | None) -> Withdrawn:
    """Withdraw our `_message("ours")` with the full guard."""
    validity = box.status("Drafts").uidvalidity
    return box.withdraw("Drafts", uid, trash, uidvalidity=validity, identity=OURS)


def _mailbox(
    dovecot: Dovecot, user: MailUser, *, security: str = "tls", **kwargs: object
) -> ImapMailbox:
    port = dovecot.port_starttls if security in ("starttls", "insecure") else dovecot.port_tls
    kwargs.setdefault("ca_file", str(dovecot.ca_file))
    return ImapMailbox(
        dovecot.host,
        port,
        security,
        user.name,
        user.password,
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def mbox(dovecot: Dovecot, mail_user: MailUser) -> Iterator[ImapMailbox]:
    box = _mailbox(dovecot, mail_user)
    box.connect()
    yield box
    box.close()


# -- connecting -------------------------------------------------------------


@pytest.mark.dovecot
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_connect_verified_tls(dovecot: Dovecot, mail_user: MailUser, security: str) -> None:
    with _mailbox(dovecot, mail_user, security=security) as box:
        info = box.info()
        assert info.idle and info.uidplus and info.move
        assert "STARTTLS" not in info.capabilities  # post-TLS capability list
        as_protocol: Mailbox = box  # mypy checks ImapMailbox satisfies the Protocol
        assert as_protocol is box


@pytest.mark.dovecot
def test_insecure_logs_a_warning(
    dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    box = _mailbox(dovecot, mail_user, security="insecure", ca_file=None)
    with caplog.at_level(logging.WARNING, logger="agent.imap"), box:
        assert box.info().has("IMAP4REV1")
    assert any("WITHOUT TLS" in r.getMessage() for r in caplog.records)


@pytest.mark.dovecot
def test_wrong_password_is_auth_error_without_the_password(
    dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-Secret-Passw0rd"
    box = ImapMailbox(
        dovecot.host,
        dovecot.port_tls,
        "tls",
        mail_user.name,
        wrong,
        ca_file=str(dovecot.ca_file),
        timeout=10,
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as err:
        box.connect()
    assert wrong not in str(err.value)
    assert mail_user.name in str(err.value)
    assert all(wrong not in r.getMessage() for r in caplog.records)


@pytest.mark.dovecot
def test_password_never_logged_at_debug(
    dovecot: Dovecot, mail_user: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), _mailbox(dovecot, mail_user) as box:
        box.folders()
    assert caplog.records, "expected imapclient protocol debug lines"
    assert all(mail_user.password not in r.getMessage() for r in caplog.records)


@pytest.mark.dovecot
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_untrusted_certificate_is_connect_error(
    dovecot: Dovecot, mail_user: MailUser, security: str
) -> None:
    box = _mailbox(dovecot, mail_user, security=security, ca_file=None)
    with pytest.raises(ConnectError) as err:
        box.connect()
    text = str(err.value)
    assert "not trusted" in text and "ca_file" in text
    assert f"{dovecot.host}:" in text


@pytest.mark.dovecot
def test_starttls_required_on_implicit_tls_port_mismatch(
    dovecot: Dovecot, mail_user: MailUser
) -> None:
    # TLS client against the plain port: the handshake fails, reported as ConnectError.
    box = ImapMailbox(
        dovecot.host,
        dovecot.port_starttls,
        "tls",
        mail_user.name,
        mail_user.password,
        ca_file=str(dovecot.ca_file),
        timeout=5,
    )
    with pytest.raises(ConnectError):
        box.connect()


def test_nothing_listening_is_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = ImapMailbox("127.0.0.1", port, "tls", "u", "p", timeout=2)
    with pytest.raises(ConnectError) as err:
        box.connect()
    assert f"127.0.0.1:{port}" in str(err.value)


def test_unknown_security_is_config_error() -> None:
    from agent.errors import ConfigError

    with pytest.raises(ConfigError):
        ImapMailbox("h", 1, "ssl", "u", "p")


# -- folders ----------------------------------------------------------------


@pytest.mark.dovecot
def test_folders_by_special_use(mbox: ImapMailbox) -> None:
    f = mbox.folders()
    assert (f.inbox, f.drafts, f.sent, f.trash, f.archive) == (
        "INBOX",
        "Drafts",
        "Sent",
        "Trash",
        "Archive",
    )
    assert f.found_by["drafts"] == "special-use"
    assert f.delimiter == "/"


@pytest.mark.dovecot
def test_status(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    dovecot.deliver(mail_user, "INBOX", _message("one"))
    st = mbox.status("INBOX")
    assert st.messages == 1 and st.uidnext == 2 and st.uidvalidity > 0
    assert st.highestmodseq is not None


@pytest.mark.dovecot
def test_kept_folder_sees_expunges_flags_and_a_new_uidvalidity(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    for i in range(3):
        dovecot.deliver(mail_user, "Archive", _message(f"a{i}"))
    first = mbox.status("Archive", keep_selected=True)
    dovecot.expunge(mail_user, "Archive", 2)
    assert mbox.status("Archive", keep_selected=True).messages == 2
    dovecot.add_flags(mail_user, "Archive", 1, "\\Flagged")
    flagged = mbox.status("Archive", keep_selected=True)
    assert first.highestmodseq is not None and flagged.highestmodseq is not None
    assert flagged.highestmodseq > first.highestmodseq
    assert flagged == mbox.status("Archive")

    # Deleted and recreated while selected: the server drops the session or
    # says so; either way the next answer carries the new UIDVALIDITY.
    dovecot.delete_mailbox(mail_user, "Archive")
    dovecot.create_mailbox(mail_user, "Archive")
    dovecot.deliver(mail_user, "Archive", _message("new generation"))
    try:
        again = mbox.status("Archive", keep_selected=True)
    except MailboxTransientError:
        again = mbox.status("Archive", keep_selected=True)
    assert again.uidvalidity != first.uidvalidity
    assert (again.messages, again.uidnext) == (1, 2)


# -- reading ----------------------------------------------------------------


@pytest.mark.dovecot
def test_fetch_new_incremental(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    for i in range(3):
        dovecot.deliver(mail_user, "INBOX", _message(f"msg {i}"))
    first = mbox.fetch_new("INBOX", after_uid=0)
    assert [m.uid for m in first] == [1, 2, 3]
    m = first[0]
    assert b"Subject: msg 0" in m.header and b"Message-ID:" in m.header
    assert b"X-Unrelated" not in m.header and b"Body of" not in m.header
    assert m.size > 0 and m.folder == "INBOX"
    assert m.internaldate is not None and m.internaldate.tzinfo is not None

    # Nothing new: "UID 4:*" still matches UID 3 on the server; must be dropped.
    assert mbox.fetch_new("INBOX", after_uid=3) == []
    assert mbox.fetch_new("INBOX", after_uid=100) == []

    # New mail on the same (still selected) connection is seen.
    dovecot.deliver(mail_user, "INBOX", _message("msg 3"))
    later = mbox.fetch_new("INBOX", after_uid=3)
    assert [m.uid for m in later] == [4]


@pytest.mark.dovecot
def test_fetch_new_since(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    dovecot.deliver(mail_user, "INBOX", _message("old"))
    dovecot.deliver(mail_user, "INBOX", _message("new"))
    tomorrow = date.today() + timedelta(days=1)
    assert mbox.fetch_new("INBOX", after_uid=0, since=tomorrow) == []
    assert len(mbox.fetch_new("INBOX", after_uid=0, since=date.today())) == 2
    # `since` only applies to a first sync (after_uid == 0).
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=1, since=tomorrow)] == [2]


@pytest.mark.dovecot
def test_reads_never_change_flags(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    dovecot.deliver(mail_user, "INBOX", _message("unread"))
    dovecot.deliver(mail_user, "INBOX", _message("flagged"))
    dovecot.add_flags(mail_user, "INBOX", 2, "\\Flagged")
    before = {m.uid: m.flags for m in dovecot.messages(mail_user, "INBOX")}
    assert before == {1: frozenset(), 2: frozenset({"\\Flagged"})}

    fetched = mbox.fetch_new("INBOX", after_uid=0)
    assert all("\\Seen" not in m.flags for m in fetched)
    body = mbox.fetch_body("INBOX", 1, 10_000)
    assert body is not None and b"Body of unread" in body
    assert mbox.fetch_flags("INBOX", [1, 2]) == {1: frozenset(), 2: frozenset({"\\Flagged"})}
    mbox.wait("INBOX", 0.1)

    after = {m.uid: m.flags for m in dovecot.messages(mail_user, "INBOX")}
    assert after == before


@pytest.mark.dovecot
def test_fetch_body_partial_and_gone(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    dovecot.deliver(mail_user, "INBOX", _message("body"))
    assert mbox.fetch_body("INBOX", 1, 10) == _message("body")[:10]
    assert mbox.fetch_body("INBOX", 99, 10) is None
    assert mbox.fetch_flags("INBOX", [1, 99]) == {1: frozenset()}
    assert mbox.fetch_flags("INBOX", []) == {}


@pytest.mark.dovecot
def test_uidvalidity_change_is_visible(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    before = mbox.status("Archive").uidvalidity
    mbox.close()
    dovecot.delete_mailbox(mail_user, "Archive")
    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock in seconds
    dovecot.create_mailbox(mail_user, "Archive")
    assert mbox.status("Archive").uidvalidity != before


# -- writing our drafts -----------------------------------------------------


@pytest.mark.dovecot
def test_append_draft(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    when = datetime(2026, 11, 20, 16, 30, tzinfo=UTC)
    uid = mbox.append_draft("Drafts", _draft("thank you"), when)
    assert uid == 1
    stored = dovecot.messages(mail_user, "Drafts")
    assert [(m.uid, m.flags) for m in stored] == [(1, frozenset({"\\Draft", "\\Seen"}))]
    [fetched] = mbox.fetch_new("Drafts", after_uid=0)
    assert fetched.internaldate == when


def _deleted_user_message_and_our_draft(dovecot: Dovecot, user: MailUser, box: ImapMailbox) -> int:
    dovecot.deliver(user, "Drafts", _message("user draft marked deleted"))
    dovecot.add_flags(user, "Drafts", 1, "\\Deleted")
    uid = box.append_draft("Drafts", _draft("ours"), datetime.now(UTC))
    assert uid == 2
    return uid


@pytest.mark.dovecot
def test_withdraw_moves_to_trash_and_keeps_users_deleted(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    uid = _deleted_user_message_and_our_draft(dovecot, mail_user, mbox)
    assert _withdraw(mbox, uid, "Trash") is Withdrawn.TO_TRASH
    drafts = dovecot.messages(mail_user, "Drafts")
    assert [(m.uid, m.flags) for m in drafts] == [(1, frozenset({"\\Deleted"}))]
    assert [m.raw for m in dovecot.messages(mail_user, "Trash")] == [_draft("ours")]
    # Back to read-only reads afterwards.
    assert [m.uid for m in mbox.fetch_new("Drafts", after_uid=0)] == [1]


@pytest.mark.dovecot
@pytest.mark.parametrize("trash", ["Trash", None])
def test_withdraw_without_move_uses_uid_expunge(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox, trash: str | None
) -> None:
    uid = _deleted_user_message_and_our_draft(dovecot, mail_user, mbox)
    mbox._caps = mbox._caps - {"MOVE"}
    expected = Withdrawn.TO_TRASH if trash else Withdrawn.DELETED
    assert _withdraw(mbox, uid, trash) is expected
    assert [m.uid for m in dovecot.messages(mail_user, "Drafts")] == [1]
    assert len(dovecot.messages(mail_user, "Trash")) == (1 if trash else 0)


@pytest.mark.dovecot
def test_withdraw_refuses_without_move_or_uidplus(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    uid = mbox.append_draft("Drafts", _draft("ours"), datetime.now(UTC))
    assert uid is not None
    mbox._caps = mbox._caps - {"MOVE", "UIDPLUS"}
    with pytest.raises(MailboxFatalError, match="neither MOVE nor UIDPLUS"):
        _withdraw(mbox, uid, "Trash")
    assert len(dovecot.messages(mail_user, "Drafts")) == 1


@pytest.mark.dovecot
def test_withdraw_refuses_a_message_that_is_not_a_draft(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    dovecot.deliver(mail_user, "Drafts", _message("ours"))  # our Message-ID, not \\Draft
    with pytest.raises(MailboxFatalError, match="not flagged"):
        _withdraw(mbox, 1, "Trash")
    assert len(dovecot.messages(mail_user, "Drafts")) == 1


@pytest.mark.dovecot
def test_withdraw_of_a_gone_draft_is_a_no_op(mail_user: MailUser, mbox: ImapMailbox) -> None:
    assert _withdraw(mbox, 42, "Trash") is Withdrawn.ALREADY_GONE


# -- waiting ----------------------------------------------------------------


@pytest.mark.dovecot
def test_wait_wakes_on_delivery(dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox) -> None:
    mbox.fetch_new("INBOX", after_uid=0)
    timer = threading.Timer(0.3, dovecot.deliver, (mail_user, "INBOX", _message("ping")))
    started = time.monotonic()
    timer.start()
    try:
        assert mbox.wait("INBOX", 10) is True
    finally:
        timer.join()
    assert time.monotonic() - started < 2.5
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=0)] == [1]


@pytest.mark.dovecot
def test_wait_times_out(mbox: ImapMailbox) -> None:
    started = time.monotonic()
    assert mbox.wait("INBOX", 0.3) is False
    assert 0.25 < time.monotonic() - started < 2
    # The connection is still usable after IDLE.
    assert mbox.fetch_new("INBOX", after_uid=0) == []


@pytest.mark.dovecot
def test_server_gone_during_idle_is_transient(dovecot: Dovecot, mbox: ImapMailbox) -> None:
    from agent.errors import MailboxTransientError

    mbox.fetch_new("INBOX", after_uid=0)
    timer = threading.Timer(0.3, dovecot.restart)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(MailboxTransientError):
            mbox.wait("INBOX", 20)
    finally:
        timer.join()
    assert time.monotonic() - started < 5
    assert mbox.fetch_new("INBOX", after_uid=0) == []  # reconnects


@pytest.mark.dovecot
def test_server_restart_is_transient_then_reconnects(
    dovecot: Dovecot, mail_user: MailUser, mbox: ImapMailbox
) -> None:
    from agent.errors import MailboxTransientError

    mbox.fetch_new("INBOX", after_uid=0)
    dovecot.restart()
    with pytest.raises(MailboxTransientError):
        mbox.fetch_new("INBOX", after_uid=0)
    assert mbox.fetch_new("INBOX", after_uid=0) == []


# -- resolve_folders: pure ---------------------------------------------------

HAS = (b"\\HasNoChildren",)
DOVECOT = [
    ((*HAS, b"\\Drafts"), b"/", "Drafts"),
    ((*HAS, b"\\Sent"), b"/", "Sent"),
    ((*HAS, b"\\Trash"), b"/", "Trash"),
    ((*HAS, b"\\Archive"), b"/", "Archive"),
    (HAS, b"/", "INBOX"),
]
GMAIL = [
    (HAS, b"/", "INBOX"),
    ((b"\\HasChildren", b"\\Noselect"), b"/", "[Gmail]"),
    ((*HAS, b"\\All"), b"/", "[Gmail]/All Mail"),
    ((*HAS, b"\\Drafts"), b"/", "[Gmail]/Drafts"),
    ((*HAS, b"\\Sent"), b"/", "[Gmail]/Sent Mail"),
    ((*HAS, b"\\Trash"), b"/", "[Gmail]/Trash"),
]
NO_FLAGS = [
    (HAS, b".", "INBOX"),
    (HAS, b".", "INBOX.Drafts"),
    (HAS, b".", "INBOX.Sent Items"),
    (HAS, b".", "INBOX.Trash"),
]
OUTLOOK_NAMES = [
    (HAS, b"/", "Inbox"),
    (HAS, b"/", "Drafts"),
    (HAS, b"/", "Sent Items"),
    (HAS, b"/", "Deleted Items"),
    (HAS, b"/", "Archive"),
]
FLAG_BEATS_NAME = [
    (HAS, b"/", "INBOX"),
    (HAS, b"/", "Drafts"),  # an old folder named Drafts, not the one in use
    ((*HAS, b"\\Drafts"), b"/", "Brouillons"),
    ((*HAS, b"\\Sent"), b"/", "Envoyés"),
]


@pytest.mark.parametrize(
    ("listing", "overrides", "expected", "found_by"),
    [
        (
            DOVECOT,
            None,
            ("INBOX", "Drafts", "Sent", "Trash", "Archive", "/"),
            {"drafts": "special-use", "sent": "special-use", "trash": "special-use"},
        ),
        (
            GMAIL,
            None,
            ("INBOX", "[Gmail]/Drafts", "[Gmail]/Sent Mail", "[Gmail]/Trash", None, "/"),
            {"drafts": "special-use", "sent": "special-use"},
        ),
        (
            NO_FLAGS,
            None,
            ("INBOX", "INBOX.Drafts", "INBOX.Sent Items", "INBOX.Trash", None, "."),
            {"drafts": "name", "sent": "name", "trash": "name"},
        ),
        (
            OUTLOOK_NAMES,
            None,
            ("Inbox", "Drafts", "Sent Items", "Deleted Items", "Archive", "/"),
            {"inbox": "name", "sent": "name", "trash": "name", "archive": "name"},
        ),
        (
            FLAG_BEATS_NAME,
            None,
            ("INBOX", "Brouillons", "Envoyés", None, None, "/"),
            {"drafts": "special-use", "sent": "special-use"},
        ),
        (
            [*DOVECOT, (HAS, b"/", "My Drafts")],
            {"drafts": "my drafts", "archive": "Sent"},
            ("INBOX", "My Drafts", "Sent", "Trash", "Sent", "/"),
            {"drafts": "config", "archive": "config", "sent": "special-use"},
        ),
    ],
    ids=["dovecot", "gmail", "no-flags-dot", "outlook-names", "flag-beats-name", "overrides"],
)
def test_resolve_folders(
    listing: list[tuple[tuple[bytes, ...], bytes, str]],
    overrides: dict[str, str] | None,
    expected: tuple[str, str, str, str | None, str | None, str],
    found_by: dict[str, str],
) -> None:
    f = resolve_folders(listing, overrides)
    assert (f.inbox, f.drafts, f.sent, f.trash, f.archive, f.delimiter) == expected
    for role, how in found_by.items():
        assert f.found_by[role] == how, role


@pytest.mark.parametrize(
    ("listing", "overrides", "match"),
    [
        ([(HAS, b"/", "INBOX"), ((b"\\Sent",), b"/", "Sent")], None, "no Drafts folder"),
        ([(HAS, b"/", "INBOX"), ((b"\\Drafts",), b"/", "Drafts")], None, "no Sent folder"),
        (
            [(HAS, b"/", "INBOX"), ((b"\\Noselect",), b"/", "Drafts"), (HAS, b"/", "Sent")],
            None,
            "no Drafts folder",
        ),
        (DOVECOT, {"drafts": "Nope"}, "'Nope' set for drafts"),
        (DOVECOT, {"spam": "Junk"}, "unknown folder role"),
    ],
    ids=["no-drafts", "no-sent", "noselect-drafts", "override-missing", "unknown-role"],
)
def test_resolve_folders_errors(
    listing: list[tuple[tuple[bytes, ...], bytes, str]],
    overrides: dict[str, str] | None,
    match: str,
) -> None:
    with pytest.raises(FolderError, match=match):
        resolve_folders(listing, overrides)


# -- read-only discipline: what is selected when we write (issue 12) ----------


class Commands:
    """The IMAP commands this process sends, as (verb, folder or "")."""

    _LINE = re.compile(rb'^\S+ (?:UID )?([A-Z]+)(?: ("(?:[^"\\]|\\.)*"|[^\s(]+))?')

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[tuple[str, str]] = []
        send = imaplib.IMAP4.send

        def recording(imap: imaplib.IMAP4, data: bytes) -> None:
            # Literal continuations (a message being APPENDed) carry no tag.
            if data.startswith(imap.tagpre):
                m = self._LINE.match(data)
                if m is not None:
                    arg = (m.group(2) or b"").decode().strip('"')
                    self.sent.append((m.group(1).decode(), arg))
            send(imap, data)

        monkeypatch.setattr(imaplib.IMAP4, "send", recording)

    def violations(self, drafts: str) -> list[str]:
        """Writes made while their folder was selected read-only, and needless SELECTs."""
        selected: tuple[str, bool] | None = None  # (folder, read-only)
        found = []
        for verb, arg in self.sent:
            if verb in ("EXAMINE", "SELECT"):
                selected = (arg, verb == "EXAMINE")
                if verb == "SELECT" and arg != drafts:
                    found.append(f"SELECT {arg}: read-write on a folder we only read")
            elif verb in ("UNSELECT", "CLOSE", "LOGOUT"):
                selected = None
            elif verb == "APPEND" and selected == (arg, True):
                found.append(f"APPEND {arg} while {arg} is selected read-only")
            elif verb in ("MOVE", "COPY", "STORE", "EXPUNGE") and selected != (drafts, False):
                found.append(f"{verb} while {selected} is selected, not {drafts} read-write")
        return found


@pytest.mark.dovecot
def test_never_appends_into_a_folder_selected_read_only(
    dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Courier answers "NO Current box is selected READ-ONLY" to such an APPEND;
    # Dovecot accepts it, so the commands on the wire are what is checked.
    wire = Commands(monkeypatch)
    dovecot.deliver(mail_user, "INBOX", _message("hello"))
    with _mailbox(dovecot, mail_user) as box:
        box.status("INBOX", keep_selected=True)
        box.fetch_new("Drafts", after_uid=0)  # sync EXAMINEs Drafts ...
        uid = box.append_draft("Drafts", _draft("ours"), datetime.now(UTC))  # ... then APPENDs
        assert uid is not None
        box.fetch_new("Drafts", after_uid=0)
        box.status("Drafts", keep_selected=True)
        validity = box.status("Drafts").uidvalidity
        box.append_draft("Drafts", _draft("second"), datetime.now(UTC))
        box.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=OURS)
        box.fetch_new("INBOX", after_uid=0)
        box.append_draft("Drafts", _draft("third"), datetime.now(UTC))
    verbs = [v for v, _ in wire.sent]
    assert verbs.count("APPEND") == 3 and "MOVE" in verbs
    assert wire.violations("Drafts") == []
    assert [m.uid for m in dovecot.messages(mail_user, "INBOX")] == [1]
    assert dovecot.messages(mail_user, "INBOX")[0].flags == frozenset()  # EXAMINE kept \Seen off


@pytest.mark.dovecot
def test_without_unselect_close_leaves_the_examined_folder_and_expunges_nothing(
    dovecot: Dovecot, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CLOSE expunges \Deleted messages only in a folder selected read-write
    # (RFC 3501 6.4.2): after EXAMINE it is a safe way out before APPEND.
    dovecot.deliver(mail_user, "Drafts", _message("user draft marked deleted"))
    dovecot.add_flags(mail_user, "Drafts", 1, "\\Deleted")
    wire = Commands(monkeypatch)
    with _mailbox(dovecot, mail_user) as box:
        box._caps = box._caps - {"UNSELECT"}
        box.fetch_new("Drafts", after_uid=0)
        assert box.append_draft("Drafts", _draft("ours"), datetime.now(UTC)) == 2
    assert [v for v, _ in wire.sent if v in ("EXAMINE", "CLOSE", "APPEND")] == [
        "EXAMINE",
        "CLOSE",
        "APPEND",
    ]
    assert wire.violations("Drafts") == []
    kept = dovecot.messages(mail_user, "Drafts")
    assert [(m.uid, m.flags) for m in kept] == [
        (1, frozenset({"\\Deleted"})),
        (2, frozenset({"\\Draft", "\\Seen"})),
    ]


@pytest.mark.dovecot
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_commands_leave_at_once_without_nagle(
    dovecot: Dovecot, mail_user: MailUser, security: str
) -> None:
    # Issue 18: through a proxy, Nagle's algorithm held a one-reply cycle
    # for the server's delayed ACK: 53 ms instead of 7 (bench/proxy.py).
    box = _mailbox(dovecot, mail_user, security=security)
    box.connect()
    try:
        client = box._client
        assert client is not None
        sock = client.socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        box.close()
