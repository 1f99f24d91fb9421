"""Templates over a table of real-looking notes: a phrase or a sentence, with or
without a final period, always makes a grammatical note, and no sentence repeats
word for word across the notes of one interview (the agency recruiter, copied
on all of them, sees every copy). Pinned by golden files in tests/golden/notes_*.txt
(regenerate with FOLLOWUP_UPDATE_GOLDEN=1, then read `git diff tests/golden`).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import compose, lint
from agent.draftid import DraftIds
from agent.models import (
    Application,
    AppState,
    Contact,
    Interview,
    InterviewKind,
    Person,
    Role,
    Step,
    StepKind,
    StepState,
)

GOLDEN = Path(__file__).parent / "golden"
TZ = ZoneInfo("Europe/Berlin")
ME = Person("Alex Candidate", "alex@example.org")
ENV = compose.make_env()
IDS = DraftIds(b"test key for the golden notes....")
AT = datetime(2026, 11, 16, 14, 0, tzinfo=TZ)

# (name, learned, highlight, what was discussed with each person)
NOTES = [
    ("clause", "the team is moving its CI to Nix", "", ("", "", "")),
    ("sentence", "The team is moving its CI to Nix.", "", ("", "", "")),
    (
        "phrases",
        "the move of the batch pipelines to streaming",
        "I cut a nightly ETL job from six hours to forty minutes",
        ("how the team tests its data contracts", "on-call for the ingestion service", ""),
    ),
    (
        "sentences_with_periods",
        "They ship to production twice a day.",
        "I led the migration of 40 services to Kubernetes.",
        ("We talked about their testing strategy.", "The on-call rotation.", "Kafka!"),
    ),
    ("proper_noun_first", "Kafka-based event sourcing for payments", "", ("GraphQL", "", "")),
    ("nothing", "", "", ("", "", "")),
]


def app_with(learned: str, highlight: str, discussed: tuple[str, ...]) -> Application:
    app = Application(3, "Initech", "Platform Engineer", AppState.ACTIVE, AT)
    app.interviews.append(
        Interview(1, 3, 1, InterviewKind.VIDEO, AT, 60, learned=learned, highlight=highlight)
    )
    names = ["Jane Doe", "Raj Patel", "Maria Garcia"]
    roles = [Role.INTERVIEWER, Role.INTERVIEWER, Role.HIRING_MANAGER]
    for n, (name, role, topic) in enumerate(zip(names, roles, discussed, strict=True), 1):
        email = f"{name.split()[0].lower()}@initech.example"
        app.contacts.append(Contact(n, 3, 1, name, email, role, discussed=topic))
    app.contacts.append(
        Contact(9, 3, 1, "Bob Smith", "bob@talentco.example", Role.RECRUITER, agency=True)
    )
    for c in app.contacts:
        app.steps.append(
            Step(
                c.id,
                3,
                f"a3.i1.thank_you.c{c.id}",
                StepKind.THANK_YOU,
                AT,
                StepState.PLANNED,
                contact_id=c.id,
                interview_id=1,
            )
        )
    return app


def notes_for(app: Application) -> list[compose.Draft]:
    now = datetime(2026, 11, 16, 16, 30, tzinfo=TZ)
    return [
        compose.build_draft(ENV, app, s, ME, now, TZ, 2, [], "example.org", ids=IDS)
        for s in app.steps
    ]


@pytest.mark.parametrize(("name", "learned", "highlight", "discussed"), NOTES)
def test_notes_read_well_for_any_reasonable_input(
    name: str, learned: str, highlight: str, discussed: tuple[str, ...]
) -> None:
    drafts = notes_for(app_with(learned, highlight, discussed))
    text = "\n\n".join(f"To: {d.to.formatted()}\n\n{d.body.rstrip()}" for d in drafts) + "\n"
    path = GOLDEN / f"notes_{name}.txt"
    if os.environ.get("FOLLOWUP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    for d in drafts:
        assert d.findings == (), (d.to, d.findings)
        # The measured break: a clause glued behind "Learning about".
        assert not re.search(r"Learning about \w+ (?:is|are|was|were)\b", d.body)
        assert not re.search(r"[.!?,;:]\.|\.\.|: [.,]", d.body), d.body


@pytest.mark.parametrize(("name", "learned", "highlight", "discussed"), NOTES)
def test_no_sentence_repeats_across_one_interviews_notes(
    name: str, learned: str, highlight: str, discussed: tuple[str, ...]
) -> None:
    seen: dict[str, str] = {}
    for d in notes_for(app_with(learned, highlight, discussed)):
        for para in lint.paragraphs(d.body):
            for sentence in lint.sentences(para):
                assert sentence not in seen, f"{sentence!r} in notes to {seen.get(sentence)}"
                seen[sentence] = d.to.email


@pytest.mark.parametrize(
    ("typed", "placed"),
    [
        ("the team is moving its CI to Nix", "the team is moving its CI to Nix"),
        ("The team is moving its CI to Nix.", "the team is moving its CI to Nix"),
        ("  Kafka  at scale. ", "Kafka at scale"),
        ("It ships twice a day!", "it ships twice a day"),
        ("I led the migration.", "I led the migration"),
        ("AWS cost cuts", "AWS cost cuts"),
        ("THE big launch", "THE big launch"),
        ("", ""),
    ],
)
def test_a_note_is_placed_as_typed_without_its_final_period(typed: str, placed: str) -> None:
    assert compose.note_text(typed) == placed
