"""sync.py against the real Dovecot: what each cycle costs, resync, and the withdraw guard."""

from __future__ import annotations

import imaplib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent import config
from agent.engine import Engine
from agent.errors import MailboxFatalError
from agent.imap import ImapMailbox
from agent.mailbox import DraftIdentity, Mailbox
from agent.store import Store
from tests.dovecot import Dovecot, MailUser
from tests.support import Account, make_account

pytestmark = pytest.mark.dovecot

NOW = datetime(2026, 11, 16, 15, 5, tzinfo=UTC)


class Counting:
    """Delegates to a real mailbox and counts the calls that reach the server."""

    def __init__(self, inner: ImapMailbox) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return target(*args, **kwargs)

        return counted


class Wire:
    """The IMAP commands this process sends, as "VERB folder" ("STATUS Sent", "NOOP")."""

    _LINE = re.compile(rb"^[A-Z]+\d+ (UID )?([A-Z]+)(?: \"?([^\" ]*))?", re.MULTILINE)

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        send = imaplib.IMAP4.send

        def recording(imap: imaplib.IMAP4, data: bytes) -> None:
            for m in self._LINE.finditer(data):
                verb = (m.group(1) or b"").decode() + m.group(2).decode()
                arg = m.group(3).decode() if m.group(3) else ""
                self.sent.append(
                    f"{verb} {arg}" if verb in ("STATUS", "EXAMINE", "SELECT") else verb
                )
            send(imap, data)

        monkeypatch.setattr(imaplib.IMAP4, "send", recording)


@pytest.fixture
def acct(
    dovecot: Dovecot,
    mail_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Account:
    acct = make_account(dovecot, mail_user, tmp_path, capsys, monkeypatch)
    acct.add(
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--kind",
        "video",
        "--interviewer",
        "Jane Doe <jane@acme.example>",
        now="2026-11-16 15:10",
    )
    return acct


@pytest.fixture
def engine(acct: Account, tmp_path: Path) -> Iterator[Callable[[], tuple[Engine, Counting]]]:
    cfg = config.load(acct.config)
    store = Store.open(tmp_path / "state.sqlite3")
    opened: list[ImapMailbox] = []

    def make() -> tuple[Engine, Counting]:
        mb = ImapMailbox(
            acct.dovecot.host,
            acct.dovecot.port_tls,
            "tls",
            acct.user.name,
            acct.user.password,
            ca_file=str(acct.dovecot.ca_file),
        )
        opened.append(mb)
        counting = Counting(mb)
        mailbox: Mailbox = counting  # type: ignore[assignment]
        return Engine(cfg, store, mailbox), counting

    yield make
    for mb in opened:
        mb.close()
    store.close()


def test_steady_state_cycle_costs_status_only(
    acct: Account, engine: Callable[[], tuple[Engine, Counting]]
) -> None:
    eng, mb = engine()
    eng.run_cycle(NOW)  # first sync of every folder, then the thank-you draft
    eng.run_cycle(NOW)  # sees our own draft in Drafts
    mb.calls.clear()
    eng.run_cycle(NOW)
    fetches = {k: v for k, v in mb.calls.items() if k.startswith("fetch") or k == "withdraw"}
    assert fetches == {}, mb.calls
    assert mb.calls["status"] == 3  # INBOX, Sent, Drafts

    # New mail in one folder: only that folder is fetched, headers only.
    acct.deliver("INBOX", b"From: x@elsewhere.example\r\nSubject: hi\r\n\r\nhello\r\n")
    mb.calls.clear()
    eng.run_cycle(NOW)
    assert mb.calls["fetch_new"] == 1 and mb.calls["fetch_body"] == 0, mb.calls


def test_steady_state_cycle_asks_inbox_with_one_noop(
    acct: Account, engine: Callable[[], tuple[Engine, Counting]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # STATUS or EXAMINE of a 100k-message INBOX costs Dovecot ~45 ms; a NOOP
    # on the INBOX the connection keeps selected ~0.1 ms (bench/, README).
    eng, _mb = engine()
    wire = Wire(monkeypatch)
    for _ in range(3):  # first sync, our thank-you seen in Drafts, back to INBOX
        eng.run_cycle(NOW)
    wire.sent.clear()
    eng.run_cycle(NOW)
    assert wire.sent == ["NOOP", "STATUS Sent", "STATUS Drafts"]

    # New mail is seen on the selected INBOX, fetched without selecting it again.
    acct.deliver("INBOX", b"From: x@elsewhere.example\r\nSubject: hi\r\n\r\nhello\r\n")
    wire.sent.clear()
    eng.run_cycle(NOW)
    assert "UID FETCH" in " ".join(wire.sent), wire.sent
    assert not [c for c in wire.sent if c.startswith(("EXAMINE", "SELECT"))], wire.sent
    for _ in range(2):
        wire.sent.clear()
        eng.run_cycle(NOW)
    assert wire.sent == ["NOOP", "STATUS Sent", "STATUS Drafts"]


def test_uidvalidity_change_resyncs_without_repeating(
    acct: Account, engine: Callable[[], tuple[Engine, Counting]], tmp_path: Path
) -> None:
    eng, _mb = engine()
    acct.dovecot.create_mailbox(acct.user, "Replies")
    reply = (
        b"From: Jane Doe <jane@acme.example>\r\nSubject: Re: thanks\r\n"
        b"Date: Tue, 17 Nov 2026 09:00:00 +0100\r\nMessage-ID: <r@acme.example>\r\n\r\nHi\r\n"
    )
    acct.deliver("Replies", reply)
    eng.cfg = replace(eng.cfg, folders=replace(eng.cfg.folders, watch=("Replies",)))
    report = eng.run_cycle(datetime(2026, 11, 17, 9, 30, tzinfo=UTC))
    assert [state.value for _, state, _ in report.state_changes] == ["responded"]
    events = len(eng.store.load(1).events)

    acct.dovecot.delete_mailbox(acct.user, "Replies")
    acct.dovecot.create_mailbox(acct.user, "Replies")
    acct.deliver("Replies", reply)
    report = eng.run_cycle(datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    assert report.state_changes == []
    assert len(eng.store.load(1).events) == events
    rows = eng.store.conn.execute("SELECT COUNT(*) FROM messages WHERE kind = 'reply'").fetchone()
    assert rows[0] == 1


def test_withdraw_refuses_a_stale_uid(acct: Account) -> None:
    mb = ImapMailbox(
        acct.dovecot.host,
        acct.dovecot.port_tls,
        "tls",
        acct.user.name,
        acct.user.password,
        ca_file=str(acct.dovecot.ca_file),
    )
    mid = "<5f1d2c3b-4a59-4687-9123-456789abcdef@example.test>"
    user_draft = f"From: me@example.test\r\nSubject: mine\r\nMessage-ID: {mid}\r\n\r\nmine\r\n"
    try:
        uid = mb.append_draft("Drafts", user_draft.encode(), NOW)
        assert uid is not None
        validity = mb.status("Drafts").uidvalidity
        with pytest.raises(MailboxFatalError, match="UIDVALIDITY"):
            mb.withdraw(
                "Drafts",
                uid,
                "Trash",
                uidvalidity=validity + 1,
                identity=DraftIdentity(message_id=mid),
            )
        with pytest.raises(MailboxFatalError, match="not our draft"):
            mb.withdraw(
                "Drafts",
                uid,
                "Trash",
                uidvalidity=validity,
                identity=DraftIdentity(message_id="<o@x>"),
            )
        assert [m.uid for m in acct.folder("Drafts")] == [uid]
        mb.withdraw(
            "Drafts", uid, "Trash", uidvalidity=validity, identity=DraftIdentity(message_id=mid)
        )
        assert acct.folder("Drafts") == [] and len(acct.folder("Trash")) == 1
    finally:
        mb.close()
