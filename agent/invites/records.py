"""Typed records of calendar invitations, as read from mail and as proposed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Method(StrEnum):
    """VCALENDAR METHOD (RFC 5546); OTHER covers a missing or unknown one."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"
    PUBLISH = "PUBLISH"
    REPLY = "REPLY"
    OTHER = "OTHER"


class CuType(StrEnum):
    """ATTENDEE/ORGANIZER CUTYPE (RFC 5545 3.2.3); unknown values count as UNKNOWN."""

    INDIVIDUAL = "INDIVIDUAL"
    GROUP = "GROUP"
    RESOURCE = "RESOURCE"
    ROOM = "ROOM"
    UNKNOWN = "UNKNOWN"


class InviteStatus(StrEnum):
    """Where an invitation stands in `followup invites`."""

    NEW = "new"
    ADDED = "added"
    IGNORED = "ignored"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CalendarPart:
    """One text/calendar body part (inline or an attached .ics)."""

    data: bytes
    content_type: str
    filename: str = ""
    method: str = ""  # the Content-Type `method=` parameter, when present


@dataclass(frozen=True)
class Party:
    """An ORGANIZER or ATTENDEE."""

    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"  # CHAIR, REQ-/OPT-/NON-PARTICIPANT
    partstat: str = "NEEDS-ACTION"
    cutype: CuType = CuType.INDIVIDUAL
    rsvp: bool = False


@dataclass(frozen=True)
class EventTime:
    """A DTSTART/DTEND as an aware instant, with where its zone came from."""

    at: datetime
    tzid: str = ""  # as written in the invitation ("" for UTC or floating times)
    zone: str = "UTC"  # the IANA zone used, "vtimezone" or "default" (floating/unknown)
    all_day: bool = False


@dataclass(frozen=True)
class Invitation:
    """The one event of a calendar part that matters (the master VEVENT)."""

    method: Method
    uid: str
    sequence: int
    dtstamp: datetime | None
    summary: str
    description: str
    location: str
    start: EventTime
    end: EventTime
    organizer: Party | None
    attendees: tuple[Party, ...]
    cancelled: bool = False  # METHOD:CANCEL or STATUS:CANCELLED
    conference_url: str = ""  # a meeting link from X- properties, URL or the text
    prodid: str = ""


@dataclass(frozen=True)
class Verdict:
    """Whether an invitation looks like a job interview, and why."""

    interview: bool
    reason: str


@dataclass(frozen=True)
class ProposedPerson:
    name: str
    email: str
    role: str  # a models.Role value


@dataclass(frozen=True)
class Proposal:
    """What `invites add` would create, before the user's corrections."""

    company: str
    role: str
    kind: str  # a models.InterviewKind value
    people: tuple[ProposedPerson, ...]
    domains: tuple[str, ...] = ()
