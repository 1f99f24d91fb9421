"""One contract, every backend: IMAP against the real Dovecot, local Maildirs, memory.

Each case runs against `ImapMailbox`, `MaildirMailbox` (Maildir++ and
plain-directory layouts) and `MemoryMailbox` through the same small harness:
deliver a message as the user's mail system would, look at what is stored,
reopen the mailbox.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from agent import maildir
from agent.classify import parse_header
from agent.draftid import DraftIds
from agent.errors import MailboxFatalError
from agent.imap import ImapMailbox
from agent.mailbox import DraftIdentity, Mailbox, Withdrawn
from agent.maildir import MaildirMailbox
from agent.maildir_files import file_flags
from agent.memory import MemoryMailbox, MemoryServer
from tests.dovecot import Dovecot, MailUser

FOLDERS = ("INBOX", "Drafts", "Sent", "Trash", "Archive")
_LETTERS = {"\\Seen": "S", "\\Flagged": "F", "\\Deleted": "T", "\\Draft": "D", "\\Answered": "R"}
_seq = itertools.count(1)


# Our drafts' Message-IDs, as the agent makes them (agent/draftid.py).
IDS = DraftIds(b"contract suite key")


def message(subject: str, *, ours: bool = False, legacy: bool = False) -> bytes:
    """A message; `ours`: a draft as the agent writes it now (no header of ours);
    `legacy`: a draft of the old scheme, with X-Followup-Id."""
    key = subject.replace(" ", "-")
    if ours:
        mid, extra = IDS.new("example.test"), ""
    elif legacy:
        mid = f"<followup.{next(_seq):012x}.{'0' * 12}@example.test>"
        extra = f"X-Followup-Id: a1.{key}\r\n"
    else:
        mid = f"<{subject.replace(' ', '.')}.{next(_seq)}@acme.test>"
        extra = "X-Unrelated: not fetched\r\n"
    return (
        "From: Jane Doe <jane@acme.test>\r\n"
        "To: cand@example.test\r\n"
        f"Subject: {subject}\r\n"
        "Date: Fri, 20 Nov 2026 15:00:00 +0000\r\n"
        f"Message-ID: {mid}\r\n"
        f"{extra}"
        "\r\n"
        f"Body of {subject}.\r\n"
    ).encode()


def identity_of(raw: bytes) -> DraftIdentity:
    """What the agent would pass the withdraw guard for this draft of ours."""
    h = parse_header(raw)
    return DraftIdentity(followup_id=h.followup_id, message_id=h.message_id)


def lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


class Backend(Protocol):
    def open(self) -> Mailbox: ...

    def deliver(self, folder: str, raw: bytes, *flags: str) -> None: ...

    def stored(self, folder: str) -> list[tuple[frozenset[str], bytes]]: ...

    def users_view(self) -> object:
        """Everything about the stored mail a reader could change (flags, names, times)."""
        ...


class ImapBackend:
    def __init__(self, dovecot: Dovecot, user: MailUser) -> None:
        self.dovecot, self.user = dovecot, user

    def open(self) -> Mailbox:
        box = ImapMailbox(
            self.dovecot.host,
            self.dovecot.port_tls,
            "tls",
            self.user.name,
            self.user.password,
            ca_file=str(self.dovecot.ca_file),
            timeout=10,
        )
        box.connect()
        return box

    def deliver(self, folder: str, raw: bytes, *flags: str) -> None:
        self.dovecot.deliver(self.user, folder, raw)
        if flags:
            uid = self.dovecot.messages(self.user, folder)[-1].uid
            self.dovecot.add_flags(self.user, folder, uid, *flags)

    def stored(self, folder: str) -> list[tuple[frozenset[str], bytes]]:
        return [(m.flags, m.raw) for m in self.dovecot.messages(self.user, folder)]

    def users_view(self) -> object:
        return {f: [(m.uid, m.flags) for m in self.dovecot.messages(self.user, f)] for f in FOLDERS}


class MaildirBackend:
    def __init__(self, root: Path, layout: str) -> None:
        self.root = root / "Mail"
        self.index = root / "state" / "index.sqlite3"
        maildir.create_maildir(self.root, layout)
        self.when = datetime.now(UTC) - timedelta(minutes=5)

    def open(self) -> Mailbox:
        box = MaildirMailbox(self.root, index=self.index)
        box.connect()
        return box

    def _dir(self, folder: str) -> Path:
        box = MaildirMailbox(self.root, index=self.index)
        try:
            return box.folder_path(folder)
        finally:
            box.close()

    def deliver(self, folder: str, raw: bytes, *flags: str) -> None:
        # Distinct, increasing delivery times, as a real delivery agent gives.
        self.when += timedelta(seconds=1)
        letters = "".join(sorted(_LETTERS[f] for f in flags))
        maildir.deliver(self._dir(folder), raw, flags=letters, when=self.when)

    def stored(self, folder: str) -> list[tuple[frozenset[str], bytes]]:
        d = self._dir(folder)
        files = sorted(
            (p for sub in ("new", "cur") for p in (d / sub).iterdir()),
            key=lambda p: p.stat().st_mtime_ns,
        )
        return [(file_flags(p.name), p.read_bytes()) for p in files]

    def users_view(self) -> object:
        return {
            str(p.relative_to(self.root)): p.stat().st_mtime_ns
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }


class MemoryBackend:
    def __init__(self) -> None:
        self.server = MemoryServer()

    def open(self) -> Mailbox:
        box = MemoryMailbox(self.server)
        box.connect()
        return box

    def deliver(self, folder: str, raw: bytes, *flags: str) -> None:
        self.server.deliver(folder, raw, flags)

    def stored(self, folder: str) -> list[tuple[frozenset[str], bytes]]:
        return [(frozenset(m.flags), m.raw) for m in self.server.messages(folder)]

    def users_view(self) -> object:
        return {
            f: [(m.uid, m.flags, m.raw, m.internaldate) for m in self.server.messages(f)]
            for f in FOLDERS
        }


@pytest.fixture(
    params=[
        pytest.param("imap", marks=pytest.mark.dovecot),
        "maildir++",
        "fs",
        "memory",
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "imap":
        dovecot: Dovecot = request.getfixturevalue("dovecot")
        user: MailUser = request.getfixturevalue("mail_user")
        return ImapBackend(dovecot, user)
    if request.param == "memory":
        return MemoryBackend()
    return MaildirBackend(tmp_path, request.param)


@pytest.fixture
def mbox(backend: Backend) -> Iterator[Mailbox]:
    box = backend.open()
    yield box
    box.close()


def test_folders_found(mbox: Mailbox) -> None:
    f = mbox.folders()
    assert (f.inbox, f.drafts, f.sent, f.trash, f.archive) == FOLDERS


def test_fetch_new_incremental(backend: Backend, mbox: Mailbox) -> None:
    for i in range(3):
        backend.deliver("INBOX", message(f"msg {i}"))
    first = mbox.fetch_new("INBOX", after_uid=0)
    assert [m.uid for m in first] == [1, 2, 3]
    assert [m.header.count(f"Subject: msg {i}".encode()) for i, m in enumerate(first)] == [1] * 3
    m = first[0]
    assert b"Message-ID:" in m.header and b"From: Jane Doe" in m.header
    assert b"X-Unrelated" not in m.header and b"Body of" not in m.header
    assert m.size > 0 and m.folder == "INBOX" and m.flags == frozenset()
    assert m.internaldate is not None and m.internaldate.tzinfo is not None

    assert mbox.fetch_new("INBOX", after_uid=3) == []
    assert mbox.fetch_new("INBOX", after_uid=100) == []
    backend.deliver("INBOX", message("msg 3"))
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=3)] == [4]


def test_fetch_new_since_applies_to_a_first_sync_only(backend: Backend, mbox: Mailbox) -> None:
    backend.deliver("INBOX", message("old"))
    backend.deliver("INBOX", message("new"))
    tomorrow = date.today() + timedelta(days=1)
    assert mbox.fetch_new("INBOX", after_uid=0, since=tomorrow) == []
    assert len(mbox.fetch_new("INBOX", after_uid=0, since=date.today())) == 2
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=1, since=tomorrow)] == [2]


def test_reads_never_change_the_users_messages(backend: Backend, mbox: Mailbox) -> None:
    backend.deliver("INBOX", message("unread"))
    backend.deliver("INBOX", message("flagged"), "\\Flagged", "\\Seen")
    backend.deliver("Sent", message("sent by me"), "\\Seen")
    before = backend.users_view()

    fetched = mbox.fetch_new("INBOX", after_uid=0)
    assert [m.flags for m in fetched] == [frozenset(), frozenset({"\\Flagged", "\\Seen"})]
    mbox.fetch_new("Sent", after_uid=0)
    body = mbox.fetch_body("INBOX", 1, 10_000)
    assert body is not None and b"Body of unread" in body
    assert mbox.fetch_flags("INBOX", [1, 2]) == {
        1: frozenset(),
        2: frozenset({"\\Flagged", "\\Seen"}),
    }
    mbox.status("INBOX")
    mbox.wait("INBOX", 0.1)
    again = backend.open()
    again.fetch_new("INBOX", after_uid=0)
    again.close()

    assert backend.users_view() == before


def test_fetch_body_partial_and_gone(backend: Backend, mbox: Mailbox) -> None:
    raw = message("body")
    backend.deliver("INBOX", raw)
    assert mbox.fetch_body("INBOX", 1, 10) == raw[:10]
    assert mbox.fetch_body("INBOX", 1, 100_000) == raw
    assert mbox.fetch_body("INBOX", 99, 10) is None
    assert mbox.fetch_flags("INBOX", [1, 99]) == {1: frozenset()}
    assert mbox.fetch_flags("INBOX", []) == {}


def test_append_draft_is_a_seen_draft_with_a_uid(backend: Backend, mbox: Mailbox) -> None:
    when = datetime(2026, 11, 20, 16, 30, 15, tzinfo=UTC)
    raw = message("thank you", ours=True)
    uid = mbox.append_draft("Drafts", raw, when)
    assert uid == 1
    [(flags, stored)] = backend.stored("Drafts")
    assert flags == frozenset({"\\Draft", "\\Seen"})
    assert lf(stored) == lf(raw)
    [fetched] = mbox.fetch_new("Drafts", after_uid=0)
    assert fetched.uid == uid and fetched.internaldate == when
    assert parse_header(fetched.header).message_id == parse_header(raw).message_id
    assert mbox.status("Drafts").uidnext == uid + 1
    assert mbox.append_draft("Drafts", message("second", ours=True), when) == 2


def test_withdraw_moves_only_our_draft(backend: Backend, mbox: Mailbox) -> None:
    backend.deliver("Drafts", message("users own unfinished mail"), "\\Deleted")
    ours = message("stale check-in", ours=True)
    uid = mbox.append_draft("Drafts", ours, datetime.now(UTC))
    assert uid == 2
    before = backend.stored("Drafts")[0]

    validity = mbox.status("Drafts").uidvalidity
    identity = identity_of(ours)
    with pytest.raises(MailboxFatalError):  # not a draft of ours
        mbox.withdraw("Drafts", 1, "Trash", uidvalidity=validity, identity=identity)
    done = mbox.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=identity)

    assert done is Withdrawn.TO_TRASH
    assert backend.stored("Drafts") == [before]
    assert [lf(raw) for _, raw in backend.stored("Trash")] == [lf(ours)]
    assert [m.uid for m in mbox.fetch_new("Drafts", after_uid=0)] == [1]
    # Already gone: nothing to do.
    again = mbox.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=identity)
    assert again is Withdrawn.ALREADY_GONE


def test_withdraw_without_trash_deletes_and_says_so(backend: Backend, mbox: Mailbox) -> None:
    backend.deliver("Drafts", message("users own"), "\\Draft", "\\Seen")
    ours = message("check in", ours=True)
    uid = mbox.append_draft("Drafts", ours, datetime.now(UTC))
    assert uid == 2
    validity = mbox.status("Drafts").uidvalidity
    identity = identity_of(ours)
    done = mbox.withdraw("Drafts", uid, None, uidvalidity=validity, identity=identity)
    assert done is Withdrawn.DELETED
    assert [b"users own" in raw for _, raw in backend.stored("Drafts")] == [True]
    assert backend.stored("Trash") == []


def test_writes_go_only_to_the_drafts_folder(backend: Backend, mbox: Mailbox) -> None:
    backend.deliver("INBOX", message("from the company"))
    with pytest.raises(MailboxFatalError, match="only to Drafts"):
        mbox.append_draft("INBOX", message("ours", ours=True), datetime.now(UTC))
    validity = mbox.status("INBOX").uidvalidity
    with pytest.raises(MailboxFatalError, match="only to Drafts"):
        mbox.withdraw("INBOX", 1, "Trash", uidvalidity=validity, identity=DraftIdentity("a1.x"))
    assert len(backend.stored("INBOX")) == 1 and backend.stored("Trash") == []


def test_status_of_a_kept_folder_follows_every_delivery(backend: Backend, mbox: Mailbox) -> None:
    # INBOX is asked about every cycle with keep_selected: it must see each
    # delivery at once (IMAP: via NOOP, never a stale answer) and agree with a
    # plain status of the same folder.
    backend.deliver("INBOX", message("first"))
    first = mbox.status("INBOX", keep_selected=True)
    assert (first.messages, first.uidnext) == (1, 2)
    assert mbox.status("INBOX", keep_selected=True) == first
    for n in (2, 3):
        backend.deliver("INBOX", message(f"m{n}"))
        kept = mbox.status("INBOX", keep_selected=True)
        assert (kept.messages, kept.uidnext, kept.uidvalidity) == (n, n + 1, first.uidvalidity)
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=1)] == [2, 3]
    backend.deliver("Sent", message("sent"))
    assert mbox.status("Sent").messages == 1
    backend.deliver("INBOX", message("m4"))
    kept = mbox.status("INBOX", keep_selected=True)
    assert kept.uidnext == 5 and kept == mbox.status("INBOX")


def test_status_and_uids_stable_across_reopening(backend: Backend, mbox: Mailbox) -> None:
    for i in range(2):
        backend.deliver("INBOX", message(f"m{i}"))
    first = mbox.status("INBOX")
    assert (first.messages, first.uidnext) == (2, 3) and first.uidvalidity > 0
    uids = [(m.uid, m.header) for m in mbox.fetch_new("INBOX", after_uid=0)]
    mbox.close()

    again = backend.open()
    try:
        assert again.status("INBOX") == first
        assert [(m.uid, m.header) for m in again.fetch_new("INBOX", after_uid=0)] == uids
        backend.deliver("INBOX", message("m2"))
        later = again.status("INBOX")
        assert later.uidvalidity == first.uidvalidity
        assert (later.messages, later.uidnext) == (3, 4)
        if first.highestmodseq is not None:
            assert later.highestmodseq is not None and later.highestmodseq > first.highestmodseq
    finally:
        again.close()


def test_wait_wakes_on_delivery(backend: Backend, mbox: Mailbox) -> None:
    mbox.fetch_new("INBOX", after_uid=0)
    timer = threading.Timer(0.15, backend.deliver, ("INBOX", message("ping")))
    started = time.monotonic()
    timer.start()
    try:
        assert mbox.wait("INBOX", 10) is True
    finally:
        timer.join()
    assert time.monotonic() - started < 2.5
    assert mbox.wait("INBOX", 0.2) is False  # a change is reported once
    assert [m.uid for m in mbox.fetch_new("INBOX", after_uid=0)] == [1]


def test_wait_times_out(mbox: Mailbox) -> None:
    mbox.fetch_new("INBOX", after_uid=0)
    started = time.monotonic()
    assert mbox.wait("INBOX", 0.2) is False
    assert 0.15 < time.monotonic() - started < 2
    assert mbox.fetch_new("INBOX", after_uid=0) == []


MINE_RAW = message("mine", ours=True)
MINE = identity_of(MINE_RAW)


@pytest.mark.parametrize(
    ("guard", "match"),
    [
        ({"uidvalidity": 1}, "UIDVALIDITY"),
        ({"uidvalidity": None}, "UIDVALIDITY is unknown"),
        ({"identity": DraftIdentity(followup_id="a1.someone-else")}, "not our draft"),
        ({"identity": DraftIdentity()}, "no identity given"),
        ({"identity": DraftIdentity(message_id="<other@acme.test>")}, "its Message-ID is"),
        (
            {"identity": DraftIdentity(followup_id="a1.mine", message_id=MINE.message_id)},
            "not our draft",
        ),
    ],
    ids=["uidvalidity", "uidvalidity-unknown", "followup-id", "no-identity", "message-id", "both"],
)
def test_withdraw_refuses_when_the_guard_does_not_match(
    backend: Backend, mbox: Mailbox, guard: dict[str, Any], match: str
) -> None:
    uid = mbox.append_draft("Drafts", MINE_RAW, datetime.now(UTC))
    assert uid is not None
    args: dict[str, Any] = {"uidvalidity": mbox.status("Drafts").uidvalidity, "identity": MINE}
    with pytest.raises(MailboxFatalError, match=match):
        mbox.withdraw("Drafts", uid, "Trash", **(args | guard))
    assert len(backend.stored("Drafts")) == 1 and backend.stored("Trash") == []


@pytest.mark.parametrize("brackets", [True, False], ids=["<id>", "bare-id"])
def test_withdraw_by_message_id_alone(backend: Backend, mbox: Mailbox, brackets: bool) -> None:
    # Our drafts carry no header of ours: the Message-ID is their identity.
    uid = mbox.append_draft("Drafts", message("by id", ours=True), datetime.now(UTC))
    assert uid is not None
    [fetched] = mbox.fetch_new("Drafts", after_uid=0)
    mid = next(
        line.partition(b":")[2].strip().decode()
        for line in fetched.header.splitlines()
        if line.lower().startswith(b"message-id:")
    )
    identity = DraftIdentity(message_id=mid if brackets else mid.strip("<>"))
    validity = mbox.status("Drafts").uidvalidity
    done = mbox.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=identity)
    assert done is Withdrawn.TO_TRASH and backend.stored("Drafts") == []


@pytest.mark.legacy_drafts
def test_an_old_scheme_draft_is_still_withdrawn_by_both_its_marks(
    backend: Backend, mbox: Mailbox
) -> None:
    # Drafts written before issue 16 carry X-Followup-Id and a <followup.…> id:
    # the guard still reads the header and wants both to match.
    old = message("old note", legacy=True)
    uid = mbox.append_draft("Drafts", old, datetime.now(UTC))
    assert uid is not None
    [fetched] = mbox.fetch_new("Drafts", after_uid=0)
    assert parse_header(fetched.header).followup_id == "a1.old-note"
    validity = mbox.status("Drafts").uidvalidity
    wrong = DraftIdentity(followup_id="a1.other", message_id=identity_of(old).message_id)
    with pytest.raises(MailboxFatalError, match=r"X-Followup-Id is a1\.old-note"):
        mbox.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=wrong)
    done = mbox.withdraw("Drafts", uid, "Trash", uidvalidity=validity, identity=identity_of(old))
    assert done is Withdrawn.TO_TRASH and backend.stored("Drafts") == []
