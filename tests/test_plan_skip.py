"""Store.plan_unchanged: a cycle skips the write only when reconcile_steps would write nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.models import Contact, DesiredStep, Interview, InterviewKind, Role, StepKind, StepState
from agent.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
THANKS = DesiredStep("a1.i1.thank_you.c1", StepKind.THANK_YOU, NOW, 1, 1, 0, "thank-you rule")
CHECKIN = DesiredStep("a1.i1.checkin1", StepKind.CHECKIN, NOW + timedelta(days=9), 2, 1, 1, "rule")


@pytest.mark.parametrize(
    ("desired", "finish_thanks", "unchanged"),
    [
        ([THANKS, CHECKIN], False, True),
        ([THANKS, replace(CHECKIN, due_at=CHECKIN.due_at + timedelta(hours=1))], False, False),
        ([THANKS, replace(CHECKIN, rule="another rule")], False, False),
        ([THANKS, replace(CHECKIN, late=True)], False, False),
        ([THANKS, replace(CHECKIN, contact_id=3)], False, False),
        ([THANKS, CHECKIN, replace(CHECKIN, key="a1.i1.checkin2", seq=2)], False, False),
        ([CHECKIN], False, False),  # a planned step no longer wanted is cancelled
        ([CHECKIN], True, True),  # a finished one is history
        ([replace(THANKS, rule="changed"), CHECKIN], True, True),  # history is not rewritten
    ],
)
def test_plan_unchanged_agrees_with_reconcile(
    tmp_path: Path, desired: list[DesiredStep], finish_thanks: bool, unchanged: bool
) -> None:
    store = Store.open(tmp_path / "s.sqlite3")
    with store.transaction():
        app = store.add_application("Acme", "Engineer", NOW)
        iv = Interview(0, app, 1, InterviewKind.VIDEO, NOW - timedelta(hours=2), 60)
        assert store.add_interview(iv, NOW) == 1
        for n in (1, 2, 3):
            person = Contact(0, app, 1, f"P {n}", f"p{n}@acme.test", Role.RECRUITER)
            assert store.add_contact(person) == n
        store.reconcile_steps(app, [THANKS, CHECKIN], NOW)
        if finish_thanks:
            step = next(s for s in store.load(app).steps if s.kind is StepKind.THANK_YOU)
            store.set_step_state(step.id, StepState.SENT, NOW)
    before = store.load(app).steps
    assert store.plan_unchanged(before, desired) is unchanged
    with store.transaction():
        store.reconcile_steps(app, desired, NOW + timedelta(minutes=1))
    # What reconcile really did agrees with the prediction.
    assert (store.load(app).steps == before) is unchanged
