"""End to end through the CLI against Dovecot: what mail arriving in the mailbox does."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from agent.store import Store
from tests.dovecot import Dovecot, MailUser
from tests.support import Account, make_account

pytestmark = pytest.mark.dovecot

CORPUS = Path(__file__).parent / "corpus"
USER_FOLDERS = ("INBOX", "Sent", "Archive")


@pytest.fixture
def acct(
    dovecot: Dovecot,
    mail_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Account:
    return make_account(dovecot, mail_user, tmp_path, capsys, monkeypatch)


def add_acme(acct: Account) -> int:
    return acct.add(
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--duration",
        "60",
        "--kind",
        "onsite",
        "--interviewer",
        "Jane Doe <jane@acme.example>",
        "--hiring-manager",
        "Maria Garcia <maria@acme.example>",
        "--recruiter",
        "Bob Smith <bob@talentco.example>",
        "--agency",
        "--decision-by",
        "2026-12-04",
        now="2026-11-16 15:10",
    )


def mail(
    frm: str,
    to: str,
    subject: str,
    when: str,
    msgid: str,
    body: str = "Hello,\n\nThanks.\n",
    **headers: str,
) -> EmailMessage:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(
        datetime.fromisoformat(when).replace(tzinfo=ZoneInfo("Europe/Berlin"))
    )
    msg["Message-ID"] = msgid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


class Flags:
    """The user's messages and their flags, to prove a run changed none of them."""

    def __init__(self, acct: Account) -> None:
        self.acct = acct
        self.before = self.snapshot()

    def snapshot(self) -> dict[tuple[str, int], frozenset[str]]:
        return {
            (folder, m.uid): m.flags for folder in USER_FOLDERS for m in self.acct.folder(folder)
        }

    def run(self, now: str) -> str:
        self.before = self.snapshot()
        out = self.acct.ok("run", "--once", now=now).out
        assert self.snapshot() == self.before, "a run changed the user's flags"
        return out


def app_json(acct: Account, app_id: int, now: str | None = None) -> dict[str, object]:
    data: dict[str, object] = json.loads(acct.ok("show", str(app_id), "--json", now=now).out)
    return data


def steps(app: dict[str, object]) -> list[tuple[str, str, str | None]]:
    rows = app["steps"]
    assert isinstance(rows, list)
    return sorted((s["kind"], s["state"], s["to"]) for s in rows)


def test_reply_from_interviewer_stops_everything(acct: Account) -> None:
    app_id = add_acme(acct)
    flags = Flags(acct)
    out = flags.run("2026-11-16 16:05")
    drafted = out.count("drafted thank_you")
    assert drafted >= 2 and len(acct.folder("Drafts")) == drafted
    thank_you = next(d for d in acct.drafts() if "jane@" in str(d["To"]))
    # An unread message and a flagged one of the user's, to check no flag moves.
    acct.deliver(
        "INBOX",
        mail(
            "news@other.example", acct.user.address, "Hi", "2026-11-17 08:00", "<n1@other.example>"
        ),
    )
    acct.deliver(
        "INBOX",
        mail(
            "Jane Doe <jane@acme.example>",
            acct.user.address,
            "Re: " + str(thank_you["Subject"]),
            "2026-11-18 09:30",
            "<r1@acme.example>",
            In_Reply_To=str(thank_you["Message-ID"]),
        ),
    )
    acct.dovecot.add_flags(acct.user, "INBOX", 1, "\\Flagged")

    out = flags.run("2026-11-18 10:00")
    assert f"application {app_id} is now responded" in out
    app = app_json(acct, app_id)
    assert app["state"] == "responded"
    assert app["next_step"] is None
    assert ("thank_you", "withdrawn", "jane@acme.example") in steps(app)
    assert not any(state == "planned" for _, state, _ in steps(app))
    assert acct.folder("Drafts") == []
    assert len(acct.folder("Trash")) == drafted
    (resp,) = app["responses"]  # type: ignore[misc]
    assert "jane@acme.example" in resp["from"] and resp["subject"].startswith("Re: Thank you")
    shown = acct.ok("show", str(app_id)).out
    assert "reply from Jane Doe <jane@acme.example>" in shown

    # Idempotent, and no check-in ever, even long after the decision date.
    assert "nothing due" in flags.run("2026-11-18 10:05")
    flags.run("2026-12-15 10:00")
    assert acct.folder("Drafts") == []
    assert steps(app_json(acct, app_id)) == steps(app)


def test_messages_table_kinds_are_recorded(acct: Account, tmp_path: Path) -> None:
    add_acme(acct)
    flags = Flags(acct)
    flags.run("2026-11-16 16:05")
    store = Store.open(tmp_path / "state.sqlite3")
    try:
        kinds = [r[0] for r in store.conn.execute("SELECT kind FROM messages ORDER BY id")]
    finally:
        store.close()
    # Our own drafts are seen in Drafts only by the next cycle's sync.
    assert kinds == []
    flags.run("2026-11-16 16:10")
    store = Store.open(tmp_path / "state.sqlite3")
    try:
        kinds = [r[0] for r in store.conn.execute("SELECT kind FROM messages ORDER BY id")]
    finally:
        store.close()
    assert kinds == ["our_draft"] * len(acct.folder("Drafts"))
