"""`followup invites [--json]`, `invites add ID`, `invites ignore ID` (CLI layer: prints)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from . import intake, invitations, invitestore
from .cli_output import print_added
from .invites.lifecycle import Change
from .invites.records import InviteStatus
from .models import InterviewKind

if TYPE_CHECKING:
    from .cli_context import Context

KINDS = tuple(k.value for k in InterviewKind)


def add_commands(sub: Any) -> None:
    """Register `invites` and its actions on the main parser's subparsers."""
    help_ = "calendar invitations that look like interviews: review, add, ignore"
    p = sub.add_parser("invites", help=help_, description=help_)
    p.set_defaults(invites_action="list")
    p.add_argument("--json", action="store_true", help="every invitation, whatever its status")
    p.add_argument("--all", action="store_true", help="also those added, ignored or cancelled")
    actions = p.add_subparsers(dest="invites_action", metavar="ACTION")
    a = actions.add_parser("add", help="make an interview of an invitation; prints its id")
    a.add_argument("id", type=int)
    a.add_argument("--role", help="the job (when the title does not say it, or says it wrong)")
    a.add_argument("--kind", choices=KINDS, help="instead of the one proposed")
    a.add_argument("--company", help="instead of the one proposed")
    a.add_argument("--decision-by", metavar="YYYY-MM-DD", help="when they said they'd decide")
    i = actions.add_parser("ignore", help="not an interview: leave it out of the list")
    i.add_argument("id", type=int)


def cmd_invites(ctx: Context) -> int:
    action = ctx.args.invites_action
    if action == "add":
        return _add(ctx)
    if action == "ignore":
        stored = invitations.ignore(ctx.store, ctx.args.id, ctx.now())
        print(f"ignored invitation {stored.id}: {stored.summary}")
        return 0
    return _list(ctx)


def _list(ctx: Context) -> int:
    wanted = () if ctx.args.all or ctx.args.json else (InviteStatus.NEW,)
    rows = invitestore.listing(ctx.store, wanted)
    if ctx.args.json:
        data = [invitations.entry(r, ctx.tz) for r in rows]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("no interview invitations to review")
        return 0
    for r in rows:
        print(_line(r, ctx.tz))
        for p in r.proposal.people:
            print(f"       {p.role:12} {p.name} <{p.email}>")
    if any(r.status is InviteStatus.NEW for r in rows):
        print("add one with: followup invites add ID [--role R] [--kind K]; or: invites ignore ID")
    return 0


def _line(r: invitestore.StoredInvite, tz: tzinfo) -> str:
    p = r.proposal
    when = r.start.astimezone(tz).strftime("%a %d %b %H:%M")
    what = " — ".join(x for x in (p.company, p.role or "(no role: give --role)", p.kind) if x)
    extra = f" → application {r.application_id}" if r.application_id else ""
    return f"#{r.id:<4} {r.status.value:9} {when}  {r.summary}\n       {what}{extra}"


def _add(ctx: Context) -> int:
    a = ctx.args
    opts = invitations.AddOptions(
        role=a.role,
        kind=InterviewKind(a.kind) if a.kind else None,
        company=a.company,
        decision_by=intake.parse_day(a.decision_by, "--decision-by") if a.decision_by else None,
    )
    print_added(ctx.services.add_invitation(a.id, opts, ctx.now()), ctx.tz)
    return 0


def review_line(ctx: Context) -> str:
    """'N interview invitations to review' for status and agenda, or ''."""
    # With "auto" too: one whose title names no role still waits for the user.
    n = ctx.services.invitations_to_review()
    if not n:
        return ""
    return f"{n} interview invitation{'s' if n != 1 else ''} to review: followup invites"


def outcome_lines(outcomes: Sequence[invitations.Outcome]) -> list[str]:
    """What `run --once` says about the invitations a cycle took in."""
    lines = []
    for o in outcomes:
        if o.change in (Change.STALE, Change.IGNORED):
            continue
        ref = f"invitation {o.invite_id}" if o.invite_id else "invitation"
        if o.change is Change.NEW and o.application_id is not None:
            lines.append(f"{ref} added as application {o.application_id}: {o.summary}")
        elif o.change is Change.NEW:
            why = f" ({o.note})" if o.note and o.note.startswith("invitation") else ""
            lines.append(f"{ref} to review: {o.summary}{why} — followup invites")
        else:
            detail = f": {o.note}" if o.note else ""
            lines.append(f"{ref} {o.change.value}: {o.summary}{detail}")
    return lines
