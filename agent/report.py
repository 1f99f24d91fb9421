"""What `status` and `show` say about an application, as typed records.

The text output and `--json` are both printed from these records; the JSON
names are the ones the README documents (`jsonview` encodes them). Pure: built
from the models, never from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from . import agenda, policy
from .config import PolicyConfig
from .jsonview import JSONValue, json_name, to_json
from .models import (
    Application,
    AppState,
    InterviewKind,
    MessageKind,
    Role,
    SeenMessage,
    Step,
    StepKind,
    StepState,
)


@dataclass(frozen=True)
class NextStep:
    kind: StepKind
    due: datetime
    to: str | None
    late: bool


@dataclass(frozen=True)
class StepView:
    id: int
    key: str
    kind: StepKind
    seq: int
    to: str | None
    to_name: str | None
    due: datetime
    state: StepState
    message_id: str | None
    subject: str | None
    drafted_at: datetime | None
    sent_at: datetime | None
    late: bool
    rule: str
    note: str


@dataclass(frozen=True)
class InterviewView:
    id: int
    round: int
    kind: InterviewKind
    starts_at: datetime
    duration_minutes: int
    decision_by: date | None


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    email: str
    role: Role
    agency: bool
    interview_id: int | None
    bounced: bool


@dataclass(frozen=True)
class ResponseView:
    sender: str = field(metadata=json_name("from"))
    subject: str
    date: datetime | None


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened (a reply, a stop, an edit)."""

    at: datetime
    type: str = field(default="event", init=False)
    kind: str = ""
    detail: str = ""


@dataclass(frozen=True)
class TimelineStep:
    """A step at its moment: sent, drafted or due; `rule` says why it exists."""

    at: datetime
    type: str = field(default="step", init=False)
    id: int = 0
    kind: StepKind = StepKind.THANK_YOU
    state: StepState = StepState.PLANNED
    what: str = ""
    rule: str = ""
    late: bool = False
    note: str = ""


TimelineEntry = TimelineEvent | TimelineStep


@dataclass(frozen=True)
class ApplicationView:
    id: int
    company: str
    role: str
    state: AppState
    stop_reason: str
    contacts_made: int
    max_contacts: int
    next_step: NextStep | None
    hold_until: datetime | None
    domains: tuple[str, ...]
    interviews: tuple[InterviewView, ...]
    contacts: tuple[ContactView, ...]
    steps: tuple[StepView, ...]
    responses: tuple[ResponseView, ...]
    events: tuple[EventView, ...]
    timeline: tuple[TimelineEntry, ...]
    warnings: tuple[str, ...]

    def to_json(self, tz: tzinfo) -> JSONValue:
        return to_json(self, tz)


def step_view(app: Application, step: Step) -> StepView:
    contact = app.contact(step.contact_id)
    return StepView(
        id=step.id,
        key=step.key,
        kind=step.kind,
        seq=step.seq,
        to=contact.email if contact else None,
        to_name=contact.name if contact else None,
        due=step.due_at,
        state=step.state,
        message_id=step.message_id,
        subject=step.subject,
        drafted_at=step.drafted_at,
        sent_at=step.sent_at,
        late=step.late,
        rule=step.rule,
        note=step.note,
    )


def timeline(app: Application) -> tuple[TimelineEntry, ...]:
    """What happened and what is planned, in time order, each step with its rule."""
    # At the same moment an event comes before a step: "interview added", then its notes.
    rows: list[tuple[datetime, int, TimelineEntry]] = [
        (e.at, 0, TimelineEvent(at=e.at, kind=e.kind, detail=e.detail))
        for e in app.events
        if e.kind != "drafted"  # the step itself says so, with its rule
    ]
    for s in app.steps:
        at = s.contacted_at
        entry = TimelineStep(
            at=at,
            id=s.id,
            kind=s.kind,
            state=s.state,
            what=agenda.describe(app, s),
            rule=s.rule,
            late=s.late,
            note=s.note,
        )
        rows.append((at, 1, entry))
    return tuple(r for *_, r in sorted(rows, key=lambda r: (r[0], r[1])))


def next_step(app: Application) -> NextStep | None:
    planned = [s for s in app.steps if s.state is StepState.PLANNED]
    nxt = min(planned, key=lambda s: (s.due_at, s.id), default=None)
    if nxt is None:
        return None
    contact = app.contact(nxt.contact_id)
    return NextStep(nxt.kind, nxt.due_at, contact.email if contact else None, nxt.late)


def warnings(app: Application) -> tuple[str, ...]:
    """Bounced addresses, late drafts and lint findings: what the user should look at."""
    found = [f"{c.email} bounced; no more drafts to it" for c in app.contacts if c.bounced_at]
    found += [
        f"step {s.id} ({s.kind.value}) drafted late"
        for s in app.steps
        if s.late and s.state is not StepState.PLANNED
    ]
    found += [f"step {s.id} ({s.kind.value}): {s.note}" for s in app.steps if s.failed]
    found += [f"step {s.id} ({s.kind.value}): {s.note}" for s in app.steps if s.lint_shown]
    found += [f"step {s.id} ({s.kind.value}) draft {s.note}" for s in app.steps if s.draft_gone]
    return tuple(found)


def application_view(
    app: Application, pol: PolicyConfig, messages: Sequence[SeenMessage] = ()
) -> ApplicationView:
    manual = [m.sent_at for m in messages if m.kind is MessageKind.USER_SENT and m.sent_at]
    return ApplicationView(
        id=app.id,
        company=app.company,
        role=app.role,
        state=app.state,
        stop_reason=app.stop_reason,
        contacts_made=len(policy.checkin_contacts(app, manual)),
        max_contacts=policy.max_checkins(app, pol),
        next_step=next_step(app),
        hold_until=app.hold_until,
        domains=tuple(app.domains),
        interviews=tuple(
            InterviewView(
                iv.id, iv.round, iv.kind, iv.starts_at, iv.duration_minutes, iv.decision_by
            )
            for iv in app.interviews
        ),
        contacts=tuple(
            ContactView(
                c.id, c.name, c.email, c.role, c.agency, c.interview_id, c.bounced_at is not None
            )
            for c in app.contacts
        ),
        steps=tuple(step_view(app, s) for s in app.steps),
        responses=tuple(
            ResponseView(m.from_addr, m.subject, m.sent_at)
            for m in messages
            if m.kind is MessageKind.REPLY
        ),
        events=tuple(EventView(e.at, e.kind, e.detail) for e in app.events),
        timeline=timeline(app),
        warnings=warnings(app),
    )
