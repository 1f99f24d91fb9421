"""End to end through the CLI with a local Maildir account: no server, no password."""

from __future__ import annotations

import email
import email.policy
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent import cli, credentials
from agent.maildir import create_maildir, deliver
from tests.ours import step_key
from tests.test_compose import check_golden

pytestmark = pytest.mark.usefixtures("no_password")


@pytest.fixture
def no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to find a password fails the test: a Maildir needs none."""
    monkeypatch.delenv(credentials.ENV_VAR, raising=False)

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("a Maildir account must not look for a password")

    monkeypatch.setattr(credentials, "get_password", refuse)
    monkeypatch.setattr(credentials, "store_password", refuse)


@dataclass
class MaildirUser:
    root: Path
    config: Path
    capsys: pytest.CaptureFixture[str]

    def ok(self, *argv: str, now: str | None = None) -> str:
        args = ["--config", str(self.config), *(["--now", now] if now else [])]
        self.capsys.readouterr()
        code = cli.main([*args, *argv])
        out, err = self.capsys.readouterr()
        assert code == 0, f"followup {' '.join(argv)} → {code}\n{out}\n{err}"
        return out

    def files(self, folder: str) -> list[Path]:
        d = self.root if folder == "INBOX" else self.root / f".{folder}"
        return sorted(p for sub in ("new", "cur") for p in (d / sub).iterdir())


@pytest.fixture
def user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> MaildirUser:
    root = tmp_path / "Mail"
    create_maildir(root, "maildir++")
    u = MaildirUser(root, tmp_path / "config.toml", capsys)
    out = u.ok(
        "init",
        "--maildir",
        str(root),
        "--email",
        "alex@example.org",
        "--name",
        "Alex Candidate",
        "--timezone",
        "Europe/Berlin",
        "--database",
        str(tmp_path / "state.sqlite3"),
    )
    assert "wrote" in out
    return u


def test_check_shows_the_maildir(user: MaildirUser) -> None:
    out = user.ok("check")
    assert f"Maildir {user.root} (maildir++ layout)" in out
    assert "drafts   Drafts  (by name)" in out and "sent     Sent  (by name)" in out


def test_drafts_once_then_a_reply_file_stops_everything(user: MaildirUser) -> None:
    user.ok(
        "add",
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--kind",
        "onsite",
        "--interviewer",
        "Jane Doe <jane@acme.example>",
        "--interviewer",
        "Zoë Müller <zoe@acme.example>",
        "--hiring-manager",
        "Maria Garcia <maria@acme.example>",
        "--recruiter",
        "Bob Smith <bob@talentco.example>",
        "--agency",
        "--decision-by",
        "2026-12-04",
        now="2026-11-16 15:10",
    )
    deliver(user.root, b"From: news@shop.example\nSubject: Sale\n\nBuy.\n")
    inbox_before = [(p, p.stat().st_mtime_ns) for p in user.files("INBOX")]

    out = user.ok("run", "--once", now="2026-11-16 16:05")
    drafted = out.count("drafted thank_you")
    drafts = user.files("Drafts")
    assert drafted >= 3 and len(drafts) == drafted, out
    assert all(p.parent.name == "cur" and p.name.endswith(":2,DS") for p in drafts)
    tos = set()
    db = user.config.parent / "state.sqlite3"
    for p in drafts:
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert msg["From"] == "Alex Candidate <alex@example.org>"
        assert step_key(db, msg).startswith("a1.") and msg["Subject"].startswith("Thank you")
        assert b"\r\n" not in p.read_bytes()  # Maildir files use local line endings
        tos.add(str(msg["To"]))
    assert tos >= {
        "Jane Doe <jane@acme.example>",
        "Zoë Müller <zoe@acme.example>",
        "Maria Garcia <maria@acme.example>",
    }

    again = user.ok("run", "--once", now="2026-11-16 16:30")
    assert "drafted" not in again
    assert user.files("Drafts") == drafts
    assert [(p, p.stat().st_mtime_ns) for p in user.files("INBOX")] == inbox_before
    (app,) = json.loads(user.ok("status", "--json"))
    assert sum(s["state"] == "drafted" for s in app["steps"]) == drafted

    # Jane answers: the file lands in INBOX/new, as a delivery agent or mbsync puts it.
    jane = next(p for p in drafts if b"jane@acme.example" in p.read_bytes())
    thank_you = email.message_from_bytes(jane.read_bytes(), policy=email.policy.default)
    reply = (
        "From: Jane Doe <jane@acme.example>\n"
        "To: alex@example.org\n"
        f"Subject: Re: {thank_you['Subject']}\n"
        "Date: Wed, 18 Nov 2026 09:30:00 +0100\n"
        "Message-ID: <r1@acme.example>\n"
        f"In-Reply-To: {thank_you['Message-ID']}\n"
        "\n"
        "Thanks Alex, talk soon.\n"
    ).encode()
    when = datetime(2026, 11, 18, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    reply_file = deliver(user.root, reply, when=when)
    inbox_before = [(p, p.stat().st_mtime_ns) for p in user.files("INBOX")]

    out = user.ok("run", "--once", now="2026-11-18 10:00")
    assert f"application {app['id']} is now responded" in out
    assert user.files("Drafts") == []  # unsent drafts withdrawn ...
    assert len(user.files("Trash")) == drafted  # ... to Trash
    assert [(p, p.stat().st_mtime_ns) for p in user.files("INBOX")] == inbox_before
    assert reply_file.parent.name == "new" and reply_file.exists()

    # Stopped means stopped: no check-in, even long after the decision date.
    assert "drafted" not in user.ok("run", "--once", now="2026-12-15 10:00")
    assert user.files("Drafts") == []
    (app,) = json.loads(user.ok("status", "--json"))
    assert app["state"] == "responded" and app["next_step"] is None


def test_set_password_is_refused_for_a_maildir(user: MaildirUser) -> None:
    code = cli.main(["--config", str(user.config), "set-password"])
    assert code == 2
    assert "needs no password" in user.capsys.readouterr().err


# Every time in --json output: seconds and the offset, in the user's zone.
ISO_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
TIME_KEYS = {"due", "at", "starts_at", "drafted_at", "sent_at", "hold_until", "date", "now"}


def json_times(data: object) -> list[str]:
    """Every value under a time key, anywhere in a JSON document."""
    if isinstance(data, list):
        return [t for item in data for t in json_times(item)]
    if not isinstance(data, dict):
        return []
    found = [v for k, v in data.items() if k in TIME_KEYS and isinstance(v, str)]
    return found + [t for v in data.values() for t in json_times(v)]


JsonDoc = dict[str, Any]


def one_reply_later(user: MaildirUser, *flags: str) -> tuple[str, str, str]:
    """status and agenda with a thank-you in Drafts, then show after Jane's answer."""
    user.ok(
        "add",
        "--company",
        "Acme",
        "--role",
        "Data Engineer",
        "--at",
        "2026-11-16 14:00",
        "--interviewer",
        "Jane Doe <jane@acme.example>",
        now="2026-11-16 15:10",
    )
    user.ok("run", "--once", now="2026-11-16 16:05")
    (jane,) = user.files("Drafts")
    thank_you = email.message_from_bytes(jane.read_bytes(), policy=email.policy.default)
    deliver(
        user.root,
        (
            "From: Jane Doe <jane@acme.example>\nTo: alex@example.org\n"
            f"Subject: Re: {thank_you['Subject']}\nDate: Wed, 18 Nov 2026 09:30:00 +0100\n"
            f"Message-ID: <r1@acme.example>\nIn-Reply-To: {thank_you['Message-ID']}\n\nThanks\n"
        ).encode(),
    )
    status = user.ok("status", *flags, now="2026-11-17 09:00")
    agenda = user.ok("agenda", *flags, now="2026-11-17 09:00")
    user.ok("run", "--once", now="2026-11-18 10:00")
    return status, agenda, user.ok("show", "1", *flags, now="2026-11-18 10:05")


def one_reply_later_json(user: MaildirUser) -> tuple[list[JsonDoc], JsonDoc, JsonDoc]:
    status, agenda, shown = one_reply_later(user, "--json")
    return json.loads(status), json.loads(agenda), json.loads(shown)


def test_json_times_have_one_iso_form_in_the_users_zone(user: MaildirUser) -> None:
    status, agenda, shown = one_reply_later_json(user)
    times = json_times([status, agenda, shown])
    # due, drafted_at, starts_at, event and timeline times, the reply's date, agenda's now
    assert len(times) > 10 and shown["responses"][0]["date"] == "2026-11-18T09:30:00+01:00"
    assert [t for t in times if not ISO_LOCAL.match(t)] == []
    assert {t[-6:] for t in times} == {"+01:00"}  # Berlin in November
    assert agenda["now"] == "2026-11-17T09:00:00+01:00"


APP_KEYS = {
    "id", "company", "role", "state", "stop_reason", "contacts_made", "max_contacts",
    "next_step", "hold_until", "domains", "interviews", "contacts", "steps", "responses",
    "events", "timeline", "warnings",
}  # fmt: skip
STEP_KEYS = {
    "id", "key", "kind", "seq", "to", "to_name", "due", "state", "message_id", "subject",
    "drafted_at", "sent_at", "late", "rule", "note",
}  # fmt: skip
INTERVIEW_KEYS = {"id", "round", "kind", "starts_at", "duration_minutes", "decision_by"}
CONTACT_KEYS = {"id", "name", "email", "role", "agency", "interview_id", "bounced"}
TIMELINE_KEYS = {
    "event": {"at", "type", "kind", "detail"},
    "step": {"at", "type", "id", "kind", "state", "what", "rule", "late", "note"},
}
AGENDA_ITEM_KEYS = {
    "step", "application", "company", "kind", "state", "to", "due", "overdue", "what", "note",
}  # fmt: skip


def test_json_keys_are_the_documented_ones(user: MaildirUser) -> None:
    """The names scripts rely on (README: status --json, show --json, agenda --json)."""
    (app,), agenda, shown = one_reply_later_json(user)
    for doc in (app, shown):
        assert set(doc) == APP_KEYS
        assert all(set(s) == STEP_KEYS for s in doc["steps"]) and doc["steps"]
        assert all(set(i) == INTERVIEW_KEYS for i in doc["interviews"])
        assert all(set(c) == CONTACT_KEYS for c in doc["contacts"])
        assert all(set(e) == {"at", "kind", "detail"} for e in doc["events"])
        assert {t["type"] for t in doc["timeline"]} == {"event", "step"}
        assert all(set(t) == TIMELINE_KEYS[t["type"]] for t in doc["timeline"])
    assert set(app["next_step"]) == {"kind", "due", "to", "late"}
    assert shown["next_step"] is None and shown["state"] == "responded"
    assert shown["responses"] == [
        {"from": "Jane Doe <jane@acme.example>", "subject": shown["responses"][0]["subject"],
         "date": "2026-11-18T09:30:00+01:00"}
    ]  # fmt: skip
    assert set(agenda) == {"now", "days", "today", "soon"} and agenda["days"] == 7
    items = agenda["today"] + agenda["soon"]
    assert items and all(set(i) == AGENDA_ITEM_KEYS for i in items)
    assert shown["steps"][0]["to"] == "jane@acme.example"
    assert shown["steps"][0]["to_name"] == "Jane Doe"


def test_status_agenda_and_show_text_golden(
    user: MaildirUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text a person reads, printed from the same records as --json; at 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    status, agenda, shown = one_reply_later(user)
    assert max(len(line) for line in status.splitlines()) <= 80
    assert "a1.i1" not in shown and "[withdrawn]" not in shown  # no internal keys
    assert "2026-" not in shown
    check_golden("cli_status", status)
    check_golden("cli_agenda", agenda)
    check_golden("cli_show_responded", shown)


def test_an_invitation_file_is_listed(user: MaildirUser) -> None:
    corpus = Path(__file__).parent / "corpus"
    raw = (corpus / "invites" / "outlook_request.eml").read_bytes()
    deliver(user.root, raw.replace(b"alex@candidate.example", b"alex@example.org"))
    deliver(user.root, (corpus / "newsletter.eml").read_bytes())
    out = user.ok("run", "--once", now="2026-11-11 09:00")
    assert "invitation 1 to review: Vorstellungsgespräch – Senior Data Engineer" in out
    (entry,) = json.loads(user.ok("invites", "--json", now="2026-11-11 09:01"))
    assert entry["start"] == "2026-11-24T10:00:00+01:00"
    assert entry["proposal"]["company"] == "Contoso"


def test_status_marks_overdue_counts_sent_not_drafted_and_preview_shows_every_due_note(
    user: MaildirUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: a reminder 12 days overdue said nothing; an unsent check-in counted."""
    monkeypatch.setenv("COLUMNS", "80")
    user.ok(
        "add",
        "--company", "Acme", "--role", "Data Engineer", "--at", "2026-11-16 14:00",
        "--interviewer", "Jane Doe <jane@acme.example>",
        "--recruiter", "Bob Smith <bob@acme.example>",
        "--decision-by", "2026-11-20",
        now="2026-11-16 15:10",
    )  # fmt: skip
    before = user.ok("preview", "1", now="2026-11-16 15:10")
    assert before.count("--- step") == 2  # both thank-yous, not only the first
    user.ok("run", "--once", now="2026-11-16 16:05")  # the two thank-yous
    user.ok("run", "--once", now="2026-11-25 09:00")  # the first check-in, drafted
    status = user.ok("status", now="2026-12-05 09:00")
    assert "3 drafts waiting in Drafts" in status
    assert "late: send today" in status  # the thank-yous' 24 hours are long gone
    row = next(line for line in status.splitlines() if line.startswith("1 "))
    assert "0/" in row and "+1" in row  # the check-in is drafted, not sent
    assert "overdue" in row  # the LinkedIn reminder, due 19 Nov
    assert max(len(line) for line in status.splitlines()) <= 80
