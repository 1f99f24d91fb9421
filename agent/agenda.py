"""`followup agenda`: what needs the user today and soon, as plain dicts.

Drafts waiting in the Drafts folder to be reviewed and sent, reminders (LinkedIn,
cards, references, calls) and the drafts about to appear. Pure: `now` is passed in.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .models import Application, AppState, Step, StepKind, StepState

ACTIONS = {
    StepKind.LINKEDIN: "LinkedIn",
    StepKind.HANDWRITTEN: "handwritten card",
    StepKind.REFERENCES: "alert references",
    StepKind.CALL: "phone call",
}


def _item(app: Application, step: Step, what: str, day_start: datetime) -> dict[str, Any]:
    contact = app.contact(step.contact_id)
    return {
        "step": step.id,
        "application": app.id,
        "company": app.company,
        "kind": step.kind.value,
        "state": step.state.value,
        "to": contact.email if contact else None,
        "due": step.due_at.isoformat(timespec="minutes"),
        "overdue": step.due_at < day_start,
        "what": what,
        "note": step.note,
    }


def describe(app: Application, step: Step) -> str:
    """One line saying what the user (or the agent) does for this step."""
    contact = app.contact(step.contact_id)
    who = contact.name if contact else ""
    if step.kind.is_email:
        label = "thank-you" if step.kind is StepKind.THANK_YOU else f"check-in {step.seq}"
        if step.state is StepState.DRAFTED:
            return f"review and send the {label} draft to {who}: {step.subject}"
        return f"the {label} draft to {who} appears in Drafts"
    if step.kind is StepKind.CALL:
        return f"call {who} ({step.rule})"
    return f"{ACTIONS[step.kind]}: {step.rule}"


def agenda(apps: list[Application], now: datetime, tz: ZoneInfo, days: int = 7) -> dict[str, Any]:
    """{"today": [...], "soon": [...]} for active applications, each sorted by due time."""
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time(0), tzinfo=tz)
    today_end = day_start + timedelta(days=1)
    soon_end = today_end + timedelta(days=days)
    today: list[tuple[datetime, int, dict[str, Any]]] = []
    soon: list[tuple[datetime, int, dict[str, Any]]] = []
    for app in apps:
        if app.state is not AppState.ACTIVE:
            continue
        for s in app.steps:
            entry = (s.due_at, s.id, _item(app, s, describe(app, s), day_start))
            if s.kind.is_email and s.state is StepState.DRAFTED:
                today.append(entry)  # waiting in Drafts for the user
            elif s.state is StepState.PLANNED and s.due_at < soon_end:
                (today if s.due_at < today_end else soon).append(entry)
    return {
        "now": now.isoformat(timespec="minutes"),
        "days": days,
        "today": [i for *_, i in sorted(today, key=lambda e: (e[0], e[1]))],
        "soon": [i for *_, i in sorted(soon, key=lambda e: (e[0], e[1]))],
    }
