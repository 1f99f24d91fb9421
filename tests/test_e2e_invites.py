"""Interviews from calendar invitations, end to end: Dovecot, the CLI, and the drafts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent import config
from agent.engine import Engine
from agent.imap import ImapMailbox
from agent.mailbox import Mailbox
from agent.store import Store
from tests.dovecot import Dovecot, MailUser
from tests.support import Account, make_account

pytestmark = pytest.mark.dovecot

CORPUS = Path(__file__).parent / "corpus" / "invites"


@pytest.fixture
def acct(
    dovecot: Dovecot,
    mail_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Account:
    return make_account(dovecot, mail_user, tmp_path, capsys, monkeypatch)


def deliver(acct: Account, name: str) -> None:
    raw = (
        (CORPUS / name).read_bytes().replace(b"alex@candidate.example", acct.user.address.encode())
    )
    acct.deliver("INBOX", raw)


def invites(acct: Account, now: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(acct.ok("invites", "--json", now=now).out)
    return data


def show(acct: Account, app_id: int, now: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(acct.ok("show", str(app_id), "--json", now=now).out)
    return data


def starts(data: dict[str, Any]) -> list[datetime]:
    return [datetime.fromisoformat(iv["starts_at"]) for iv in data["interviews"]]


def set_mode(acct: Account, mode: str) -> None:
    text = acct.config.read_text(encoding="utf-8")
    acct.config.write_text(text.replace('invitations = "ask"', f'invitations = "{mode}"'))


def test_invitation_to_thank_yous_after_the_moved_interview(acct: Account) -> None:
    deliver(acct, "google_request.eml")
    deliver(acct, "dentist.eml")  # a look-alike: never listed
    out = acct.ok("run", "--once", now="2026-11-10 09:00").out
    assert "invitation 1 to review: Interview: Data Engineer at Acme" in out
    (entry,) = invites(acct, "2026-11-10 09:01")
    assert entry["summary"] == "Interview: Data Engineer at Acme"
    assert entry["start"] == "2026-11-20T14:00:00+01:00"
    assert entry["end"] == "2026-11-20T15:00:00+01:00"
    assert entry["organizer"] == "Bob Smith <bob.smith@acme.com>"
    # Without the user and the meeting room.
    assert entry["attendees"] == [{"name": "Jane Doe", "email": "jane.doe@acme.com"}]
    assert entry["status"] == "new" and entry["application_id"] is None
    assert entry["proposal"]["company"] == "Acme"
    assert entry["proposal"]["role"] == "Data Engineer"
    assert entry["proposal"]["kind"] == "video"
    assert {(p["email"], p["role"]) for p in entry["proposal"]["people"]} == {
        ("jane.doe@acme.com", "interviewer"),
        ("bob.smith@acme.com", "recruiter"),
    }
    assert "1 interview invitation to review" in acct.ok("status", now="2026-11-10 09:01").out
    assert "1 interview invitation to review" in acct.ok("agenda", now="2026-11-10 09:01").out

    app_id = int(
        acct.ok("invites", "add", "1", "--decision-by", "2026-12-04", now="2026-11-10 09:02")
        .out.strip()
        .splitlines()[-1]
    )
    (entry,) = invites(acct, "2026-11-10 09:03")
    assert entry["status"] == "added" and entry["application_id"] == app_id
    assert "to review" not in acct.ok("status", now="2026-11-10 09:03").out
    again = acct.run("invites", "add", "1", now="2026-11-10 09:03")
    assert again.code == 2 and "already application" in again.err

    deliver(acct, "google_update.eml")
    out = acct.ok("run", "--once", now="2026-11-11 09:00").out
    assert "invitation 1 moved" in out
    data = show(acct, app_id, "2026-11-11 09:01")
    assert starts(data) == [datetime(2026, 11, 23, 15, tzinfo=UTC)]
    assert any("interview moved" in t.get("detail", "") for t in data["timeline"])

    # The old time is no reason to thank anyone; the new end plus the delay is.
    acct.ok("run", "--once", now="2026-11-20 17:00")
    assert acct.drafts() == []
    out = acct.ok("run", "--once", now="2026-11-23 18:30").out
    assert out.count("drafted thank_you") == 2
    recipients = sorted(str(d["To"]) for d in acct.drafts())
    assert recipients == ["Bob Smith <bob.smith@acme.com>", "Jane Doe <jane.doe@acme.com>"]


def test_a_cancel_withdraws_the_drafts_and_stops(acct: Account) -> None:
    deliver(acct, "goodtime.eml")
    acct.ok("run", "--once", now="2026-11-18 09:00")
    app_id = int(
        acct.ok("invites", "add", "1", "--role", "Backend Engineer", now="2026-11-18 09:01")
        .out.strip()
        .splitlines()[-1]
    )
    out = acct.ok("run", "--once", now="2026-12-02 21:30").out
    assert out.count("drafted thank_you") == 2
    assert len(acct.drafts()) == 2

    deliver(acct, "goodtime_cancel.eml")
    out = acct.ok("run", "--once", now="2026-12-02 22:00").out
    assert "invitation 1 cancelled" in out
    assert acct.drafts() == []
    assert len(acct.folder("Trash")) == 2
    data = show(acct, app_id, "2026-12-02 21:01")
    assert data["state"] == "stopped"
    assert data["stop_reason"] == "the interview was cancelled"
    (entry,) = invites(acct, "2026-12-02 21:01")
    assert entry["status"] == "cancelled"
    # The same cancel seen again changes nothing.
    assert "nothing due" in acct.ok("run", "--once", now="2026-12-02 22:05").out


def test_auto_adds_at_once_and_says_so(acct: Account) -> None:
    set_mode(acct, "auto")
    deliver(acct, "greenhouse.eml")
    deliver(acct, "calendly.eml")  # no role in its summary: left for review
    out = acct.ok("run", "--once", now="2026-11-17 09:00").out
    assert "invitation 1 added as application 1" in out
    assert "invitation 2 to review" in out
    data = show(acct, 1, "2026-11-17 09:01")
    assert (data["company"], data["role"]) == ("Fabrikam", "Staff Engineer")
    assert {(c["email"], c["role"]) for c in data["contacts"]} == {
        ("tom.reyes@fabrikam.com", "hiring_manager"),
        ("lisa.chen@fabrikam.com", "interviewer"),
        ("priya.natarajan@fabrikam.com", "recruiter"),
    }
    # Greenhouse re-sends the same SEQUENCE in a new mail when the interview moves.
    deliver(acct, "greenhouse_moved.eml")
    assert "invitation 1 moved" in acct.ok("run", "--once", now="2026-11-24 09:00").out
    data = show(acct, 1, "2026-11-24 09:01")
    assert starts(data) == [datetime(2026, 12, 3, 18, tzinfo=UTC)]


def test_off_leaves_invitations_alone(acct: Account) -> None:
    set_mode(acct, "off")
    deliver(acct, "google_request.eml")
    assert "nothing due" in acct.ok("run", "--once", now="2026-11-10 09:00").out
    assert invites(acct, "2026-11-10 09:01") == []


def test_ignore(acct: Account) -> None:
    deliver(acct, "outlook_eastern_phone.eml")
    acct.ok("run", "--once", now="2026-11-12 09:00")
    assert "ignored invitation 1" in acct.ok("invites", "ignore", "1", now="2026-11-12 09:01").out
    assert "no interview invitations to review" in acct.ok("invites", now="2026-11-12 09:02").out
    (entry,) = invites(acct, "2026-11-12 09:02")
    assert entry["status"] == "ignored"


class CountingMailbox:
    """Delegates to the real IMAP mailbox and counts the bodies fetched."""

    def __init__(self, inner: ImapMailbox) -> None:
        self.inner = inner
        self.bodies: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch_body(self, folder: str, uid: int, max_bytes: int) -> bytes | None:
        self.bodies.append(uid)
        return self.inner.fetch_body(folder, uid, max_bytes)


def test_only_calendar_mail_has_its_body_fetched(acct: Account, tmp_path: Path) -> None:
    corpus = Path(__file__).parent / "corpus"
    for name in ("newsletter.eml", "reply_colleague.eml", "huge_malformed_mime.eml"):
        acct.deliver("INBOX", (corpus / name).read_bytes())
    deliver(acct, "outlook_request.eml")  # UID 4
    cfg = config.load(acct.config)
    store = Store.open(tmp_path / "state.sqlite3")
    inner = ImapMailbox(
        acct.dovecot.host,
        acct.dovecot.port_tls,
        "tls",
        acct.user.name,
        acct.user.password,
        ca_file=str(acct.dovecot.ca_file),
    )
    mb = CountingMailbox(inner)
    mailbox: Mailbox = mb  # type: ignore[assignment]
    try:
        Engine(cfg, store, mailbox).run_cycle(datetime(2026, 11, 12, 9, tzinfo=UTC))
        assert mb.bodies == [4]
        # A cycle with no new mail fetches no body at all.
        Engine(cfg, store, mailbox).run_cycle(datetime(2026, 11, 12, 10, tzinfo=UTC))
        assert mb.bodies == [4]
    finally:
        inner.close()
        store.close()


def test_cancelling_a_later_round_withdraws_its_drafts_only(acct: Account) -> None:
    app_id = acct.add(
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-02 10:00",
        "--kind",
        "phone",
        "--recruiter",
        "Bob Smith <bob.smith@acme.com>",
        now="2026-11-02 12:00",
    )
    acct.ok("run", "--once", now="2026-11-02 12:00")  # round 1's thank-you
    assert len(acct.drafts()) == 1
    # Bob's invitation to a second round is also the company's answer to the first.
    deliver(acct, "google_request.eml")
    out = acct.ok("run", "--once", now="2026-11-10 09:00").out
    assert f"application {app_id} is now responded" in out
    assert acct.drafts() == []
    second = acct.ok("invites", "add", "1", now="2026-11-10 09:01").out.strip().splitlines()
    assert second[0].startswith(f"added #{app_id} Acme — Data Engineer (round 2): ")
    assert second[-1] == str(app_id)
    out = acct.ok("run", "--once", now="2026-11-20 16:30").out
    assert out.count("drafted thank_you") == 2
    assert len(acct.drafts()) == 2

    deliver(acct, "google_cancel.eml")  # same UID, SEQUENCE 2
    out = acct.ok("run", "--once", now="2026-11-20 17:00").out
    assert "invitation 1 cancelled" in out
    assert acct.drafts() == []
    assert len(acct.folder("Trash")) == 3
    data = show(acct, app_id, "2026-11-20 17:01")
    assert data["state"] == "active"
    assert [iv["round"] for iv in data["interviews"]] == [1]
