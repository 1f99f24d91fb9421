"""Reads one iCalendar object (RFC 5545/5546) into an `Invitation`.

Parsing is the `icalendar` package's; this module only picks what an
interview needs and resolves times itself (see zones.py), so a VTIMEZONE
sent by one message never changes how another one's times read.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.prop import vDDDTypes

from . import zones
from .records import CuType, EventTime, Invitation, Method, Party

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
MAX_ATTENDEES = 200
# With no DTEND or DURATION an invitation still blocks a slot: an hour is
# what schedulers default to.
DEFAULT_LENGTH = timedelta(hours=1)

# Hosts of video meetings: a link to one makes the interview a video call.
CONFERENCE_HOSTS = (
    "zoom.us",
    "zoom.com",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "whereby.com",
    "chime.aws",
    "bluejeans.com",
    "gotomeeting.com",
    "gotomeet.me",
    "meet.jit.si",
    "skype.com",
)
_URL = re.compile(r"https?://[^\s<>\"'()]+", re.IGNORECASE)
_CONFERENCE_PROPS = (
    "X-GOOGLE-CONFERENCE",
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-MICROSOFT-ONLINEMEETINGCONFLINK",
    "CONFERENCE",
)
# What icalendar and the values in a hostile file may raise while read.
_BAD = (ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError, OverflowError)


def parse_calendar(data: bytes, default_tz: tzinfo, method_hint: str = "") -> Invitation | None:
    """The master event of one calendar object, or None if it holds none usable."""
    try:
        with warnings.catch_warnings():
            # Its guesses about TZIDs do not matter: zones.py resolves them.
            warnings.simplefilter("ignore")
            cal = icalendar.Calendar.from_ical(data)
    except (*_BAD, RecursionError) as exc:
        log.info("unparsable calendar part skipped: %s", exc)
        return None
    try:
        return _invitation(cal, default_tz, method_hint)
    except (*_BAD, RecursionError) as exc:
        log.info("calendar part with unusable values skipped: %s", exc)
        return None


def _invitation(cal: Any, default_tz: tzinfo, method_hint: str) -> Invitation | None:
    if not isinstance(cal, icalendar.Calendar):
        return None
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    # Recurring series send overrides with RECURRENCE-ID; the master has none.
    master = next((e for e in events if "RECURRENCE-ID" not in e), events[0] if events else None)
    if master is None:
        return None
    uid = _text(master.get("UID"))[:500]
    if not uid:
        return None
    local = _vtimezones(cal)
    start = _time(master.get("DTSTART"), local, default_tz)
    if start is None:
        return None
    end = _time(master.get("DTEND"), local, default_tz) or _after(start, master.get("DURATION"))
    if end.at < start.at:
        end = EventTime(start.at, start.tzid, start.zone, start.all_day)
    method = _method(_text(cal.get("METHOD")) or method_hint)
    return Invitation(
        method=method,
        uid=uid,
        sequence=_sequence(master.get("SEQUENCE")),
        dtstamp=_stamp(master.get("DTSTAMP")),
        summary=_text(master.get("SUMMARY")),
        description=_text(master.get("DESCRIPTION")),
        location=_text(master.get("LOCATION")),
        start=start,
        end=end,
        organizer=_party(master.get("ORGANIZER")),
        attendees=_attendees(master.get("ATTENDEE")),
        cancelled=method is Method.CANCEL or _text(master.get("STATUS")).upper() == "CANCELLED",
        conference_url=_conference(master),
        prodid=_text(cal.get("PRODID"))[:200],
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()[:MAX_TEXT]


def _method(text: str) -> Method:
    try:
        return Method(text.upper())
    except ValueError:
        return Method.OTHER


def _sequence(value: Any) -> int:
    try:
        return max(0, min(int(str(value or 0).strip()), 1_000_000))
    except ValueError:
        return 0


def _stamp(value: Any) -> datetime | None:
    if not isinstance(value, vDDDTypes) or not isinstance(value.dt, datetime):
        return None
    dt = value.dt
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _vtimezones(cal: Any) -> dict[str, Any]:
    """TZID → its VTIMEZONE component; turned into a tzinfo only when used."""
    return {
        _text(c.get("TZID")): c for c in cal.subcomponents if c.name == "VTIMEZONE" and "TZID" in c
    }


def _time(value: Any, local: Mapping[str, Any], default_tz: tzinfo) -> EventTime | None:
    if not isinstance(value, vDDDTypes):
        return None
    dt = value.dt
    if isinstance(dt, timedelta):
        return None
    if not isinstance(dt, datetime):
        if not isinstance(dt, date):
            return None
        midnight = datetime(dt.year, dt.month, dt.day, tzinfo=default_tz)
        return EventTime(midnight, "", "default", all_day=True)
    tzid = _text(value.params.get("TZID"))
    if not tzid:
        if dt.tzinfo is None:  # floating: the user's own clock
            return EventTime(dt.replace(tzinfo=default_tz), "", "default")
        return EventTime(dt.astimezone(UTC), "", "UTC")
    # The wall time as written; the zone is chosen here, not by the library's cache.
    wall = dt.replace(tzinfo=None)
    tz, source = zones.resolve(tzid, _LazyZones(local))
    if tz is None:
        return EventTime(wall.replace(tzinfo=default_tz), tzid, "default")
    return EventTime(wall.replace(tzinfo=tz), tzid, source)


class _LazyZones(Mapping[str, tzinfo]):
    """Builds a tzinfo from a VTIMEZONE only if the TZID names no known zone."""

    def __init__(self, components: Mapping[str, Any]) -> None:
        self._components = components

    def __getitem__(self, key: str) -> tzinfo:
        component = self._components[key]
        try:
            tz = component.to_tz(lookup_tzid=False)
        except (*_BAD, RecursionError) as exc:
            raise KeyError(key) from exc
        if not isinstance(tz, tzinfo):
            raise KeyError(key)
        return tz

    def __iter__(self) -> Any:
        return iter(self._components)

    def __len__(self) -> int:
        return len(self._components)


def _after(start: EventTime, duration: Any) -> EventTime:
    length = DEFAULT_LENGTH
    if isinstance(duration, vDDDTypes) and isinstance(duration.dt, timedelta):
        if timedelta(0) <= duration.dt <= timedelta(days=7):
            length = duration.dt
    elif start.all_day:
        length = timedelta(days=1)
    return EventTime(start.at + length, start.tzid, start.zone, start.all_day)


def _address(value: Any) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().strip("<>")
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(ch.isspace() for ch in text):
        return ""
    return f"{local}@{domain.lower()}"[:320]


def _party(value: Any) -> Party | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    email = _address(value)
    if not email:
        return None
    params = getattr(value, "params", {})
    try:
        cutype = CuType(_text(params.get("CUTYPE")).upper() or "INDIVIDUAL")
    except ValueError:
        cutype = CuType.UNKNOWN
    return Party(
        email=email,
        name=_text(params.get("CN")).strip('"')[:200],
        role=(_text(params.get("ROLE")).upper() or "REQ-PARTICIPANT")[:40],
        partstat=(_text(params.get("PARTSTAT")).upper() or "NEEDS-ACTION")[:40],
        cutype=cutype,
        rsvp=_text(params.get("RSVP")).upper() == "TRUE",
    )


def _attendees(value: Any) -> tuple[Party, ...]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    out: list[Party] = []
    seen: set[str] = set()
    for item in items[:MAX_ATTENDEES]:
        party = _party(item)
        if party is not None and party.email.lower() not in seen:
            seen.add(party.email.lower())
            out.append(party)
    return tuple(out)


def conference_link(text: str) -> str:
    """The first meeting link in a text, or ""."""
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;>")
        host = url.split("//", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
        if any(host == h or host.endswith("." + h) for h in CONFERENCE_HOSTS):
            return url[:1000]
    return ""


def _conference(event: Any) -> str:
    for name in _CONFERENCE_PROPS:
        link = conference_link(_text(event.get(name)))
        if link:
            return link
    for name in ("URL", "LOCATION", "DESCRIPTION"):
        link = conference_link(_text(event.get(name)))
        if link:
            return link
    return ""
