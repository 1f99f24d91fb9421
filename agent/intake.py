"""Turns `followup add` input (flags or a TOML file) into stored records."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from .errors import IntakeError, StateError, UsageError
from .models import AppState, Contact, Interview, InterviewKind, Role, normalise_address
from .store import Store
from .tomltable import TableReader

DEFAULT_DURATION = 60
DEFAULT_KIND = InterviewKind.VIDEO
KIND_CHOICES = tuple(k.value for k in InterviewKind)


@dataclass(frozen=True)
class PersonIn:
    name: str
    email: str
    discussed: str = ""


@dataclass(frozen=True)
class InterviewIn:
    company: str
    role: str
    at: datetime
    duration_minutes: int = DEFAULT_DURATION
    kind: InterviewKind = DEFAULT_KIND
    round: int | None = None
    interviewers: tuple[PersonIn, ...] = ()
    hiring_manager: PersonIn | None = None
    recruiter: PersonIn | None = None
    agency: bool = False
    decision_by: date | None = None
    learned: str = ""
    highlight: str = ""
    note: str = ""
    domains: tuple[str, ...] = field(default=())
    final: bool = False

    def listed(self) -> list[tuple[PersonIn, Role, bool]]:
        """Everyone as entered, with their role and whether they are an agency recruiter."""
        people = [(p, Role.INTERVIEWER, False) for p in self.interviewers]
        if self.hiring_manager:
            people.append((self.hiring_manager, Role.HIRING_MANAGER, False))
        if self.recruiter:
            people.append((self.recruiter, Role.RECRUITER, self.agency))
        return people

    def people(self) -> list[tuple[PersonIn, Role, bool]]:
        """Everyone met, once each: one person in two roles is one contact.

        The recruiter who ran a phone screen is also its interviewer: one
        thank-you, and the role that receives check-ins (recruiter or hiring
        manager) wins over "interviewer". What was discussed is kept from
        whichever entry gave it.
        """
        merged: dict[str, tuple[PersonIn, Role, bool]] = {}
        for p, role, agency in self.listed():
            key = normalise_address(p.email)
            if key not in merged:
                merged[key] = (p, role, agency)
                continue
            first, first_role, first_agency = merged[key]
            keep_role, keep_agency = (
                (role, agency) if first_role is Role.INTERVIEWER else (first_role, first_agency)
            )
            merged[key] = (
                replace(first, discussed=first.discussed or p.discussed),
                keep_role,
                keep_agency,
            )
        return list(merged.values())

    @property
    def same_interview_key(self) -> tuple[str, datetime, frozenset[str]]:
        """What makes two entries the same interview: company, time and people."""
        people = frozenset(normalise_address(p.email) for p, _, _ in self.listed())
        return self.company.strip().casefold(), self.at, people


def parse_person(text: str, what: str) -> PersonIn:
    """'Jane Doe <jane@acme.com>' (or a bare address) → PersonIn."""
    name, addr = parseaddr(text)
    local, at, domain = addr.partition("@")
    if not at or not local or "." not in domain:
        raise UsageError(f"{what}: {text!r} is not 'Name <address>'")
    if not name:
        name = local.replace(".", " ").title()
    return PersonIn(name=name.strip(), email=addr.strip())


def parse_when(text: str, tz: ZoneInfo, what: str = "--at") -> datetime:
    """'YYYY-MM-DD HH:MM' in the user's zone, or ISO-8601 with an offset.

    A date alone is refused: taken as midnight, it would put the thank-you
    notes in the middle of the night before the interview.
    """
    clean = text.strip()
    try:
        day = date.fromisoformat(clean)
    except ValueError:
        pass
    else:
        raise UsageError(
            f"{what}: {text!r} has no time: give the time the interview starts, "
            f"like '{day.isoformat()} 14:00'"
        )
    try:
        value = datetime.fromisoformat(clean)
    except ValueError:
        raise UsageError(
            f"{what}: {text!r} is not a date and time like '2026-11-20 14:00'"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a date like 2026-12-04") from None


def _person_from(t: TableReader) -> PersonIn:
    email = t.text("email")
    try:
        person = parse_person(f"{t.text('name', '')} <{email}>", t.path)
    except UsageError:
        raise t.fail("email", f"{email!r} is not an email address") from None
    return PersonIn(person.name, person.email, t.text("discussed", ""))


def _person_table(r: TableReader, name: str) -> tuple[PersonIn | None, TableReader | None]:
    if not r.has(name):
        r.used.add(name)
        return None, None
    t = r.sub(name)
    return _person_from(t), t


def load_file(path: Path, tz: ZoneInfo) -> tuple[InterviewIn, bool]:
    """Read an interview file (see examples/interview.toml); returns (data, agency)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntakeError(path, "", "no such file") from None
    except OSError as exc:
        raise IntakeError(path, "", f"cannot read it: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IntakeError(path, "", f"not valid TOML: {exc}") from exc
    r = TableReader("", data, functools.partial(IntakeError, path))
    company, role, domains = r.text("company"), r.text("role"), r.strings("domains", ())
    iv = r.sub("interview")
    when = iv.text("at")
    try:
        at = parse_when(when, tz, "interview.at")
        decision = iv.text("decision_by", None)
        decision_by = parse_day(decision, "interview.decision_by") if decision else None
    except UsageError as exc:
        raise IntakeError(path, "", str(exc)) from None
    interview = InterviewIn(
        company=company,
        role=role,
        at=at,
        duration_minutes=iv.integer("duration", DEFAULT_DURATION, 5, 12 * 60),
        kind=InterviewKind(iv.text("kind", DEFAULT_KIND.value, choices=KIND_CHOICES)),
        round=iv.integer("round", None, 1, 20),
        decision_by=decision_by,
        learned=iv.text("learned", ""),
        highlight=iv.text("highlight", ""),
        note=iv.text("note", ""),
        final=iv.flag("final", False),
        domains=domains,
    )
    iv.finish()
    interviewers = []
    for t in r.tables("interviewers"):
        interviewers.append(_person_from(t))
        t.finish()
    manager, mt = _person_table(r, "hiring_manager")
    recruiter, rt = _person_table(r, "recruiter")
    agency = rt.flag("agency", False) if rt is not None else False
    for table in (mt, rt):
        if table is not None:
            table.finish()
    r.finish()
    interview = replace(
        interview,
        interviewers=tuple(interviewers),
        hiring_manager=manager,
        recruiter=recruiter,
        agency=agency,
    )
    return interview, agency


# `add` options an interview file replaces (argparse dests): given with --from
# they would be silently dropped, so they are refused instead.
FILE_REPLACES = (
    "company",
    "role",
    "at",
    "duration",
    "kind_",
    "round",
    "interviewer",
    "hiring_manager",
    "recruiter",
    "agency",
    "decision_by",
    "final",
    "note",
    "learned",
    "highlight",
    "domain",
)


def _given(name: str, value: object) -> bool:
    if name == "duration":
        return value not in (None, DEFAULT_DURATION)
    if name == "kind_":
        return value not in (None, DEFAULT_KIND, DEFAULT_KIND.value)
    return value not in (None, False, "", [], ())


def refuse_flags_with_file(file: str, options: Mapping[str, object]) -> None:
    """`add --from FILE` takes the whole interview from the file: refuse flags it would drop."""
    given = [name for name in FILE_REPLACES if _given(name, options.get(name))]
    if given:
        flags = ", ".join("--" + name.rstrip("_").replace("_", "-") for name in given)
        raise UsageError(
            f"--from {file} holds the whole interview: put {flags} in the file instead "
            "(only --application may be combined with --from)"
        )


def validate(data: InterviewIn) -> None:
    if not data.company.strip():
        raise UsageError("--company must not be empty")
    if not data.role.strip():
        raise UsageError("--role must not be empty")
    if not (data.interviewers or data.hiring_manager or data.recruiter):
        raise UsageError(
            "name at least one person met: --interviewer, --hiring-manager or --recruiter"
        )
    seen: set[tuple[str, Role]] = set()
    for p, role, _ in data.listed():
        # The same person in two roles is one contact; twice in one role is a slip.
        key = (normalise_address(p.email), role)
        if key in seen:
            raise UsageError(f"{p.email} is listed twice as {role.value.replace('_', ' ')}")
        seen.add(key)
    if data.decision_by is not None and data.decision_by < data.at.date():
        raise UsageError("--decision-by is before the interview")


# States a later round starts again: an answer (or silence) then an invitation.
RESTARTABLE = (AppState.ACTIVE, AppState.RESPONDED, AppState.EXHAUSTED)


def _may_add_round(state: AppState, reason: str, application_id: int) -> None:
    """A stopped or rejected application is over: a new round there is refused with a hint."""
    if state in RESTARTABLE:
        return
    why = f" ({reason})" if reason else ""
    raise StateError(
        f"application {application_id} is {state.value}{why}; a new round would not "
        "restart it. If they invited you again, add it as a new application "
        "(the same command without --application)"
    )


def record(
    store: Store, data: InterviewIn, now: datetime, application_id: int | None = None
) -> tuple[int, int]:
    """Store one interview (a new application, or a later round of one); returns ids."""
    validate(data)
    with store.transaction():
        if application_id is None:
            app_id = store.add_application(data.company, data.role, now, data.domains)
            rnd = data.round or 1
        else:
            app = store.load(application_id)
            _may_add_round(app.state, app.stop_reason, application_id)
            app_id = app.id
            if app.state is not AppState.ACTIVE:
                # Their answer led to this round: the sequence starts again,
                # and the reply stays in the timeline.
                store.set_app_state(app_id, AppState.ACTIVE, "", now)
                store.add_event(
                    app_id, AppState.ACTIVE.value, f"a later round after it was {app.state}", now
                )
            rnd = data.round or max((i.round for i in app.interviews), default=0) + 1
            if data.domains:
                store.set_domains(app_id, (*app.domains, *data.domains), now)
        iv_id = store.add_interview(
            Interview(
                id=0,
                application_id=app_id,
                round=rnd,
                kind=data.kind,
                starts_at=data.at,
                duration_minutes=data.duration_minutes,
                decision_by=data.decision_by,
                learned=data.learned,
                highlight=data.highlight,
                note=data.note,
                final=data.final,
            ),
            now,
        )
        for p, role, agency in data.people():
            # Someone met again in a later round is a contact of that round
            # too: they get a thank-you for this interview as well.
            store.add_contact(
                Contact(
                    id=0,
                    application_id=app_id,
                    interview_id=iv_id,
                    name=p.name,
                    email=p.email,
                    role=role,
                    agency=agency,
                    discussed=p.discussed,
                )
            )
        store.add_event(app_id, "interview", f"round {rnd} ({data.kind.value}) added", now)
    return app_id, iv_id
