"""Queries of the `invitations` table (schema in agent/store.py MIGRATIONS)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from .errors import NotFoundError
from .invites.lifecycle import Known
from .invites.records import Invitation, InviteStatus, Proposal, ProposedPerson
from .store import Store, parse_ts, ts


@dataclass(frozen=True)
class StoredInvite:
    """One row of `invitations`."""

    id: int
    uid: str
    sequence: int
    dtstamp: datetime | None
    method: str
    summary: str
    location: str
    start: datetime
    end: datetime
    organizer: str
    attendees: tuple[tuple[str, str], ...]  # (name, email) of the people met
    proposal: Proposal
    reason: str
    status: InviteStatus
    application_id: int | None
    interview_id: int | None
    message_id: str | None

    @property
    def known(self) -> Known:
        address = parseaddr(self.organizer)[1]
        return Known(self.sequence, self.dtstamp, self.start, self.end, self.status, address)

    @property
    def duration_minutes(self) -> int:
        return max(0, int((self.end - self.start) / timedelta(minutes=1)))


def _proposal_json(p: Proposal) -> str:
    return json.dumps(
        {
            "company": p.company,
            "role": p.role,
            "kind": p.kind,
            "people": [{"name": x.name, "email": x.email, "role": x.role} for x in p.people],
            "domains": list(p.domains),
        }
    )


def _proposal(text: str) -> Proposal:
    d = json.loads(text or "{}")
    return Proposal(
        company=str(d.get("company", "")),
        role=str(d.get("role", "")),
        kind=str(d.get("kind", "video")),
        people=tuple(
            ProposedPerson(str(x["name"]), str(x["email"]), str(x["role"]))
            for x in d.get("people", [])
        ),
        domains=tuple(str(x) for x in d.get("domains", [])),
    )


def _row(r: sqlite3.Row) -> StoredInvite:
    return StoredInvite(
        id=r["id"],
        uid=r["uid"],
        sequence=r["sequence"],
        dtstamp=parse_ts(r["dtstamp"]),
        method=r["method"],
        summary=r["summary"],
        location=r["location"],
        start=datetime.fromisoformat(r["starts_at"]),
        end=datetime.fromisoformat(r["ends_at"]),
        organizer=r["organizer"],
        attendees=tuple((str(a["name"]), str(a["email"])) for a in json.loads(r["attendees"])),
        proposal=_proposal(r["proposal"]),
        reason=r["reason"],
        status=InviteStatus(r["status"]),
        application_id=r["application_id"],
        interview_id=r["interview_id"],
        message_id=r["message_id"],
    )


def by_uid(store: Store, uid: str) -> StoredInvite | None:
    row = store.conn.execute("SELECT * FROM invitations WHERE uid = ?", (uid,)).fetchone()
    return _row(row) if row is not None else None


def get(store: Store, invite_id: int) -> StoredInvite:
    row = store.conn.execute("SELECT * FROM invitations WHERE id = ?", (invite_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no invitation with id {invite_id}")
    return _row(row)


def listing(store: Store, statuses: tuple[InviteStatus, ...] = ()) -> list[StoredInvite]:
    if statuses:
        marks = ",".join("?" * len(statuses))
        rows = store.conn.execute(
            f"SELECT * FROM invitations WHERE status IN ({marks}) ORDER BY starts_at, id",
            [s.value for s in statuses],
        )
    else:
        rows = store.conn.execute("SELECT * FROM invitations ORDER BY starts_at, id")
    return [_row(r) for r in rows]


def count(store: Store, status: InviteStatus) -> int:
    row = store.conn.execute(
        "SELECT COUNT(*) FROM invitations WHERE status = ?", (status.value,)
    ).fetchone()
    return int(row[0])


def _people_json(people: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([{"name": n, "email": e} for n, e in people])


def insert(
    store: Store,
    inv: Invitation,
    people: tuple[tuple[str, str], ...],
    proposal: Proposal,
    reason: str,
    message_id: str | None,
    now: datetime,
) -> int:
    cur = store.conn.execute(
        "INSERT INTO invitations (uid, sequence, dtstamp, method, summary, location, starts_at,"
        " ends_at, organizer, attendees, proposal, reason, status, message_id, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)",
        (
            inv.uid,
            inv.sequence,
            ts(inv.dtstamp),
            inv.method.value,
            inv.summary,
            inv.location,
            ts(inv.start.at),
            ts(inv.end.at),
            _organizer(inv),
            _people_json(people),
            _proposal_json(proposal),
            reason,
            message_id,
            ts(now),
            ts(now),
        ),
    )
    return int(cur.lastrowid or 0)


def refresh(
    store: Store,
    invite_id: int,
    inv: Invitation,
    people: tuple[tuple[str, str], ...],
    status: InviteStatus,
    message_id: str | None,
    now: datetime,
    proposal: Proposal | None = None,
) -> None:
    """Take a newer copy's values (and its proposal, when given)."""
    store.conn.execute(
        "UPDATE invitations SET sequence = ?, dtstamp = ?, method = ?, summary = ?,"
        " location = ?, starts_at = ?, ends_at = ?, organizer = ?, attendees = ?, status = ?,"
        " message_id = COALESCE(?, message_id), proposal = COALESCE(?, proposal),"
        " updated_at = ? WHERE id = ?",
        (
            inv.sequence,
            ts(inv.dtstamp),
            inv.method.value,
            inv.summary,
            inv.location,
            ts(inv.start.at),
            ts(inv.end.at),
            _organizer(inv),
            _people_json(people),
            status.value,
            message_id,
            _proposal_json(proposal) if proposal is not None else None,
            ts(now),
            invite_id,
        ),
    )


def set_status(
    store: Store,
    invite_id: int,
    status: InviteStatus,
    now: datetime,
    application_id: int | None = None,
    interview_id: int | None = None,
) -> None:
    store.conn.execute(
        "UPDATE invitations SET status = ?, application_id = COALESCE(?, application_id),"
        " interview_id = COALESCE(?, interview_id), updated_at = ? WHERE id = ?",
        (status.value, application_id, interview_id, ts(now), invite_id),
    )


def move_interview(store: Store, interview_id: int, start: datetime, minutes: int) -> None:
    """Give an interview the invitation's new time (the version triggers re-plan it)."""
    store.conn.execute(
        "UPDATE interviews SET starts_at = ?, duration_minutes = ? WHERE id = ?",
        (ts(start), minutes, interview_id),
    )


def _organizer(inv: Invitation) -> str:
    o = inv.organizer
    if o is None:
        return ""
    return f"{o.name} <{o.email}>" if o.name else o.email


def cancel_interview(store: Store, interview_id: int, now: datetime) -> None:
    """The organizer cancelled it: its planned steps end, and planning no longer sees it."""
    store.conn.execute(
        "UPDATE interviews SET cancelled_at = COALESCE(cancelled_at, ?) WHERE id = ?",
        (ts(now), interview_id),
    )
    store.conn.execute(
        "UPDATE steps SET state = 'cancelled', end_reason = 'interview cancelled', updated_at = ?"
        " WHERE interview_id = ? AND state = 'planned'",
        (ts(now), interview_id),
    )


def cancelled_interviews(store: Store) -> frozenset[int]:
    """Interviews their organizer cancelled (their unsent drafts are withdrawn)."""
    rows = store.conn.execute("SELECT id FROM interviews WHERE cancelled_at IS NOT NULL")
    return frozenset(int(r[0]) for r in rows)
