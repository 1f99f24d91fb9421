"""Turns `followup add` input (flags or a TOML file) into stored records."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import fields
from .errors import AddressError, IntakeError, StateError, UsageError
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
    """'Jane Doe <jane@acme.com>' (or a bare address) → PersonIn; one address only."""
    try:
        parsed = fields.parse_one(text, flag=what if what.startswith("--") else "")
    except AddressError as exc:
        raise UsageError(f"{what}: {exc}") from None
    name = parsed.name or parsed.email.partition("@")[0].replace(".", " ").title()
    return PersonIn(name=name, email=parsed.email)


def as_stored(address: str) -> str:
    """An address typed later (`edit --discussed`) spelled as `add` stored it (IDNA)."""
    try:
        return fields.parse_one(address).email
    except AddressError:
        return address.strip()  # not an address: the caller's lookup says so


# The flag each field of `add` comes from, for errors that name it.
FLAG_OF = {
    "company": "--company",
    "role": "--role",
    "learned": "--learned",
    "highlight": "--highlight",
    "note": "--note",
    "domains": "--domain",
}
# The same fields' keys in an interview file.
FILE_KEY_OF = {
    "company": "company",
    "role": "role",
    "learned": "interview.learned",
    "highlight": "interview.highlight",
    "note": "interview.note",
    "domains": "domains",
}
ROLE_FLAG = {
    Role.INTERVIEWER: "--interviewer",
    Role.HIRING_MANAGER: "--hiring-manager",
    Role.RECRUITER: "--recruiter",
}
_ONE_LINE = ("company", "role")
_NOTES = ("learned", "highlight", "note")


def check_note(text: str, what: str) -> None:
    """A free-text note may hold line breaks (it stays in a draft's body), no other control."""
    if problem := fields.note_problem(text):
        raise UsageError(f"{what}: {problem}")


def ascii_domains(domains: tuple[str, ...], what: str) -> tuple[str, ...]:
    """The company's domains as incoming mail spells them (IDNA, lower case)."""
    try:
        return tuple(fields.ascii_domain(d) for d in domains)
    except AddressError as exc:
        raise UsageError(f"{what}: {exc}") from None


def check_text(data: InterviewIn, names: Mapping[str, str]) -> None:
    """Refuse a control character where it would break a header, naming the field."""
    for key in _ONE_LINE:
        if problem := fields.line_problem(getattr(data, key)):
            raise UsageError(f"{names[key]}: {problem}")
    for key in _NOTES:
        check_note(getattr(data, key), names[key])
    ascii_domains(data.domains, names["domains"])
    # Every entry as given, before one person's two roles are merged into one.
    for person, role, _ in data.listed():
        check_person(person, ROLE_FLAG[role])


def check_person(person: PersonIn, flag: str) -> None:
    """Name and address as they will reach a header; an invitation's people come this way."""
    if problem := fields.line_problem(person.name):
        raise UsageError(f"{flag}: the name {problem}")
    try:
        fields.parse_one(person.email, flag=flag)
    except AddressError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    check_note(person.discussed, "discussed")


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
    email, name = t.text("email"), t.text("name", "")
    if problem := fields.line_problem(name):
        raise t.fail("name", problem)
    try:
        person = parse_person(email, t.path)
    except UsageError as exc:
        raise t.fail("email", str(exc).removeprefix(f"{t.path}: ")) from None
    discussed = t.text("discussed", "")
    if problem := fields.note_problem(discussed):
        raise t.fail("discussed", problem)
    return PersonIn(name.strip() or person.name, person.email, discussed)


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
    try:
        check_text(interview, FILE_KEY_OF)
    except UsageError as exc:
        raise IntakeError(path, "", str(exc)) from None
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
    check_text(data, FLAG_OF)
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
    data = replace(data, domains=ascii_domains(data.domains, FLAG_OF["domains"]))
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
