"""Schema v6: old step notes land in their columns, and `show` says what it said."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.models import Step, StepKind, StepState
from agent.schema import MIGRATIONS, statements
from agent.store import Store

T = "2026-11-16T14:00:00+00:00"
STATE = StepState.DRAFTED

# (old steps.note, its state, draft_watch.edited or None for no row) →
# (end_reason, lint_findings, held_back, draft_edited, draft_left)
CASES = [
    ("", "drafted", None, ("", "", False, False, "")),
    ("lint: 1 typo (recieve)", "drafted", 0, ("", "1 typo (recieve)", False, False, "")),
    (
        "held back by lint: placeholder {x}",
        "planned",
        None,
        ("", "placeholder {x}", True, False, ""),
    ),
    ("edited by you in Drafts", "drafted", 1, ("", "", False, True, "")),
    ("edited by you in Drafts", "sent", 1, ("", "", False, True, "")),
    (
        "they replied; draft left in Drafts (UID unknown)",
        "drafted",
        1,
        ("", "", False, False, "they replied; draft left in Drafts (UID unknown)"),
    ),
    ("they replied", "cancelled", None, ("they replied", "", False, False, "")),
    (
        "you stopped it; draft moved to Trash",
        "withdrawn",
        0,
        ("you stopped it; draft moved to Trash", "", False, False, ""),
    ),
    ("done", "done", None, ("done", "", False, False, "")),
]


def _v5_database(path: Path, note: str, state: str, edited: int | None) -> None:
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:5]:
        for statement in statements(script):
            conn.execute(statement)
    conn.executescript(
        f"""
        INSERT INTO applications (id, company, role, created_at, updated_at)
            VALUES (1, 'Acme', 'Engineer', '{T}', '{T}');
        INSERT INTO steps (id, application_id, key, kind, due_at, state, note, draft_uid,
            updated_at) VALUES (1, 1, 'a1.k', 'thank_you', '{T}', '{state}', '{note}', 7, '{T}');
        PRAGMA user_version = 5;
        """
    )
    if edited is not None:
        conn.execute(
            "INSERT INTO draft_watch (step_id, uidvalidity, uid, edited, updated_at)"
            " VALUES (1, 99, 7, ?, ?)",
            (edited, T),
        )
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("note", "state", "edited", "expected"), CASES)
def test_v6_moves_each_kind_of_note_to_its_column(
    tmp_path: Path,
    note: str,
    state: str,
    edited: int | None,
    expected: tuple[str, str, bool, bool, str],
) -> None:
    db = tmp_path / "state.sqlite3"
    _v5_database(db, note, state, edited)
    store = Store.open(db)
    try:
        step = store.step(1)
        got = (
            step.end_reason,
            step.lint_findings,
            step.held_back,
            step.draft_edited,
            step.draft_left,
        )
        assert got == expected
        assert step.state is StepState(state)
        # `show` prints what it printed before the migration.
        assert step.note == note
        watch = store.draft_watch(1)
        if edited is not None:
            assert watch is not None
            assert watch.left_for_user == expected[4]
            assert watch.edited is expected[3]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("fields", "note", "lint_shown"),
    [
        ({}, "", False),
        ({"lint_findings": "typo"}, "lint: typo", True),
        ({"lint_findings": "typo", "held_back": True}, "held back by lint: typo", True),
        ({"lint_findings": "typo", "draft_edited": True}, "edited by you in Drafts", False),
        ({"draft_edited": True, "draft_left": "left (x)"}, "left (x)", False),
        ({"end_reason": "they replied", "draft_left": "left (x)"}, "they replied", False),
        ({"end_reason": "done", "lint_findings": "typo"}, "done", False),
    ],
)
def test_step_note_says_the_most_important_fact_first(
    fields: dict[str, Any], note: str, lint_shown: bool
) -> None:
    step = Step(1, 1, "a1.k", StepKind.THANK_YOU, datetime(2026, 1, 1, tzinfo=UTC), STATE, **fields)
    assert step.note == note
    assert step.lint_shown is lint_shown
