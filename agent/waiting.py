"""Drafts written but not yet sent: a draft nobody opens is a note never sent. Pure.

`status` and `agenda` open with them (oldest first) and the daemon's desktop
notification names them; a thank-you also says how long until its interview is
`thank_you_deadline_hours` old, after which the note reads late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import Application, AppState, StepKind, StepState


@dataclass(frozen=True)
class WaitingDraft:
    application_id: int
    company: str
    step_id: int
    kind: StepKind
    to: str  # the person's name (or address when no name is known)
    drafted_at: datetime
    send_by: datetime | None  # thank-yous: when the interview is deadline-hours old


def waiting_drafts(apps: Iterable[Application], deadline_hours: int) -> tuple[WaitingDraft, ...]:
    """Unsent drafts of active applications, oldest first."""
    found = []
    for app in apps:
        if app.state is not AppState.ACTIVE:
            continue
        for s in app.steps:
            if not (s.kind.is_email and s.state is StepState.DRAFTED):
                continue
            contact = app.contact(s.contact_id)
            iv = app.interview(s.interview_id)
            send_by = None
            if s.kind is StepKind.THANK_YOU and iv is not None:
                send_by = iv.ends_at + timedelta(hours=deadline_hours)
            found.append(
                WaitingDraft(
                    application_id=app.id,
                    company=app.company,
                    step_id=s.id,
                    kind=s.kind,
                    to=(contact.name or contact.email) if contact else "",
                    drafted_at=s.drafted_at or s.due_at,
                    send_by=send_by,
                )
            )
    return tuple(sorted(found, key=lambda w: (w.drafted_at, w.step_id)))


def span(delta: timedelta) -> str:
    """A duration as people say it: `5 h 20 min`, `3 days`, `40 min`."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes >= 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes} min"
