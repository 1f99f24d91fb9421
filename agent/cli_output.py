"""How the CLI prints the use cases' results: text for people, JSON for scripts.

Only prints; computes nothing a script could not get from `--json`. Times are
shown in the user's zone, as `Tue 01 Dec 15:00`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from . import lint
from .agenda import Agenda
from .health import Health
from .jsonview import JSONValue, iso
from .models import AppState, Step, StepKind, StepState
from .report import ApplicationView, StepView, TimelineEvent, TimelineStep
from .services import Added, Cycle, Done, Edited, Preview, Removed, Status, Stopped
from .waiting import WaitingDraft, span


def local(moment: datetime | str | None, tz: tzinfo) -> str:
    if not moment:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


def day(moment: datetime, tz: tzinfo) -> str:
    """A day alone, in the one date format: `Tue 15 Dec`."""
    return moment.astimezone(tz).strftime("%a %d %b")


def day_of(d: date) -> str:
    """A calendar date in the one format: `Fri 11 Dec`."""
    return d.strftime("%a %d %b")


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
        text = "daemon: not running (start: followup run)"
    text += f"; last good cycle {local(h.last_ok_at, tz)}"
    if h.error_is_current:
        text += f"; last error {local(h.last_error_at, tz)}: {h.last_error}"
    if h.unreadable:
        text += f"; {h.unreadable} unreadable message(s) passed over (see the log)"
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
    for w in r.warnings:
        print(f"warning: {w}")
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


# How a step's kind reads in sentences and tables.
KIND_LABELS = {
    StepKind.THANK_YOU: "thank-you",
    StepKind.CHECKIN: "check-in",
    StepKind.LINKEDIN: "LinkedIn invitation",
    StepKind.HANDWRITTEN: "handwritten card",
    StepKind.CALL: "phone call",
    StepKind.REFERENCES: "alert references",
    StepKind.ANSWER_REJECTION: "gracious answer to their rejection",
}


def print_waiting(items: Sequence[WaitingDraft], tz: tzinfo, now: datetime) -> None:
    """`N drafts waiting in Drafts`, oldest first; nothing when there are none."""
    if not items:
        return
    n = len(items)
    print(f"{n} draft{'s' if n > 1 else ''} waiting in Drafts (oldest first; send from your mail):")
    for w in items:
        company = w.company if len(w.company) <= 16 else w.company[:15] + "…"
        line = f"  #{w.application_id} {company}: {KIND_LABELS[w.kind]} to {w.to}"
        line += f", since {day(w.drafted_at, tz)}"
        if w.send_by is not None:
            left = w.send_by - now
            line += f"; {span(left)} left" if left.total_seconds() > 0 else "; late: send today"
        print(line)


def _overdue(due: datetime, now: datetime) -> str:
    return f"overdue {span(now - due)}" if due < now else ""


def _next_cells(a: ApplicationView, tz: tzinfo, now: datetime) -> tuple[str, str]:
    nxt = a.next_step
    if nxt is None:
        return "—", ""
    names = {c.email: c.name for c in a.contacts}
    label = KIND_LABELS[nxt.kind]
    step = f"{label} {names.get(nxt.to, nxt.to) or nxt.to}" if nxt.to else label
    if nxt.due < now:
        return step, _overdue(nxt.due, now)  # how long it has waited says more than its date
    return step, local(nxt.due, tz) + (" late" if nxt.late else "")


def _contacts_cell(a: ApplicationView) -> str:
    """Check-ins sent of those allowed; drafted ones are not sent yet: shown apart."""
    drafted = sum(1 for s in a.steps if s.kind is StepKind.CHECKIN and s.state is StepState.DRAFTED)
    cell = f"{a.contacts_made - drafted}/{a.max_contacts}"
    return cell + (f" +{drafted}" if drafted else "")


def share(needs: Sequence[int], room: int) -> list[int]:
    """Widths for columns wanting `needs` in `room`: the widest give way first."""
    widths = list(needs)
    while sum(widths) > room and max(widths) > 6:
        widths[widths.index(max(widths))] -= 1
    return widths


# (title, fixed width or 0 to share what is left)
STATUS_COLUMNS = (
    ("#", 2),
    ("company", 0),
    ("role", 0),
    ("state", 9),
    ("sent", 6),
    ("next step", 0),
    ("when", 16),
)


def print_status(
    status: Status, tz: tzinfo, now: datetime, waiting: Sequence[WaitingDraft] = ()
) -> None:
    print(health_line(status.daemon, tz))
    print_waiting(waiting, tz, now)
    apps = status.applications
    if not apps:
        print("no applications yet: followup add --help")
        return
    from rich.console import Console
    from rich.table import Table

    rows = [
        (str(a.id), a.company, a.role, a.state.value, _contacts_cell(a), *_next_cells(a, tz, now))
        for a in apps
    ]
    console = Console(highlight=False)
    # Fixed columns keep their width; names shrink with an ellipsis so that each
    # application stays on one line (rich only narrows columns that may wrap).
    gaps = 2 * (len(STATUS_COLUMNS) - 1)
    flex = [i for i, (_, fixed) in enumerate(STATUS_COLUMNS) if not fixed]
    needs = [max(len(r[i]) for r in [tuple(c for c, _ in STATUS_COLUMNS), *rows]) for i in flex]
    room = console.width - gaps - sum(fixed for _, fixed in STATUS_COLUMNS)
    widths = dict(zip(flex, share(needs, room), strict=True))
    table = Table(box=None, pad_edge=False, show_edge=False)
    for i, (col, fixed) in enumerate(STATUS_COLUMNS):
        table.add_column(col, no_wrap=True, overflow="ellipsis", width=fixed or widths[i])
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if any(_contacts_cell(a).count("+") for a in apps):
        print("sent: check-ins sent / allowed; +N drafted, waiting in Drafts")
    for a in apps:
        for w in a.warnings:
            print(f"warning: #{a.id} {a.company}: {_humane(w, a.steps)}")


# What happened to a step, as the end of a sentence about it.
STATE_PHRASES = {
    StepState.PLANNED: "is planned",
    StepState.APPENDING: "is being written to Drafts",
    StepState.DRAFTED: "is waiting in Drafts",
    StepState.SENT: "was sent",
    StepState.SKIPPED: "was deleted from Drafts by you; not written again",
    StepState.WITHDRAWN: "was withdrawn to Trash",
    StepState.CANCELLED: "is no longer needed",
    StepState.DONE: "was done",
}


def step_label(s: StepView) -> str:
    """`the thank-you to Jane Doe`, `check-in 2 to Bob Smith`, `a LinkedIn invitation`."""
    label = KIND_LABELS[s.kind]
    if s.kind is StepKind.CHECKIN:
        label += f" {s.seq}"
    if s.kind.is_email:
        return f"the {label} to {s.to_name or s.to}" if s.to else f"the {label}"
    return f"the {label} reminder"


def _humane(detail: str, steps: Sequence[StepView]) -> str:
    """An event's detail with our internal step keys replaced by what they are."""
    for s in steps:
        for raw in (f"draft {s.key}", f"{s.kind.value} {s.key}", s.key):
            detail = detail.replace(raw, step_label(s))
    for kind, label in KIND_LABELS.items():
        detail = detail.replace(f"({kind.value})", f"({label})")
    return detail


def _show_event(t: TimelineEvent, steps: Sequence[StepView], tz: tzinfo) -> str:
    detail = _humane(t.detail, steps)
    text = detail if t.kind in detail else f"{t.kind}: {detail}"
    return f"  {local(t.at, tz)}  {text}"


def _show_step(t: TimelineStep, steps: dict[int, StepView], tz: tzinfo) -> list[str]:
    view = steps.get(t.id)
    label = step_label(view) if view else KIND_LABELS[t.kind]
    sentence = f"{label} {STATE_PHRASES[t.state]} (step {t.id})"
    if t.late:
        sentence += ", late"
    if t.state is StepState.DRAFTED and view and view.subject:
        sentence += f": {view.subject}"
    lines = [f"  {local(t.at, tz)}  {sentence[0].upper()}{sentence[1:]}"]
    why = t.rule + (f" — {t.note}" if t.note else "")
    if why:
        lines.append(f"  {'':16}  because: {why}")
    return lines


def print_show(a: ApplicationView, tz: tzinfo) -> None:
    print(
        f"#{a.id} {a.company} — {a.role}: {a.state.value}"
        + (f" ({a.stop_reason})" if a.stop_reason else "")
    )
    drafted = sum(1 for s in a.steps if s.kind is StepKind.CHECKIN and s.state is StepState.DRAFTED)
    extra = f", {drafted} more drafted" if drafted else ""
    print(f"Check-ins sent: {a.contacts_made - drafted} of {a.max_contacts}{extra}")
    for iv in a.interviews:
        decision = f"; they decide by {day_of(iv.decision_by)}" if iv.decision_by else ""
        print(f"Round {iv.round}: {iv.kind.value} interview on {local(iv.starts_at, tz)}{decision}")
    for c in a.contacts:
        flag = " — this address bounced" if c.bounced else ""
        agency = " (agency)" if c.agency else ""
        print(f"  {c.name} <{c.email}>, {c.role.value.replace('_', ' ')}{agency}{flag}")
    print("Timeline:")
    steps = {s.id: s for s in a.steps}
    for t in a.timeline:
        if isinstance(t, TimelineEvent):
            print(_show_event(t, a.steps, tz))
        else:
            for line in _show_step(t, steps, tz):
                print(line)
    for r in a.responses:
        print(f"Reply from {r.sender} on {local(r.date, tz)}: {r.subject}")
    for w in a.warnings:
        print(f"warning: {_humane(w, a.steps)}")


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
