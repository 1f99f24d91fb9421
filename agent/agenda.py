"""`followup agenda`: what needs the user today and soon, as typed records.

Drafts waiting in the Drafts folder to be reviewed and sent, reminders (LinkedIn,
cards, references, calls) and the drafts about to appear. Pure: `now` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from .jsonview import JSONValue, to_json
from .models import GONE_FROM_DRAFTS, Application, AppState, Step, StepKind, StepState

ACTIONS = {
    StepKind.LINKEDIN: "LinkedIn",
    StepKind.HANDWRITTEN: "handwritten card",
    StepKind.REFERENCES: "alert references",
    StepKind.CALL: "phone call",
    StepKind.ANSWER_REJECTION: "answer their rejection graciously",
}


@dataclass(frozen=True)
class AgendaItem:
    step: int
    application: int
    company: str
    kind: StepKind
    state: StepState
    to: str | None
    due: datetime
    overdue: bool  # due before today began
    what: str
    note: str

    @property
    def is_reminder(self) -> bool:
        return not self.kind.is_email


@dataclass(frozen=True)
class Agenda:
    now: datetime
    days: int
    today: tuple[AgendaItem, ...]  # due today or earlier, and drafts waiting in Drafts
    soon: tuple[AgendaItem, ...]  # due in the `days` after today

    def to_json(self, tz: tzinfo) -> JSONValue:
        return to_json(self, tz)


def _item(app: Application, step: Step, day_start: datetime) -> AgendaItem:
    contact = app.contact(step.contact_id)
    return AgendaItem(
        step=step.id,
        application=app.id,
        company=app.company,
        kind=step.kind,
        state=step.state,
        to=contact.email if contact else None,
        due=step.due_at,
        overdue=step.due_at < day_start,
        what=describe(app, step),
        note=step.note,
    )


def describe(app: Application, step: Step) -> str:
    """One line saying what the user (or the agent) does for this step."""
    contact = app.contact(step.contact_id)
    who = contact.name if contact else ""
    if step.kind.is_email:
        label = "thank-you" if step.kind is StepKind.THANK_YOU else f"check-in {step.seq}"
        if step.draft_gone:
            return f"the {label} draft to {who} is {GONE_FROM_DRAFTS}"
        if step.state is StepState.DRAFTED:
            return f"review and send the {label} draft to {who}: {step.subject}"
        return f"the {label} draft to {who} appears in Drafts"
    if step.kind is StepKind.CALL:
        return f"call {who} ({step.rule})"
    return f"{ACTIONS[step.kind]}: {step.rule}"


def _sorted(items: Iterable[AgendaItem]) -> tuple[AgendaItem, ...]:
    return tuple(sorted(items, key=lambda i: (i.due, i.step)))


def agenda(apps: Iterable[Application], now: datetime, tz: tzinfo, days: int = 7) -> Agenda:
    """Active applications' drafts to send and steps due today, then the next `days`."""
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time(0), tzinfo=tz)
    today_end = day_start + timedelta(days=1)
    soon_end = today_end + timedelta(days=days)
    today: list[AgendaItem] = []
    soon: list[AgendaItem] = []
    for app in apps:
        ended = app.state is not AppState.ACTIVE
        for s in app.steps:
            if ended and s.state is not StepState.PLANNED:
                continue  # an ended application keeps only its last reminder
            if s.kind.is_email and s.state is StepState.DRAFTED:
                today.append(_item(app, s, day_start))  # waiting in Drafts for the user
            elif s.state is StepState.PLANNED and s.due_at < soon_end:
                (today if s.due_at < today_end else soon).append(_item(app, s, day_start))
    return Agenda(now=now, days=days, today=_sorted(today), soon=_sorted(soon))
