"""Issue 14 end to end: the CLI with --now against the real Dovecot.

A recruiter-run phone screen walked to a check-in to the recruiter and on to
`exhausted`; a reply → a later round → new thank-yous → a check-in; a
rejection → `rejected` with drafts withdrawn; a delay → `responded`; a
mistake entered twice is refused, then removed.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support import Account

pytestmark = pytest.mark.dovecot

BERLIN = ZoneInfo("Europe/Berlin")
RITA = "Rita Roe <rita@globex.example>"


def app_json(acct: Account, app_id: int, now: str = "2026-11-16 09:00") -> dict[str, Any]:
    return dict(json.loads(acct.ok("show", str(app_id), "--json", now=now).out))


def local(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def mail(subject: str, body: str, msgid: str, when: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = RITA
    msg["To"] = "user@example.test"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.fromisoformat(when).replace(tzinfo=BERLIN))
    msg["Message-ID"] = msgid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def screen(acct: Account) -> int:
    """A phone screen run by Globex's in-house recruiter, entered in both roles."""
    return acct.add(
        "--company", "Globex", "--role", "Analyst", "--kind", "phone",
        "--at", "2026-11-16 10:00", "--duration", "30",  # a Monday
        "--recruiter", RITA, "--interviewer", RITA,
        now="2026-11-16 10:40",
    )  # fmt: skip


def test_a_recruiter_run_screen_gets_its_check_in_then_lets_go(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    (note,) = acct.drafts()  # one person, one thank-you
    assert note["To"] == RITA and "Thank you" in str(note["Subject"])
    app = app_json(acct, app_id)
    assert [c["role"] for c in app["contacts"]] == ["recruiter"]
    (planned,) = [s for s in app["steps"] if s["kind"] == "checkin"]
    assert app["max_contacts"] == 1 and planned["to"] == "rita@globex.example"
    due = planned["due"]
    assert local(due) == "2026-11-23 08:00"  # 5 business days, no decision date given

    out = acct.ok("run", "--once", now=due).out
    assert "drafted checkin to rita@globex.example" in out
    (checkin,) = [d for d in acct.drafts() if d["Message-ID"] != note["Message-ID"]]
    assert checkin["To"] == RITA and checkin["In-Reply-To"] == note["Message-ID"]

    # Eight days for an answer, then the agent lets go.
    acct.ok("run", "--once", now="2026-11-30 10:00")
    assert app_json(acct, app_id)["state"] == "active"
    out = acct.ok("run", "--once", now="2026-12-01 09:00").out
    assert f"application {app_id} is now exhausted" in out
    acct.ok("run", "--once", now="2027-01-26 09:00")
    assert len(acct.folder("Drafts")) == 2


def test_a_reply_then_a_later_round_thanks_again_and_checks_in(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    (note,) = acct.drafts()
    acct.deliver(
        "INBOX",
        mail(
            "Re: " + str(note["Subject"]),
            "Hi,\n\ngreat talking to you! Could you come in for an onsite on the 25th?\n\nRita\n",
            "<invite-onsite@globex.example>",
            "2026-11-18 09:00",
            In_Reply_To=str(note["Message-ID"]),
        ),
    )
    out = acct.ok("run", "--once", now="2026-11-18 09:30").out
    assert f"application {app_id} is now responded" in out
    assert f"followup add --application {app_id}" in out  # the way forward, said

    acct.ok(
        "add", "--application", str(app_id), "--kind", "onsite",
        "--at", "2026-11-25 13:00", "--interviewer", "Hank Scorpio <hank@globex.example>",
        "--recruiter", RITA, "--decision-by", "2026-12-04",
        now="2026-11-18 10:00",
    )  # fmt: skip
    app = app_json(acct, app_id, now="2026-11-18 10:01")
    assert app["state"] == "active"
    kinds = [e["kind"] for e in app["events"]]
    assert "reply" in kinds and "responded" in kinds  # the reply stays in the timeline

    before = {str(d["Message-ID"]) for d in acct.drafts()}
    acct.ok("run", "--once", now="2026-11-25 15:00")
    round2 = [d for d in acct.drafts() if str(d["Message-ID"]) not in before]
    assert {str(d["To"]) for d in round2} == {RITA, "Hank Scorpio <hank@globex.example>"}
    steps = app_json(acct, app_id, now="2026-11-25 15:01")["steps"]
    (nxt,) = [s for s in steps if s["kind"] == "checkin" and s["state"] == "planned"]
    assert nxt["to"] == "rita@globex.example" and ".i2." in nxt["key"]
    assert local(nxt["due"]) == "2026-12-08 08:00"  # 2 business days after Dec 4
    out = acct.ok("run", "--once", now=nxt["due"]).out
    assert "drafted checkin to rita@globex.example" in out


def test_a_rejection_ends_as_rejected_with_drafts_withdrawn(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    assert len(acct.folder("Drafts")) == 1
    acct.deliver(
        "INBOX",
        mail(
            "Your application to Globex",
            "Dear candidate,\n\nthank you for your interest. After careful review we have "
            "decided to move forward with other candidates.\n\nGlobex Talent\n",
            "<reject@globex.example>",
            "2026-11-17 09:00",
        ),
    )
    out = acct.ok("run", "--once", now="2026-11-17 09:30").out
    assert f"application {app_id} is now rejected" in out
    assert acct.folder("Drafts") == [] and len(acct.folder("Trash")) == 1
    (status,) = json.loads(acct.ok("status", "--json", now="2026-11-17 09:31").out)
    assert status["state"] == "rejected"
    shown = acct.ok("show", str(app_id), now="2026-11-17 09:31").out
    assert "rejected" in shown and "other candidates" in shown
    assert "rejected" in acct.ok("status", now="2026-11-17 09:31").out
    acct.ok("run", "--once", now="2026-12-20 09:00")
    assert acct.folder("Drafts") == []
    # The user's mail is untouched: unread, in INBOX.
    assert [m.flags for m in acct.folder("INBOX")] == [set()]


def test_a_delay_is_responded_not_rejected(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    acct.deliver(
        "INBOX",
        mail(
            "Update",
            "Hi,\n\nthe decision is taking longer than expected; I will update you next "
            "week.\n\nRita\n",
            "<delay@globex.example>",
            "2026-11-20 09:00",
        ),
    )
    out = acct.ok("run", "--once", now="2026-11-20 09:30").out
    assert f"application {app_id} is now responded" in out
    assert app_json(acct, app_id)["state"] == "responded"


def test_a_mistake_is_refused_then_removed(acct: Account) -> None:
    app_id = screen(acct)
    again = acct.run(
        "add", "--company", "Globex", "--role", "Analyst", "--kind", "phone",
        "--at", "2026-11-16 10:00", "--recruiter", RITA, "--interviewer", RITA,
        now="2026-11-16 10:45",
    )  # fmt: skip
    assert again.code == 2 and "--force" in again.err
    no_time = acct.run("add", "--company", "Initech", "--role", "Analyst", "--at", "2026-12-20",
                       "--interviewer", RITA, now="2026-11-16 10:45")  # fmt: skip
    assert no_time.code == 2 and "2026-12-20 14:00" in no_time.err
    acct.ok("run", "--once", now="2026-11-16 11:30")
    assert len(acct.folder("Drafts")) == 1
    refused = acct.run("remove", str(app_id), now="2026-11-16 11:31")  # no terminal: --yes
    assert refused.code == 2 and "--yes" in refused.err
    out = acct.ok("remove", str(app_id), "--yes", now="2026-11-16 11:32").out
    assert f"removed #{app_id}" in out and "1 unsent draft(s) moved to Trash" in out
    assert acct.folder("Drafts") == [] and len(acct.folder("Trash")) == 1
    assert json.loads(acct.ok("status", "--json", now="2026-11-16 11:33").out) == []
    acct.ok("run", "--once", now="2026-11-17 11:30")
    assert acct.folder("Drafts") == []


def test_a_draft_moved_to_trash_is_skipped_at_the_next_run(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    (ours,) = acct.folder("Drafts")
    # What a mail client's "delete" does: a copy in Trash, the draft expunged.
    acct.deliver("Trash", ours.raw)
    acct.dovecot.expunge(acct.user, "Drafts", ours.uid)
    agenda = acct.ok("agenda", now="2026-11-16 11:31").out
    assert "review and send" in agenda  # not looked at yet: no run since
    acct.ok("run", "--once", now="2026-11-16 11:40")
    app = app_json(acct, app_id)
    (note,) = [s for s in app["steps"] if s["kind"] == "thank_you"]
    assert note["state"] == "skipped" and "you deleted the draft" in str(note["note"])
    assert "review and send" not in acct.ok("agenda", now="2026-11-16 11:41").out
    acct.ok("run", "--once", now="2026-11-17 11:40")
    assert acct.folder("Drafts") == []


def test_a_vanished_draft_is_shown_gone_at_once(acct: Account) -> None:
    app_id = screen(acct)
    acct.ok("run", "--once", now="2026-11-16 11:30")
    (ours,) = acct.folder("Drafts")
    acct.dovecot.expunge(acct.user, "Drafts", ours.uid)
    acct.ok("run", "--once", now="2026-11-16 11:40")
    for command in ("agenda", "status"):
        out = acct.ok(command, now="2026-11-16 11:41").out
        assert "gone from Drafts" in out and "review and send" not in out, out
    shown = acct.ok("show", str(app_id), now="2026-11-16 11:41").out
    assert "gone from Drafts" in shown and "review and send" not in shown
    acct.ok("run", "--once", now="2026-11-19 11:41")
    (note,) = [s for s in app_json(acct, app_id)["steps"] if s["kind"] == "thank_you"]
    assert note["state"] == "skipped"
