"""The data behind `status` and `show`, as plain JSON-able dicts (stable names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import agenda, policy
from .config import PolicyConfig
from .models import Application, MessageKind, SeenMessage, Step, StepState
from .store import Store


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value else None


def step_dict(app: Application, step: Step) -> dict[str, Any]:
    contact = app.contact(step.contact_id)
    return {
        "id": step.id,
        "key": step.key,
        "kind": step.kind.value,
        "seq": step.seq,
        "to": contact.email if contact else None,
        "to_name": contact.name if contact else None,
        "due": _iso(step.due_at),
        "state": step.state.value,
        "message_id": step.message_id,
        "subject": step.subject,
        "drafted_at": _iso(step.drafted_at),
        "sent_at": _iso(step.sent_at),
        "late": step.late,
        "rule": step.rule,
        "note": step.note,
    }


def timeline(app: Application) -> list[dict[str, Any]]:
    """What happened and what is planned, in time order, each step with its rule."""
    rows: list[tuple[datetime, int, dict[str, Any]]] = [
        (e.at, 0, {"at": _iso(e.at), "type": "event", "kind": e.kind, "detail": e.detail})
        for e in app.events
        if e.kind != "drafted"  # the step itself says so, with its rule
    ]
    for s in app.steps:
        at = s.contacted_at
        rows.append(
            (
                at,
                1,
                {
                    "at": _iso(at),
                    "type": "step",
                    "id": s.id,
                    "kind": s.kind.value,
                    "state": s.state.value,
                    "what": agenda.describe(app, s),
                    "rule": s.rule,
                    "late": s.late,
                    "note": s.note,
                },
            )
        )
    return [r for *_, r in sorted(rows, key=lambda r: (r[0], r[1]))]


def application_dict(
    app: Application, pol: PolicyConfig, messages: list[SeenMessage] | None = None
) -> dict[str, Any]:
    manual = [m.sent_at for m in messages or [] if m.kind is MessageKind.USER_SENT and m.sent_at]
    planned = [s for s in app.steps if s.state is StepState.PLANNED]
    nxt = min(planned, key=lambda s: (s.due_at, s.id), default=None)
    nxt_contact = app.contact(nxt.contact_id) if nxt else None
    warnings = [f"{c.email} bounced; no more drafts to it" for c in app.contacts if c.bounced_at]
    warnings += [
        f"step {s.id} ({s.kind.value}) drafted late"
        for s in app.steps
        if s.late and s.state is not StepState.PLANNED
    ]
    warnings += [
        f"step {s.id} ({s.kind.value}): {s.note}"
        for s in app.steps
        if s.note.startswith(("lint:", "held back by lint"))
    ]
    responses = [m for m in messages or [] if m.kind is MessageKind.REPLY]
    return {
        "id": app.id,
        "company": app.company,
        "role": app.role,
        "state": app.state.value,
        "stop_reason": app.stop_reason,
        "contacts_made": len(policy.checkin_contacts(app, manual)),
        "max_contacts": policy.max_checkins(app, pol),
        "next_step": None
        if nxt is None
        else {
            "kind": nxt.kind.value,
            "due": _iso(nxt.due_at),
            "to": nxt_contact.email if nxt_contact else None,
            "late": nxt.late,
        },
        "hold_until": _iso(app.hold_until),
        "domains": list(app.domains),
        "interviews": [
            {
                "id": iv.id,
                "round": iv.round,
                "kind": iv.kind.value,
                "starts_at": _iso(iv.starts_at),
                "duration_minutes": iv.duration_minutes,
                "decision_by": iv.decision_by.isoformat() if iv.decision_by else None,
            }
            for iv in app.interviews
        ],
        "contacts": [
            {
                "id": c.id,
                "name": c.name,
                "email": c.email,
                "role": c.role.value,
                "agency": c.agency,
                "interview_id": c.interview_id,
                "bounced": c.bounced_at is not None,
            }
            for c in app.contacts
        ],
        "steps": [step_dict(app, s) for s in app.steps],
        "responses": [
            {"from": m.from_addr, "subject": m.subject, "date": _iso(m.sent_at)} for m in responses
        ],
        "events": [{"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in app.events],
        "timeline": timeline(app),
        "warnings": warnings,
    }


def status(store: Store, pol: PolicyConfig) -> list[dict[str, Any]]:
    return [application_dict(a, pol, store.messages_for(a.id)) for a in store.load_many()]
