"""Draft lint: paragraphs, length, tone, leftovers and spelling, as tables."""

from __future__ import annotations

import pytest

from agent import lint
from agent.lint import Check, NoteKind

THANK_YOU, CHECKIN = NoteKind.THANK_YOU, NoteKind.CHECKIN

GOOD = (
    "Dear Jane,\n\n"
    "Thank you for speaking with me today about the Data Engineer role.\n\n"
    "I look forward to hearing about the next steps.\n\n"
    "Best regards,\nAlex Candidate\n"
)


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n)) + "."


def body(*paras: str) -> str:
    return "Dear Jane,\n\n" + "\n\n".join(paras) + "\n\nBest regards,\nAlex Candidate\n"


@pytest.mark.parametrize(
    ("text", "kind", "codes"),
    [
        (GOOD, THANK_YOU, []),
        (body("One.", "Two.", "Three."), CHECKIN, []),
        (body("One.", "Two.", "Three.", "Four."), CHECKIN, ["paragraphs"]),
        (body(), CHECKIN, ["paragraphs"]),
        (body(words(80), words(45)), CHECKIN, ["length"]),  # 125 > 120
        (body(words(95)), THANK_YOU, ["length"]),  # one paragraph too long
        (body("I am just checking in on my application."), CHECKIN, ["tone"]),
        (body("I still haven’t heard anything."), CHECKIN, ["tone"]),  # curly apostrophe
        (body("I was disappointed by the delay."), CHECKIN, ["tone"]),
        (body("Sorry to bother you, but it is urgent."), CHECKIN, ["tone", "tone"]),
        (body("Thank you, {{ person.first_name }}."), THANK_YOU, ["placeholder"]),
        (body("Thank you, [NAME], for your time."), THANK_YOU, ["placeholder"]),
        (body("I enjoyed our talk about None."), THANK_YOU, ["placeholder"]),
        (body("I enjoyed our talk about ."), THANK_YOU, ["placeholder"]),
        (body("I enjoyed our  talk."), THANK_YOU, ["placeholder"]),
        (body("I enjoyed the the talk."), THANK_YOU, ["placeholder"]),
    ],
)
def test_check_body(text: str, kind: NoteKind, codes: list[str]) -> None:
    assert [f.code for f in lint.check_body(text, kind)] == codes


@pytest.mark.parametrize(
    ("texts", "known", "words"),
    [
        (["how the team tests its data contracts"], [], []),
        (["how the team recieves data"], [], ["recieves"]),
        (["on-call for the ingestion service"], [], []),  # hyphenated words
        (["the migration to Apache Flink"], [], []),  # capitalised: a name
        (["I cut a nightly ETL job from six hours"], [], []),
        (["working with acmeflow daily"], ["AcmeFlow Inc"], []),  # the company's name
        (["lunch with zoë and teh team"], ["Zoë Müller"], ["teh"]),
        (["it's the team's plan, isn't it"], [], []),  # contractions and possessives
        (["recieves recieves"], [], ["recieves"]),  # reported once
        (["the roadmap and onboarding of the backend"], [], []),  # trade words
        (["tuning the dagster workflow"], ["dagster"], []),  # policy.known_words
    ],
)
def test_check_spelling(texts: list[str], known: list[str], words: list[str]) -> None:
    found = lint.check_spelling(texts, known)
    assert [f.message.split("'")[1] for f in found] == words
    assert all(f.code is Check.SPELLING for f in found)


def test_paragraphs_and_sentences() -> None:
    assert lint.paragraphs(GOOD) == [
        "Thank you for speaking with me today about the Data Engineer role.",
        "I look forward to hearing about the next steps.",
    ]
    assert lint.opening_and_closing(body("A b. C d!", "E f? G h.")) == ("A b.", "G h.")
    assert lint.summary([lint.Finding(Check.TONE, "avoid 'asap'")]) == "tone: avoid 'asap'"
