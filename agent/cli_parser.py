"""The `followup` command line: every command, option and help text.

Parsing only: the command's name is in `args.command` (None: list the commands);
`cli` runs it. A mistyped command or option gets a did-you-mean.
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__, config, invitecli
from .models import InterviewKind

SHELLS = ("bash", "zsh", "fish")


class FollowupParser(argparse.ArgumentParser):
    """argparse with did-you-mean for commands and options, and its commands by name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments: list[argparse.Action] = []  # before super(): it adds --help
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        # Recorded here so suggestions and the help test need none of argparse's internals.
        action = super().add_argument(*args, **kwargs)
        self.arguments.append(action)
        return action

    @property
    def options(self) -> list[str]:
        return [o for action in self.arguments for o in action.option_strings]

    def error(self, message: str) -> NoReturn:
        super().error(message + suggestion(self, message))


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    found = list(getattr(parser, "options", []))
    for sub in getattr(parser, "commands", {}).values():
        found += _option_strings(sub)
    return found


def suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    """ "; did you mean …?" for an unknown command or option in argparse's `message`."""
    if m := re.search(r"invalid choice: '([^']*)'", message):
        names = list(getattr(parser, "commands", {})) or []
        if not names:
            return ""
        close = difflib.get_close_matches(m.group(1), names, n=1, cutoff=0.5)
    elif m := re.search(r"unrecognized arguments: (\S+)", message):
        close = difflib.get_close_matches(
            m.group(1).split("=", 1)[0], _option_strings(parser), n=1, cutoff=0.6
        )
    else:
        return ""
    return f"; did you mean {close[0]!r}?" if close else ""


def build_parser() -> FollowupParser:
    p = FollowupParser(
        prog="followup",
        description="Drafts interview thank-you notes and check-ins into your mailbox.",
        epilog="followup help COMMAND (or followup COMMAND --help) describes one command.",
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
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        return parser

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
    i.add_argument("--email", metavar="ADDRESS", help="your address; picks a provider preset")
    i.add_argument("--name", help="your name, as it signs the drafts")
    i.add_argument("--host", help="IMAP server (default: the preset, or imap.DOMAIN)")
    i.add_argument("--port", type=int, help="IMAP port (default: 993 for tls, 143 for starttls)")
    i.add_argument(
        "--security", choices=config.SECURITY_CHOICES, help="transport security (default: tls)"
    )
    i.add_argument("--username", help="IMAP login name (default: the email address)")
    i.add_argument(
        "--ca-file", metavar="PATH", help="PEM file of a private CA or self-signed certificate"
    )
    i.add_argument("--timezone", metavar="Area/City", help="your time zone (default: the system's)")
    i.add_argument(
        "--country", help="ISO code for public holidays, e.g. US (default: from the time zone)"
    )
    i.add_argument("--subdivision", help="state or province for public holidays, e.g. CA")
    i.add_argument("--database", metavar="PATH", help="where to keep the state (SQLite)")
    i.add_argument(
        "--force", action="store_true", help="rewrite an existing config, from its current values"
    )
    i.add_argument("--oauth2-provider", choices=("google", "microsoft"), help="sign in with OAuth2")
    i.add_argument("--oauth2-client-id", metavar="ID", help="your own registered app's client id")

    dm = cmd("demo", "see the whole job on a throwaway local mailbox (no account needed)")
    dm.add_argument("--dir", metavar="PATH", help="where to put it (default: a new temp dir)")

    cmd("set-password", "store the IMAP password in the system keyring")
    cmd("check", "log in, find Drafts and Sent, show what the server supports")
    lg = cmd("login", "sign in with OAuth2 (Gmail, Microsoft 365) and keep the token")
    lg.add_argument("--flow", choices=("device", "pkce"), help="override the provider's flow")
    lg.add_argument("--no-browser", action="store_true", help="only print the address")
    lg.add_argument(
        "--wait", type=float, default=5.0, metavar="MIN", help="how long to wait (default: 5)"
    )
    lg.add_argument("--store-secret", action="store_true", help="ask for the client secret first")

    a = cmd("add", "register an interview")
    a.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE.toml",
        help="read everything from a file (followup add --example writes one to start from)",
    )
    a.add_argument(
        "--example",
        metavar="FILE.toml",
        help="write an example interview file dated from today, to edit and pass to --from",
    )
    a.add_argument(
        "--application", type=int, metavar="ID", help="a later round of an existing application"
    )
    a.add_argument("--company", help="the company's name")
    a.add_argument("--role", help="the job you interviewed for")
    a.add_argument(
        "--at", metavar="'YYYY-MM-DD HH:MM'", help="when the interview started (your time zone)"
    )
    a.add_argument(
        "--duration", type=int, default=60, metavar="MIN", help="how long it lasted (default: 60)"
    )
    a.add_argument(
        "--kind",
        dest="kind_",
        default="video",
        type=lambda v: _choice(v, ("phone", "video", "onsite"), "--kind"),
        metavar="phone|video|onsite",
        help="how it took place (default: video)",
    )
    a.add_argument("--round", type=int, help="which round (default: the next one)")
    a.add_argument(
        "--interviewer",
        action="append",
        metavar="'Name <addr>'",
        help="a person you met (repeatable: one per interviewer)",
    )
    a.add_argument(
        "--hiring-manager", metavar="'Name <addr>'", help="the hiring manager, if you know them"
    )
    a.add_argument("--recruiter", metavar="'Name <addr>'", help="the recruiter, if any")
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
        help="another domain the company writes from: careers site, ATS (repeatable)",
    )
    a.add_argument(
        "--discussed",
        action="append",
        metavar="ADDRESS=TEXT",
        help="what you talked about with that person (repeatable)",
    )
    a.add_argument("--json", action="store_true", help="print what was planned as JSON")

    r = cmd("run", "the daemon: watch the mailbox and write drafts when due")
    r.add_argument("--once", action="store_true", help="one cycle, then exit")

    s = cmd("status", "one line per application")
    s.add_argument("--json", action="store_true", help="the applications as JSON, for scripts")
    hl = cmd("health", "is the daemon running, connected, and when did it last work")
    hl.add_argument("--json", action="store_true", help="the daemon's health as JSON")
    sh = cmd("show", "the whole timeline of one application")
    sh.add_argument("id", type=int, help="the application's number (see followup status)")
    sh.add_argument("--json", action="store_true", help="the timeline as JSON")
    pv = cmd("preview", "render the drafts due or next, without the mailbox")
    pv.add_argument("id", type=int, help="the application's number (see followup status)")
    ag = cmd("agenda", "what is due today and soon: drafts to send, reminders")
    ag.add_argument("--days", type=int, default=7, metavar="N", help="how far ahead (default: 7)")
    ag.add_argument("--json", action="store_true", help="the agenda as JSON")
    ed = cmd("edit", "correct the notes or decision date of an interview")
    ed.add_argument("id", type=int, help="the application's number (see followup status)")
    ed.add_argument("--round", type=int, help="which round (default: the latest)")
    ed.add_argument("--learned", help="something you learned about the team or product")
    ed.add_argument("--highlight", help="a skill or achievement the interview did not cover")
    ed.add_argument("--note", help="anything to remember (never put in a draft)")
    ed.add_argument(
        "--decision-by", metavar="YYYY-MM-DD|none", help="when they said they'd decide; none: unset"
    )
    ed.add_argument(
        "--discussed",
        action="append",
        metavar="ADDRESS=TEXT",
        help="what you talked about with that person (repeatable)",
    )
    dn = cmd("done", "mark a reminder (LinkedIn, card, references, call) done")
    dn.add_argument("step", type=int, help="the reminder's step number (see followup agenda)")
    st = cmd("stop", "stop an application's sequence for good")
    st.add_argument("id", type=int, help="the application's number (see followup status)")
    st.add_argument("--reason", help="why, for the timeline (default: stopped by you)")
    rm = cmd("remove", "delete an application entered by mistake (its unsent drafts are withdrawn)")
    rm.add_argument("id", type=int, help="the application's number (see followup status)")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    invitecli.add_commands(sub)
    hp = cmd("help", "describe one command (followup help add), or list them all")
    hp.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to describe")
    cp = cmd("completion", "print the shell completion script: followup completion bash")
    cp.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.commands = dict(sub.choices)
    return p


def _choice(value: str, choices: Sequence[str], flag: str) -> InterviewKind:
    if value not in choices:
        raise argparse.ArgumentTypeError(f"{flag} must be one of {', '.join(choices)}")
    return InterviewKind(value)
