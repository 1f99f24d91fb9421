"""Rendered drafts, pinned by golden files in tests/golden/.

To regenerate after a deliberate template change, run

    FOLLOWUP_UPDATE_GOLDEN=1 python -m pytest tests/test_compose.py

then read the diff (`git diff tests/golden`) before committing it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import compose
from agent.draftid import DraftIds
from agent.errors import TemplateError
from agent.models import (
    Application,
    AppState,
    Contact,
    Interview,
    InterviewKind,
    MessageKind,
    Person,
    Role,
    SeenMessage,
    Step,
    StepKind,
    StepState,
)

GOLDEN = Path(__file__).parent / "golden"
TZ = ZoneInfo("Europe/Berlin")
ME = Person("Alex Candidate", "alex@example.org")
ENV = compose.make_env()
IDS = DraftIds(b"test key for the golden drafts...")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def make_app(people: int = 3, data: bool = True) -> Application:
    app = Application(7, "Acme Analytics", "Data Engineer", AppState.ACTIVE, t("2026-11-16 09:00"))
    app.interviews.append(
        Interview(
            1,
            7,
            1,
            InterviewKind.ONSITE,
            t("2026-11-16 14:00"),
            90,
            decision_by=date(2026, 12, 7) if data else None,
            learned="the move of the batch pipelines to streaming" if data else "",
            highlight="I cut a nightly ETL job from six hours to forty minutes" if data else "",
        )
    )
    topics = ["how the team tests its data contracts", "on-call for the ingestion service"]
    for n in range(people):
        app.contacts.append(
            Contact(
                n + 1,
                7,
                1,
                f"Person{n + 1} Example",
                f"p{n + 1}@acme.example",
                Role.INTERVIEWER,
                discussed=topics[n] if data and n < len(topics) else "",
            )
        )
    app.contacts.append(
        Contact(90, 7, 1, "Maria Garcia", "maria@acme.example", Role.HIRING_MANAGER)
    )
    app.contacts.append(
        Contact(91, 7, 1, "Bob Smith", "bob@talentco.example", Role.RECRUITER, agency=True)
    )
    return app


def step(app: Application, kind: StepKind, contact: int, seq: int = 0, **kw: object) -> Step:
    s = Step(
        len(app.steps) + 1,
        app.id,
        f"a7.i1.{kind.value}{seq}.c{contact}",
        kind,
        t("2026-11-16 16:30"),
        StepState.PLANNED,
        contact_id=contact,
        interview_id=1,
        seq=seq,
        message_id=f"<m{len(app.steps) + 1}@example.org>",
        **kw,  # type: ignore[arg-type]
    )
    app.steps.append(s)
    return s


def golden_text(d: compose.Draft) -> str:
    msg = d.to_message(t("2026-11-16 16:30"))
    head = [
        f"{h}: {msg[h]}" for h in ("To", "Cc", "Subject", "In-Reply-To", "References") if msg[h]
    ]
    found = [f"lint: {f}" for f in d.findings]
    return "\n".join([*head, "", d.body.rstrip("\n"), *found]) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("FOLLOWUP_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with FOLLOWUP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def build(
    app: Application, s: Step, now: str, messages: list[SeenMessage] | None = None
) -> compose.Draft:
    return compose.build_draft(
        ENV, app, s, ME, t(now), TZ, 3, messages or [], "example.org", ids=IDS
    )


def sent(s: Step, subject: str, when: str) -> None:
    s.state, s.subject, s.drafted_at = StepState.DRAFTED, subject, t(when)


@pytest.mark.parametrize(
    ("name", "data", "contact", "now"),
    [
        ("thank_you_full", True, 1, "2026-11-16 16:30"),  # same day: "today"
        ("thank_you_second_person", True, 2, "2026-11-17 09:00"),  # next day: "on Monday"
        ("thank_you_no_notes", False, 3, "2026-11-16 16:30"),  # nothing recorded: no gaps
        ("agency_recruiter", True, 91, "2026-11-16 16:30"),
        ("agency_recruiter_no_notes", False, 91, "2026-11-17 09:00"),
    ],
)
def test_thank_you_golden(name: str, data: bool, contact: int, now: str) -> None:
    app = make_app(data=data)
    d = build(app, step(app, StepKind.THANK_YOU, contact), now)
    assert d.findings == ()
    check_golden(name, golden_text(d))


def test_checkin_sequence_golden() -> None:
    """First, later and final check-ins to the hiring manager, threaded on the thank-you."""
    app = make_app()
    note = step(app, StepKind.THANK_YOU, 90)
    sent(note, "Thank you, Maria (Data Engineer interview)", "2026-11-16 16:30")
    first = step(app, StepKind.CHECKIN, 90, 1)
    d1 = build(app, first, "2026-12-09 08:00")
    check_golden("checkin_first", golden_text(d1))
    assert d1.in_reply_to == note.message_id and d1.references == (note.message_id,)
    sent(first, d1.subject, "2026-12-09 08:00")

    later = step(app, StepKind.CHECKIN, 90, 2)
    d2 = build(app, later, "2026-12-17 08:00")
    check_golden("checkin_later", golden_text(d2))
    assert d2.in_reply_to == first.message_id
    assert d2.references == (note.message_id, first.message_id)
    sent(later, d2.subject, "2026-12-17 08:00")

    final = step(app, StepKind.CHECKIN, 90, 3)
    d3 = build(app, final, "2026-12-25 08:00")
    check_golden("checkin_final", golden_text(d3))
    assert d3.subject == "Re: Thank you, Maria (Data Engineer interview)"  # never "Re: Re:"
    assert d3.references == (note.message_id, first.message_id, later.message_id)
    for d in (d1, d2, d3):
        assert d.findings == () and d.cc == (Person("Bob Smith", "bob@talentco.example"),)


def test_checkin_without_a_thread_starts_one() -> None:
    app = make_app(data=False)
    d = build(app, step(app, StepKind.CHECKIN, 91, 1), "2026-11-23 08:00")
    check_golden("checkin_first_unthreaded", golden_text(d))
    assert d.in_reply_to is None and d.references == () and d.cc == ()


def test_checkin_answers_their_reply() -> None:
    """A reply from the person in the store is the newest message: answer that."""
    app = make_app()
    note = step(app, StepKind.THANK_YOU, 90)
    sent(note, "Thank you, Maria (Data Engineer interview)", "2026-11-16 16:30")
    reply = SeenMessage(
        "INBOX",
        1,
        5,
        "<r1@acme.example>",
        MessageKind.REPLY,
        7,
        90,
        "Maria Garcia <maria@acme.example>",
        ("alex@example.org",),
        "Re: Thank you, Maria (Data Engineer interview)",
        t("2026-11-17 10:00"),
        note.message_id,
        note.message_id or "",
    )
    auto = replace(
        reply,
        kind=MessageKind.AUTO_REPLY,
        message_id="<ooo@acme.example>",
        sent_at=t("2026-11-18 10:00"),
    )
    d = build(app, step(app, StepKind.CHECKIN, 90, 1), "2026-12-09 08:00", [reply, auto])
    assert d.in_reply_to == "<r1@acme.example>"
    assert d.references == (note.message_id, "<r1@acme.example>")
    assert d.subject == "Re: Thank you, Maria (Data Engineer interview)"


@pytest.mark.parametrize("people", [1, 2, 3, 5, 7])  # + the hiring manager: up to 8
def test_notes_of_one_interview_never_share_an_opening_or_closing(people: int) -> None:
    app = make_app(people=people, data=False)
    steps = [step(app, StepKind.THANK_YOU, c.id) for c in app.contacts if not c.agency]
    bodies = [build(app, s, "2026-11-16 16:30").body for s in steps]
    ends = [compose.lint.opening_and_closing(b) for b in bodies]
    assert len({o for o, _ in ends}) == len(bodies)
    assert len({c for _, c in ends}) == len(bodies)
    # Deterministic per person: the same note whatever order the steps are in.
    app.steps.reverse()
    assert [build(app, s, "2026-11-16 16:30").body for s in steps] == bodies


def test_misspelled_notes_are_reported() -> None:
    app = make_app()
    app.contacts[0].discussed = "how the team recieves evnts from Kafka"
    d = build(app, step(app, StepKind.THANK_YOU, 1), "2026-11-16 16:30")
    assert [str(f) for f in d.findings] == [
        "spelling: 'recieves' (did you mean 'receives'?)",
        "spelling: 'evnts' (did you mean 'events'?)",
    ]


def test_reminders_have_no_template() -> None:
    app = make_app()
    with pytest.raises(TemplateError, match="reminder"):
        build(app, step(app, StepKind.LINKEDIN, 1), "2026-11-19 08:00")


def test_a_draft_is_linted_only_on_the_notes_it_quotes() -> None:
    app = make_app()
    app.interviews[0].learned = "the teams plan to recieve evnts from Kafka"
    thank_you = build(app, step(app, StepKind.THANK_YOU, 1), "2026-11-16 16:30")
    assert app.interviews[0].learned in thank_you.body
    assert [f.code for f in thank_you.findings] == ["spelling", "spelling"]
    # The check-in does not quote what was learned: its typos are not this draft's.
    checkin = build(app, step(app, StepKind.CHECKIN, 90, seq=1), "2026-12-09 08:00")
    assert app.interviews[0].learned not in checkin.body
    assert checkin.findings == ()


def seen(mid: str, kind: MessageKind, sender: str, to: tuple[str, ...], when: str) -> SeenMessage:
    """A stored message from `sender` to `to`, tied to no contact (matched by domain)."""
    return SeenMessage(
        "INBOX", 1, 9, mid, kind, 7, None, sender, to, "About the role", t(when), None, ""
    )


REPLY, USER_SENT = MessageKind.REPLY, MessageKind.USER_SENT


@pytest.mark.parametrize(
    ("kind", "sender", "to", "threads"),
    [
        # Substrings of the contact's address are other people.
        (REPLY, "Ash Lee <ashlee@acme.example>", ("alex@example.org",), False),
        (REPLY, "lee@acme.example.org", ("alex@example.org",), False),
        (USER_SENT, "Alex Candidate <alex@example.org>", ("ashlee@acme.example",), False),
        (USER_SENT, "alex@example.org", ("marylee@acme.example", "bob@x.example"), False),
        # The same address, however it is written, is the person.
        (REPLY, "Lee Park <Lee+jobs@ACME.example>", ("alex@example.org",), True),
        (USER_SENT, "alex@example.org", ("bob@x.example", "lee@acme.example"), True),
    ],
)
def test_checkin_threads_only_on_mail_with_that_exact_address(
    kind: MessageKind, sender: str, to: tuple[str, ...], threads: bool
) -> None:
    app = make_app(data=False)
    app.contacts.append(Contact(92, 7, 1, "Lee Park", "lee@acme.example", Role.RECRUITER))
    other = seen("<x1@acme.example>", kind, sender, to, "2026-11-17 10:00")
    d = build(app, step(app, StepKind.CHECKIN, 92, 1), "2026-11-23 08:00", [other])
    assert d.in_reply_to == ("<x1@acme.example>" if threads else None)
