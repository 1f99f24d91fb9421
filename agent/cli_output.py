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
from .jsonview import JSONValue, iso
from .models import Step, StepKind, StepState
from .report import ApplicationView, TimelineEvent
from .services import Added, Cycle, Done, Edited, Preview, Status, Stopped


def local(moment: datetime | str | None, tz: tzinfo) -> str:
    if not moment:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


def day(moment: datetime, tz: tzinfo) -> str:
    """A day alone, in the one date format: `Tue 15 Dec`."""
    return moment.astimezone(tz).strftime("%a %d %b")


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
    return text


# -- changes ----------------------------------------------------------------


def added_summary(r: Added, tz: tzinfo) -> str:
    """`added #3 Acme — Data Engineer: 3 thank-you drafts Tue 01 Dec 15:00, first check-in …`."""
    app = r.application
    head = f"added #{app.id} {app.company} — {app.role}"
    if r.round > 1:
        head += f" (round {r.round})"
    thanks = sorted(s.due_at for s in r.planned if s.kind is StepKind.THANK_YOU)
    checkins = sorted(s.due_at for s in r.planned if s.kind is StepKind.CHECKIN)
    parts = []
    if thanks:
        notes = "thank-you draft" + ("s" if len(thanks) > 1 else "")
        parts.append(f"{len(thanks)} {notes} {local(thanks[0], tz)}")
    if checkins:
        parts.append(f"first check-in {day(checkins[0], tz)}")
    return head + (": " + ", ".join(parts) if parts else ": nothing to plan")


def print_added(r: Added, tz: tzinfo, *, id_line: bool = True) -> None:
    """`id_line`: end with the id alone on its line (`invites add`: scripts read it)."""
    app = r.application
    print(added_summary(r, tz))
    print_findings(r.findings)
    for s in r.planned:
        c = app.contact(s.contact_id)
        who = c.email if c else ""
        label = s.kind.value.replace("_", "-")
        print(f"  planned {label:9} {who:32} {local(s.due_at, tz)}")
    if id_line:
        print(app.id)


def added_json(r: Added, tz: tzinfo) -> JSONValue:
    """What `add --json` prints: the application's id and the steps it planned."""
    app = r.application

    def address(s: Step) -> str | None:
        c = app.contact(s.contact_id)
        return c.email if c else None

    return {
        "id": app.id,
        "company": app.company,
        "role": app.role,
        "round": r.round,
        "planned": [
            {"step": s.id, "kind": s.kind.value, "to": address(s), "due": iso(s.due_at, tz)}
            for s in r.planned
        ],
        "findings": [str(f) for f in r.findings],
    }


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
            f"  its {r.unsent_drafts} unsent draft(s) go to Trash at the next cycle"
            " (edited ones stay)"
        )


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
    for what, steps in (
        ("sent by you", rep.sent),
        ("deleted from Drafts by you, not written again", rep.rejected),
        ("withdrawn to Trash", rep.withdrawn),
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
    if not (rep.drafted or rep.state_changes or rep.sent or rep.rejected or rep.withdrawn or extra):
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
