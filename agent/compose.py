"""Renders drafts: Jinja2 templates → `email.message.EmailMessage`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2

from .errors import TemplateError
from .models import Application, Contact, Person, Role, Step, StepKind

FOLLOWUP_HEADER = "X-Followup-Id"


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
    findings: tuple[str, ...] = field(default=())

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
        msg[FOLLOWUP_HEADER] = self.step_key
        msg.set_content(self.body, charset="utf-8")
        return msg


def new_message_id(domain: str, step_key: str) -> str:
    # The key's hash makes our drafts recognisable; the random part keeps the id
    # unique when a step is re-drafted after its first draft vanished.
    digest = hashlib.sha256(step_key.encode()).hexdigest()[:12]
    return f"<followup.{digest}.{secrets.token_hex(6)}@{domain}>"


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
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{template}: {exc}") from exc
    return split_subject(text, template)


def template_for(step: Step, final: bool, agency: bool = False) -> str:
    if step.kind is StepKind.THANK_YOU:
        return "agency_recruiter.txt.j2" if agency else "thank_you.txt.j2"
    if step.kind is StepKind.CHECKIN:
        return "checkin.txt.j2"
    raise TemplateError(f"{step.kind.value} is a reminder and has no template")


def person_vars(name: str, email: str) -> dict[str, str]:
    parts = name.split()
    return {"name": name, "first_name": parts[0] if parts else name, "email": email}


def thank_you_variant(app: Application, step: Step) -> int:
    """Position of this person among those thanked for the same interview."""
    peers = sorted(
        s.contact_id or 0
        for s in app.steps
        if s.kind is StepKind.THANK_YOU
        and s.interview_id == step.interview_id
        and not _agency(app.contact(s.contact_id))
    )
    return peers.index(step.contact_id or 0) if (step.contact_id or 0) in peers else 0


def _agency(c: Contact | None) -> bool:
    return c is not None and c.role is Role.RECRUITER and c.agency


def names(people: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " and " + people[-1]


def context_for(
    app: Application,
    step: Step,
    contact: Contact,
    sender: Person,
    now: datetime,
    tz: Any,
    max_checkins: int,
) -> dict[str, Any]:
    iv = app.interview(step.interview_id) or app.latest_interview
    if iv is None:
        raise TemplateError(f"step {step.key} has no interview")
    start = iv.starts_at.astimezone(tz)
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
        "discussed": contact.discussed,
        "learned": iv.learned,
        "people": names(
            [c.name for c in app.contacts if c.interview_id == iv.id and not _agency(c)]
        ),
        "highlight": iv.highlight,
        "variant": thank_you_variant(app, step),
        "seq": step.seq,
        "max": max_checkins,
        "final": step.kind is StepKind.CHECKIN and step.seq >= max_checkins,
        "subject": "",
    }
