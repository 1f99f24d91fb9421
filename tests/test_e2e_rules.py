"""The follow-up rules end to end: the CLI with --now against the real Dovecot."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent import lint
from tests.support import Account

pytestmark = pytest.mark.dovecot

BERLIN = ZoneInfo("Europe/Berlin")  # the time zone make_account configures
BOB = "Bob Smith <bob@talentco.example>"
INTERVIEWERS = {
    "Jane Doe <jane@acme.example>",
    "Zoë Müller <zoe@acme.example>",
    "Omar Haddad <omar@acme.example>",
}


def status(acct: Account, now: str) -> dict[str, Any]:
    (app,) = json.loads(acct.ok("status", "--json", now=now).out)
    return dict(app)


def by_key(acct: Account) -> dict[str, EmailMessage]:
    return {acct.key_of(d): d for d in acct.drafts()}


def local(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def test_onsite_panel_with_an_agency_recruiter_to_exhausted(acct: Account) -> None:
    app_id = acct.add(
        "--company", "Acme", "--role", "Data Engineer", "--kind", "onsite",
        "--at", "2026-11-16 14:00", "--duration", "60",  # a Monday
        *(x for p in sorted(INTERVIEWERS) for x in ("--interviewer", p)),
        "--recruiter", BOB, "--agency",
        "--decision-by", "2026-12-07",  # "we'll decide in three weeks"
        "--learned", "the team is moving its batch pipelines to streaming",
        now="2026-11-16 15:10",
    )  # fmt: skip
    acct.ok("run", "--once", now="2026-11-16 15:59")
    assert acct.folder("Drafts") == []

    # Thank-you notes an hour after the interview: one per interviewer, the
    # agency recruiter copied, and a note of their own to the recruiter.
    acct.ok("run", "--once", now="2026-11-16 16:00")
    notes = by_key(acct)
    thanks = [d for d in notes.values() if str(d["To"]) in INTERVIEWERS]
    assert {str(d["To"]) for d in thanks} == INTERVIEWERS and len(notes) == 4
    assert all(d["Cc"] == BOB for d in thanks)
    (agency_note,) = [d for d in notes.values() if d["To"] == BOB]
    assert agency_note["Cc"] is None and "arranging" in agency_note["Subject"]
    ends = [lint.opening_and_closing(d.get_content()) for d in thanks]
    assert len({o for o, _ in ends}) == 3 and len({c for _, c in ends}) == 3
    for d in notes.values():
        assert lint.check_body(d.get_content(), "thank_you") == []

    # Three days later: a LinkedIn reminder on the agenda, ticked off.
    agenda = json.loads(acct.ok("agenda", "--json", now="2026-11-19 16:30").out)
    (linkedin,) = [i for i in agenda["today"] if i["kind"] == "linkedin"]
    assert "Jane Doe" in linkedin["what"] and "Bob" not in linkedin["what"]
    assert sum(i["kind"] == "thank_you" for i in agenda["today"]) == 4  # waiting to be sent
    acct.ok("done", str(linkedin["step"]), now="2026-11-19 16:30")
    agenda = json.loads(acct.ok("agenda", "--json", now="2026-11-19 16:31").out)
    assert not [i for i in agenda["today"] if i["kind"] == "linkedin"]

    # Every check-in, each run a minute early (nothing) and then on time.
    times: list[str] = []
    checked = "2026-11-20 10:00"
    for _ in range(3):
        acct.ok("run", "--once", now=checked)  # plans the next one, drafts nothing
        app = status(acct, checked)
        nxt = app["next_step"]
        assert nxt["kind"] == "checkin" and nxt["to"] == "bob@talentco.example"
        due = datetime.fromisoformat(nxt["due"])
        before = len(acct.folder("Drafts"))
        acct.ok("run", "--once", now=(due - timedelta(minutes=1)).isoformat())
        assert len(acct.folder("Drafts")) == before
        out = acct.ok("run", "--once", now=due.isoformat()).out
        assert "drafted checkin to bob@talentco.example" in out
        times.append(local(nxt["due"]))
        checked = (due + timedelta(minutes=1)).isoformat()
    # Monday + three weeks + two business days = day 24; then 8 days apart.
    assert times == ["2026-12-09 08:00", "2026-12-17 08:00", "2026-12-25 08:00"]

    drafts = by_key(acct)
    checkins = [drafts[f"a{app_id}.i1.checkin{n}"] for n in (1, 2, 3)]
    chain = [agency_note["Message-ID"]]
    for d in checkins:
        assert d["To"] == BOB and d["Cc"] is None  # the recruiter relays to Acme
        assert d["Subject"] == "Re: Thank you for arranging the Acme interview"
        assert d["In-Reply-To"] == chain[-1]
        assert str(d["References"]).split() == chain
        chain.append(str(d["Message-ID"]))
        assert lint.check_body(d.get_content(), "checkin") == []
    assert "If the position has been filled" in checkins[2].get_content()
    assert "decide around December 7" in checkins[0].get_content()

    # The last check-in gets eight days for an answer, then the agent lets go.
    acct.ok("run", "--once", now="2027-01-01 10:00")
    assert status(acct, "2027-01-01 10:00")["state"] == "active"
    out = acct.ok("run", "--once", now="2027-01-02 08:00").out
    assert f"application {app_id} is now exhausted" in out
    app = status(acct, "2027-01-02 08:00")
    assert app["state"] == "exhausted" and app["contacts_made"] == app["max_contacts"] == 3
    acct.ok("run", "--once", now="2027-02-01 10:00")
    assert len(acct.folder("Drafts")) == 7  # 4 notes + 3 check-ins, never more

    shown = acct.ok("show", str(app_id), now="2027-02-01 10:00").out
    assert "because: check-in 3 of 3 (the last one): 8 days after the last contact" in shown
    assert "because: check-in 1 of 3: 2 business days after the decision date" in shown


def test_late_interview_and_a_later_round(acct: Account) -> None:
    # Added a week after the fact: the thank-you is still written, marked late.
    app_id = acct.add(
        "--company", "Initech", "--role", "Analyst", "--kind", "video",
        "--at", "2026-11-09 10:00", "--recruiter", "Rita Roe <rita@initech.example>",
        now="2026-11-16 09:00",
    )  # fmt: skip
    acct.ok("run", "--once", now="2026-11-16 09:00")
    (note,) = acct.drafts()
    assert note["To"] == "Rita Roe <rita@initech.example>"
    app = status(acct, "2026-11-16 09:05")
    assert any("drafted late" in w for w in app["warnings"])
    # Its check-in waits two business days after that late note.
    (checkin,) = [s for s in app["steps"] if s["kind"] == "checkin"]
    assert local(checkin["due"]) == "2026-11-18 08:00"

    # A second round: new people thanked, the check-in clock starts again.
    acct.ok(
        "add", "--application", str(app_id), "--kind", "onsite", "--final",
        "--at", "2026-11-17 13:00", "--interviewer", "Ivan Ode <ivan@initech.example>",
        "--hiring-manager", "Hana Park <hana@initech.example>",
        "--decision-by", "2026-11-27",
        now="2026-11-17 15:00",
    )  # fmt: skip
    acct.ok("run", "--once", now="2026-11-17 15:00")
    assert {str(d["To"]) for d in acct.drafts()} >= {
        "Ivan Ode <ivan@initech.example>",
        "Hana Park <hana@initech.example>",
    }
    app = status(acct, "2026-11-17 15:05")
    assert app["contacts_made"] == 0 and app["max_contacts"] == 3  # onsite + later round
    planned = {s["kind"]: s for s in app["steps"] if s["state"] == "planned"}
    assert local(planned["checkin"]["due"]) == "2026-12-01 08:00"  # Fri 27 + 2 business days
    assert planned["checkin"]["to"] == "rita@initech.example"  # checkin_to: recruiter first
    assert "references" in planned  # a final round: tell the references
    cancelled = [s for s in app["steps"] if s["state"] == "cancelled"]
    assert [s["key"] for s in cancelled] == [f"a{app_id}.i1.checkin1"]


@pytest.mark.parametrize("mode", ["warn", "block"])
def test_lint_findings_warn_or_hold_back(acct: Account, mode: str) -> None:
    acct.config.write_text(acct.config.read_text().replace('lint = "warn"', f'lint = "{mode}"'))
    out = acct.ok(
        "add", "--company", "Globex", "--role", "Analyst", "--at", "2026-11-16 10:00",
        "--interviewer", "Hank Scorpio <hank@globex.example>",
        "--learned", "how the team recieves its data",
        now="2026-11-16 11:30",
    ).out  # fmt: skip
    assert "lint: spelling: 'recieves' (did you mean 'receives'?)" in out
    assert "lint: spelling: 'recieves'" in acct.ok("preview", "1", now="2026-11-16 11:30").out
    run = acct.run("run", "--once", now="2026-11-16 12:30")
    (app,) = json.loads(acct.ok("status", "--json").out)
    (note,) = [s for s in app["steps"] if s["kind"] == "thank_you"]
    assert any("recieves" in w for w in app["warnings"])
    if mode == "warn":
        assert run.code == 0 and len(acct.folder("Drafts")) == 1
        assert note["state"] == "drafted" and note["note"].startswith("lint: spelling")
    else:
        assert run.code == 1 and "held back by lint" in run.err
        assert acct.folder("Drafts") == [] and note["state"] == "planned"


def test_a_note_held_back_by_lint_goes_out_once_the_note_is_fixed(acct: Account) -> None:
    acct.config.write_text(acct.config.read_text().replace('lint = "warn"', 'lint = "block"'))
    app_id = acct.add(
        "--company", "Globex", "--role", "Analyst", "--at", "2026-11-16 10:00",
        "--interviewer", "Hank Scorpio <hank@globex.example>",
        "--interviewer", "Lisa Wong <lisa@globex.example>",
        "--recruiter", "Rita Recruiter <rita@globex.example>",
        now="2026-11-16 11:30",
    )  # fmt: skip
    acct.ok(
        "edit", str(app_id), "--discussed", "HANK@globex.example=the teams data pipline",
        now="2026-11-16 11:40",
    )  # fmt: skip
    held = acct.run("run", "--once", now="2026-11-16 12:30")
    assert held.code == 1 and "pipline" in held.err
    drafted = sorted(str(d["To"].addresses[0].addr_spec) for d in acct.drafts())
    assert drafted == ["lisa@globex.example", "rita@globex.example"]  # Hank's waits

    fixed = acct.ok(
        "edit", str(app_id), "--discussed", "hank@globex.example=the team's data pipeline",
        "--decision-by", "2026-11-27", now="2026-11-16 12:40",
    ).out  # fmt: skip
    assert "lint" not in fixed and "2 draft(s) already written keep their text" in fixed
    acct.ok("run", "--once", now="2026-11-16 12:45")
    hank = next(d for d in acct.drafts() if "hank@" in str(d["To"]))
    assert "the team's data pipeline" in hank.get_content()
    (app,) = json.loads(acct.ok("status", "--json").out)
    assert app["interviews"][0]["decision_by"] == "2026-11-27"
    checkin = next(s for s in app["steps"] if s["kind"] == "checkin")
    assert checkin["due"] == "2026-12-01T08:00:00+01:00"  # Fri 27 Nov + 2 business days, Berlin


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--discussed", "nobody@globex.example=x"], "one of hank@globex.example"),
        (["--discussed", "no equals sign"], "ADDRESS=TEXT"),
        (["--round", "3"], "has no round 3"),
        (["--decision-by", "soon"], "not a date"),
    ],
)
def test_edit_rejects_what_it_cannot_apply(acct: Account, argv: list[str], words: str) -> None:
    app_id = acct.add(
        "--company", "Globex", "--role", "Analyst", "--at", "2026-11-16 10:00",
        "--interviewer", "Hank Scorpio <hank@globex.example>", now="2026-11-16 11:30",
    )  # fmt: skip
    r = acct.run("edit", str(app_id), *argv)
    assert r.code == 2 and words in r.err
