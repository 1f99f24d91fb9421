"""Rows ↔ records: how each record is written to and read from SQLite."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

from .models import (
    AppState,
    Contact,
    DraftWatch,
    Interview,
    InterviewKind,
    MessageKind,
    Role,
    SeenMessage,
    Step,
    StepKind,
    StepState,
)

# Steps with what draft_watch knows of their draft (edited, left for the user).
STEP_SELECT = (
    "SELECT s.*, w.edited AS draft_edited, w.left_for_user AS draft_left,"
    " w.gone_at AS draft_gone_at"
    " FROM steps s LEFT JOIN draft_watch w ON w.step_id = s.id"
)


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} cannot be stored")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def req_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


# Enum lookups by value: EnumType.__call__ costs a microsecond, and loading
# 10,000 applications for planning makes 150,000 of them.
APP_STATES = {e.value: e for e in AppState}
_KINDS = {e.value: e for e in InterviewKind}
_ROLES = {e.value: e for e in Role}
_STEP_KINDS = {e.value: e for e in StepKind}
_STEP_STATES = {e.value: e for e in StepState}


def draft_watch_row(r: sqlite3.Row) -> DraftWatch:
    return DraftWatch(
        r["step_id"],
        r["uidvalidity"],
        r["uid"],
        bool(r["edited"]),
        parse_ts(r["gone_at"]),
        r["left_for_user"],
    )


def seen_row(r: sqlite3.Row) -> SeenMessage:
    return SeenMessage(
        r["folder"],
        r["uidvalidity"],
        r["uid"],
        r["message_id"],
        MessageKind(r["kind"]),
        r["application_id"],
        r["contact_id"],
        r["from_addr"],
        tuple(a.strip() for a in r["to_addrs"].split(",") if a.strip()),
        r["subject"],
        parse_ts(r["sent_at"]),
        r["in_reply_to"],
        r["refs"],
    )


def interview_row(r: sqlite3.Row) -> Interview:
    return Interview(
        id=r["id"],
        application_id=r["application_id"],
        round=r["round"],
        kind=_KINDS[r["kind"]],
        starts_at=req_ts(r["starts_at"]),
        duration_minutes=r["duration_minutes"],
        decision_by=date.fromisoformat(r["decision_by"]) if r["decision_by"] else None,
        learned=r["learned"],
        highlight=r["highlight"],
        note=r["note"],
        created_at=parse_ts(r["created_at"]),
        final=bool(r["final"]),
    )


def contact_row(r: sqlite3.Row) -> Contact:
    return Contact(
        id=r["id"],
        application_id=r["application_id"],
        interview_id=r["interview_id"],
        name=r["name"],
        email=r["email"],
        role=_ROLES[r["role"]],
        agency=bool(r["agency"]),
        discussed=r["discussed"],
        bounced_at=parse_ts(r["bounced_at"]),
    )


def step_row(r: sqlite3.Row) -> Step:
    return Step(
        id=r["id"],
        application_id=r["application_id"],
        key=r["key"],
        kind=_STEP_KINDS[r["kind"]],
        due_at=req_ts(r["due_at"]),
        state=_STEP_STATES[r["state"]],
        contact_id=r["contact_id"],
        interview_id=r["interview_id"],
        seq=r["seq"],
        rule=r["rule"],
        message_id=r["message_id"],
        draft_uid=r["draft_uid"],
        drafted_at=parse_ts(r["drafted_at"]),
        sent_at=parse_ts(r["sent_at"]),
        late=bool(r["late"]),
        subject=r["subject"],
        end_reason=r["end_reason"],
        lint_findings=r["lint_findings"],
        held_back=bool(r["held_back"]),
        failure=r["failure"],
        in_reply_to=r["in_reply_to"],
        refs=r["refs"],
        body_digest=r["body_digest"],
        draft_edited=bool(r["draft_edited"]),
        draft_left=r["draft_left"] or "",
        draft_gone_at=parse_ts(r["draft_gone_at"]),
    )
