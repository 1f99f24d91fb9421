"""Pure timing and stop rules: application state + now → desired steps.

Nothing here reads the clock, the database or the network. Every desired step
carries `rule`, the sentence `followup show` prints to explain it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .config import PolicyConfig, RemindersConfig
from .models import (
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

# Re-exported: the engine and the planner still name policy.Calendar / make_calendar.
from .workdays import Calendar as Calendar
from .workdays import make_calendar as make_calendar

# Without a reminders config (library callers, benchmarks) only emails are planned.
NO_REMINDERS = RemindersConfig(linkedin=False, alert_references=False)
NO_ONE = "no one left who can receive a check-in"


@dataclass(frozen=True)
class Plan:
    desired: list[DesiredStep]
    state: AppState  # the state the application should be in
    reason: str = ""
    max_checkins: int = 0
    contacts_made: int = 0
    # With the same data, planning at any time in [now, recheck_at) gives this
    # same plan; None: no later time changes it. Lets a cycle skip the rest.
    recheck_at: datetime | None = None


class _Horizon:
    """Collects the future instants at which a plan's output may change."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def until(self, moment: datetime) -> None:
        if self.at is None or moment < self.at:
            self.at = moment

    def done(self, p: Plan) -> Plan:
        return replace(p, recheck_at=self.at) if self.at is not None else p


def thank_you_recipients(app: Application, iv: Interview) -> list[Contact]:
    """Everyone met at this interview, and the agency recruiter who arranged it."""
    return [c for c in app.contacts if c.interview_id == iv.id and not c.bounced_at]


def checkin_recipient(app: Application, policy: PolicyConfig) -> Contact | None:
    """Who a check-in goes to, one person: the first configured role that has someone.

    The most recently added contact of a role wins, so a later round's
    recruiter takes over. With both a recruiter and a hiring manager known,
    only the first role in `checkin_to` is written to: one person chased, not
    two. Then an agency recruiter (they relay to the company); when none of
    them is known, the person met at the latest round: its only interviewer,
    or the first listed of a panel (a phone screen is often run by the recruiter),
    else anyone met there (a recruiter when `checkin_to` leaves recruiters out).
    """
    for role in policy.checkin_to:
        for c in reversed(app.contacts):
            if c.role.value == role and not c.bounced_at and not c.is_agency_recruiter:
                return c
    if app.agency_recruiter is not None:
        return app.agency_recruiter
    iv = app.latest_interview
    met = [c for c in app.people_met(iv.id if iv else None) if iv is not None and not c.bounced_at]
    # Interviewers first, each group in the order entered.
    return min(met, key=lambda c: (c.role is not Role.INTERVIEWER, c.id), default=None)


def no_checkin_warning(app: Application, policy: PolicyConfig) -> str:
    """What `add` warns of when no one can receive a check-in ("" when someone can)."""
    if app.state is not AppState.ACTIVE or checkin_recipient(app, policy) is not None:
        return ""
    return (
        "no one can receive a check-in (no recruiter, hiring manager or person met "
        "with a working address): only the thank-you notes will be drafted"
    )


def max_checkins(app: Application, policy: PolicyConfig) -> int:
    """How many check-ins the latest round earns (kind + panel + later round, capped)."""
    iv = app.latest_interview
    if iv is None:
        return 0
    base = {
        InterviewKind.PHONE: policy.max_checkins_phone,
        InterviewKind.VIDEO: policy.max_checkins_video,
        InterviewKind.ONSITE: policy.max_checkins_onsite,
    }[iv.kind]
    extra = 0
    interviewers = [
        c for c in app.contacts if c.interview_id == iv.id and c.role is Role.INTERVIEWER
    ]
    if len(interviewers) > 1:
        extra += policy.extra_for_panel
    if iv.round > 1 or len(app.interviews) > 1:
        extra += policy.extra_for_later_round
    return base + min(extra, policy.max_extra)


def _is_checkin_contact(step: Step) -> bool:
    if step.kind is StepKind.CHECKIN:
        return step.state.reached_person
    # A call reminder ticked off is a check-in made by phone.
    return step.kind is StepKind.CALL and step.state is StepState.DONE


def checkin_contacts(app: Application, manual_contacts: Sequence[datetime] = ()) -> list[datetime]:
    """When each check-in of the latest round went out (ours and the user's own), sorted."""
    iv = app.latest_interview
    if iv is None:
        return []
    ours = [
        s.contacted_at
        for s in app.steps
        if s.interview_id == iv.id and s.seq > 0 and _is_checkin_contact(s)
    ]
    return sorted(ours + [t for t in manual_contacts if t >= iv.ends_at])


def plan(
    app: Application,
    policy: PolicyConfig,
    cal: Calendar,
    now: datetime,
    manual_contacts: Sequence[datetime] = (),
    reminders: RemindersConfig = NO_REMINDERS,
) -> Plan:
    """What steps should exist for `app` at `now`, and what state it should be in.

    `manual_contacts` are times the user wrote to a contact themselves (Sent
    folder), after the latest interview: they count toward the maximum.
    """
    if app.state is not AppState.ACTIVE:
        return Plan([], app.state, app.stop_reason)
    horizon = _Horizon()
    return horizon.done(_plan(app, policy, cal, now, manual_contacts, reminders, horizon))


def _plan(
    app: Application,
    policy: PolicyConfig,
    cal: Calendar,
    now: datetime,
    manual_contacts: Sequence[datetime],
    reminders: RemindersConfig,
    horizon: _Horizon,
) -> Plan:
    # Every test of `now` below reports to `horizon` when its answer can flip.
    desired: list[DesiredStep] = []
    for each in app.interviews:
        desired.extend(_thank_yous(app, each, policy, now, horizon))
        desired.extend(_reminders(app, each, policy, cal, reminders))

    iv = app.latest_interview
    if iv is None:
        return Plan(desired, AppState.ACTIVE)
    limit = max_checkins(app, policy)
    contact_times = checkin_contacts(app, manual_contacts)
    made = len(contact_times)
    set_aside = _set_aside(app, iv)
    used = made + len(set_aside)
    last = max(contact_times + set_aside, default=None)

    if used >= limit:
        return _after_last(app, iv, desired, policy, now, limit, made, last, horizon)

    to = checkin_recipient(app, policy)
    if to is None:
        # No one left to write to (every address bounced): let go as after the last one.
        return _after_last(app, iv, desired, policy, now, limit, made, last, horizon, NO_ONE)
    seq = used + 1
    if last is None:
        due, rule = _first_checkin(app, iv, desired, policy, cal, now, horizon)
    else:
        which = "check-in you set aside" if set_aside and last == set_aside[-1] else "contact"
        due = cal.next_work_time(cal.days_later(last, policy.min_gap_days))
        rule = f"{policy.min_gap_days} days after the last {which} ({_day(last, cal)})"
    due, rule = _held(app, due, rule, cal)
    due = _overdue_to_working_hours(due, cal, now, horizon)
    final = " (the last one)" if seq == limit else ""
    kind, word = (StepKind.CALL, "call") if reminders.calls else (StepKind.CHECKIN, "checkin")
    desired.append(
        DesiredStep(
            key=f"a{app.id}.i{iv.id}.{word}{seq}",
            kind=kind,
            due_at=due,
            contact_id=to.id,
            interview_id=iv.id,
            seq=seq,
            rule=f"check-in {seq} of {limit}{final}: {rule}",
        )
    )
    return Plan(desired, AppState.ACTIVE, "", limit, made)


def _set_aside(app: Application, iv: Interview) -> list[datetime]:
    """When the check-in drafts of this round that the user threw away were made, sorted.

    Each used up its turn: its number is never drafted again, the next one
    keeps the gap from it, and it counts toward the maximum (so rejecting
    them all lets the application go), but it is not a contact made.
    """
    return sorted(
        s.contacted_at
        for s in app.steps
        if s.interview_id == iv.id
        and s.seq > 0
        and s.kind is StepKind.CHECKIN
        and s.state is StepState.SKIPPED
    )


def _held(app: Application, due: datetime, rule: str, cal: Calendar) -> tuple[datetime, str]:
    """An out-of-office hold: no check-in before one business day after their return."""
    if not app.hold_until or due >= app.hold_until:
        return due, rule
    back = cal.work_start(cal.add_business_days(app.hold_until.astimezone(cal.tz).date(), 1))
    held = f"; held until one business day after their return ({_day(app.hold_until, cal)})"
    return max(due, back), rule + held


def _overdue_to_working_hours(
    due: datetime, cal: Calendar, now: datetime, horizon: _Horizon
) -> datetime:
    if due >= now:
        horizon.until(due)
        return due
    horizon.until(cal.next_hours_change(now))
    if cal.in_working_hours(now):
        return due
    # Overdue (a past decision date, the daemon was down): the next working
    # hour, so the user can still send it in business hours.
    return cal.next_work_time(now)


def _after_last(
    app: Application,
    iv: Interview,
    desired: list[DesiredStep],
    policy: PolicyConfig,
    now: datetime,
    limit: int,
    made: int,
    last: datetime | None,
    horizon: _Horizon,
    why: str = "",
) -> Plan:
    """All check-ins made (or no one to receive one): wait for an answer, then let go."""
    thank_yous = [s for s in app.steps if s.kind is StepKind.THANK_YOU and s.interview_id == iv.id]
    if not _all_written(thank_yous, desired, iv):
        return Plan(desired, AppState.ACTIVE, "", limit, made)
    since = last or max((s.contacted_at for s in thank_yous), default=iv.ends_at)
    if now >= since + timedelta(days=policy.min_gap_days):
        reason = f"{made} of {limit} check-ins made, no answer" + (f" ({why})" if why else "")
        return Plan(desired, AppState.EXHAUSTED, reason, limit, made)
    horizon.until(since + timedelta(days=policy.min_gap_days))
    return Plan(desired, AppState.ACTIVE, "", limit, made)


def _all_written(thank_yous: Sequence[Step], desired: Sequence[DesiredStep], iv: Interview) -> bool:
    """Every thank-you of the round exists and is past planning: only then may it let go.

    A planned one no longer wanted (its address bounced) is about to be
    cancelled: it does not hold the application open.
    """
    wanted = {d.key for d in desired if d.kind is StepKind.THANK_YOU and d.interview_id == iv.id}
    existing = {s.key for s in thank_yous}
    pending = [s for s in thank_yous if s.state is StepState.PLANNED and s.key in wanted]
    return wanted <= existing and not pending


def _day(moment: datetime, cal: Calendar) -> str:
    return f"{moment.astimezone(cal.tz):%a %d %b}"


def _first_checkin(
    app: Application,
    iv: Interview,
    desired: Sequence[DesiredStep],
    policy: PolicyConfig,
    cal: Calendar,
    now: datetime,
    horizon: _Horizon,
) -> tuple[datetime, str]:
    if iv.decision_by is not None:
        d = cal.add_business_days(iv.decision_by, policy.decision_buffer_business_days)
        rule = (
            f"{policy.decision_buffer_business_days} business days after the decision date "
            f"they gave ({iv.decision_by:%a %d %b})"
        )
    else:
        local_day = iv.ends_at.astimezone(cal.tz).date()
        d = cal.add_business_days(local_day, policy.no_decision_business_days)
        rule = (
            f"no decision date given: {policy.no_decision_business_days} business days "
            "after the interview"
        )
    due = cal.work_start(d)
    # A thank-you and a check-in never land together (an interview added
    # late, a decision date already past): the check-in waits a few days.
    notes = _thank_you_times(app, iv, desired, cal, now, horizon)
    if notes:
        latest = max(notes).astimezone(cal.tz).date()
        floor = cal.work_start(cal.add_business_days(latest, policy.decision_buffer_business_days))
        if floor > due:
            due = floor
            rule += (
                f"; moved to {policy.decision_buffer_business_days} business days after "
                "the thank-you notes"
            )
    return due, rule


def _thank_you_times(
    app: Application,
    iv: Interview,
    desired: Sequence[DesiredStep],
    cal: Calendar,
    now: datetime,
    horizon: _Horizon,
) -> list[datetime]:
    """When this round's thank-you notes reached (or, still to be drafted, will reach) people."""
    steps = {s.key: s for s in app.steps}
    notes = []
    for want in desired:
        if want.kind is not StepKind.THANK_YOU or want.interview_id != iv.id:
            continue
        s = steps.get(want.key)
        if s is None or not s.state.final:  # still to be drafted: at the earliest now
            notes.append(max(want.due_at, now))
            # Only the local day of `now` matters from its due time on.
            horizon.until(want.due_at if now < want.due_at else cal.next_midnight(now))
        elif s.state.reached_person:
            notes.append(s.contacted_at)
    return notes


def _thank_yous(
    app: Application, iv: Interview, policy: PolicyConfig, now: datetime, horizon: _Horizon
) -> list[DesiredStep]:
    deadline = iv.ends_at + timedelta(hours=policy.thank_you_deadline_hours)
    due = min(iv.ends_at + timedelta(minutes=policy.thank_you_delay_minutes), deadline)
    late = now > deadline
    if not late:
        horizon.until(deadline)
    out = []
    for c in thank_you_recipients(app, iv):
        what = "note to the agency recruiter" if c.is_agency_recruiter else "thank-you"
        out.append(
            DesiredStep(
                key=f"a{app.id}.i{iv.id}.thank_you.c{c.id}",
                kind=StepKind.THANK_YOU,
                due_at=due,
                contact_id=c.id,
                interview_id=iv.id,
                seq=0,
                rule=(
                    f"{what} {policy.thank_you_delay_minutes} min after the interview ends, "
                    f"within {policy.thank_you_deadline_hours} h"
                    + ("; the interview was added after that deadline" if late else "")
                ),
                late=late,
            )
        )
    return out


def answer_rejection(app: Application, contact_id: int | None, now: datetime) -> DesiredStep:
    """After a rejection: a reminder, never a draft, to answer it graciously.

    Due at once; the user writes the answer themselves (or ticks it off with
    `done`). Keeping a good impression leaves the door open for later roles.
    """
    return DesiredStep(
        key=f"a{app.id}.answer_rejection",
        kind=StepKind.ANSWER_REJECTION,
        due_at=now,
        contact_id=contact_id,
        interview_id=app.latest_interview.id if app.latest_interview else None,
        seq=0,
        rule="thank them for their time and ask to be kept in mind for future roles",
    )


def _reminders(
    app: Application,
    iv: Interview,
    policy: PolicyConfig,
    cal: Calendar,
    reminders: RemindersConfig,
) -> list[DesiredStep]:
    """LinkedIn, handwritten card, references: the user acts, `done` ticks them off."""
    people = [c for c in app.people_met(iv.id) if not c.bounced_at]
    names = ", ".join(c.name for c in people)
    ends = iv.ends_at
    thanked = ends + timedelta(minutes=policy.thank_you_delay_minutes)
    out = []

    def add(what: str, kind: StepKind, due: datetime, rule: str) -> None:
        out.append(
            DesiredStep(
                key=f"a{app.id}.i{iv.id}.{what}",
                kind=kind,
                due_at=due,
                contact_id=None,
                interview_id=iv.id,
                seq=0,
                rule=rule,
            )
        )

    if reminders.linkedin and people:
        due = cal.next_work_time(cal.days_later(thanked, reminders.linkedin_after_days))
        add(
            "linkedin",
            StepKind.LINKEDIN,
            due,
            f"invite {names} on LinkedIn, {reminders.linkedin_after_days} days after "
            "the thank-you notes",
        )
    if reminders.handwritten_note and people:
        add(
            "handwritten",
            StepKind.HANDWRITTEN,
            cal.next_work_time(thanked),
            f"post a handwritten card to {names}, the day of the thank-you notes",
        )
    if reminders.alert_references and iv.final:
        add(
            "references",
            StepKind.REFERENCES,
            cal.next_work_time(ends),
            "tell your references to expect a call: this was the final round",
        )
    return out
