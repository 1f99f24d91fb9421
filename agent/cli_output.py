"""How the CLI prints the use cases' results: text for people, JSON for scripts.

Only prints; computes nothing a script could not get from `--json`. Times are
shown in the user's zone, as `Tue 01 Dec 15:00`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, tzinfo

from . import lint
from .agenda import Agenda
from .health import Health
from .jsonview import JSONValue
from .models import AppState, Step, StepState
from .report import ApplicationView, TimelineEvent
from .services import Added, Cycle, Done, Edited, Preview, Removed, Status, Stopped


def local(moment: datetime | str | None, tz: tzinfo) -> str:
    if not moment:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


def print_json(data: JSONValue) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def print_findings(findings: Sequence[lint.Finding]) -> None:
    for finding in findings:
        print(f"  lint: {finding}")


def health_line(h: Health, tz: tzinfo) -> str:
    if h.running:
        link = "connected" + (", IDLE" if h.idle else "") if h.connected else "not connected"
        text = f"daemon: running (pid {h.pid}), {link}"
    elif h.crashed:
        text = "daemon: not running (it did not stop cleanly)"
    elif h.stopped_at:
        text = f"daemon: not running (stopped {local(h.stopped_at, tz)})"
    else:
        text = "daemon: not running (start it with: followup run)"
    text += f"; last good cycle {local(h.last_ok_at, tz)}"
    if h.error_is_current:
        text += f"; last error {local(h.last_error_at, tz)}: {h.last_error}"
    if h.unreadable:
        text += f"; {h.unreadable} unreadable message(s) passed over (see the log)"
    return text


# -- changes ----------------------------------------------------------------


def print_added(r: Added, tz: tzinfo) -> None:
    app = r.application
    print(f"added {app.company} — {app.role} (round {r.round})")
    print_findings(r.findings)
    for w in r.warnings:
        print(f"warning: {w}")
    for s in r.planned:
        c = app.contact(s.contact_id)
        who = c.email if c else ""
        print(f"  planned {s.kind.value:9} {who:32} {local(s.due_at, tz)}")
    print(app.id)  # last, alone on its line: scripts read the id from there


def print_edited(r: Edited) -> None:
    print(f"updated #{r.application.id} {r.application.company}, round {r.round}")
    print_findings(r.findings)
    if r.drafts_kept:
        print(f"  {r.drafts_kept} draft(s) already written keep their text; later ones use the new")


def print_stopped(r: Stopped) -> None:
    app = r.application
    if r.already:
        print(f"#{app.id} is already {app.state.value}")
        return
    print(f"stopped #{app.id} {app.company}: {r.reason}")
    if r.unsent_drafts:
        print(
            f"  its {r.unsent_drafts} unsent draft(s) go to Trash at the next cycle (edited ones "
            "stay; with no Trash folder they stay in Drafts, and `show` says so)"
        )


def remove_question(v: ApplicationView) -> str:
    unsent = sum(1 for s in v.steps if s.state is StepState.DRAFTED)
    drafts = f"; its {unsent} unsent draft(s) go to Trash" if unsent else ""
    return f"Remove #{v.id} {v.company} — {v.role} ({v.state.value}) for good{drafts}?"


def print_removed(r: Removed) -> None:
    app = r.application
    print(f"removed #{app.id} {app.company} — {app.role}")
    if r.unsent_drafts:
        kept = r.unsent_drafts - r.withdrawn
        print(f"  {r.withdrawn} unsent draft(s) moved to Trash")
        if kept:
            print(f"  {kept} draft(s) you edited stay in Drafts")


def print_done(r: Done) -> None:
    if r.already:
        print(f"step {r.step.id} was already done")
    else:
        print(f"done: #{r.step.id} {r.what}")


def print_cycle(r: Cycle, extra: Sequence[str] = ()) -> None:
    """What one cycle did; `extra` are further lines (invitations taken in)."""
    rep = r.report

    def text(step: Step) -> str:
        return f"{step.kind.value} to {r.recipients.get(step.id, '?')}"

    for step in rep.recovered:
        print(f"recovered draft for step {step.id} after an interruption")
    for app_id, state, why in rep.state_changes:
        print(f"application {app_id} is now {state.value}: {why}")
        if state is AppState.RESPONDED:
            # A reply is usually why there is a later round: say how to enter it.
            print(
                f"  invited to a later round? followup add --application {app_id} "
                "--at 'YYYY-MM-DD HH:MM' --interviewer 'Name <addr>'"
            )
    for what, steps in (
        ("sent by you", rep.sent),
        ("deleted from Drafts by you, not written again", rep.rejected),
        ("withdrawn to Trash", rep.withdrawn),
        ("sent; its unedited draft left in Drafts was withdrawn", rep.twins),
    ):
        for step in steps:
            print(f"{text(step)} was {what}")
    for step in rep.drafted:
        late = " (late)" if step.late else ""
        print(f"drafted {text(step)}{late}: {step.subject}")
    for line in extra:
        print(line)
    for p in rep.problems:
        print(f"problem: {p}", file=sys.stderr)
    if (
        not (
            rep.drafted
            or rep.state_changes
            or rep.sent
            or rep.rejected
            or rep.withdrawn
            or rep.twins
        )
        and not extra
    ):
        print("nothing due")


# -- views ------------------------------------------------------------------


def print_preview(p: Preview, tz: tzinfo, now: datetime) -> None:
    if not p.drafts:
        print(f"nothing planned for #{p.application.id} ({p.application.state.value})")
        return
    for d in p.drafts:
        when = "due now" if d.due_now else f"due {local(d.step.due_at, tz)}"
        print(f"--- step {d.step.id}: {d.step.kind.value}, {when}")
        msg = d.draft.to_message(now)
        for h in ("From", "To", "Cc", "Subject", "In-Reply-To"):
            if msg[h]:
                print(f"{h}: {msg[h]}")
        print()
        print(d.draft.body)
        for f in d.draft.findings:
            print(f"lint: {f}")


def print_status(status: Status, tz: tzinfo) -> None:
    print(health_line(status.daemon, tz))
    apps = status.applications
    if not apps:
        print("no applications yet: followup add --help")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("id", "company", "role", "state", "contacts", "next step", "when"):
        table.add_column(col)
    for a in apps:
        nxt = a.next_step
        step = when = ""
        if nxt is None:
            step = "—"
        else:
            step = f"{nxt.kind.value} → {nxt.to}" if nxt.to else nxt.kind.value
            when = local(nxt.due, tz) + (" (late)" if nxt.late else "")
        row = (a.company, a.role, a.state.value, f"{a.contacts_made}/{a.max_contacts}")
        table.add_row(str(a.id), *row, step, when)
    Console(soft_wrap=True).print(table)
    for a in apps:
        for w in a.warnings:
            print(f"warning: #{a.id} {a.company}: {w}")


def print_show(a: ApplicationView, tz: tzinfo) -> None:
    print(
        f"#{a.id} {a.company} — {a.role}: {a.state.value}"
        + (f" ({a.stop_reason})" if a.stop_reason else "")
    )
    print(f"check-ins {a.contacts_made} of {a.max_contacts}")
    for iv in a.interviews:
        decision = f", decision by {iv.decision_by.isoformat()}" if iv.decision_by else ""
        print(f"  interview round {iv.round} ({iv.kind.value}) {local(iv.starts_at, tz)}{decision}")
    for c in a.contacts:
        flag = " [bounced]" if c.bounced else ""
        agency = " (agency)" if c.agency else ""
        print(f"  {c.role.value:14} {c.name} <{c.email}>{agency}{flag}")
    print("timeline:")
    for t in a.timeline:
        if isinstance(t, TimelineEvent):
            print(f"  {local(t.at, tz)}  {t.kind}: {t.detail}")
            continue
        late = " late" if t.late else ""
        print(f"  {local(t.at, tz)}  [{t.state.value}{late}] #{t.id} {t.what}")
        print(f"  {'':16}  why: {t.rule}" + (f" — {t.note}" if t.note else ""))
    for r in a.responses:
        print(f"  reply from {r.sender} on {local(r.date, tz)}: {r.subject}")
    for w in a.warnings:
        print(f"warning: {w}")


def print_agenda(ag: Agenda, tz: tzinfo) -> None:
    for title, items in (("today", ag.today), (f"next {ag.days} days", ag.soon)):
        print(f"{title}:")
        if not items:
            print("  nothing")
        for i in items:
            flag = " (overdue)" if i.overdue and i.state is StepState.PLANNED else ""
            print(f"  #{i.step:<4} {local(i.due, tz)}  {i.company}: {i.what}{flag}")
    if any(i.is_reminder for i in ag.today):
        print("mark a reminder done with: followup done STEP")
