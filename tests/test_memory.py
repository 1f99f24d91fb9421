"""What only the in-memory mailbox has: a shared server, test helpers, no I/O at all."""

from __future__ import annotations

import builtins
import os
import socket
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from agent.errors import FolderError, MailboxFatalError, MailboxTransientError
from agent.mailbox import DraftIdentity, Mailbox, Withdrawn
from agent.memory import MemoryMailbox, MemoryServer

# One of our drafts: known by its Message-ID alone (agent/draftid.py).
OURS_MID = "<0b0e7f12-3a1c-4d5e-8f90-a1b2c3d4e5f6@x.test>"
OURS = f"From: me@x.test\r\nSubject: thanks\r\nMessage-ID: {OURS_MID}\r\n\r\nbody\r\n".encode()
RAW = b"From: a@b.test\r\nSubject: hi\r\nMessage-ID: <1@b.test>\r\n\r\nbody\r\n"


def test_satisfies_the_protocol() -> None:
    box: Mailbox = MemoryMailbox()  # mypy checks MemoryMailbox satisfies the Protocol
    assert box.info().idle and box.info().uidplus and box.info().move


def test_never_touches_the_disk_or_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"I/O attempted: {args!r}")

    box = MemoryMailbox()
    box.server.deliver("INBOX", RAW)
    for target, name in (
        (builtins, "open"),
        (os, "open"),
        (socket, "socket"),
        (socket, "create_connection"),
    ):
        monkeypatch.setattr(target, name, refuse)
    box.connect()
    folders = box.folders()
    assert (folders.drafts, folders.trash) == ("Drafts", "Trash")
    assert [m.uid for m in box.fetch_new("INBOX", after_uid=0)] == [1]
    assert box.fetch_body("INBOX", 1, 100) == RAW
    uid = box.append_draft("Drafts", OURS, datetime.now(UTC))
    validity = box.status("Drafts").uidvalidity
    identity = DraftIdentity(message_id=OURS_MID)
    assert box.withdraw("Drafts", uid or 0, "Trash", uidvalidity=validity, identity=identity) is (
        Withdrawn.TO_TRASH
    )
    assert box.wait("INBOX", 0.01) is False
    box.close()


def test_sessions_share_one_server() -> None:
    server = MemoryServer()
    first, second = MemoryMailbox(server), MemoryMailbox(server)
    uid = first.append_draft("Drafts", OURS, datetime.now(UTC))
    assert [m.uid for m in second.fetch_new("Drafts", after_uid=0)] == [uid]
    assert first.status("Drafts") == second.status("Drafts")


def test_new_uidvalidity_renumbers_and_stops_a_stale_withdraw() -> None:
    box = MemoryMailbox()
    box.server.deliver("Drafts", RAW, ["\\Seen"])
    uid = box.append_draft("Drafts", OURS, datetime.now(UTC))
    assert uid == 2
    old = box.status("Drafts").uidvalidity
    box.server.delete("Drafts", 1)
    new = box.server.new_uidvalidity("Drafts")
    status = box.status("Drafts")
    assert new != old and status.uidvalidity == new and (status.messages, status.uidnext) == (1, 2)
    with pytest.raises(MailboxFatalError, match="UIDVALIDITY"):
        box.withdraw(
            "Drafts", 1, "Trash", uidvalidity=old, identity=DraftIdentity(message_id=OURS_MID)
        )
    assert len(box.server.messages("Drafts")) == 1


def test_status_follows_every_change_of_the_user() -> None:
    box = MemoryMailbox()
    uid = box.server.deliver("INBOX", RAW)
    first = box.status("INBOX")
    box.server.set_flags("INBOX", uid, {"\\Seen"})
    flagged = box.status("INBOX")
    assert flagged.highestmodseq is not None and first.highestmodseq is not None
    assert flagged.highestmodseq > first.highestmodseq
    assert box.server.move("INBOX", uid, "Archive") == 1
    assert box.server.move("INBOX", uid, "Archive") is None
    assert box.status("INBOX").messages == 0 and box.status("Archive").messages == 1
    assert box.fetch_flags("Archive", [1, 2]) == {1: frozenset({"\\Seen"})}


def test_since_filters_a_first_sync_by_internal_date() -> None:
    box = MemoryMailbox()
    box.server.deliver("INBOX", RAW, when=datetime(2026, 1, 1, 12, tzinfo=UTC))
    box.server.deliver("INBOX", RAW, when=datetime.now(UTC))
    assert [m.uid for m in box.fetch_new("INBOX", after_uid=0, since=date.today())] == [2]
    yesterday = date.today() - timedelta(days=1)
    assert [m.uid for m in box.fetch_new("INBOX", after_uid=1, since=yesterday)] == [2]


def test_abort_ends_a_wait_from_another_thread() -> None:
    box = MemoryMailbox()
    box.fetch_new("INBOX", after_uid=0)
    timer = threading.Timer(0.05, box.abort)
    timer.start()
    try:
        with pytest.raises(MailboxTransientError, match="aborted"):
            box.wait("INBOX", 5)
    finally:
        timer.join()
    assert box.wait("INBOX", 0.01) is False  # the abort was used up


def test_unknown_folder_is_a_folder_error() -> None:
    box = MemoryMailbox(MemoryServer([("INBOX", None), ("Sent", "\\Sent")]))
    with pytest.raises(FolderError):
        box.status("Drafts")
    with pytest.raises(FolderError, match="Drafts"):
        box.folders()
