"""A sent copy known by its body when its headers no longer tell (classify/drafts.py)."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.classify import DraftRef, body_fingerprint, match_draft, parse_header, same_body
from agent.schema import MIGRATIONS, statements
from agent.store import Store

OURS = (
    "Dear Jane,\n\nThank you for taking the time to meet me today. I enjoyed our talk"
    " about how the team tests its data contracts.\n\nBest regards,\nAlex Candidate\n"
)
FP = body_fingerprint(OURS)


@pytest.mark.parametrize(
    ("text", "same"),
    [
        (OURS, True),
        (textwrap.fill(OURS.replace("\n", " "), 40), True),  # re-wrapped (format=flowed)
        (OURS.upper(), True),
        (OURS + "\n-- \nAlex Candidate | +49 30 1234\n", True),  # a signature added
        (OURS + "\nSent from my phone\n", True),  # a footer without the separator
        (OURS + "\n> On Mon, Jane wrote:\n> Thanks!\n", True),
        (OURS.replace("enjoyed", "loved"), False),  # the user's words now
        (OURS.replace("Dear Jane,", "Hi Jane,"), False),
        (OURS[: len(OURS) // 2], False),  # cut short
        ("Hi Jane, a note of my own.\n\n" + OURS, False),
        ("", False),
    ],
)
def test_same_body(text: str, same: bool) -> None:
    assert same_body(FP, text) is same


@given(st.text(max_size=300), st.integers(min_value=10, max_value=120))
def test_rewrapping_never_changes_the_fingerprint(text: str, width: int) -> None:
    flat = " ".join(text.replace(">", " ").replace("--", " ").split())
    # Mail clients rewrap at spaces; none splits a word longer than the line.
    wrapped = textwrap.fill(flat, width, break_long_words=False, break_on_hyphens=False)
    assert body_fingerprint(wrapped) == body_fingerprint(flat)


@pytest.mark.parametrize("bad", ["", "x", "0:abc", "nope:abc", "3"])
def test_a_broken_fingerprint_matches_nothing(bad: str) -> None:
    assert same_body(bad, OURS) is False


def _ref(digest: str = FP, **kw: str | None) -> DraftRef:
    fields: dict[str, str | None] = {"message_id": "<ours@example.org>", "subject": "Thank you"}
    fields.update(kw)
    return DraftRef(
        "a1.i1.thank_you.c1",
        fields["message_id"],
        "jane@acme.example",
        fields["subject"],
        None,
        digest,
    )


def test_a_copy_with_a_new_id_and_subject_is_ours_by_its_body_only() -> None:
    h = parse_header(
        b"To: Jane Doe <jane@acme.example>\r\nSubject: Great to meet you\r\n"
        b"Message-ID: <AM0PR01@exchangelabs.com>\r\n\r\n"
    )
    assert match_draft(h, [_ref()]) is None  # headers alone: not ours
    assert match_draft(h, [_ref()], OURS + "\n-- \nAlex\n") == _ref()
    assert match_draft(h, [_ref()], OURS.replace("enjoyed", "loved")) is None
    assert match_draft(h, [_ref(digest="")], OURS) is None  # an old draft: no fingerprint
    other = parse_header(b"To: bob@talentco.example\r\nSubject: x\r\n\r\n")
    assert match_draft(other, [_ref()], OURS) is None  # to someone else


def test_a_v7_database_gets_an_empty_fingerprint(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:7]:
        for statement in statements(script):
            conn.execute(statement)
    t = "2026-11-16T14:00:00+00:00"
    conn.executescript(
        f"""
        INSERT INTO applications (id, company, role, created_at, updated_at)
            VALUES (1, 'Acme', 'Engineer', '{t}', '{t}');
        INSERT INTO steps (id, application_id, key, kind, due_at, state, message_id,
            draft_uid, updated_at) VALUES (1, 1, 'a1.k', 'thank_you', '{t}', 'drafted',
            '<followup.9b7d85e13618.e47cd9e87e45@example.test>', 7, '{t}');
        PRAGMA user_version = 7;
        """
    )
    conn.commit()
    conn.close()
    store = Store.open(db)
    try:
        step = store.step(1)
        assert step.body_digest == "" and step.message_id is not None
    finally:
        store.close()
