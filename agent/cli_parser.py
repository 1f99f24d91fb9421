"""The `followup` command line: every command, option and help text.

Parsing only: the command's name is in `args.command`; `cli` runs it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import __version__, config, invitecli
from .models import InterviewKind


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="followup",
        description="Drafts interview thank-you notes and check-ins into your mailbox.",
    )
    p.add_argument("--version", action="version", version=f"followup {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (also FOLLOWUP_CONFIG)")
    p.add_argument(
        "--now",
        metavar="ISO-8601",
        help="simulate the clock (without a zone: the config's time zone)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("--log-file", metavar="PATH", help="also write the log to this file")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help)

    i = cmd("init", "write a config file and store the password")
    i.add_argument("--no-input", action="store_true", help="never prompt (for scripts)")
    i.add_argument(
        "--maildir",
        metavar="PATH",
        help="use this local Maildir instead of an IMAP server (no password needed)",
    )
    i.add_argument(
        "--layout",
        choices=config.MAILDIR_LAYOUTS,
        default="auto",
        help="Maildir folder layout: maildir++ (.Drafts) or fs (Drafts/); default: detect",
    )
    i.add_argument("--email")
    i.add_argument("--name")
    i.add_argument("--host")
    i.add_argument("--port", type=int)
    i.add_argument("--security", choices=config.SECURITY_CHOICES)
    i.add_argument("--username")
    i.add_argument("--ca-file", metavar="PATH")
    i.add_argument("--timezone", metavar="Area/City")
    i.add_argument("--country", help="ISO code for public holidays, e.g. US")
    i.add_argument("--subdivision", help="state or province for public holidays, e.g. CA")
    i.add_argument("--database", metavar="PATH", help="where to keep the state (SQLite)")
    i.add_argument("--force", action="store_true", help="overwrite an existing config")
    i.add_argument("--oauth2-provider", choices=("google", "microsoft"), help="sign in with OAuth2")
    i.add_argument("--oauth2-client-id", metavar="ID", help="your own registered app's client id")

    dm = cmd("demo", "see the whole job on a throwaway local mailbox (no account needed)")
    dm.add_argument("--dir", metavar="PATH", help="where to put it (default: a new temp dir)")

    cmd("set-password", "store the IMAP password in the system keyring")
    cmd("check", "log in, find Drafts and Sent, show what the server supports")
    lg = cmd("login", "sign in with OAuth2 (Gmail, Microsoft 365) and keep the token")
    lg.add_argument("--flow", choices=("device", "pkce"), help="override the provider's flow")
    lg.add_argument("--no-browser", action="store_true", help="only print the address")
    lg.add_argument("--wait", type=float, default=5.0, metavar="MIN", help="how long to wait (5)")
    lg.add_argument("--store-secret", action="store_true", help="ask for the client secret first")

    a = cmd("add", "register an interview")
    a.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE.toml",
        help="read everything from a file (see examples/interview.toml)",
    )
    a.add_argument(
        "--application", type=int, metavar="ID", help="a later round of an existing application"
    )
    a.add_argument("--company")
    a.add_argument("--role")
    a.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="when the interview started")
    a.add_argument("--duration", type=int, default=60, metavar="MIN")
    a.add_argument(
        "--kind",
        dest="kind_",
        default="video",
        type=lambda v: _choice(v, ("phone", "video", "onsite"), "--kind"),
        metavar="phone|video|onsite",
    )
    a.add_argument("--round", type=int)
    a.add_argument("--interviewer", action="append", metavar="'Name <addr>'")
    a.add_argument("--hiring-manager", metavar="'Name <addr>'")
    a.add_argument("--recruiter", metavar="'Name <addr>'")
    a.add_argument("--agency", action="store_true", help="the recruiter is from an agency")
    a.add_argument("--decision-by", metavar="YYYY-MM-DD", help="when they said they'd decide")
    a.add_argument(
        "--final", action="store_true", help="the final round (reminds you to alert references)"
    )
    a.add_argument("--note", help="anything to remember about this interview")
    a.add_argument("--learned", help="something you learned about the team or product")
    a.add_argument("--highlight", help="a skill or achievement the interview did not cover")
    a.add_argument(
        "--force",
        action="store_true",
        help="add it even if the same interview (company, time, people) is already entered",
    )
    a.add_argument(
        "--domain",
        action="append",
        metavar="DOMAIN",
        help="another domain the company writes from (careers site, ATS)",
    )

    r = cmd("run", "the daemon: watch the mailbox and write drafts when due")
    r.add_argument("--once", action="store_true", help="one cycle, then exit")

    s = cmd("status", "one line per application")
    s.add_argument("--json", action="store_true")
    hl = cmd("health", "is the daemon running, connected, and when did it last work")
    hl.add_argument("--json", action="store_true")
    sh = cmd("show", "the whole timeline of one application")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true")
    pv = cmd("preview", "render the drafts due or next, without the mailbox")
    pv.add_argument("id", type=int)
    ag = cmd("agenda", "what is due today and soon: drafts to send, reminders")
    ag.add_argument("--days", type=int, default=7, metavar="N", help="how far ahead (7)")
    ag.add_argument("--json", action="store_true")
    ed = cmd("edit", "correct the notes or decision date of an interview")
    ed.add_argument("id", type=int)
    ed.add_argument("--round", type=int, help="which round (default: the latest)")
    ed.add_argument("--learned", help="something you learned about the team or product")
    ed.add_argument("--highlight", help="a skill or achievement the interview did not cover")
    ed.add_argument("--note", help="anything to remember (never put in a draft)")
    ed.add_argument("--decision-by", metavar="YYYY-MM-DD|none")
    ed.add_argument(
        "--discussed",
        action="append",
        metavar="ADDRESS=TEXT",
        help="what you talked about with that person (repeatable)",
    )
    dn = cmd("done", "mark a reminder (LinkedIn, card, references, call) done")
    dn.add_argument("step", type=int)
    st = cmd("stop", "stop an application's sequence for good")
    st.add_argument("id", type=int)
    st.add_argument("--reason")
    rm = cmd("remove", "delete an application entered by mistake (its unsent drafts are withdrawn)")
    rm.add_argument("id", type=int)
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    invitecli.add_commands(sub)
    return p


def _choice(value: str, choices: Sequence[str], flag: str) -> InterviewKind:
    if value not in choices:
        raise argparse.ArgumentTypeError(f"{flag} must be one of {', '.join(choices)}")
    return InterviewKind(value)
