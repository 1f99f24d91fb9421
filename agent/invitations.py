"""Use cases of calendar invitations: take them from mail, list, add, ignore, follow updates.

The rules are pure (agent/invites/); this module applies them to the store:
one transaction per invitation, an event in the timeline for every change
that touches an application.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from . import effects, intake, invitestore
from .config import Config, InvitationMode
from .errors import FollowupError, StateError, UsageError
from .invites import read_invitations
from .invites.detect import User, is_ats, judge, people, propose
from .invites.lifecycle import Change, change
from .invites.records import Invitation, InviteStatus
from .invites.structure import may_hold_invitation
from .mailbox import FetchedMessage, Mailbox
from .models import AppState, Contact, InterviewKind, Role
from .store import Store, ts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one invitation in a message did."""

    uid: str
    change: Change
    summary: str
    invite_id: int | None = None
    application_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class AddOptions:
    """The user's corrections to a proposal (`invites add` flags)."""

    role: str | None = None
    kind: InterviewKind | None = None
    company: str | None = None
    decision_by: date | None = None


def ingest(
    store: Store,
    raw: bytes,
    message_id: str | None,
    user: User,
    tz: tzinfo,
    now: datetime,
    mode: InvitationMode = InvitationMode.ASK,
) -> list[Outcome]:
    """Apply every invitation in one message; with AUTO, add interview-like ones."""
    if mode is InvitationMode.OFF:
        return []
    out = []
    for inv in read_invitations(raw, tz):
        outcome = _apply(store, inv, message_id, user, now)
        if (
            mode is InvitationMode.AUTO
            and outcome.change is Change.NEW
            and outcome.invite_id is not None
        ):
            outcome = _auto_add(store, outcome, outcome.invite_id, now)
        if outcome.change not in (Change.STALE, Change.IGNORED):
            log.info("invitation %s: %s (%s)", outcome.uid, outcome.change.value, outcome.note)
        out.append(outcome)
    return out


def _met(inv: Invitation, user: User) -> tuple[tuple[str, str], ...]:
    return tuple((p.name, p.email) for p in people(inv, user))


def _apply(
    store: Store, inv: Invitation, message_id: str | None, user: User, now: datetime
) -> Outcome:
    with store.transaction():
        stored = invitestore.by_uid(store, inv.uid)
        verdict = judge(inv, user)
        what = change(stored.known if stored else None, inv, verdict)
        if what is Change.NEW:
            new_id = invitestore.insert(
                store, inv, _met(inv, user), propose(inv, user), verdict.reason, message_id, now
            )
            return Outcome(inv.uid, what, inv.summary, new_id, note=verdict.reason)
        if stored is None or what in (Change.STALE, Change.IGNORED):
            return Outcome(inv.uid, what, inv.summary, stored.id if stored else None)
        status = stored.status
        if what is Change.CANCELLED:
            status = InviteStatus.CANCELLED
        elif status is InviteStatus.CANCELLED:
            status = InviteStatus.NEW  # re-sent after a cancel: to review again
        # Until the user has acted on it, the proposal follows the newest copy.
        proposal = propose(inv, user) if status is InviteStatus.NEW else None
        invitestore.refresh(
            store, stored.id, inv, _met(inv, user), status, message_id, now, proposal
        )
        note = ""
        if stored.status is InviteStatus.ADDED and stored.interview_id is not None:
            app_id = stored.application_id
            if what is Change.CANCELLED:
                note = _cancel_interview(store, stored.interview_id, app_id, inv, now)
            else:
                if what is Change.MOVED:
                    note = _move_interview(store, stored, stored.interview_id, inv, now)
                if stored.start > now:
                    joined = _new_people(store, stored.interview_id, app_id, inv, user, now)
                    note = "; ".join(x for x in (note, joined) if x)
        return Outcome(inv.uid, what, inv.summary, stored.id, stored.application_id, note)


def _move_interview(
    store: Store,
    stored: invitestore.StoredInvite,
    interview_id: int,
    inv: Invitation,
    now: datetime,
) -> str:
    app_id = stored.application_id
    if stored.start <= now:
        note = f"moved to {ts(inv.start.at)} after it took place; kept as it was"
        store.add_event(app_id, "invitation", f"{inv.summary}: {note}", now)
        return note
    minutes = max(5, int((inv.end.at - inv.start.at).total_seconds() // 60))
    invitestore.move_interview(store, interview_id, inv.start.at, minutes)
    note = f"interview moved from {ts(stored.start)} to {ts(inv.start.at)}"
    store.add_event(app_id, "interview", f"{note} (invitation update)", now)
    return note


def _new_people(
    store: Store,
    interview_id: int,
    app_id: int | None,
    inv: Invitation,
    user: User,
    now: datetime,
) -> str:
    """Attendees an update added: they will be met, so they are thanked too."""
    if app_id is None:
        return ""
    app = store.load(app_id)
    known = {c.email.casefold() for c in app.contacts if c.interview_id == interview_id}
    added = []
    for p in people(inv, user):
        if p.email.casefold() in known or is_ats(p.email):
            continue
        name = p.name or p.email.partition("@")[0].replace(".", " ").title()
        store.add_contact(Contact(0, app_id, interview_id, name, p.email, Role.INTERVIEWER))
        known.add(p.email.casefold())
        added.append(name)
    if not added:
        return ""
    note = f"{', '.join(added)} joined the interview"
    store.add_event(app_id, "interview", f"{note} (invitation update)", now)
    return note


def _cancel_interview(
    store: Store, interview_id: int, app_id: int | None, inv: Invitation, now: datetime
) -> str:
    invitestore.cancel_interview(store, interview_id, now)
    if app_id is None:
        return "interview cancelled"
    app = store.load(app_id)
    if not app.interviews and app.state is AppState.ACTIVE:
        # Its only interview: nothing is left to thank anyone for.
        effects.end_sequence(
            store,
            app_id,
            AppState.STOPPED,
            "the interview was cancelled",
            "interview cancelled",
            now,
        )
        return "interview cancelled; application stopped"
    store.add_event(app_id, "interview", f"{inv.summary}: cancelled by the organizer", now)
    return "interview cancelled"


def _auto_add(store: Store, outcome: Outcome, invite_id: int, now: datetime) -> Outcome:
    try:
        app_id, _ = add(store, invite_id, AddOptions(), now)
    except FollowupError as exc:
        # Left for review: the proposal lacks what only the user can say.
        return Outcome(
            outcome.uid, outcome.change, outcome.summary, outcome.invite_id, None, str(exc)
        )
    return Outcome(outcome.uid, outcome.change, outcome.summary, outcome.invite_id, app_id, "added")


def _existing_application(store: Store, company: str) -> int | None:
    """An active or responded application of the same company: a later round."""
    wanted = company.casefold().strip()
    for app in store.load_many(
        store.application_ids([AppState.ACTIVE, AppState.RESPONDED]), events=False
    ):
        if app.company.casefold().strip() == wanted:
            return app.id
    return None


def interview_data(stored: invitestore.StoredInvite, opts: AddOptions) -> intake.InterviewIn:
    """The interview `invites add` records: the proposal with the user's corrections."""
    p = stored.proposal
    company = (opts.company or p.company).strip()
    role = (opts.role or p.role).strip()
    if not company:
        raise UsageError(f"invitation {stored.id} names no company: give --company")
    if not role:
        raise UsageError(f"invitation {stored.id}: its summary names no role: give --role")

    def with_role(role: Role) -> list[intake.PersonIn]:
        return [intake.PersonIn(x.name, x.email) for x in p.people if x.role == role.value]

    met, recruiters = with_role(Role.INTERVIEWER), with_role(Role.RECRUITER)
    managers = with_role(Role.HIRING_MANAGER)
    met += managers[1:]  # one hiring manager per interview; any other is met all the same
    if not (met or recruiters or managers):
        raise UsageError(
            f"invitation {stored.id} names nobody you will meet: "
            "enter the interview with followup add --interviewer ..."
        )
    return intake.InterviewIn(
        company=company,
        role=role,
        at=stored.start,
        duration_minutes=max(5, min(stored.duration_minutes, 12 * 60)),
        kind=opts.kind or InterviewKind(p.kind),
        interviewers=tuple(met),
        hiring_manager=managers[0] if managers else None,
        recruiter=recruiters[0] if recruiters else None,
        decision_by=opts.decision_by,
        domains=p.domains,
        note=f"from the invitation {stored.summary!r}",
    )


def add(store: Store, invite_id: int, opts: AddOptions, now: datetime) -> tuple[int, int]:
    """Create the application and interview (or a later round); returns their ids."""
    stored = invitestore.get(store, invite_id)
    if stored.status is InviteStatus.ADDED:
        raise UsageError(f"invitation {invite_id} is already application {stored.application_id}")
    if stored.status is InviteStatus.CANCELLED:
        raise UsageError(f"invitation {invite_id} was cancelled by the organizer")
    data = interview_data(stored, opts)
    intake.validate(data)
    existing = _existing_application(store, data.company)
    if existing is not None and store.load(existing).state is AppState.RESPONDED:
        # A later round restarts an answered application (invariant 8).
        with store.transaction():
            store.set_app_state(existing, AppState.ACTIVE, "", now)
            store.add_event(existing, "active", "a later round from an invitation", now)
    app_id, iv_id = intake.record(store, data, now, existing)
    with store.transaction():
        invitestore.set_status(store, invite_id, InviteStatus.ADDED, now, app_id, iv_id)
        store.add_event(app_id, "invitation", f"added from the invitation {stored.summary!r}", now)
    return app_id, iv_id


def ignore(store: Store, invite_id: int, now: datetime) -> invitestore.StoredInvite:
    stored = invitestore.get(store, invite_id)
    if stored.status is InviteStatus.ADDED:
        raise StateError(
            f"invitation {invite_id} is application {stored.application_id}: "
            f"stop that instead (followup stop {stored.application_id})"
        )
    with store.transaction():
        invitestore.set_status(store, invite_id, InviteStatus.IGNORED, now)
    return invitestore.get(store, invite_id)


def entry(stored: invitestore.StoredInvite, tz: tzinfo) -> dict[str, Any]:
    """One invitation as `invites --json` shows it."""
    p = stored.proposal
    return {
        "id": stored.id,
        "uid": stored.uid,
        "sequence": stored.sequence,
        "summary": stored.summary,
        "start": stored.start.astimezone(tz).isoformat(),
        "end": stored.end.astimezone(tz).isoformat(),
        "location": stored.location,
        "organizer": stored.organizer,
        "attendees": [{"name": n, "email": e} for n, e in stored.attendees],
        "status": stored.status.value,
        "application_id": stored.application_id,
        "why": stored.reason,
        "proposal": {
            "company": p.company,
            "role": p.role,
            "kind": p.kind,
            "people": [{"name": x.name, "email": x.email, "role": x.role} for x in p.people],
        },
    }


def to_review(store: Store) -> int:
    """How many invitations wait for `invites add` or `invites ignore`."""
    return invitestore.count(store, InviteStatus.NEW)


# Calendar mail is small; a cap keeps a hostile "invitation" from costing much.
BODY_CAP = 1024 * 1024


@dataclass
class MailIntake:
    outcomes: list[Outcome] = field(default_factory=list)
    bodies: int = 0  # bodies fetched for it


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID of a raw message, recorded with the invitation it brought."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw[: 64 * 1024]).get("Message-ID")
    except (ValueError, TypeError, LookupError, UnicodeError):
        return None
    return str(value).strip()[:500] if value else None


def mode_of(cfg: Config) -> InvitationMode:
    return cfg.intake.invitations


def user_of(cfg: Config) -> User:
    return User.of([cfg.account.email], cfg.account.name)


def from_mail(
    store: Store,
    mailbox: Mailbox,
    msg: FetchedMessage,
    cfg: Config,
    tz: tzinfo,
    now: datetime,
) -> MailIntake:
    """Read the invitations of one new incoming message, fetching its body only if it has one.

    The BODYSTRUCTURE the mailbox fetched with the header decides; a mailbox
    that cannot tell (None) is judged on its top-level Content-Type.
    """
    got = MailIntake()
    mode = mode_of(cfg)
    if mode is InvitationMode.OFF:
        return got
    if not may_hold_invitation(msg.calendar, msg.header):
        return got
    raw = mailbox.fetch_body(msg.folder, msg.uid, BODY_CAP)
    if raw is None:
        return got
    got.bodies += 1
    got.outcomes = ingest(store, raw, message_id_of(raw), user_of(cfg), tz, now, mode)
    return got
