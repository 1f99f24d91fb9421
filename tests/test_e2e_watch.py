"""End to end through the CLI against Dovecot: what mail arriving in the mailbox does."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from agent.store import Store
from tests.support import Account

pytestmark = pytest.mark.dovecot

CORPUS = Path(__file__).parent / "corpus"
USER_FOLDERS = ("INBOX", "Sent", "Archive")


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


def local_day(value: object) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return (
        datetime.fromisoformat(str(value)).astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
    )


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


def drafted_acme(acct: Account) -> tuple[int, Flags, EmailMessage]:
    """Acme after the interview: thank-yous drafted and seen by a sync."""
    app_id = add_acme(acct)
    flags = Flags(acct)
    flags.run("2026-11-16 16:05")
    flags.run("2026-11-16 16:10")
    jane = next(d for d in acct.drafts() if "jane@" in str(d["To"]))
    return app_id, flags, jane


def corpus(name: str, user: str) -> bytes:
    return (CORPUS / name).read_bytes().replace(b"alex@example.net", user.encode())


INCOMING = [
    # (case, message, effect)
    ("colleague", "reply_colleague.eml", "responded"),
    ("personal", "reply_personal_in_thread.eml", "responded"),
    ("out_of_office", "ooo_exchange_no_headers.eml", "hold"),
    ("bounce", "bounce_dsn.eml", "bounced"),
    ("newsletter", "newsletter.eml", "nothing"),
]


@pytest.mark.parametrize(("case", "name", "effect"), INCOMING, ids=[c[0] for c in INCOMING])
def test_incoming_mail_has_exactly_its_effect(
    acct: Account, case: str, name: str, effect: str
) -> None:
    app_id, flags, jane = drafted_acme(acct)
    raw = corpus(name, acct.user.address)
    # The thread case answers the thank-you that really went out.
    raw = raw.replace(b"<followup.aaaa.1111@example.net>", str(jane["Message-ID"]).encode())
    acct.deliver("INBOX", raw)
    before = app_json(acct, app_id)
    ours = len(acct.folder("Drafts"))
    out = flags.run("2026-12-07 09:30")
    app = app_json(acct, app_id)
    if effect == "responded":
        assert f"application {app_id} is now responded" in out
        assert app["state"] == "responded" and app["next_step"] is None
        assert len(app["responses"]) == 1  # type: ignore[arg-type]
        assert acct.folder("Drafts") == []  # our unsent notes withdrawn
        return
    assert app["state"] == "active" and app["responses"] == []
    assert len(acct.folder("Drafts")) == ours
    nxt = app["next_step"]
    assert isinstance(nxt, dict)
    if effect == "hold":
        assert local_day(app["hold_until"]) == "2026-12-14"
        # One business day after the return: Tuesday 15 December, not the 8th.
        checkin = next(x for x in app["steps"] if x["kind"] == "checkin")  # type: ignore[union-attr]
        assert local_day(checkin["due"]) == "2026-12-15", checkin
    elif effect == "bounced":
        assert [c["email"] for c in app["contacts"] if c["bounced"]] == ["maria@acme.example"]  # type: ignore[union-attr]
        planned = [x["to"] for x in app["steps"] if x["state"] == "planned"]  # type: ignore[union-attr]
        assert "maria@acme.example" not in planned
        status = acct.ok("status", now="2026-12-07 09:31").out
        assert "maria@acme.example bounced" in status
    else:
        assert app["hold_until"] is None and nxt == before["next_step"]
        assert not any(c["bounced"] for c in app["contacts"])  # type: ignore[union-attr]
    # A second run changes nothing more.
    flags.run("2026-12-07 09:35")
    assert app_json(acct, app_id)["events"] == app["events"]


def step_of(app: dict[str, object], key_part: str) -> dict[str, object]:
    rows = app["steps"]
    assert isinstance(rows, list)
    return next(s for s in rows if key_part in s["key"])


def test_users_own_email_counts_once_even_after_sent_is_recreated(acct: Account) -> None:
    app_id, flags, _ = drafted_acme(acct)
    raw = corpus("sent_by_user.eml", acct.user.address)
    acct.deliver("Sent", raw)
    flags.run("2026-11-24 11:00")
    app = app_json(acct, app_id)
    assert app["contacts_made"] == 1 and app["state"] == "active"
    assert [e["kind"] for e in app["events"]].count("user_sent") == 1  # type: ignore[union-attr]

    # The Sent folder is deleted and re-created: new UIDVALIDITY, same message.
    acct.dovecot.delete_mailbox(acct.user, "Sent")
    acct.dovecot.create_mailbox(acct.user, "Sent")
    acct.deliver("Sent", raw)
    flags.run("2026-11-24 12:00")
    again = app_json(acct, app_id)
    assert again["contacts_made"] == 1
    assert again["events"] == app["events"]


def test_sent_draft_with_rewritten_message_id_is_recognised(acct: Account) -> None:
    app_id, flags, _ = drafted_acme(acct)
    out = flags.run("2026-12-08 09:00")
    assert "drafted checkin to maria@acme.example" in out
    (stored,) = [
        m for m in acct.folder("Drafts") if acct.key_of(email_from(m.raw)) == "a1.i1.checkin1"
    ]
    # Exchange sends it: the draft leaves Drafts, a copy with a new
    # Message-ID and without our header lands in Sent.
    sent = email_from(stored.raw)
    del sent["Message-ID"], sent["Date"]
    sent["Message-ID"] = "<AM0PR01MB1234@eurprd01.prod.exchangelabs.com>"
    sent["Date"] = "Tue, 08 Dec 2026 10:15:00 +0100"
    acct.dovecot.expunge(acct.user, "Drafts", stored.uid)
    acct.deliver("Sent", sent)
    flags.run("2026-12-08 12:00")
    step = step_of(app_json(acct, app_id), "checkin1")
    assert step["state"] == "sent" and step["sent_at"] == "2026-12-08T10:15:00+01:00"
    assert app_json(acct, app_id)["contacts_made"] == 1
    # Days later nothing calls it rejected, and nothing is drafted again.
    flags.run("2026-12-14 12:00")
    assert step_of(app_json(acct, app_id), "checkin1")["state"] == "sent"


def test_a_note_resent_under_a_new_message_id_leaves_no_twin(acct: Account) -> None:
    app_id, flags, jane = drafted_acme(acct)
    key = acct.key_of(jane)
    (stored,) = [m for m in acct.folder("Drafts") if acct.key_of(email_from(m.raw)) == key]
    # neomutt's "edit as new": a copy goes out under a new Message-ID, the
    # draft stays in Drafts, where a second client could send it again.
    sent = email_from(stored.raw)
    del sent["Message-ID"], sent["Date"]
    sent["Message-ID"] = "<20261117081500.GA4242@laptop.example.test>"
    sent["Date"] = "Tue, 17 Nov 2026 08:15:00 +0100"
    acct.deliver("Sent", sent)
    out = flags.run("2026-11-17 09:00")
    assert "thank_you to jane@acme.example was sent by you" in out
    assert (
        "thank_you to jane@acme.example was sent; its unedited draft left in Drafts was withdrawn"
        in out
    )
    assert stored.uid not in [m.uid for m in acct.folder("Drafts")]
    assert [str(email_from(m.raw)["Message-ID"]) for m in acct.folder("Trash")] == [
        str(jane["Message-ID"])
    ]
    app = app_json(acct, app_id)
    assert step_of(app, key.rpartition(".")[2])["state"] == "sent"
    assert "nothing due" in flags.run("2026-11-17 09:05")


def test_deleted_draft_is_skipped_and_never_recreated(acct: Account) -> None:
    app_id, flags, _ = drafted_acme(acct)
    (jane,) = [
        m for m in acct.folder("Drafts") if b"jane@acme.example" in m.raw.split(b"\r\n\r\n")[0]
    ]
    acct.dovecot.expunge(acct.user, "Drafts", jane.uid)
    flags.run("2026-11-17 09:00")
    assert step_of(app_json(acct, app_id), "thank_you.c1")["state"] == "drafted"
    flags.run("2026-11-21 09:00")
    step = step_of(app_json(acct, app_id), "thank_you.c1")
    assert step["state"] == "skipped" and "without being sent" in str(step["note"])
    flags.run("2026-11-22 09:00")
    assert not [m for m in acct.folder("Drafts") if b"Dear Jane" in m.raw or b"Jane," in m.raw]


def test_edited_draft_is_left_alone_when_they_reply(acct: Account) -> None:
    app_id, flags, _jane = drafted_acme(acct)
    (ours,) = [m for m in acct.folder("Drafts") if b"jane@acme" in m.raw.split(b"\r\n\r\n")[0]]
    edited = email_from(ours.raw)
    del edited["Message-ID"]
    edited["Message-ID"] = "<edited-by-thunderbird@example.test>"
    edited.set_content("Hi Jane,\n\nMy own words now.\n\nAlex\n")
    acct.deliver("Drafts", edited)
    acct.dovecot.expunge(acct.user, "Drafts", ours.uid)
    flags.run("2026-11-17 09:00")
    acct.deliver(
        "INBOX",
        mail(
            "Jane Doe <jane@acme.example>",
            acct.user.address,
            "Re: thanks",
            "2026-11-18 09:30",
            "<r2@acme.example>",
        ),
    )
    flags.run("2026-11-18 10:00")
    app = app_json(acct, app_id)
    assert app["state"] == "responded"
    left = acct.folder("Drafts")
    assert len(left) == 1 and b"My own words now" in left[0].raw
    assert step_of(app, "thank_you.c1")["state"] == "drafted"
    assert "edited" in str(step_of(app, "thank_you.c1")["note"])


def email_from(raw: bytes) -> EmailMessage:
    from tests.support import parse

    return parse(raw)
