"""The follow-up rules as tables: dates around weekends, holidays and DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent import policy, workdays
from agent.config import PolicyConfig, RemindersConfig, ScheduleConfig
from agent.models import (
    Application,
    AppState,
    Contact,
    DesiredStep,
    Interview,
    InterviewKind,
    Role,
    Step,
    StepKind,
    StepState,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
POL = PolicyConfig()


def cal(
    tz: str = BERLIN, country: str | None = None, subdivision: str | None = None
) -> workdays.Calendar:
    return workdays.make_calendar(ScheduleConfig(tz, country, subdivision))


def at(text: str, tz: str = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def local(moment: datetime, tz: str = BERLIN) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %a")


PEOPLE = {
    "i": (Role.INTERVIEWER, False),
    "m": (Role.HIRING_MANAGER, False),
    "r": (Role.RECRUITER, False),
    "a": (Role.RECRUITER, True),
}


def make_app(
    start: datetime,
    kind: InterviewKind = InterviewKind.VIDEO,
    people: str = "ir",
    decision_by: date | None = None,
    final: bool = False,
) -> Application:
    """One round; `people` spells the contacts: i(nterviewer) m(anager) r(ecruiter) a(gency)."""
    app = Application(1, "Acme", "Data Engineer", AppState.ACTIVE, start)
    add_round(app, start, kind, people, decision_by, final)
    return app


def add_round(
    app: Application,
    start: datetime,
    kind: InterviewKind = InterviewKind.VIDEO,
    people: str = "ir",
    decision_by: date | None = None,
    final: bool = False,
) -> Interview:
    iv = Interview(
        id=len(app.interviews) + 1,
        application_id=app.id,
        round=len(app.interviews) + 1,
        kind=kind,
        starts_at=start,
        duration_minutes=60,
        decision_by=decision_by,
        final=final,
    )
    app.interviews.append(iv)
    for letter in people:
        role, agency = PEOPLE[letter]
        n = len(app.contacts) + 1
        app.contacts.append(
            Contact(n, app.id, iv.id, f"Person{n} Last", f"p{n}@acme.example", role, agency)
        )
    return iv


def record(app: Application, desired: DesiredStep, state: StepState, when: datetime) -> Step:
    """Store a desired step as if the engine had acted on it at `when`."""
    step = Step(
        id=len(app.steps) + 1,
        application_id=app.id,
        key=desired.key,
        kind=desired.kind,
        due_at=desired.due_at,
        state=state,
        contact_id=desired.contact_id,
        interview_id=desired.interview_id,
        seq=desired.seq,
        rule=desired.rule,
        drafted_at=when if state in (StepState.DRAFTED, StepState.SENT) else None,
        sent_at=when if state in (StepState.SENT, StepState.DONE) else None,
    )
    app.steps.append(step)
    return step


def draft_thank_yous(app: Application, c: workdays.Calendar, now: datetime) -> None:
    for d in policy.plan(app, POL, c, now).desired:
        if d.kind is StepKind.THANK_YOU and not any(s.key == d.key for s in app.steps):
            record(app, d, StepState.DRAFTED, max(d.due_at, now))


def checkins(p: policy.Plan) -> list[DesiredStep]:
    return [d for d in p.desired if d.kind in (StepKind.CHECKIN, StepKind.CALL)]


# -- the calendar ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "country", "expected"),
    [
        ("2026-11-20", 1, None, "2026-11-23"),  # Friday → Monday
        ("2026-11-19", 2, None, "2026-11-23"),  # Thursday → Monday
        ("2026-11-21", 1, None, "2026-11-23"),  # from a Saturday
        ("2026-11-25", 1, "US", "2026-11-27"),  # over Thanksgiving
        ("2026-11-25", 1, None, "2026-11-26"),  # no country: no holidays
        ("2026-12-24", 1, "GB", "2026-12-29"),  # Christmas, Boxing Day (observed Monday)
        ("2026-12-24", 1, "DE", "2026-12-28"),
        ("2026-04-30", 1, "DE", "2026-05-04"),  # Labour Day on a Friday
        ("2026-12-31", 1, "US", "2027-01-04"),  # New Year: next year's table, lazily
    ],
)
def test_add_business_days(start: str, n: int, country: str | None, expected: str) -> None:
    c = cal(country=country)
    assert c.add_business_days(date.fromisoformat(start), n) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        ("2026-11-17 10:00", BERLIN, "2026-11-17 10:00 Tue"),  # in working hours: as is
        ("2026-11-17 07:00", BERLIN, "2026-11-17 08:00 Tue"),  # before: that day's start
        ("2026-11-17 18:00", BERLIN, "2026-11-18 08:00 Wed"),  # after: the next day
        ("2026-11-20 19:30", BERLIN, "2026-11-23 08:00 Mon"),  # Friday evening
        ("2026-11-21 10:00", BERLIN, "2026-11-23 08:00 Mon"),  # Saturday
        ("2026-03-28 12:00", BERLIN, "2026-03-30 08:00 Mon"),  # over the spring DST change
        ("2026-10-31 12:00", NEW_YORK, "2026-11-02 08:00 Mon"),  # over the autumn change
    ],
)
def test_next_work_time(moment: str, tz: str, expected: str) -> None:
    assert local(cal(tz).next_work_time(at(moment, tz)), tz) == expected


@pytest.mark.parametrize(
    ("moment", "tz", "days", "expected", "hours"),
    [
        # Wall clock kept across DST: 8 calendar days, 1 h shorter or longer.
        ("2026-03-25 08:00", BERLIN, 8, "2026-04-02 08:00 Thu", 8 * 24 - 1),
        ("2026-10-21 08:00", BERLIN, 8, "2026-10-29 08:00 Thu", 8 * 24 + 1),
        ("2026-03-05 09:00", NEW_YORK, 8, "2026-03-13 09:00 Fri", 8 * 24 - 1),
        ("2026-10-28 09:00", NEW_YORK, 8, "2026-11-05 09:00 Thu", 8 * 24 + 1),
        ("2026-06-10 08:00", BERLIN, 8, "2026-06-18 08:00 Thu", 8 * 24),
    ],
)
def test_days_later_keeps_the_wall_clock(
    moment: str, tz: str, days: int, expected: str, hours: int
) -> None:
    start = at(moment, tz)
    later = cal(tz).days_later(start, days)
    assert local(later, tz) == expected
    assert later.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


def test_calendar_is_built_once_per_country() -> None:
    a = cal(country="DE", subdivision="BY")
    b = cal(country="DE", subdivision="BY")
    assert a.holidays is b.holidays
    assert date(2026, 1, 6) in a.holidays  # Epiphany, Bavaria only
    assert date(2026, 1, 6) not in cal(country="DE").holidays


# -- thank-you notes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "delay", "deadline", "due", "late"),
    [
        ("2026-11-16 15:10", 60, 24, "2026-11-16 16:00 Mon", False),  # ends 15:00, +1 h
        ("2026-11-17 14:59", 60, 24, "2026-11-16 16:00 Mon", False),  # still in time
        ("2026-11-17 15:01", 60, 24, "2026-11-16 16:00 Mon", True),  # the daemon was down
        ("2026-11-30 09:00", 60, 24, "2026-11-16 16:00 Mon", True),  # added after the fact
        ("2026-11-16 15:10", 24 * 60, 12, "2026-11-17 03:00 Tue", False),  # capped at deadline
        ("2026-11-16 15:10", 0, 24, "2026-11-16 15:00 Mon", False),
    ],
)
def test_thank_you_timing(now: str, delay: int, deadline: int, due: str, late: bool) -> None:
    app = make_app(at("2026-11-16 14:00"), people="iim")
    pol = replace(POL, thank_you_delay_minutes=delay, thank_you_deadline_hours=deadline)
    notes = [d for d in policy.plan(app, pol, cal(), at(now)).desired if d.seq == 0]
    assert len(notes) == 3 and {d.contact_id for d in notes} == {1, 2, 3}
    assert all(local(d.due_at) == due and d.late is late for d in notes)
    assert ("added after that deadline" in notes[0].rule) is late


@pytest.mark.parametrize(
    ("people", "bounced", "thanked"),
    [
        ("iim", set(), {1, 2, 3}),  # everyone met
        ("ira", set(), {1, 2, 3}),  # the agency recruiter gets their own note
        ("iim", {2}, {1, 3}),  # a bounced address gets nothing more
    ],
)
def test_thank_you_recipients(people: str, bounced: set[int], thanked: set[int]) -> None:
    app = make_app(at("2026-11-16 14:00"), people=people)
    for c in app.contacts:
        if c.id in bounced:
            c.bounced_at = at("2026-11-16 14:30")
    notes = [d for d in policy.plan(app, POL, cal(), at("2026-11-16 15:10")).desired if d.seq == 0]
    assert {d.contact_id for d in notes} == thanked


# -- the first check-in --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "decision", "tz", "country", "expected"),
    [
        # The example: Monday, "we'll decide in three weeks" → day 24.
        ("2026-11-16 14:00", "2026-12-07", BERLIN, None, "2026-12-09 08:00 Wed"),
        ("2026-11-16 14:00", None, BERLIN, None, "2026-11-23 08:00 Mon"),  # 5 business days
        ("2026-11-19 10:00", None, BERLIN, None, "2026-11-26 08:00 Thu"),
        ("2026-11-20 10:00", None, NEW_YORK, "US", "2026-11-30 08:00 Mon"),  # Thanksgiving
        ("2026-11-20 10:00", None, NEW_YORK, None, "2026-11-27 08:00 Fri"),
        ("2026-11-30 10:00", "2026-12-04", BERLIN, None, "2026-12-08 08:00 Tue"),  # Friday
        ("2026-12-14 10:00", "2026-12-23", "Europe/London", "GB", "2026-12-29 08:00 Tue"),
        # DST: 08:00 local on the far side of the change.
        ("2026-03-16 10:00", "2026-03-26", BERLIN, None, "2026-03-30 08:00 Mon"),
        ("2026-10-19 10:00", "2026-10-29", NEW_YORK, None, "2026-11-02 08:00 Mon"),
        # An interview late on a Friday evening: counted from its local day.
        ("2026-11-20 22:30", None, NEW_YORK, None, "2026-11-27 08:00 Fri"),
    ],
)
def test_first_checkin(
    start: str, decision: str | None, tz: str, country: str | None, expected: str
) -> None:
    c = cal(tz, country)
    app = make_app(at(start, tz), decision_by=date.fromisoformat(decision) if decision else None)
    now = at(start, tz) + timedelta(hours=2)
    draft_thank_yous(app, c, now)
    (first,) = checkins(policy.plan(app, POL, c, now))
    assert local(first.due_at, tz) == expected
    assert first.seq == 1 and first.contact_id == 2  # the recruiter, not the interviewer
    assert first.due_at.astimezone(ZoneInfo(tz)).time() == time(8, 0)
    assert first.rule.startswith("check-in 1 of 2: ")


def test_three_weeks_means_day_24_or_25() -> None:
    monday = at("2026-11-16 10:00")
    for buffer, day in ((2, 24), (3, 25)):
        app = make_app(monday, decision_by=monday.date() + timedelta(weeks=3))
        pol = replace(POL, decision_buffer_business_days=buffer)
        draft_thank_yous(app, cal(), monday + timedelta(hours=2))
        (first,) = checkins(policy.plan(app, pol, cal(), monday + timedelta(hours=2)))
        # Day 1 is the interview day.
        assert (first.due_at.date() - monday.date()).days + 1 == day


@pytest.mark.parametrize(
    ("start", "decision", "thanked", "now", "expected"),
    [
        # Interview added after the fact, decision date already past: the
        # thank-you goes first and the check-in two business days later.
        ("2026-11-02 10:00", "2026-11-06", False, "2026-11-18 10:00", "2026-11-20 08:00 Fri"),
        ("2026-11-02 10:00", None, False, "2026-11-20 10:00", "2026-11-24 08:00 Tue"),
        # Thanked on time, the check-in overdue (daemon down): due now...
        ("2026-11-16 10:00", "2026-11-17", True, "2026-11-23 10:00", "2026-11-19 08:00 Thu"),
        # ... and outside working hours, at the next working hour.
        ("2026-11-16 10:00", "2026-11-17", True, "2026-11-21 10:00", "2026-11-23 08:00 Mon"),
    ],
)
def test_decision_date_in_the_past(
    start: str, decision: str | None, thanked: bool, now: str, expected: str
) -> None:
    c = cal()
    app = make_app(at(start), decision_by=date.fromisoformat(decision) if decision else None)
    if thanked:
        draft_thank_yous(app, c, at(start) + timedelta(hours=2))
    (first,) = checkins(policy.plan(app, POL, c, at(now)))
    assert local(first.due_at) == expected
    again = policy.plan(app, POL, c, at(now) + timedelta(minutes=5))
    assert checkins(again)[0].due_at == first.due_at  # stable: cycles stay idempotent


def test_out_of_office_holds_the_checkin() -> None:
    app = make_app(at("2026-11-16 10:00"))
    draft_thank_yous(app, cal(), at("2026-11-16 12:00"))
    app.hold_until = at("2026-11-25 00:00")  # back on Wednesday
    (first,) = checkins(policy.plan(app, POL, cal(), at("2026-11-20 10:00")))
    assert local(first.due_at) == "2026-11-26 08:00 Thu"
    assert "held until" in first.rule


# -- later check-ins, limits, exhaustion -----------------------------------------


@pytest.mark.parametrize(
    ("last", "tz", "expected"),
    [
        ("2026-11-25 08:00", BERLIN, "2026-12-03 08:00 Thu"),
        ("2026-11-27 16:00", BERLIN, "2026-12-07 08:00 Mon"),  # +8 days is a Saturday
        ("2026-11-23 19:00", BERLIN, "2026-12-02 08:00 Wed"),  # after hours
        ("2026-03-25 08:00", BERLIN, "2026-04-02 08:00 Thu"),  # across spring DST
        ("2026-10-28 08:00", NEW_YORK, "2026-11-05 08:00 Thu"),  # across autumn DST
    ],
)
def test_later_checkins_keep_their_distance(last: str, tz: str, expected: str) -> None:
    c = cal(tz)
    start = at(last, tz) - timedelta(days=12)
    app = make_app(start, kind=InterviewKind.ONSITE)
    draft_thank_yous(app, c, start + timedelta(hours=2))
    (first,) = checkins(policy.plan(app, POL, c, at(last, tz)))
    record(app, first, StepState.DRAFTED, at(last, tz))
    (second,) = checkins(policy.plan(app, POL, c, at(last, tz) + timedelta(hours=1)))
    assert second.seq == 2 and local(second.due_at, tz) == expected
    gap = second.due_at.astimezone(UTC) - at(last, tz).astimezone(UTC)
    assert gap >= timedelta(days=8) - timedelta(hours=1)  # 8 calendar days, DST or not


def test_sent_time_beats_draft_time_and_manual_mail_counts() -> None:
    c = cal()
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.ONSITE)
    draft_thank_yous(app, c, at("2026-11-02 12:00"))
    (first,) = checkins(policy.plan(app, POL, c, at("2026-11-09 09:00")))
    step = record(app, first, StepState.SENT, at("2026-11-09 09:00"))
    step.drafted_at = at("2026-11-09 08:00")
    step.sent_at = at("2026-11-10 12:00")  # the user sent it a day later
    (second,) = checkins(policy.plan(app, POL, c, at("2026-11-10 13:00")))
    assert local(second.due_at) == "2026-11-18 12:00 Wed"
    # The user wrote to the recruiter themselves: that is the last contact.
    p = policy.plan(app, POL, c, at("2026-11-13 13:00"), [at("2026-11-12 17:00")])
    assert p.contacts_made == 2 and p.max_checkins == 2
    assert checkins(p) == []


@pytest.mark.parametrize(
    ("kind", "people", "rounds", "pol", "expected"),
    [
        (InterviewKind.PHONE, "r", 1, POL, 1),
        (InterviewKind.VIDEO, "ir", 1, POL, 2),
        (InterviewKind.ONSITE, "ir", 1, POL, 2),
        (InterviewKind.ONSITE, "iiir", 1, POL, 3),  # a panel: one more
        (InterviewKind.ONSITE, "iiir", 2, POL, 4),  # and a later round
        (InterviewKind.PHONE, "iir", 2, POL, 3),
        (InterviewKind.ONSITE, "iiir", 2, replace(POL, max_extra=1), 3),  # capped
        (InterviewKind.ONSITE, "iiir", 2, replace(POL, extra_for_panel=3), 5),  # never > 3 extra
    ],
)
def test_max_checkins(
    kind: InterviewKind, people: str, rounds: int, pol: PolicyConfig, expected: int
) -> None:
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.PHONE, people="r")
    for n in range(1, rounds):
        add_round(app, at("2026-11-02 10:00") + timedelta(days=7 * n), kind, people)
    if rounds == 1:
        app = make_app(at("2026-11-02 10:00"), kind=kind, people=people)
    assert policy.max_checkins(app, pol) == expected


def test_a_rejected_checkin_is_not_drafted_again_and_the_sequence_goes_on() -> None:
    c = cal()
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.VIDEO, people="ir")  # max 2
    draft_thank_yous(app, c, at("2026-11-02 12:00"))
    (first,) = checkins(policy.plan(app, POL, c, at("2026-11-09 08:00")))
    step = record(app, first, StepState.DRAFTED, at("2026-11-09 08:00"))
    step.state = StepState.SKIPPED  # the user deleted the draft
    p = policy.plan(app, POL, c, at("2026-11-12 09:00"))
    (second,) = checkins(p)
    assert second.seq == 2 and second.key != first.key
    assert local(second.due_at) == "2026-11-17 08:00 Tue"  # 8 days after the rejected one
    assert "set aside" in second.rule
    assert p.contacts_made == 0 and p.state is AppState.ACTIVE
    # Rejecting the last one too: nothing more is drafted, and it lets go.
    record(app, second, StepState.SKIPPED, at("2026-11-17 08:00"))
    assert checkins(policy.plan(app, POL, c, at("2026-11-18 09:00"))) == []
    p = policy.plan(app, POL, c, at("2026-11-25 09:00"))
    assert p.state is AppState.EXHAUSTED and p.contacts_made == 0


def walk(app: Application, pol: PolicyConfig, c: workdays.Calendar, now: datetime) -> list[str]:
    """Act on every email step when due, as the daemon would; the check-in times."""
    sent: list[str] = []
    for _ in range(60):
        p = policy.plan(app, pol, c, now)
        app.state = p.state
        if p.state is not AppState.ACTIVE:
            return sent
        for d in p.desired:
            if d.kind.is_email and d.due_at <= now and not any(s.key == d.key for s in app.steps):
                record(app, d, StepState.DRAFTED, now)
                if d.seq:
                    sent.append(local(now))
        now = min(
            [d.due_at for d in p.desired if d.kind.is_email and d.due_at > now]
            + [now + timedelta(days=1)]
        )
    raise AssertionError("never settled")


@pytest.mark.parametrize(
    ("kind", "people", "expected"),
    [
        (InterviewKind.PHONE, "r", ["2026-11-09 08:00 Mon"]),
        (InterviewKind.VIDEO, "ir", ["2026-11-09 08:00 Mon", "2026-11-17 08:00 Tue"]),
        (
            InterviewKind.ONSITE,
            "iiir",
            ["2026-11-09 08:00 Mon", "2026-11-17 08:00 Tue", "2026-11-25 08:00 Wed"],
        ),
    ],
)
def test_walk_to_exhausted(kind: InterviewKind, people: str, expected: list[str]) -> None:
    app = make_app(at("2026-11-02 10:00"), kind=kind, people=people)
    assert walk(app, POL, cal(), at("2026-11-02 10:00")) == expected
    assert app.state is AppState.EXHAUSTED
    p = policy.plan(app, POL, cal(), at("2027-01-01 10:00"))
    assert p.desired == [] and p.state is AppState.EXHAUSTED  # stopped means stopped


def test_exhausted_only_after_waiting_for_an_answer() -> None:
    c = cal()
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.PHONE, people="r")
    walk_until = at("2026-11-09 08:00")
    draft_thank_yous(app, c, at("2026-11-02 12:00"))
    (only,) = checkins(policy.plan(app, POL, c, walk_until))
    record(app, only, StepState.DRAFTED, walk_until)
    assert policy.plan(app, POL, c, walk_until + timedelta(days=7)).state is AppState.ACTIVE
    p = policy.plan(app, POL, c, walk_until + timedelta(days=8))
    assert p.state is AppState.EXHAUSTED and p.reason == "1 of 1 check-ins made, no answer"


def test_no_checkins_allowed_still_thanks_first() -> None:
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.PHONE, people="r")
    pol = replace(POL, max_checkins_phone=0)
    p = policy.plan(app, pol, cal(), at("2026-11-02 11:30"))
    assert p.state is AppState.ACTIVE and [d.kind for d in p.desired] == [StepKind.THANK_YOU]


# -- who receives check-ins ------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "checkin_to", "bounced", "expected"),
    [
        ("imr", ("recruiter", "hiring_manager"), set(), 3),
        ("imr", ("hiring_manager", "recruiter"), set(), 2),
        ("imr", ("hiring_manager",), set(), 2),
        ("imr", ("recruiter", "hiring_manager"), {3}, 2),  # bounced: the next one
        ("ima", ("recruiter", "hiring_manager"), set(), 2),  # the agency is copied instead
        ("iia", ("recruiter", "hiring_manager"), set(), 3),  # only the agency: they relay
        ("ii", ("recruiter", "hiring_manager"), set(), 1),  # no one else: the first interviewer
        ("ii", ("recruiter", "hiring_manager"), {1}, 2),  # ... still reachable
        ("ii", ("recruiter", "hiring_manager"), {1, 2}, None),  # all bounced: no one
        ("ri", ("hiring_manager",), set(), 2),  # recruiters left out: the interviewer
        ("r", ("hiring_manager",), set(), 1),  # ... else whoever was met
        ("r", ("hiring_manager",), {1}, None),
    ],
)
def test_checkin_recipient(
    people: str, checkin_to: tuple[str, ...], bounced: set[int], expected: int | None
) -> None:
    app = make_app(at("2026-11-02 10:00"), people=people)
    for c in app.contacts:
        if c.id in bounced:
            c.bounced_at = at("2026-11-03 10:00")
    to = policy.checkin_recipient(app, replace(POL, checkin_to=checkin_to))
    assert (to.id if to else None) == expected


@pytest.mark.parametrize(
    ("people", "bounced", "warned"),
    [("i", set(), False), ("r", set(), False), ("a", set(), False), ("ir", {1, 2}, True)],
)
def test_add_warns_only_when_no_one_can_receive_a_check_in(
    people: str, bounced: set[int], warned: bool
) -> None:
    app = make_app(at("2026-11-02 10:00"), people=people)
    for c in app.contacts:
        if c.id in bounced:
            c.bounced_at = at("2026-11-03 10:00")
    assert bool(policy.no_checkin_warning(app, POL)) is warned


# -- later rounds ----------------------------------------------------------------


def test_later_round_thanks_new_people_and_restarts_the_clock() -> None:
    c = cal()
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.PHONE, people="r")
    draft_thank_yous(app, c, at("2026-11-02 12:00"))
    (first,) = checkins(policy.plan(app, POL, c, at("2026-11-09 08:00")))
    record(app, first, StepState.DRAFTED, at("2026-11-09 08:00"))
    iv2 = add_round(app, at("2026-11-12 10:00"), InterviewKind.ONSITE, "iim", date(2026, 11, 20))
    p = policy.plan(app, POL, c, at("2026-11-12 11:30"))
    new_notes = [d for d in p.desired if d.kind is StepKind.THANK_YOU and d.interview_id == iv2.id]
    assert {d.contact_id for d in new_notes} == {2, 3, 4}
    assert p.contacts_made == 0 and p.max_checkins == 2 + 2  # panel + later round
    draft_thank_yous(app, c, at("2026-11-12 11:30"))
    (again,) = checkins(policy.plan(app, POL, c, at("2026-11-12 12:00")))
    assert again.seq == 1 and again.interview_id == iv2.id
    assert local(again.due_at) == "2026-11-24 08:00 Tue"  # round 2's decision date + 2
    assert again.contact_id == 1  # the recruiter: interviewers are never checked in with


# -- reminders -------------------------------------------------------------------

REM = RemindersConfig(linkedin=True, handwritten_note=True, alert_references=True)


@pytest.mark.parametrize(
    ("start", "final", "rem", "expected"),
    [
        (
            "2026-11-16 14:00",
            False,
            REM,
            {"linkedin": "2026-11-19 16:00 Thu", "handwritten": "2026-11-16 16:00 Mon"},
        ),
        (
            "2026-11-19 14:00",  # Thursday: +3 days is a Sunday
            True,
            REM,
            {
                "linkedin": "2026-11-23 08:00 Mon",
                "handwritten": "2026-11-19 16:00 Thu",
                "references": "2026-11-19 15:00 Thu",
            },
        ),
        (
            "2026-11-20 17:30",  # ends Friday 18:30, after working hours
            True,
            replace(REM, handwritten_note=False),
            {"linkedin": "2026-11-24 08:00 Tue", "references": "2026-11-23 08:00 Mon"},
        ),
        ("2026-11-16 14:00", True, RemindersConfig(False, 3, False, False), {}),
    ],
)
def test_reminders(start: str, final: bool, rem: RemindersConfig, expected: dict[str, str]) -> None:
    app = make_app(at(start), people="iia", final=final)
    p = policy.plan(app, POL, cal(), at(start), reminders=rem)
    got = {d.key.rsplit(".", 1)[1]: local(d.due_at) for d in p.desired if not d.kind.is_email}
    assert got == expected
    linkedin = next((d for d in p.desired if d.kind is StepKind.LINKEDIN), None)
    if linkedin:
        assert "Person1 Last, Person2 Last" in linkedin.rule  # not the agency recruiter


def test_calls_replace_checkin_emails_and_count_when_done() -> None:
    c = cal()
    rem = RemindersConfig(linkedin=False, alert_references=False, calls=True)
    app = make_app(at("2026-11-02 10:00"), kind=InterviewKind.PHONE, people="r")
    draft_thank_yous(app, c, at("2026-11-02 12:00"))
    (call,) = checkins(policy.plan(app, POL, c, at("2026-11-09 09:00"), reminders=rem))
    assert call.kind is StepKind.CALL and not call.kind.is_email and call.contact_id == 1
    record(app, call, StepState.DONE, at("2026-11-10 11:00"))
    p = policy.plan(app, POL, c, at("2026-11-18 11:00"), reminders=rem)
    assert p.contacts_made == 1 and p.state is AppState.EXHAUSTED


def test_plan_is_pure_and_leaves_inactive_applications_alone() -> None:
    app = make_app(at("2026-11-02 10:00"))
    app.state = AppState.RESPONDED
    assert policy.plan(app, POL, cal(), datetime(2026, 12, 1, tzinfo=UTC)).desired == []
