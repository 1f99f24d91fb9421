"""An index updated application by application equals one built at once (issue 18).

The engine keeps its AppIndex between cycles and reloads only changed
applications, so `update` must never drift from `build`, whatever the
sequence of edits: contacts moving, domains shared, Message-IDs claimed twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.classify import AppIndex
from agent.models import Application, AppState, Contact, Role, Step, StepKind, StepState

ME = ["alex@example.net"]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADDRS = ["jane@acme.test", "bob@acme.test", "rita@agency.test", "kim@gmail.com", ME[0]]
MIDS = ["<a@x>", "<b@x>", "<c@x>"]


def _app(app_id: int, contacts: list[int], domains: list[str], steps: list[int]) -> Application:
    app = Application(
        id=app_id,
        company=f"C{app_id}",
        role="Engineer",
        state=AppState.ACTIVE if app_id % 2 else AppState.RESPONDED,
        created_at=T0,
        domains=tuple(domains),
    )
    for n, a in enumerate(contacts):
        app.contacts.append(
            Contact(
                id=app_id * 10 + n,
                application_id=app_id,
                interview_id=None,
                name="X",
                email=ADDRS[a],
                role=Role.RECRUITER if a == 2 else Role.INTERVIEWER,
                agency=a == 2,
            )
        )
    for n, m in enumerate(steps):
        app.steps.append(
            Step(
                id=app_id * 10 + n,
                application_id=app_id,
                key=f"k{app_id}.{n}",
                kind=StepKind.THANK_YOU,
                due_at=T0,
                state=StepState.DRAFTED,
                message_id=MIDS[m],
            )
        )
    return app


apps_st = st.builds(
    lambda c, d, s: (c, d, s),
    st.lists(st.integers(0, len(ADDRS) - 1), max_size=3),
    st.lists(st.sampled_from(["acme.test", "Acme.test", "@other.test"]), max_size=2),
    st.lists(st.integers(0, len(MIDS) - 1), max_size=2),
)
world_st = st.dictionaries(st.integers(1, 5), apps_st, max_size=5)
mail_st = st.lists(st.tuples(st.sampled_from(MIDS), st.integers(1, 5)), max_size=6)


def _same(a: AppIndex, b: AppIndex) -> None:
    assert a.contacts == b.contacts
    assert a.domains == b.domains
    assert a.threads == b.threads
    assert a.states == b.states
    assert a.since == b.since


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(world_st, mail_st), min_size=1, max_size=5))
def test_update_equals_build(
    history: list[tuple[dict[int, tuple[list[int], list[str], list[int]]], list[tuple[str, int]]]],
) -> None:
    idx: AppIndex | None = None
    before: dict[int, object] = {}
    for world, mail in history:
        apps = [_app(i, *spec) for i, spec in sorted(world.items())]
        threads = [(m, a) for m, a in mail if a in world]
        full = AppIndex.build(apps, threads, ME)
        # What the cache sees of an application: its data and its received mail.
        now = {i: (spec, sorted(m for m, a in threads if a == i)) for i, spec in world.items()}
        if idx is None:
            idx = AppIndex.build(apps, threads, ME)
        else:
            # As the cache does it: only the applications that changed are
            # handed over, with their own mail; the deleted ones are removed.
            changed = {i for i in now if now[i] != before.get(i)}
            idx.update(
                [a for a in apps if a.id in changed],
                [(m, a) for m, a in threads if a in changed],
                removed=before.keys() - now.keys(),
            )
        _same(idx, full)
        before = dict(now)
