"""`followup demo`: the whole job on a throwaway local Maildir, with a simulated clock.

The script drives the real commands (the same code a real account uses) and
narrates; it needs no server, no network and no keyring.
"""

from __future__ import annotations

import email
import email.policy
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from .maildir import create_maildir, deliver

TZ = ZoneInfo("America/New_York")
ME = ("Alex Rivera", "alex@example.org")
COMPANY_DOMAIN = "acme-analytics.example"

INTERVIEW_TOML = f"""\
# The sample interview the demo adds; the same format as `followup add --example` writes.
company = "Acme Analytics"
role = "Data Engineer"

[interview]
at = "2026-11-16 14:00"
duration = 90
kind = "onsite"
decision_by = "2026-11-25"       # "we'll get back to you by Wednesday next week"
learned = "the team's move from nightly batch jobs to streaming"
highlight = "I cut a six-hour ETL job to forty minutes by partitioning it"

[[interviewers]]
name = "Jane Doe"
email = "jane.doe@{COMPANY_DOMAIN}"
discussed = "how the team tests its data contracts"

[[interviewers]]
name = "Raj Patel"
email = "raj.patel@{COMPANY_DOMAIN}"
discussed = "on-call for the ingestion service"

[hiring_manager]
name = "Maria Garcia"
email = "maria.garcia@{COMPANY_DOMAIN}"
discussed = "the roadmap for the next two quarters"

[recruiter]
name = "Bob Smith"
email = "bob@talentco.example"
agency = true
"""

Say = Callable[[str], None]
Run = Callable[[Sequence[str]], int]


@dataclass
class Demo:
    """One demo run in `root`: a Maildir, a config, a database."""

    root: Path
    say: Say
    run_cli: Run

    @property
    def mail(self) -> Path:
        return self.root / "Mail"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    def folder(self, name: str) -> Path:
        return self.mail if name == "INBOX" else self.mail / f".{name}"

    def heading(self, when: str, text: str) -> None:
        self.say("")
        self.say(f"━━ {when} ━━ {text}")

    def cmd(self, *argv: str, now: str | None = None) -> None:
        """Show a command as the user would type it, then run it for real."""
        shown = ["followup", *([f"--now '{now}'"] if now else []), *map(_quote, argv)]
        self.say("$ " + " ".join(shown))
        full = ["--config", str(self.config), *(["--now", now] if now else []), *argv]
        code = self.run_cli(full)
        if code != 0:
            raise RuntimeError(f"followup {' '.join(argv)} exited with {code}")

    def drafts(self) -> list[tuple[Path, EmailMessage]]:
        out = []
        for sub in ("cur", "new"):
            for path in sorted((self.folder("Drafts") / sub).iterdir()):
                msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                out.append((path, msg))
        return out

    def show_drafts(self, seen: set[str]) -> None:
        for path, msg in self.drafts():
            if path.name in seen:
                continue
            seen.add(path.name)
            self.say("")
            self.say(f"  ┌ draft in {path.parent.parent.name}/{path.parent.name}/")
            for h in ("To", "Cc", "Subject", "In-Reply-To"):
                if msg[h]:
                    self.say(f"  │ {h}: {msg[h]}")
            self.say("  │")
            for line in msg.get_content().rstrip().splitlines():
                self.say(f"  │ {line}".rstrip())
            self.say("  └")

    def send_draft_to(self, addr: str, when: datetime) -> EmailMessage:
        """What your mail client does when you press Send: the copy goes to Sent."""
        for path, msg in self.drafts():
            if addr in str(msg["To"]):
                path.unlink()
                deliver(self.folder("Sent"), msg.as_bytes(), flags="S", when=when)
                return msg
        raise RuntimeError(f"no draft to {addr}")

    def receive(self, msg: EmailMessage, when: datetime) -> None:
        deliver(self.folder("INBOX"), msg.as_bytes(), when=when)


def _quote(arg: str) -> str:
    return shlex.quote(arg)


def _mail(
    sender: tuple[str, str],
    subject: str,
    body: str,
    when: datetime,
    reply_to: EmailMessage | None = None,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{sender[0]} <{sender[1]}>"
    msg["To"] = f"{ME[0]} <{ME[1]}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender[1].split("@")[1])
    if reply_to is not None:
        msg["In-Reply-To"] = str(reply_to["Message-ID"])
        msg["References"] = str(reply_to["Message-ID"])
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def run(root: Path, say: Say, run_cli: Run) -> Path:
    """Play the whole story; returns the Maildir that holds the drafts."""
    d = Demo(root, say, run_cli)
    root.mkdir(parents=True, exist_ok=True)
    create_maildir(d.mail, "maildir++")
    (root / "interview.toml").write_text(INTERVIEW_TOML, encoding="utf-8")
    seen: set[str] = set()

    say("followup demo: a throwaway mailbox, a sample interview and a simulated clock.")
    say(f"Everything lives in {root} (a local Maildir; no server, no password).")
    say("Each `$ followup ...` line below is a real command; --now moves the clock.")

    d.heading("Mon 16 Nov, 10:00", "set up and record this afternoon's interview")
    d.cmd(
        "init",
        "--no-input",
        "--maildir",
        str(d.mail),
        "--email",
        ME[1],
        "--name",
        ME[0],
        "--timezone",
        "America/New_York",
        "--country",
        "US",
        "--database",
        str(root / "state.sqlite3"),
    )
    d.cmd("add", "--from", str(root / "interview.toml"), now="2026-11-16 10:00")

    d.heading("Mon 16 Nov, 16:35", "an hour after the interview: the thank-you notes")
    say("One note per person met, each different (people compare notes); the agency")
    say("recruiter gets a note of their own and is copied on the others.")
    d.cmd("run", "--once", now="2026-11-16 16:35")
    d.show_drafts(seen)
    d.cmd("status", now="2026-11-16 16:35")

    d.heading("Mon 16 Nov, 17:00", "you review the drafts and send them from your mail client")
    for _, msg in d.drafts():
        d.send_draft_to(str(msg["To"].addresses[0].addr_spec), at("2026-11-16 17:00"))
    d.cmd("run", "--once", now="2026-11-16 17:05")
    say("(followup saw them in Sent: they count as sent and are never drafted again)")

    d.heading("Mon 30 Nov, 08:05", "no news after the decision date: the first check-in")
    say("They said they'd decide by Wed 25 Nov. followup waits two business days, and")
    say("Thanksgiving (Thu 26 Nov) is not one, so the check-in appears Monday morning.")
    d.cmd("run", "--once", now="2026-11-30 08:05")
    d.show_drafts(seen)
    checkin = d.send_draft_to(f"maria.garcia@{COMPANY_DOMAIN}", at("2026-11-30 09:10"))

    d.heading("Mon 30 Nov, 09:11", "an out-of-office answers the check-in")
    d.receive(
        _mail(
            ("Maria Garcia", f"maria.garcia@{COMPANY_DOMAIN}"),
            f"Automatic reply: {checkin['Subject']}",
            "Thank you for your email. I am out of the office until Friday, December 11,\n"
            "with limited access to email. I will reply when I am back.\n",
            at("2026-11-30 09:11"),
            checkin,
            Auto_Submitted="auto-replied",
        ),
        at("2026-11-30 09:11"),
    )
    d.cmd("run", "--once", now="2026-11-30 09:15")
    say("An automatic reply is not an answer: the sequence goes on, but the next")
    say("check-in now waits until one business day after she is back.")
    d.cmd("status", now="2026-11-30 09:15")

    d.heading("Mon 14 Dec, 08:05", "she is back: the second check-in")
    d.cmd("run", "--once", now="2026-12-14 08:05")
    d.show_drafts(seen)

    d.heading("Mon 14 Dec, 10:20", "before you send it, a real reply arrives")
    d.receive(
        _mail(
            ("Jane Doe", f"jane.doe@{COMPANY_DOMAIN}"),
            "Next steps for the Data Engineer role",
            "Hi Alex,\n\nThanks for your patience. We'd like to invite you to a final\n"
            "conversation with our director. Could you do Thursday at 2pm?\n\nJane\n",
            at("2026-12-14 10:20"),
        ),
        at("2026-12-14 10:20"),
    )
    d.cmd("run", "--once", now="2026-12-14 10:25")
    trashed = sum(1 for sub in ("cur", "new") for _ in (d.folder("Trash") / sub).iterdir())
    say("Someone from the company answered: the sequence stops for good, and the unsent")
    say(f"check-in was withdrawn (Drafts: {len(d.drafts())}, Trash: {trashed}), so it cannot go")
    say("out by mistake. Later cycles write nothing for this application:")
    d.cmd("run", "--once", now="2026-12-28 09:00")
    d.cmd("show", "1", now="2026-12-28 09:00")

    say("")
    say("━━ That's the whole job.")
    say(f"The drafts it wrote are files in {d.folder('Drafts')}/cur and {d.folder('Sent')}/cur")
    say(f"(e.g. `mutt -f {d.mail}`). Nothing was sent: followup only ever writes drafts.")
    say("")
    say("To use it with your own mailbox:")
    say("  followup init            # asks for your IMAP server; the password goes to the keyring")
    say("  followup check           # logs in, finds Drafts and Sent, shows what it supports")
    say("  followup add --help      # record an interview (add --example writes a file)")
    say("  followup run             # the daemon (a systemd user unit is in contrib/)")
    say("A local Maildir (mbsync, offlineimap) works too: followup init --maildir ~/Mail")
    return d.mail
