"""Pure timing and stop rules: application state + now → desired steps.

Nothing here reads the clock, the database or the network.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .config import PolicyConfig, ScheduleConfig
from .models import (
    Application,
    AppState,
    Contact,
    Interview,
    InterviewKind,
    Role,
    Step,
    StepKind,
    StepState,
)
from .store import DesiredStep

CONTACTED = (StepState.DRAFTED, StepState.SENT)


@dataclass(frozen=True)
class Calendar:
    """Business days and working hours in the user's time zone."""

    tz: ZoneInfo
    holidays: Container[date] = field(default_factory=frozenset)
    workday_start: time = time(8, 0)
    workday_end: time = time(18, 0)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def add_business_days(self, d: date, n: int) -> date:
        """The n-th business day after d (n ≥ 1)."""
        while n > 0:
            d += timedelta(days=1)
            if self.is_business_day(d):
                n -= 1
        return d

    def work_start(self, d: date) -> datetime:
        # Built from wall-clock parts so DST days keep 08:00 local.
        return datetime.combine(d, self.workday_start, tzinfo=self.tz)

    def next_work_time(self, moment: datetime) -> datetime:
        """`moment` if it falls in working hours of a business day, else the next start."""
        local = moment.astimezone(self.tz)
        d = local.date()
        if self.is_business_day(d):
            if local.time() < self.workday_start:
                return self.work_start(d)
            if local.time() < self.workday_end:
                return moment
        d += timedelta(days=1)
        while not self.is_business_day(d):
            d += timedelta(days=1)
        return self.work_start(d)


def make_calendar(schedule: ScheduleConfig, years: Sequence[int] | None = None) -> Calendar:
    tz = schedule.tz
    days: Container[date] = frozenset()
    if schedule.country:
        import holidays

        days = holidays.country_holidays(schedule.country, subdiv=schedule.subdivision, years=years)
    return Calendar(tz, days, schedule.workday_start, schedule.workday_end)


@dataclass(frozen=True)
class Plan:
    desired: list[DesiredStep]
    state: AppState  # the state the application should be in
    reason: str = ""
    max_checkins: int = 0
    contacts_made: int = 0


def thank_you_recipients(app: Application, iv: Interview) -> list[Contact]:
    """Everyone met at this interview; an agency recruiter is copied, not thanked here."""
    return [
        c
        for c in app.contacts
        if c.interview_id == iv.id and not (c.role is Role.RECRUITER and c.agency)
    ]


def agency_recruiter(app: Application) -> Contact | None:
    return next(
        (c for c in app.contacts if c.role is Role.RECRUITER and c.agency and not c.bounced_at),
        None,
    )


def checkin_recipient(app: Application, policy: PolicyConfig) -> Contact | None:
    """Who a check-in goes to: the first configured role with a deliverable address."""
    for role in policy.checkin_to:
        for c in reversed(app.contacts):  # the most recently added first
            if (
                c.role.value == role
                and not c.bounced_at
                and not (c.role is Role.RECRUITER and c.agency)
            ):
                return c
    # Only an agency recruiter: they relay to the company.
    return agency_recruiter(app)


def max_checkins(app: Application, policy: PolicyConfig) -> int:
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


def checkin_contacts(app: Application, manual_contacts: Sequence[datetime] = ()) -> list[datetime]:
    """When each check-in of the latest round went out (ours and the user's own), sorted."""
    iv = app.latest_interview
    if iv is None:
        return []
    ours = [
        _contact_time(s)
        for s in app.steps
        if s.kind is StepKind.CHECKIN and s.interview_id == iv.id and s.state in CONTACTED
    ]
    return sorted(ours + [t for t in manual_contacts if t >= iv.ends_at])


def plan(
    app: Application,
    policy: PolicyConfig,
    cal: Calendar,
    now: datetime,
    manual_contacts: Sequence[datetime] = (),
) -> Plan:
    """What steps should exist for `app` at `now`, and what state it should be in.

    `manual_contacts` are times the user wrote to a contact themselves (Sent
    folder), after the latest interview: they count toward the maximum.
    """
    if app.state is not AppState.ACTIVE:
        return Plan([], app.state, app.stop_reason)
    desired: list[DesiredStep] = []
    for each in app.interviews:
        desired.extend(_thank_yous(app, each, policy, now))

    iv = app.latest_interview
    if iv is None:
        return Plan(desired, AppState.ACTIVE)
    limit = max_checkins(app, policy)
    contact_times = checkin_contacts(app, manual_contacts)
    made = len(contact_times)
    last = contact_times[-1] if contact_times else None

    if made >= limit:
        # Leave time for an answer to the last check-in before letting go.
        if last is None or now >= last + timedelta(days=policy.min_gap_days):
            return Plan(
                desired,
                AppState.EXHAUSTED,
                f"{made} of {limit} check-ins made, no answer",
                limit,
                made,
            )
        return Plan(desired, AppState.ACTIVE, "", limit, made)

    to = checkin_recipient(app, policy)
    if to is None:
        return Plan(desired, AppState.ACTIVE, "", limit, made)
    seq = made + 1
    if last is None:
        due, rule = _first_checkin(iv, policy, cal)
    else:
        due = cal.next_work_time(last + timedelta(days=policy.min_gap_days))
        rule = f"check-in {seq} of {limit}: {policy.min_gap_days} days after the last contact"
    if app.hold_until and due < app.hold_until:
        back = cal.work_start(cal.add_business_days(app.hold_until.astimezone(cal.tz).date(), 1))
        due = max(due, back)
        rule += f"; held until one business day after their return ({app.hold_until:%a %d %b})"
    if due < now:
        # Decision date already past when added, or the daemon was down.
        due = cal.next_work_time(now)
    desired.append(
        DesiredStep(
            key=f"a{app.id}.i{iv.id}.checkin{seq}",
            kind=StepKind.CHECKIN,
            due_at=due,
            contact_id=to.id,
            interview_id=iv.id,
            seq=seq,
            rule=rule if seq > 1 else f"check-in 1 of {limit}: {rule}",
        )
    )
    return Plan(desired, AppState.ACTIVE, "", limit, made)


def _contact_time(step: Step) -> datetime:
    # When it really went out if we know; the draft time is the best guess otherwise.
    return step.sent_at or step.drafted_at or step.due_at


def _first_checkin(iv: Interview, policy: PolicyConfig, cal: Calendar) -> tuple[datetime, str]:
    if iv.decision_by is not None:
        d = cal.add_business_days(iv.decision_by, policy.decision_buffer_business_days)
        return cal.work_start(d), (
            f"{policy.decision_buffer_business_days} business days after the decision date "
            f"they gave ({iv.decision_by:%a %d %b})"
        )
    local_day = iv.ends_at.astimezone(cal.tz).date()
    d = cal.add_business_days(local_day, policy.no_decision_business_days)
    return cal.work_start(d), (
        f"no decision date given: {policy.no_decision_business_days} business days "
        "after the interview"
    )


def _thank_yous(
    app: Application, iv: Interview, policy: PolicyConfig, now: datetime
) -> list[DesiredStep]:
    due = iv.ends_at + timedelta(minutes=policy.thank_you_delay_minutes)
    deadline = iv.ends_at + timedelta(hours=policy.thank_you_deadline_hours)
    out = []
    for c in thank_you_recipients(app, iv):
        if c.bounced_at:
            continue
        out.append(
            DesiredStep(
                key=f"a{app.id}.i{iv.id}.thank_you.c{c.id}",
                kind=StepKind.THANK_YOU,
                due_at=due,
                contact_id=c.id,
                interview_id=iv.id,
                seq=0,
                rule=(
                    f"thank-you {policy.thank_you_delay_minutes} min after the interview ends, "
                    f"within {policy.thank_you_deadline_hours} h"
                ),
                late=now > deadline,
            )
        )
    return out
