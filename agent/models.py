"""Domain records and the predicates on them, each rule written once.

Times are timezone-aware datetimes (stored as UTC). Addresses are compared
normalised and exactly (`normalise_address`), never as substrings.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from enum import StrEnum

_PLUS = re.compile(r"\+[^@]*@")
# What still looks like an address in a mangled header ("a@x.com; b@y.com").
ADDRESS_PATTERN = re.compile(r"[\w.+'-]+@[\w.-]+\w")


def normalise_address(addr: str) -> str:
    """Lower-case, without angle brackets or a +tag: 'Jane+jobs@Acme.com' → 'jane@acme.com'."""
    addr = addr.strip().strip("<>").strip().lower()
    return _PLUS.sub("@", addr, count=1)


def address_in(text: str) -> str:
    """The normalised address of 'Name <addr>' or a bare address; '' when there is none."""
    _, addr = email.utils.parseaddr(text)
    if "@" not in addr:
        found = ADDRESS_PATTERN.search(text)
        addr = found.group(0) if found else ""
    return normalise_address(addr) if addr else ""


class AppState(StrEnum):
    ACTIVE = "active"
    RESPONDED = "responded"
    REJECTED = "rejected"  # they turned the application down: over for good
    EXHAUSTED = "exhausted"
    STOPPED = "stopped"


# What `show`, `agenda` and `status` say of a draft that left Drafts unsent.
GONE_FROM_DRAFTS = "gone from Drafts"


class InterviewKind(StrEnum):
    PHONE = "phone"
    VIDEO = "video"
    ONSITE = "onsite"


class Role(StrEnum):
    INTERVIEWER = "interviewer"
    HIRING_MANAGER = "hiring_manager"
    RECRUITER = "recruiter"


class StepKind(StrEnum):
    THANK_YOU = "thank_you"
    CHECKIN = "checkin"
    # Reminders: the agent writes no draft for these.
    LINKEDIN = "linkedin"
    HANDWRITTEN = "handwritten"
    CALL = "call"
    REFERENCES = "references"
    ANSWER_REJECTION = "answer_rejection"  # thank them graciously after a rejection

    @property
    def is_email(self) -> bool:
        return self in (StepKind.THANK_YOU, StepKind.CHECKIN)


class StepState(StrEnum):
    PLANNED = "planned"
    APPENDING = "appending"  # intent recorded, APPEND may or may not have happened
    DRAFTED = "drafted"
    SENT = "sent"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    DONE = "done"  # a reminder the user ticked off

    @property
    def final(self) -> bool:
        return self not in (StepState.PLANNED, StepState.APPENDING)

    @property
    def reached_person(self) -> bool:
        """The note was written for its person: a draft in their Drafts folder counts."""
        return self in (StepState.DRAFTED, StepState.SENT)


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def formatted(self) -> str:
        return str(Address(display_name=self.name, addr_spec=self.email))


@dataclass
class Contact:
    id: int
    application_id: int
    interview_id: int | None
    name: str
    email: str
    role: Role
    agency: bool = False
    discussed: str = ""  # what the user talked about with this person
    bounced_at: datetime | None = None

    @property
    def person(self) -> Person:
        return Person(self.name, self.email)

    @property
    def address(self) -> str:
        """The address normalised, for exact comparison with mail's addresses."""
        return normalise_address(self.email)

    @property
    def is_agency_recruiter(self) -> bool:
        """An outside recruiter: copied on follow-ups, and their domain is not the company's."""
        return self.role is Role.RECRUITER and self.agency


@dataclass
class Interview:
    id: int
    application_id: int
    round: int
    kind: InterviewKind
    starts_at: datetime
    duration_minutes: int
    decision_by: date | None = None
    learned: str = ""  # something the user learned about the team or product
    highlight: str = ""  # a skill or achievement not covered in the interview
    note: str = ""  # anything else the user wants to remember
    created_at: datetime | None = None
    final: bool = False  # the last round: references may be called

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass
class Step:
    id: int
    application_id: int
    key: str  # stable identity: one key yields at most one draft, ever
    kind: StepKind
    due_at: datetime
    state: StepState
    contact_id: int | None = None
    interview_id: int | None = None
    seq: int = 0  # check-in number, 1-based; 0 for others
    rule: str = ""  # why this step exists and why then (shown by `show`)
    message_id: str | None = None
    draft_uid: int | None = None
    drafted_at: datetime | None = None
    sent_at: datetime | None = None
    late: bool = False
    subject: str | None = None
    end_reason: str = ""  # why it ended (skipped, cancelled, withdrawn, done)
    lint_findings: str = ""  # lint's summary of the draft as last composed
    held_back: bool = False  # policy.lint = "block" kept it from being appended
    # Why its draft could not be composed or appended; it stays planned and is
    # retried each cycle, so fixing the data (`edit`) is all it takes.
    failure: str = ""
    in_reply_to: str | None = None  # threading headers the draft was written with
    refs: str = ""
    body_digest: str = ""  # fingerprint of the draft's body (classify.drafts.body_fingerprint)
    # From draft_watch (read-only here): the user's edit makes the draft theirs;
    # `draft_left` says why a draft that should have been withdrawn was not.
    draft_edited: bool = False
    draft_left: str = ""
    draft_gone_at: datetime | None = None  # the draft vanished from Drafts then

    @property
    def draft_gone(self) -> bool:
        """Drafted, but no longer in Drafts: deleted, moved, or sent (Sent tells)."""
        return self.state is StepState.DRAFTED and self.draft_gone_at is not None

    @property
    def lint_note(self) -> str:
        if not self.lint_findings:
            return ""
        return f"{'held back by lint' if self.held_back else 'lint'}: {self.lint_findings}"

    @property
    def note(self) -> str:
        """The one line `show` prints about this step, most important fact first."""
        if self.end_reason:
            return self.end_reason
        if self.failed:
            return f"failed: {self.failure}"
        if self.draft_left:
            return self.draft_left
        if self.draft_gone:
            return f"{GONE_FROM_DRAFTS}: skipped unless it turns up in Sent"
        if self.draft_edited:
            return "edited by you in Drafts"
        return self.lint_note

    @property
    def failed(self) -> bool:
        """Its draft could not be written: shown as `failed` until a cycle writes it."""
        return bool(self.failure) and self.state is StepState.PLANNED

    @property
    def lint_shown(self) -> bool:
        """Lint findings are what `show` says about this step (a warning in `status`)."""
        return bool(self.lint_findings) and not (
            self.end_reason
            or self.draft_left
            or self.draft_edited
            or self.failed
            or self.draft_gone
        )

    @property
    def contacted_at(self) -> datetime:
        """When the step reached its person: sent if known, else drafted, else planned."""
        return self.sent_at or self.drafted_at or self.due_at


@dataclass
class Event:
    at: datetime
    kind: str
    detail: str
    application_id: int | None = None


@dataclass
class Application:
    id: int
    company: str
    role: str
    state: AppState
    created_at: datetime
    stop_reason: str = ""
    domains: tuple[str, ...] = ()  # extra company domains (careers site, ATS)
    hold_until: datetime | None = None  # no check-in before this (out-of-office)
    interviews: list[Interview] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def contact(self, contact_id: int | None) -> Contact | None:
        return next((c for c in self.contacts if c.id == contact_id), None)

    def interview(self, interview_id: int | None) -> Interview | None:
        return next((i for i in self.interviews if i.id == interview_id), None)

    @property
    def latest_interview(self) -> Interview | None:
        return max(self.interviews, key=lambda i: (i.starts_at, i.id), default=None)

    @property
    def agency_recruiter(self) -> Contact | None:
        """The agency recruiter still reachable; the most recently added one wins."""
        return next(
            (c for c in reversed(self.contacts) if c.is_agency_recruiter and not c.bounced_at),
            None,
        )

    def people_met(self, interview_id: int | None) -> list[Contact]:
        """Who the user met at this interview: its contacts but the agency recruiter."""
        return [
            c for c in self.contacts if c.interview_id == interview_id and not c.is_agency_recruiter
        ]


class MessageKind(StrEnum):
    """What a message is; the values are stored in `messages.kind`."""

    REPLY = "reply"  # a human answer from the company or in the thread
    AUTO_REPLY = "auto_reply"  # out-of-office and other RFC 3834 auto-responses
    BOUNCE = "bounce"  # a delivery failure report
    LIST = "list"  # newsletter, mailing list, bulk mail
    AUTOMATED = "automated"  # other machine mail (ATS notices, delay reports)
    PRIOR = "prior"  # from the company, but dated before the latest interview
    USER_SENT = "user_sent"  # the user's own message to the company (Sent)
    OUR_SENT = "our_sent"  # one of our drafts, sent by the user (Sent)
    OUR_DRAFT = "our_draft"  # one of our drafts (or the user's edit of it) in Drafts
    UNRELATED = "unrelated"  # nothing to do with any application: not recorded


class FolderRole(StrEnum):
    """Why a folder is synced."""

    INCOMING = "incoming"  # INBOX and configured extra folders
    SENT = "sent"
    DRAFTS = "drafts"


# -- records the store keeps for sync and planning --------------------------


@dataclass(frozen=True)
class FolderSync:
    folder: str
    uidvalidity: int
    last_uid: int
    highestmodseq: int | None
    messages: int | None = None


@dataclass(frozen=True)
class DraftWatch:
    step_id: int
    uidvalidity: int | None
    uid: int | None
    edited: bool  # the user changed it: theirs now, never withdrawn
    gone_at: datetime | None
    # Set when a withdrawal could not be done: why, so it is not retried every
    # cycle; the draft is left for the user (who never touched it).
    left_for_user: str = ""


@dataclass(frozen=True)
class DesiredStep:
    """A step policy wants to exist; the store reconciles these by key."""

    key: str
    kind: StepKind
    due_at: datetime
    contact_id: int | None
    interview_id: int | None
    seq: int
    rule: str
    late: bool = False


@dataclass(frozen=True)
class SeenMessage:
    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    kind: MessageKind
    application_id: int | None
    contact_id: int | None
    from_addr: str  # as written, 'Name <addr>', for display
    to_addrs: tuple[str, ...]  # normalised To + Cc
    subject: str
    sent_at: datetime | None
    in_reply_to: str | None
    refs: str

    @property
    def sender(self) -> str:
        """The From address, normalised."""
        return address_in(self.from_addr)

    @property
    def participants(self) -> tuple[str, ...]:
        """Every normalised address on the message: its sender, then its recipients."""
        return (self.sender, *self.to_addrs)
