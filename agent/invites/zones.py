"""Turns a TZID as written in an invitation into a tzinfo.

Order: an IANA name; a Windows name (Outlook, Exchange) through CLDR's
windowsZones table as shipped by the `icalendar` package; a "globally unique"
/vendor/Area/City id; the VTIMEZONE of the same calendar; else the caller's
default. Real zones come first because a VTIMEZONE is the sender's copy of
the rules (Exchange writes 1601 rules) and a named zone knows the real ones.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from datetime import tzinfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def iana_name(tzid: str) -> str | None:
    """The IANA zone a TZID names, or None when it names none we know."""
    cleaned = tzid.strip().strip('"').strip()
    if not cleaned or len(cleaned) > 200:
        return None
    bare = cleaned.strip("/")
    if bare in _iana_names():
        return bare
    windows = WINDOWS_TO_OLSON.get(bare)
    if windows is not None:
        return windows
    if cleaned.startswith("/"):
        parts = bare.split("/")
        for start in range(1, len(parts)):
            candidate = "/".join(parts[start:])
            if candidate in _iana_names():
                return candidate
    return None


def resolve(tzid: str, local: Mapping[str, tzinfo]) -> tuple[tzinfo | None, str]:
    """(tzinfo, where it came from) for a TZID; (None, "default") when unknown.

    `local` maps the TZIDs of the calendar's own VTIMEZONE components.
    """
    name = iana_name(tzid)
    if name is not None:
        return zoneinfo.ZoneInfo(name), name
    own = local.get(tzid)
    if own is not None:
        return own, "vtimezone"
    return None, "default"
