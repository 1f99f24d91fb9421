"""Renders drafts: Jinja2 templates → `email.message.EmailMessage`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from . import lint
from .draftid import DraftIds, is_legacy
from .errors import TemplateError
from .models import (
    Application,
    Contact,
    Interview,
    MessageKind,
    Person,
    SeenMessage,
    Step,
    StepKind,
)


def builtin_template_dir() -> Path:
    """The installed copy (agent/templates) or, in a checkout, templates/ at the top."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TemplateError(f"built-in templates not found next to {here}")


def make_env(override_dir: Path | None = None) -> jinja2.Environment:
    dirs = [str(override_dir)] if override_dir else []
    dirs.append(str(builtin_template_dir()))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,  # a missing variable is an error, never a blank
        autoescape=False,  # plain-text mail, not HTML
        keep_trailing_newline=True,
        trim_blocks=False,
    )


@dataclass(frozen=True)
class Draft:
    step_key: str
    sender: Person
    to: Person
    subject: str
    body: str
    message_id: str
    cc: tuple[Person, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    findings: tuple[lint.Finding, ...] = field(default=())

    def to_message(self, when: datetime) -> EmailMessage:
        msg = EmailMessage()  # default policy: RFC 2047 for non-ASCII names and subjects
        msg["From"] = Address(self.sender.name, addr_spec=self.sender.email)
        msg["To"] = Address(self.to.name, addr_spec=self.to.email)
        if self.cc:
            msg["Cc"] = [Address(p.name, addr_spec=p.email) for p in self.cc]
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = self.message_id
        if self.in_reply_to:
            msg["In-Reply-To"] = self.in_reply_to
        if self.references:
            msg["References"] = " ".join(self.references)
        msg.set_content(self.body, charset="utf-8")
        return msg


def split_subject(text: str, template: str) -> tuple[str, str]:
    head, sep, body = text.partition("\n\n")
    if not sep or not head.startswith("Subject:") or "\n" in head.strip():
        raise TemplateError(
            f"{template}: must start with a 'Subject: ...' line followed by a blank line"
        )
    subject = head.removeprefix("Subject:").strip()
    if not subject:
        raise TemplateError(f"{template}: the subject is empty")
    return subject, body.strip() + "\n"


def render(env: jinja2.Environment, template: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render one template; returns (subject, body)."""
    try:
        text = env.get_template(template).render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{template}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name!r} not found") from exc
    except UnicodeDecodeError as exc:
        # Jinja2 reads the file here: a Latin-1 file fails this draft, not the cycle.
        raise TemplateError(
            f"{template}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{template}: {exc}") from exc
    return split_subject(text, template)


def template_for(step: Step, final: bool, agency: bool = False) -> str:
    """The template of a step: thank-you or agency note, first, later or final check-in."""
    if step.kind is StepKind.THANK_YOU:
        return "agency_recruiter.txt.j2" if agency else "thank_you.txt.j2"
    if step.kind is StepKind.CHECKIN:
        if step.seq <= 1:
            return "checkin_first.txt.j2"
        return "checkin_final.txt.j2" if final else "checkin_later.txt.j2"
    raise TemplateError(f"{step.kind.value} is a reminder and has no template")


def lint_kind(template: str) -> lint.NoteKind:
    """Which limits a template's drafts are linted against."""
    return {
        "agency_recruiter.txt.j2": lint.NoteKind.AGENCY,
        "thank_you.txt.j2": lint.NoteKind.THANK_YOU,
    }.get(template, lint.NoteKind.CHECKIN)


def person_vars(name: str, email: str) -> dict[str, str]:
    # "Doe, Jane" (a directory's order) is greeted as Jane, not as "Doe,".
    family, comma, given = name.partition(",")
    parts = (given if comma and given.strip() else family).split()
    return {"name": name, "first_name": parts[0] if parts else name, "email": email}


def names(people: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " and " + people[-1]


def thank_you_variant(app: Application, step: Step) -> int:
    """This person's place among those thanked for the same interview.

    Ordered by contact id, so it never depends on the order drafts were
    written in, and the agency recruiter (a note of its own) takes no place.
    """
    peers = sorted({c.id for c in app.people_met(step.interview_id)})
    return peers.index(step.contact_id) if step.contact_id in peers else 0


@dataclass(frozen=True)
class ThreadRef:
    """The message a check-in replies to."""

    message_id: str
    subject: str
    references: tuple[str, ...]

    @property
    def reply_subject(self) -> str:
        return self.subject if self.subject.lower().startswith("re:") else f"Re: {self.subject}"


# Mail in the store that a check-in may answer: a person's reply, or the user's own mail.
THREAD_KINDS = (MessageKind.REPLY, MessageKind.USER_SENT)

# A message in the conversation: when, its subject, and the chain it answered
# (None for our older notes, stored without one: rebuilt from what came before).
_Row = tuple[datetime, str, tuple[str, ...] | None]


def thread_for(
    app: Application, contact: Contact, messages: Sequence[SeenMessage], exclude: str | None = None
) -> ThreadRef | None:
    """The last message exchanged with this person: our notes to them, or mail either way."""
    address = contact.address
    same = {c.id for c in app.contacts if c.address == address}
    rows = _our_notes(app, same) | _their_mail(messages, same, address)
    rows.pop(exclude or "", None)
    last: ThreadRef | None = None
    for mid, (_, subject, refs) in sorted(rows.items(), key=lambda kv: kv[1][0]):
        if refs is None:  # our own note: it replied to whatever came before it
            refs = (*last.references, last.message_id) if last else ()
        last = ThreadRef(mid, subject, refs)
    return last


def _our_notes(app: Application, contact_ids: set[int]) -> dict[str, _Row]:
    """Our drafts to these contacts that reached them, by Message-ID."""
    return {
        s.message_id: (s.contacted_at, s.subject, tuple(s.refs.split()) or None)
        for s in app.steps
        if s.contact_id in contact_ids and s.message_id and s.subject and s.state.reached_person
    }


def _their_mail(
    messages: Sequence[SeenMessage], contact_ids: set[int], address: str
) -> dict[str, _Row]:
    """Stored mail from or to the person, by Message-ID; addresses compared exactly."""
    return {
        m.message_id: (m.sent_at, m.subject, tuple(m.refs.split()))
        for m in messages
        if m.kind in THREAD_KINDS
        and m.message_id
        and m.sent_at is not None
        and (m.contact_id in contact_ids or address in m.participants)
    }


# Words that start a sentence but not a name: lower-cased after the colon a
# note is placed behind ("The team is moving" → ": the team is moving").
_SENTENCE_STARTS = frozenset(
    [
        "a",
        "an",
        "the",
        "our",
        "their",
        "its",
        "his",
        "her",
        "your",
        "my",
        "we",
        "they",
        "it",
        "there",
        "this",
        "that",
        "these",
        "those",
        "how",
        "what",
        "why",
        "when",
        "where",
        "which",
        "who",
        "he",
        "she",
    ]
)


def note_text(text: str) -> str:
    """A user's note as the templates place it: one line, no final period, after a colon."""
    clean = " ".join(text.split()).rstrip(" .;,!?")
    first, sep, rest = clean.partition(" ")
    if first.lower() in _SENTENCE_STARTS and first[:1].isupper() and first[1:].islower():
        clean = first.lower() + sep + rest
    return clean


def context_for(
    app: Application,
    step: Step,
    contact: Contact,
    sender: Person,
    now: datetime,
    tz: tzinfo,
    max_checkins: int,
    thread: ThreadRef | None = None,
) -> dict[str, Any]:
    iv = app.interview(step.interview_id) or app.latest_interview
    if iv is None:
        raise TemplateError(f"step {step.key} has no interview")
    start = iv.starts_at.astimezone(tz)
    decision = iv.decision_by
    return {
        "me": person_vars(sender.name, sender.email),
        "person": person_vars(contact.name, contact.email),
        "company": app.company,
        "role": app.role,
        "interview": {
            "kind": iv.kind.value,
            "weekday": start.strftime("%A"),
            "date": f"{start:%A}, {start:%B} {start.day}",
            "round": iv.round,
        },
        "same_day": now.astimezone(tz).date() == start.date(),
        "discussed": note_text(contact.discussed),
        "learned": note_text(iv.learned),
        "highlight": note_text(iv.highlight),
        "decision": f"{decision:%B} {decision.day}" if decision else "",
        "people": names([c.name for c in app.people_met(iv.id)]),
        "variant": thank_you_variant(app, step),
        "seq": step.seq,
        "max": max_checkins,
        "final": step.kind is StepKind.CHECKIN and step.seq >= max_checkins,
        "subject": thread.reply_subject if thread else "",
    }


def build_draft(
    env: jinja2.Environment,
    app: Application,
    step: Step,
    sender: Person,
    now: datetime,
    tz: tzinfo,
    max_checkins: int,
    messages: Sequence[SeenMessage] = (),
    domain: str = "localhost",
    known_words: Sequence[str] = (),
    *,
    ids: DraftIds,
) -> Draft:
    """Render one step's draft: recipients, threading, body, and its lint findings."""
    contact = app.contact(step.contact_id)
    if contact is None:
        raise TemplateError(f"step {step.key} has no contact")
    # Check-ins answer the last message exchanged with the person; a
    # thank-you starts its own conversation.
    thread = (
        thread_for(app, contact, messages, exclude=step.message_id)
        if step.kind is StepKind.CHECKIN
        else None
    )
    ctx = context_for(app, step, contact, sender, now, tz, max_checkins, thread)
    template = template_for(step, ctx["final"], contact.is_agency_recruiter)
    subject, body = render(env, template, ctx)
    known = [app.company, app.role, sender.name, *app.domains, *known_words]
    known += [c.name for c in app.contacts]
    quoted = _quoted_notes(body, contact, app.interview(step.interview_id))
    findings = lint.check_draft(body, lint_kind(template), quoted, known)
    return Draft(
        step_key=step.key,
        sender=sender,
        to=contact.person,
        cc=copied(app, contact),
        subject=subject,
        body=body,
        message_id=message_id_for(step, ids, domain),
        in_reply_to=thread.message_id if thread else None,
        references=(*thread.references, thread.message_id) if thread else (),
        findings=tuple(findings),
    )


def message_id_for(step: Step, ids: DraftIds, domain: str) -> str:
    """The step's Message-ID: the one it was claimed with, else a new one.

    A claimed id is kept so that a first APPEND that shows up late is still
    recognised; an id of the old scheme names the tool, so it is never reused.
    """
    if step.message_id and not is_legacy(step.message_id):
        return step.message_id
    return ids.new(domain)


def copied(app: Application, to: Contact) -> tuple[Person, ...]:
    """Who is copied on a note to `to`: the agency recruiter, unless they are `to`."""
    agency = app.agency_recruiter
    return (agency.person,) if agency is not None and agency.address != to.address else ()


def _quoted_notes(body: str, contact: Contact, iv: Interview | None) -> list[str]:
    """The user's notes this draft quotes: a typo elsewhere is not this draft's finding."""
    notes = [contact.discussed] + ([iv.learned, iv.highlight] if iv else [])
    return [n for t in notes if (n := note_text(t)) and n in body]
