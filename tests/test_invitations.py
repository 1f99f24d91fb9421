"""invitations.py on a real store: later rounds, moves after the fact, cancels of one round."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import intake, invitations, invitestore
from agent.config import InvitationMode
from agent.errors import UsageError
from agent.invites.detect import User
from agent.invites.lifecycle import Change
from agent.invites.records import InviteStatus
from agent.models import AppState, DesiredStep, InterviewKind, StepKind, StepState
from agent.store import Store

CORPUS = Path(__file__).parent / "corpus" / "invites"
ME = User.of(["alex@candidate.example"], "Alex Candidate")
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "s.sqlite3")
    yield s
    s.close()


def ingest(
    store: Store, name: str, now: datetime, mode: InvitationMode = InvitationMode.ASK
) -> list[invitations.Outcome]:
    raw = (CORPUS / name).read_bytes()
    return invitations.ingest(store, raw, f"<{name}>", ME, BERLIN, now, mode)


def first_round(store: Store, company: str = "Acme") -> int:
    app_id, _ = intake.record(
        store,
        intake.InterviewIn(
            company=company,
            role="Data Engineer",
            at=T0 - timedelta(days=20),
            kind=InterviewKind.PHONE,
            recruiter=intake.PersonIn("Bob Smith", "bob.smith@acme.com"),
        ),
        T0 - timedelta(days=20),
    )
    return app_id


def test_the_same_mail_twice_changes_nothing(store: Store) -> None:
    (a,) = ingest(store, "google_request.eml", T0)
    (b,) = ingest(store, "google_request.eml", T0)
    assert (a.change, b.change) == (Change.NEW, Change.STALE)
    assert len(invitestore.listing(store)) == 1


def test_off_reads_nothing(store: Store) -> None:
    assert ingest(store, "google_request.eml", T0, InvitationMode.OFF) == []
    assert invitestore.listing(store) == []


def test_look_alikes_are_not_stored(store: Store) -> None:
    for name in ("dentist.eml", "webinar.eml", "fiesta.eml", "own_event.eml", "reply_accepted.eml"):
        (o,) = ingest(store, name, T0)
        assert o.change is Change.IGNORED
    assert invitestore.listing(store) == []


def test_a_later_round_of_an_active_application(store: Store) -> None:
    app_id = first_round(store)
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    got, _ = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    assert got == app_id
    app = store.load(app_id)
    assert [i.round for i in app.interviews] == [1, 2]


def test_a_later_round_restarts_a_responded_application(store: Store) -> None:
    app_id = first_round(store)
    with store.transaction():
        store.set_app_state(app_id, AppState.RESPONDED, "they replied", T0)
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    got, _ = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    assert got == app_id
    assert store.load(app_id).state is AppState.ACTIVE


def test_corrections_win_and_a_missing_role_is_asked_for(store: Store) -> None:
    (o,) = ingest(store, "calendly.eml", T0)
    assert o.invite_id is not None
    with pytest.raises(UsageError, match="--role"):
        invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    opts = invitations.AddOptions(role="Platform Engineer", kind=InterviewKind.PHONE)
    app_id, _ = invitations.add(store, o.invite_id, opts, T0)
    app = store.load(app_id)
    assert (app.company, app.role, app.interviews[0].kind) == (
        "Northwind",
        "Platform Engineer",
        InterviewKind.PHONE,
    )
    assert app.interviews[0].duration_minutes == 30


def test_a_move_after_the_interview_is_kept_as_it_was(store: Store) -> None:
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    app_id, _ = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    late = datetime(2026, 11, 21, 9, tzinfo=UTC)  # the interview was on the 20th
    (moved,) = ingest(store, "google_update.eml", late)
    assert moved.change is Change.MOVED and "after it took place" in moved.note
    assert store.load(app_id).interviews[0].starts_at == datetime(2026, 11, 20, 13, tzinfo=UTC)


def test_cancelling_one_round_of_two_keeps_the_application(store: Store) -> None:
    app_id = first_round(store)
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    ingest(store, "google_update.eml", T0)
    (c,) = ingest(store, "google_cancel.eml", T0 + timedelta(days=1))
    assert c.change is Change.CANCELLED
    app = store.load(app_id)
    assert app.state is AppState.ACTIVE
    assert [i.round for i in app.interviews] == [1]  # planning no longer sees round 2
    assert {c.email for c in app.contacts} == {"bob.smith@acme.com"}
    assert invitestore.get(store, o.invite_id).status is InviteStatus.CANCELLED


def test_cancelling_the_only_interview_stops_and_cancels_its_steps(store: Store) -> None:
    (o,) = ingest(store, "outlook_request.eml", T0)
    assert o.invite_id is not None
    app_id, iv_id = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    with store.transaction():
        store.reconcile_steps(
            app_id,
            [DesiredStep("k1", StepKind.THANK_YOU, T0 + timedelta(days=30), None, iv_id, 0, "r")],
            T0,
        )
    ingest(store, "outlook_update.eml", T0)
    (c,) = ingest(store, "outlook_cancel.eml", T0 + timedelta(days=1))
    assert "application stopped" in c.note
    app = store.load(app_id)
    assert app.state is AppState.STOPPED
    assert [s.state for s in app.steps] == [StepState.CANCELLED]
    kinds = [e.kind for e in app.events]
    assert "stopped" in kinds and kinds.count("interview") >= 2  # added, moved


def test_an_attendee_added_by_an_update_is_thanked_too(store: Store) -> None:
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    app_id, iv_id = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    raw = (CORPUS / "google_update.eml").read_bytes()
    panel = raw.replace(
        b"X-GOOGLE-CONFERENCE:",
        b"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;CN=Raj Patel:mailto:raj@acme.com\n"
        b"X-GOOGLE-CONFERENCE:",
    )
    (u,) = invitations.ingest(store, panel, "<panel>", ME, BERLIN, T0, InvitationMode.ASK)
    assert u.change is Change.MOVED and "Raj Patel joined the interview" in u.note
    met = {c.email for c in store.load(app_id).contacts if c.interview_id == iv_id}
    assert met == {"jane.doe@acme.com", "bob.smith@acme.com", "raj@acme.com"}


def test_an_invitation_naming_nobody_says_what_to_do(store: Store) -> None:
    raw = (CORPUS / "google_request.eml").read_bytes()
    for line in (b"jane.doe@acme.com", b"bob.smith@acme.com"):
        raw = raw.replace(line, b"noreply@greenhouse.io")
    (o,) = invitations.ingest(store, raw, None, ME, BERLIN, T0, InvitationMode.ASK)
    assert o.invite_id is not None
    with pytest.raises(UsageError, match="names nobody you will meet"):
        invitations.add(store, o.invite_id, invitations.AddOptions(), T0)


def test_a_cancel_from_someone_else_with_the_same_uid_is_ignored(store: Store) -> None:
    (o,) = ingest(store, "google_request.eml", T0)
    assert o.invite_id is not None
    app_id, _ = invitations.add(store, o.invite_id, invitations.AddOptions(), T0)
    forged = (
        (CORPUS / "google_cancel.eml")
        .read_bytes()
        .replace(
            b"ORGANIZER;CN=Bob Smith:mailto:bob.smith@acme.com",
            b"ORGANIZER;CN=Bob Smith:mailto:bob.smith@acme-careers.example",
        )
    )
    (f,) = invitations.ingest(store, forged, "<forged>", ME, BERLIN, T0, InvitationMode.ASK)
    assert f.change is Change.IGNORED
    assert store.load(app_id).state is AppState.ACTIVE
    assert invitestore.get(store, o.invite_id).status is InviteStatus.ADDED
