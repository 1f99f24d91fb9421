"""Over random histories, an active application always has somewhere to go.

Invariant (DESIGN.md): an `active` application always has a next step, or a
time at which it is planned again or becomes `exhausted`. Hypothesis builds
applications (any kind, any mix of people, panels, later rounds) and lives
them day by day: steps are drafted, sent, thrown away, addresses bounce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agent import policy, workdays
from agent.config import PolicyConfig, ScheduleConfig
from agent.models import (
    Application,
    AppState,
    Contact,
    DesiredStep,
    Interview,
    InterviewKind,
    Role,
    Step,
    StepState,
)

POL = PolicyConfig()
CAL = workdays.make_calendar(ScheduleConfig("Europe/Berlin"))
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROLES = {
    "i": (Role.INTERVIEWER, False),
    "m": (Role.HIRING_MANAGER, False),
    "r": (Role.RECRUITER, False),
    "a": (Role.RECRUITER, True),
}


@dataclass(frozen=True)
class Act:
    hours: int  # time passes
    what: str  # what the user does with the drafts now due
    bounce: int | None  # a contact's address fails (index into contacts)


acts = st.builds(
    Act,
    hours=st.integers(1, 24 * 20),
    what=st.sampled_from(["draft", "send", "skip", "wait"]),
    bounce=st.none() | st.integers(0, 7),
)
rounds = st.lists(
    st.tuples(
        st.sampled_from(list(InterviewKind)),
        st.text("imra", min_size=1, max_size=4),
        st.none() | st.integers(0, 30),  # decision date, days after the interview
    ),
    min_size=1,
    max_size=2,
)


def build(spec: list[tuple[InterviewKind, str, int | None]]) -> Application:
    app = Application(1, "Acme", "Analyst", AppState.ACTIVE, START)
    for n, (kind, people, decision) in enumerate(spec, 1):
        at = START + timedelta(days=14 * (n - 1))
        iv = Interview(
            n,
            1,
            n,
            kind,
            at,
            60,
            decision_by=(at + timedelta(days=decision)).date() if decision is not None else None,
        )
        app.interviews.append(iv)
        for letter in people:
            role, agency = ROLES[letter]
            c = len(app.contacts) + 1
            app.contacts.append(Contact(c, 1, n, f"P{c} X", f"p{c}@acme.example", role, agency))
    return app


def reconcile(app: Application, desired: list[DesiredStep]) -> None:
    """What the store does with a plan: add new keys, move or cancel planned steps."""
    by_key = {s.key: s for s in app.steps}
    wanted = {d.key for d in desired}
    for d in desired:
        s = by_key.get(d.key)
        if s is None:
            app.steps.append(
                Step(
                    len(app.steps) + 1,
                    1,
                    d.key,
                    d.kind,
                    d.due_at,
                    StepState.PLANNED,
                    d.contact_id,
                    d.interview_id,
                    d.seq,
                    d.rule,
                )
            )
        elif s.state is StepState.PLANNED:
            s.due_at, s.contact_id = d.due_at, d.contact_id
    for s in app.steps:
        if s.state is StepState.PLANNED and s.key not in wanted:
            s.state = StepState.CANCELLED


def act(app: Application, a: Act, now: datetime) -> None:
    if a.bounce is not None and a.bounce < len(app.contacts):
        app.contacts[a.bounce].bounced_at = now
    for s in app.steps:
        if s.state is not StepState.PLANNED or s.due_at > now or a.what == "wait":
            continue
        s.state = {"draft": StepState.DRAFTED, "send": StepState.SENT}.get(
            a.what, StepState.SKIPPED
        )
        s.drafted_at = now
        s.sent_at = now if a.what == "send" else None


def has_somewhere_to_go(app: Application, p: policy.Plan) -> bool:
    pending = {s.key for s in app.steps if not s.state.final}
    fresh = {d.key for d in p.desired} - {s.key for s in app.steps}
    return bool(pending & {d.key for d in p.desired}) or bool(fresh) or p.recheck_at is not None


@settings(max_examples=300, deadline=None)
@given(rounds, st.lists(acts, max_size=25))
def test_an_active_application_always_has_a_next_step_or_a_time(
    spec: list[tuple[InterviewKind, str, int | None]], history: list[Act]
) -> None:
    app = build(spec)
    now = START - timedelta(hours=1)
    for a in [*history, Act(24 * 400, "wait", None)]:
        p = policy.plan(app, POL, CAL, now)
        if p.state is not AppState.ACTIVE:
            assert p.state is AppState.EXHAUSTED and p.reason
            return
        assert has_somewhere_to_go(app, p), (now, p)
        reconcile(app, p.desired)
        act(app, a, now)
        now += timedelta(hours=a.hours)


@settings(max_examples=100, deadline=None)
@given(rounds)
def test_left_alone_every_application_ends_exhausted(
    spec: list[tuple[InterviewKind, str, int | None]],
) -> None:
    """Every draft written and never answered: the application lets go in the end."""
    app = build(spec)
    now = START
    for _ in range(200):
        p = policy.plan(app, POL, CAL, now)
        if p.state is AppState.EXHAUSTED:
            return
        reconcile(app, p.desired)
        act(app, Act(0, "draft", None), now)
        now = max(now + timedelta(hours=1), p.recheck_at or now)
    raise AssertionError(f"still active at {now}")
