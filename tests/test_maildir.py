"""What only a Maildir has: file keys, renames by other clients, layouts, the UID index."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.backend import header_fields
from agent.errors import FolderError, MailboxFatalError, MailboxTransientError
from agent.mailbox import DraftIdentity, Mailbox, Withdrawn
from agent.maildir import MaildirMailbox, create_maildir, deliver
from agent.maildir_files import file_flags, file_key
from agent.maildir_layout import detect_layout

RAW = b"From: a@b.test\nSubject: hi\nMessage-ID: <1@b.test>\n\nbody\n"
# One of our drafts: known by its Message-ID alone (agent/draftid.py).
OURS_MID = "<0b0e7f12-3a1c-4d5e-8f90-a1b2c3d4e5f6@x.test>"
OURS = f"From: me@x.test\nSubject: thanks\nMessage-ID: {OURS_MID}\n\nbody\n".encode()
OURS_ID = DraftIdentity(message_id=OURS_MID)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    create_maildir(tmp_path / "Mail", "maildir++")
    return tmp_path / "Mail"


@pytest.fixture
def box(root: Path, tmp_path: Path) -> MaildirMailbox:
    b = MaildirMailbox(root, index=tmp_path / "index.sqlite3")
    b.connect()
    return b


def test_satisfies_the_protocol(box: MaildirMailbox) -> None:
    as_protocol: Mailbox = box  # mypy checks MaildirMailbox satisfies the Protocol
    assert as_protocol.info().idle and as_protocol.info().uidplus


@pytest.mark.parametrize(
    ("name", "key", "flags"),
    [
        ("1700000000.M1P2.host:2,S", "1700000000.M1P2.host", {"\\Seen"}),
        (
            "1700000000.M1P2.host:2,DFRST",
            "1700000000.M1P2.host",
            {"\\Draft", "\\Flagged", "\\Answered", "\\Seen", "\\Deleted"},
        ),
        ("1700000000.M1P2.host", "1700000000.M1P2.host", set()),
        ("1700000000.1_2.host,U=42:2,S", "1700000000.1_2.host", {"\\Seen"}),  # mbsync
        (
            "1700000000.M1P2.host,S=1234,W=1260:2,Sa",
            "1700000000.M1P2.host,S=1234,W=1260",
            {"\\Seen"},
        ),  # Dovecot sizes; lower-case keyword letters ignored
    ],
)
def test_file_key_and_flags(name: str, key: str, flags: set[str]) -> None:
    assert file_key(name) == key
    assert file_flags(name) == frozenset(flags)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Subject: a\nX-Other: b\n\n", b"Subject: a\n\n"),
        (
            b"Subject: a\r\n b\r\nX-Other: c\r\n d\r\nFrom: e\r\n\r\n",
            b"Subject: a\r\n b\r\nFrom: e\r\n\r\n",
        ),
        (b"X-Other: c\n", b"\n"),
        (b"subject: lower\nmessage-id: <x>\n\n", b"subject: lower\nmessage-id: <x>\n\n"),
    ],
    ids=["lf", "crlf-folded", "none", "case"],
)
def test_header_fields(header: bytes, expected: bytes) -> None:
    assert header_fields(header) == expected


def test_flag_change_by_another_client_keeps_the_uid(box: MaildirMailbox) -> None:
    inbox = box.folder_path("INBOX")
    path = deliver(inbox, RAW, flags="S")
    [m] = box.fetch_new("INBOX", after_uid=0)
    # mutt marks it answered: same key, new name.
    path.rename(path.with_name(path.name.replace(":2,S", ":2,RS")))
    assert box.fetch_new("INBOX", after_uid=m.uid) == []
    assert box.fetch_flags("INBOX", [m.uid]) == {m.uid: frozenset({"\\Answered", "\\Seen"})}
    assert box.fetch_body("INBOX", m.uid, 100) == RAW


def test_new_mail_stays_in_new(box: MaildirMailbox) -> None:
    path = deliver(box.folder_path("INBOX"), RAW)
    box.fetch_new("INBOX", after_uid=0)
    box.fetch_body("INBOX", 1, 100)
    box.status("INBOX")
    assert path.exists() and path.parent.name == "new"


def test_draft_renamed_by_a_sync_tool_keeps_its_uid_and_can_be_withdrawn(
    box: MaildirMailbox,
) -> None:
    uid = box.append_draft("Drafts", OURS, datetime.now(UTC))
    [path] = (box.folder_path("Drafts") / "cur").iterdir()
    assert path.name.endswith(":2,DS")
    # mbsync uploads it and records the server UID in the name.
    key, _, info = path.name.partition(":")
    path.rename(path.with_name(f"{key},U=17:{info}"))
    assert box.fetch_new("Drafts", after_uid=uid) == []
    validity = box.status("Drafts").uidvalidity
    box.withdraw("Drafts", uid or 0, "Trash", uidvalidity=validity, identity=OURS_ID)
    assert list((box.folder_path("Drafts") / "cur").iterdir()) == []
    [trashed] = (box.folder_path("Trash") / "cur").iterdir()
    assert trashed.read_bytes() == OURS


def test_withdraw_refuses_the_users_own_draft(box: MaildirMailbox) -> None:
    path = deliver(box.folder_path("Drafts"), RAW, flags="DS")
    validity = box.status("Drafts").uidvalidity
    with pytest.raises(MailboxFatalError, match="not our draft"):
        box.withdraw("Drafts", 1, "Trash", uidvalidity=validity, identity=OURS_ID)
    assert path.exists()


def test_withdraw_without_trash_deletes_only_ours(box: MaildirMailbox) -> None:
    users = deliver(box.folder_path("Drafts"), RAW, flags="DS")
    uid = box.append_draft("Drafts", OURS, datetime.now(UTC))
    assert uid == 2
    validity = box.status("Drafts").uidvalidity
    done = box.withdraw("Drafts", uid, None, uidvalidity=validity, identity=OURS_ID)
    assert done is Withdrawn.DELETED
    assert [p.name for p in (box.folder_path("Drafts") / "cur").iterdir()] == [users.name]


def test_lost_index_means_new_uidvalidity(root: Path, tmp_path: Path) -> None:
    deliver(root, RAW)
    first = MaildirMailbox(root, index=tmp_path / "a.sqlite3")
    before = first.status("INBOX")
    first.close()
    (tmp_path / "a.sqlite3").unlink()
    again = MaildirMailbox(root, index=tmp_path / "a.sqlite3")
    after = again.status("INBOX")
    assert after.uidvalidity != before.uidvalidity
    assert (after.messages, after.uidnext) == (1, 2)


def test_two_processes_agree_on_uids(root: Path, tmp_path: Path) -> None:
    a = MaildirMailbox(root, index=tmp_path / "i.sqlite3")
    b = MaildirMailbox(root, index=tmp_path / "i.sqlite3")
    deliver(root, RAW)
    assert [m.uid for m in a.fetch_new("INBOX", after_uid=0)] == [1]
    deliver(root, RAW)
    assert [m.uid for m in b.fetch_new("INBOX", after_uid=0)] == [1, 2]
    assert [m.uid for m in a.fetch_new("INBOX", after_uid=0)] == [1, 2]


@pytest.mark.parametrize("layout", ["maildir++", "fs"])
def test_layout_detected(tmp_path: Path, layout: str) -> None:
    create_maildir(tmp_path / "m", layout, folders=("Drafts", "Sent", "Work/Recruiters"))
    assert detect_layout(tmp_path / "m") == layout
    box = MaildirMailbox(tmp_path / "m", index=tmp_path / "i.sqlite3")
    f = box.folders()
    assert (f.drafts, f.sent, f.trash) == ("Drafts", "Sent", None)
    assert f.delimiter == ("." if layout == "maildir++" else "/")
    nested = "Work.Recruiters" if layout == "maildir++" else "Work/Recruiters"
    assert box.status(nested).messages == 0


def test_folder_names_from_config(tmp_path: Path) -> None:
    create_maildir(tmp_path / "m", "maildir++", folders=("[Gmail].Drafts", "Gesendet"))
    box = MaildirMailbox(
        tmp_path / "m", index=tmp_path / "i.sqlite3", folder_overrides={"sent": ".Gesendet"}
    )
    f = box.folders()
    assert (f.drafts, f.sent) == ("[Gmail].Drafts", "Gesendet")
    assert f.found_by["sent"] == "config"


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: None, "not a directory"),
        (lambda p: p.mkdir(), "no Maildir at"),
    ],
    ids=["missing", "empty"],
)
def test_not_a_maildir(tmp_path: Path, make: object, match: str) -> None:
    path = tmp_path / "nothing"
    make(path)  # type: ignore[operator]
    with pytest.raises(FolderError, match=match):
        MaildirMailbox(path, index=tmp_path / "i.sqlite3").connect()


def test_unknown_folder(box: MaildirMailbox) -> None:
    with pytest.raises(FolderError, match="no folder 'Nope'"):
        box.status("Nope")


def test_abort_ends_a_wait_from_another_thread(box: MaildirMailbox) -> None:
    timer = threading.Timer(0.2, box.abort)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(MailboxTransientError, match="aborted"):
            box.wait("INBOX", 30)
    finally:
        timer.join()
    assert time.monotonic() - started < 2
    assert box.wait("INBOX", 0.1) is False  # usable again
