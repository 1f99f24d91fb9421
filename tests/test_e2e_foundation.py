"""End to end through the CLI against Dovecot: init → add → run --once → drafts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dovecot import Dovecot, MailUser
from tests.support import Account, make_account

pytestmark = pytest.mark.dovecot


def add_panel(acct: Account) -> int:
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


def test_check_finds_folders_and_capabilities(acct: Account) -> None:
    out = acct.ok("check").out
    assert "drafts   Drafts  (by special-use)" in out
    assert "sent     Sent  (by special-use)" in out
    assert "IDLE yes" in out and "UIDPLUS yes" in out and "MOVE yes" in out


def test_one_thank_you_per_person_met_exactly_once(acct: Account) -> None:
    app_id = add_panel(acct)
    assert acct.folder("Drafts") == []

    early = acct.ok("run", "--once", now="2026-11-16 15:30")
    assert "nothing due" in early.out and acct.folder("Drafts") == []

    first = acct.ok("run", "--once", now="2026-11-16 16:05")
    # Three people met, and a note to the agency recruiter who arranged it.
    assert first.out.count("drafted thank_you") == 4, first.out
    stored = acct.folder("Drafts")
    assert len(stored) == 4
    for m in stored:
        assert {"\\Draft", "\\Seen"} <= m.flags

    drafts = {str(d["To"]): d for d in acct.drafts()}
    assert set(drafts) == {
        "Jane Doe <jane@acme.example>",
        "Zoë Müller <zoe@acme.example>",
        "Maria Garcia <maria@acme.example>",
        "Bob Smith <bob@talentco.example>",
    }
    for to, d in drafts.items():
        assert d["From"] == f"Alex Candidate <{acct.user.address}>"
        if "bob@" not in to:
            assert d["Cc"] == "Bob Smith <bob@talentco.example>"  # the agency recruiter
        assert d["Message-ID"].endswith(f"@{acct.user.address.split('@')[1]}>")
        assert acct.key_of(d).startswith(f"a{app_id}.")
        assert d["Date"] and d["Subject"].startswith("Thank you")
        body = d.get_content()
        assert "Alex Candidate" in body and "{{" not in body
    # Non-ASCII names are RFC 2047 encoded on the wire, not raw UTF-8.
    raw_zoe = next(m.raw for m in stored if b"zoe@" in m.raw)
    to_line = next(line for line in raw_zoe.split(b"\n") if line.startswith(b"To:"))
    assert to_line.isascii() and b"=?utf-8?" in to_line

    again = acct.ok("run", "--once", now="2026-11-16 16:10")
    assert "drafted" not in again.out
    assert len(acct.folder("Drafts")) == 4

    status = json.loads(acct.ok("status", "--json", now="2026-11-16 16:10").out)
    (app,) = status
    assert app["id"] == app_id and app["state"] == "active"
    assert app["contacts_made"] == 0 and app["max_contacts"] >= 2
    assert app["next_step"]["kind"] == "linkedin"  # a reminder, 3 days after the notes
    assert [s["kind"] for s in app["steps"] if s["state"] == "planned"] == ["linkedin", "checkin"]
    kinds = sorted((s["kind"], s["state"]) for s in app["steps"])
    assert kinds.count(("thank_you", "drafted")) == 4
    assert all(s["message_id"] for s in app["steps"] if s["state"] == "drafted")
    shown = json.loads(acct.ok("show", str(app_id), "--json").out)
    assert shown["steps"] == app["steps"]


def test_preview_touches_no_mailbox(acct: Account) -> None:
    app_id = add_panel(acct)
    out = acct.ok("preview", str(app_id), now="2026-11-16 16:05").out
    assert out.count("--- step") == 4 and "Dear Jane" in out
    assert acct.folder("Drafts") == []


def test_stop_means_no_drafts(acct: Account) -> None:
    app_id = add_panel(acct)
    acct.ok("stop", str(app_id), "--reason", "took another offer", now="2026-11-16 15:20")
    acct.ok("run", "--once", now="2026-11-17 09:00")
    assert acct.folder("Drafts") == []
    (app,) = json.loads(acct.ok("status", "--json").out)
    assert app["state"] == "stopped" and app["next_step"] is None


def test_stop_withdraws_the_unsent_drafts(acct: Account) -> None:
    app_id = add_panel(acct)
    acct.ok("run", "--once", now="2026-11-16 16:05")
    drafted = acct.folder("Drafts")
    assert len(drafted) == 4
    out = acct.ok("stop", str(app_id), now="2026-11-16 18:00").out
    assert "4 unsent draft(s) go to Trash" in out
    ran = acct.ok("run", "--once", now="2026-11-16 18:05").out
    assert ran.count("was withdrawn to Trash") == 4
    assert acct.folder("Drafts") == []
    assert sorted(m.raw for m in acct.folder("Trash")) == sorted(m.raw for m in drafted)
    (app,) = json.loads(acct.ok("status", "--json").out)
    notes = {s["state"]: s["note"] for s in app["steps"] if s["kind"] == "thank_you"}
    assert notes == {"withdrawn": "you stopped it; draft moved to Trash"}
    acct.ok("run", "--once", now="2026-11-20 09:00")
    assert acct.folder("Drafts") == [] and len(acct.folder("Trash")) == 4


def test_wrong_password_exits_3(acct: Account) -> None:
    acct.monkeypatch.setenv("FOLLOWUP_PASSWORD", "wrong-" + acct.user.password)
    r = acct.run("check")
    assert r.code == 3
    assert acct.user.password not in r.err


def test_untrusted_certificate_exits_4(
    dovecot: Dovecot,
    mail_user: MailUser,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = make_account(dovecot, mail_user, tmp_path, capsys, monkeypatch)
    text = acct.config.read_text()
    acct.config.write_text(text.replace(f'ca_file = "{dovecot.ca_file}"', "# no ca_file"))
    r = acct.run("check")
    assert r.code == 4, r.err
    assert "certificate" in r.err


def test_bad_config_exits_2_naming_the_key(acct: Account) -> None:
    acct.config.write_text(acct.config.read_text().replace("min_gap_days = 8", "min_gap_days = 2"))
    r = acct.run("status")
    assert r.code == 2
    assert "policy.min_gap_days" in r.err
