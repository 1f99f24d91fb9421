"""agent.invites rules as tables: is it an interview, what it proposes, what an update changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.invites import read_invitations
from agent.invites.detect import User, judge, kind_of, people, propose
from agent.invites.lifecycle import Change, Known, change
from agent.invites.records import (
    CuType,
    EventTime,
    Invitation,
    InviteStatus,
    Method,
    Party,
    Verdict,
)

CORPUS = Path(__file__).parent / "corpus" / "invites"
ME = User.of(["alex@candidate.example"], "Alex Candidate")
AT = datetime(2026, 11, 20, 13, tzinfo=UTC)


def corpus(name: str) -> Invitation:
    (inv,) = read_invitations((CORPUS / name).read_bytes(), ZoneInfo("Europe/Berlin"))
    return inv


def invite(
    summary: str,
    organizer: str = "recruiter@acme.com",
    attendees: tuple[str, ...] = ("jane@acme.com", "alex@candidate.example"),
    *,
    description: str = "",
    location: str = "",
    method: Method = Method.REQUEST,
    conference: str = "",
) -> Invitation:
    return Invitation(
        method=method,
        uid="u",
        sequence=0,
        dtstamp=AT - timedelta(days=3),
        summary=summary,
        description=description,
        location=location,
        start=EventTime(AT),
        end=EventTime(AT + timedelta(hours=1)),
        organizer=Party(organizer, "Org Person"),
        attendees=tuple(Party(a, a.split("@")[0].title()) for a in attendees),
        conference_url=conference,
    )


@pytest.mark.parametrize(
    ("inv", "expected"),
    [
        (invite("Interview: Data Engineer"), True),
        (invite("Phone screen with Acme"), True),
        (invite("Onsite – final round"), True),
        (invite("Meet with the hiring team"), True),
        (invite("Chat", description="This is your interview with our team."), True),
        (invite("Vorstellungsgespräch Backend"), True),
        (invite("Entretien d'embauche – Développeur"), True),
        (invite("Entrevista de trabajo"), True),
        (invite("Colloquio conoscitivo"), True),
        (invite("Sollicitatiegesprek"), True),
        (invite("Intervju med Spotify"), True),
        (invite("Rozmowa kwalifikacyjna"), True),
        # A scheduling service alone is company enough.
        (invite("Interview", "noreply@greenhouse.io", ("alex@candidate.example",)), True),
        # Look-alikes, in several languages.
        (invite("Dentist appointment", "desk@smiledental.com"), False),
        (invite("Zahnarzt Kontrolle", "praxis@zahn-berlin.de"), False),
        (invite("Rendez-vous chez le dentiste", "cabinet@dentiste.fr"), False),
        (invite("Webinar: acing your interview", "events@hirely.com"), False),
        (invite("Seminario web: cómo hacer una entrevista", "eventos@empleo.es"), False),
        (invite("Holiday party 🎉", "hr@acme.com"), False),
        (invite("Fiesta de cumpleaños", "lucia@gmail.com", ("alex@candidate.example",)), False),
        (invite("Geburtstag von Oma", "tom@web.de"), False),
        (invite("Team dinner", "jane@acme.com"), False),
        # Nobody from a company: a friend's "interview" on freemail.
        (invite("Mock interview", "friend@gmail.com", ("alex@candidate.example",)), False),
        # The user's own events and their replies.
        (invite("Interview prep", "alex@candidate.example", ("coach@gmail.com",)), False),
        (invite("Interview", method=Method.REPLY), False),
        (invite("Coffee with Sam", "sam@acme.com"), False),
    ],
)
def test_is_it_an_interview(inv: Invitation, expected: bool) -> None:
    assert judge(inv, ME).interview is expected


def test_a_colleagues_interview_at_the_users_workplace_is_not_the_users() -> None:
    me = User.of(["alex@initech.com"])
    inv = invite("Interview: candidate for Backend", "hr@initech.com", ("alex@initech.com",))
    verdict = judge(inv, me)
    assert not verdict.interview
    assert "workplace" in verdict.reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("google_request.eml", True),
        ("outlook_request.eml", True),
        ("outlook_eastern_phone.eml", True),
        ("calendly.eml", True),
        ("greenhouse.eml", True),
        ("goodtime.eml", True),
        ("entretien.eml", True),
        ("dentist.eml", False),
        ("webinar.eml", False),
        ("fiesta.eml", False),
        ("own_event.eml", False),
        ("reply_accepted.eml", False),
    ],
)
def test_corpus_is_it_an_interview(name: str, expected: bool) -> None:
    assert judge(corpus(name), ME).interview is expected


@pytest.mark.parametrize(
    ("name", "company", "role", "kind", "people_"),
    [
        (
            "google_request.eml",
            "Acme",
            "Data Engineer",
            "video",
            {("jane.doe@acme.com", "interviewer"), ("bob.smith@acme.com", "recruiter")},
        ),
        (
            "outlook_request.eml",
            "Contoso",
            "Senior Data Engineer",
            "video",
            {
                ("kai.lehmann@contoso.de", "interviewer"),
                ("mia.wagner@contoso.de", "interviewer"),
                ("anna.mueller@contoso.de", "recruiter"),
            },
        ),
        # "Abgesagt:" is Outlook's, not the company's name.
        (
            "outlook_cancel.eml",
            "Contoso",
            "Senior Data Engineer",
            "video",
            {
                ("kai.lehmann@contoso.de", "interviewer"),
                ("mia.wagner@contoso.de", "interviewer"),
                ("anna.mueller@contoso.de", "recruiter"),
            },
        ),
        # A phone number as the location; the organizer who calls is the recruiter.
        (
            "outlook_eastern_phone.eml",
            "Fabrikam",
            "Product Manager",
            "phone",
            {("mgarcia@fabrikam.com", "recruiter")},
        ),
        # "Recruiter call" with a Zoom link: video; the host attends, so she is met.
        ("calendly.eml", "Northwind", "", "video", {("jane.park@northwind.io", "interviewer")}),
        (
            "greenhouse.eml",
            "Fabrikam",
            "Staff Engineer",
            "onsite",
            {
                ("tom.reyes@fabrikam.com", "hiring_manager"),
                ("lisa.chen@fabrikam.com", "interviewer"),
                ("priya.natarajan@fabrikam.com", "recruiter"),
            },
        ),
        # GoodTime's shared "Candidate Calendar" is nobody; "Virtual Onsite" has a link.
        (
            "goodtime.eml",
            "Tailspin Toys",
            "",
            "video",
            {
                ("omar.farouk@tailspin.com", "interviewer"),
                ("sofia.rossi@tailspin.com", "interviewer"),
            },
        ),
        (
            "entretien.eml",
            "Lumiere",
            "Développeur Python",
            "onsite",
            {("luc.bernard@lumiere.fr", "interviewer"), ("claire.martin@lumiere.fr", "recruiter")},
        ),
    ],
)
def test_corpus_proposals(
    name: str, company: str, role: str, kind: str, people_: set[tuple[str, str]]
) -> None:
    p = propose(corpus(name), ME)
    assert (p.company, p.role, p.kind) == (company, role, kind)
    assert {(x.email, x.role) for x in p.people} == people_


@pytest.mark.parametrize(
    ("inv", "kind"),
    [
        (invite("Interview", location="+49 30 1234567"), "phone"),
        (invite("Phone interview"), "phone"),
        (invite("Telefoninterview"), "phone"),
        (invite("Entretien téléphonique"), "phone"),
        (invite("Recruiter call"), "phone"),
        (invite("Recruiter call", conference="https://acme.zoom.us/j/1"), "video"),
        (invite("Interview", location="https://meet.google.com/x"), "video"),
        (invite("Video interview"), "video"),
        (invite("Interview", location="Acme HQ, 1 Main St"), "onsite"),
        (invite("On-site interview"), "onsite"),
        (invite("Vorstellungsgespräch vor Ort"), "onsite"),
        (invite("Interview"), "video"),
    ],
)
def test_kind(inv: Invitation, kind: str) -> None:
    assert kind_of(inv).value == kind


@pytest.mark.parametrize(
    ("name", "description", "role"),
    [
        ("Tom Reyes", "You will meet with Tom Reyes (Hiring Manager) and Lisa.", "hiring_manager"),
        ("Tom Reyes", "Tom Reyes, our hiring manager, and Lisa.", "hiring_manager"),
        ("Tom Reyes", "Tom Reyes - Hiring Manager", "hiring_manager"),
        (
            "Lisa Chen",
            "You will meet with Tom Reyes (Hiring Manager) and Lisa Chen.",
            "interviewer",
        ),
        ("Tom Reyes", "The hiring manager could not make it; Tom Reyes stands in.", "interviewer"),
        ("Hiring Manager Tom", "", "hiring_manager"),
        ("Tom", "", "interviewer"),
    ],
)
def test_hiring_manager_where_the_invitation_says_so(
    name: str, description: str, role: str
) -> None:
    inv = replace(
        invite("Interview", description=description),
        attendees=(Party("tom@acme.com", name), Party("alex@candidate.example")),
    )
    (person,) = [x for x in propose(inv, ME).people if x.email == "tom@acme.com"]
    assert person.role == role


def test_people_drop_rooms_groups_and_the_user() -> None:
    inv = replace(
        invite("Interview"),
        attendees=(
            Party("alex@candidate.example"),
            Party("jane@acme.com", "Jane"),
            Party("room1@acme.com", "Room 1", cutype=CuType.ROOM),
            Party("projector@acme.com", cutype=CuType.RESOURCE),
            Party("team@acme.com", "Team", cutype=CuType.GROUP),
            Party("acme.com_x1@group.calendar.google.com", "Hiring"),
            Party("c_18@resource.calendar.google.com", "Blue"),
            Party("board@acme.com", role="NON-PARTICIPANT"),
            Party("ALEX@candidate.example"),
        ),
    )
    assert [p.email for p in people(inv, ME)] == ["jane@acme.com"]


def test_a_group_calendar_organizer_is_not_a_recruiter() -> None:
    inv = replace(
        invite("Interview: Data Engineer"),
        organizer=Party("acme.com_abc@group.calendar.google.com", "Acme Recruiting"),
    )
    assert [x.role for x in propose(inv, ME).people] == ["interviewer"]


T1 = AT + timedelta(days=1)


def known(
    seq: int, status: InviteStatus = InviteStatus.NEW, stamp: int = 0, org: str = ""
) -> Known:
    return Known(seq, AT + timedelta(hours=stamp), AT, AT + timedelta(hours=1), status, org)


def copy(seq: int, *, stamp: int = 0, start: datetime = AT, cancel: bool = False) -> Invitation:
    inv = invite("Interview", method=Method.CANCEL if cancel else Method.REQUEST)
    return replace(
        inv,
        sequence=seq,
        dtstamp=AT + timedelta(hours=stamp),
        start=EventTime(start),
        end=EventTime(start + timedelta(hours=1)),
        cancelled=cancel,
    )


YES = Verdict(True, "says interview")
NO = Verdict(False, "no interview wording")


@pytest.mark.parametrize(
    ("k", "inv", "verdict", "expected"),
    [
        (None, copy(0), YES, Change.NEW),
        (None, copy(0), NO, Change.IGNORED),
        (None, copy(3, cancel=True), YES, Change.IGNORED),  # cancel of nothing known
        (known(0), copy(0), YES, Change.STALE),  # the same copy again
        (known(2), copy(1, start=T1), YES, Change.STALE),  # an older copy, late
        (known(0), copy(1, start=T1), YES, Change.MOVED),
        (known(0), copy(1), YES, Change.UPDATED),
        (known(0), copy(1), NO, Change.UPDATED),  # known UIDs are followed whatever they say
        (known(0), copy(0, stamp=5, start=T1), YES, Change.MOVED),  # Greenhouse: same SEQUENCE
        (known(0, stamp=5), copy(0, stamp=1, start=T1), YES, Change.STALE),
        (known(1, InviteStatus.ADDED), copy(2, cancel=True), YES, Change.CANCELLED),
        (known(2, InviteStatus.CANCELLED), copy(3, cancel=True), YES, Change.STALE),
        (known(1, InviteStatus.IGNORED), copy(2, start=T1), YES, Change.MOVED),
        # Someone else's copy of the UID: only the organizer moves or cancels.
        (known(0, org="other@evil.example"), copy(1, cancel=True), YES, Change.IGNORED),
        (known(0, org="other@evil.example"), copy(1, start=T1), YES, Change.IGNORED),
        (known(0, org="RECRUITER@acme.com"), copy(1, cancel=True), YES, Change.CANCELLED),
    ],
)
def test_what_a_copy_changes(
    k: Known | None, inv: Invitation, verdict: Verdict, expected: Change
) -> None:
    assert change(k, inv, verdict) is expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.text(max_size=200), st.text(max_size=80))
def test_any_wording_is_judged_and_proposed(summary: str, description: str, location: str) -> None:
    inv = invite(summary, description=description, location=location)
    assert isinstance(judge(inv, ME).interview, bool)
    p = propose(inv, ME)
    assert p.kind in ("phone", "video", "onsite")
    assert all(x.email != "alex@candidate.example" for x in p.people)
    assert len(p.role) <= 80
